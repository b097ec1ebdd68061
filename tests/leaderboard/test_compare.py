"""`bench compare`: like for like. A real rerun passes, a detector that got worse (or slower, or
broke) fails and is named, and rows that differ in what they measured are "not comparable"."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import torch
from click.testing import CliRunner

from bench import hookimpl, plugins
from bench.cli import cli
from bench.detector import Detector
from bench.images import InputSpec
from bench.metrics import Metric
from bench.runner import RunSpec
from tests.leaderboard.conftest import run_into

SPEC = dict(detectors=["pca"], classes=["0", "1"], seeds=[0, 1], device="cpu")


class NoisyPCA(Detector):
    """Same name, outputs and hyperparameters as the built-in pca, but reconstructs every image
    as itself plus random noise, so its scores carry no information about the image."""

    name = "pca"
    produces = ("reconstruction",)
    default_scorer = "mse"
    input_spec = InputSpec(value_range=(0.0, 1.0))
    defaults = {"n_components": 0.9}

    def fit(self, train):
        self.generator = torch.Generator().manual_seed(self.ctx.seed)
        return self

    def outputs(self, x):
        noise = torch.rand(x.shape, generator=self.generator)
        return {"reconstruction": x + noise.to(x)}


class NoisyPlugin:
    @hookimpl
    def bench_register_detectors(self, register):
        register(NoisyPCA)


def _compare(*args: str):
    return CliRunner().invoke(cli, ["compare", *args])


@pytest.fixture(scope="module")
def store(tmp_path_factory) -> Path:
    """A real pca run: two classes, two seeds."""
    path = tmp_path_factory.mktemp("baseline") / "bench.sqlite"
    run_into(path, RunSpec(**SPEC))
    return path


@pytest.fixture(scope="module")
def export(store, tmp_path_factory) -> Path:
    """The store's rows as a results export, written by --write-baseline."""
    path = tmp_path_factory.mktemp("export") / "baseline.json"
    result = _compare(str(path), str(store), "--write-baseline")
    assert result.exit_code == 0, result.output
    return path


def _edited(export: Path, tmp_path: Path, edit: Callable[[dict[str, Any]], None]) -> Path:
    """A copy of the export with ``edit`` applied to every row."""
    data = json.loads(export.read_text())
    for row in data["rows"]:
        edit(row)
    path = tmp_path / "current.json"
    path.write_text(json.dumps(data))
    return path


def test_an_unchanged_rerun_passes(store, export, tmp_path):
    run_into(tmp_path / "rerun.sqlite", RunSpec(**SPEC))
    for baseline in (store, export):
        result = _compare(str(baseline), str(tmp_path / "rerun.sqlite"))
        assert result.exit_code == 0, result.output
        assert "compared 2 (regressed 0, improved 0), not comparable 0, not run 0" in result.output
        assert result.output.strip().endswith("no regressions")


def test_the_export_holds_every_row_and_reads_back_identically(store, export):
    data = json.loads(export.read_text())
    assert [(r["task"], r["seed"]) for r in data["rows"]] == [
        ("0", 0),
        ("0", 1),
        ("1", 0),
        ("1", 1),
    ]
    assert all(
        r["environment"]["torch_threads"] == str(torch.get_num_threads()) for r in data["rows"]
    )
    report = json.loads(_compare(str(export), str(store), "--json", "--all").output)
    checks = {c["name"]: c for o in report["rows"] for c in o["checks"]}
    assert checks["auroc"]["change"].startswith("+0.0000")
    assert set(checks) == {"auroc", "auprc", "fpr95", "throughput"}  # the registered metrics


def test_a_detector_whose_scores_became_noise_fails_and_is_named(export, tmp_path, monkeypatch):
    monkeypatch.setenv("BENCH_PLUGINS", "scorers,metrics,digits")  # no built-in pca
    plugins.plugin_manager.cache_clear()
    plugins.registry.cache_clear()
    plugins.plugin_manager().register(NoisyPlugin(), name="noisy")
    run_into(tmp_path / "noisy.sqlite", RunSpec(**SPEC))
    noisy = str(tmp_path / "noisy.sqlite")
    result = _compare(str(export), noisy)
    assert result.exit_code == 1, result.output
    assert "compared 2 (regressed 2, improved 0)" in result.output
    for task in ("0", "1"):
        assert f"regression: digits pca/mse task {task} (auroc)" in result.output
    # a fixed tolerance larger than any metric change lets it pass
    assert _compare(str(export), noisy, "--metric-tolerance", "1").exit_code == 0


def test_rows_that_differ_in_what_they_measured_are_not_comparable(export, tmp_path):
    def other_machine(row):
        row["environment"]["torch_threads"] = "7"
        row["config"]["hparams"]["n_components"] = 0.5 if row["task"] == "1" else 0.9
        row["metrics"]["auroc"] = 0.1  # would be a regression if it were compared

    current = _edited(export, tmp_path, other_machine)
    result = _compare(str(export), str(current))
    assert result.exit_code == 0, result.output
    threads = str(torch.get_num_threads())
    assert f"not comparable (1): torch threads {threads} vs 7 (pca/mse)" in result.output
    assert "config differs: hparams.n_components 0.9 vs 0.5" in result.output
    # CI wants everything compared
    strict = _compare(str(export), str(current), "--strict")
    assert strict.exit_code == 2 and "not compared" in strict.output


def test_rows_from_another_cpu_are_not_comparable_and_older_rows_leave_it_unchecked(
    export, tmp_path
):
    def other_cpu(row):
        row["environment"]["cpu"] = "Other CPU (family 25 model 1; torch AVX2)"
        row["metrics"]["auroc"] = 0.1  # would be a regression if it were compared

    result = _compare(str(export), str(_edited(export, tmp_path, other_cpu)))
    assert result.exit_code == 0, result.output
    here = json.loads(export.read_text())["rows"][0]["environment"]["cpu"]
    assert f"not comparable (2): CPU {here} vs Other CPU" in result.output

    def stored_before_the_cpu_was_recorded(row):
        del row["environment"]["cpu"]
        row["metrics"]["auroc"] = 0.1

    older = _compare(
        str(export), str(_edited(export, tmp_path, stored_before_the_cpu_was_recorded))
    )
    assert older.exit_code == 1 and "compared 2 (regressed 2" in older.output


def test_each_configuration_is_compared_with_its_own(export, tmp_path):
    data = json.loads(export.read_text())
    other = json.loads(json.dumps(data["rows"]))
    for row in other:
        row["config"]["hparams"]["n_components"] = 0.5
    data["rows"] += other
    both = tmp_path / "both.json"
    both.write_text(json.dumps(data))
    report = json.loads(_compare(str(both), str(export), "--json").output)
    assert sorted((o["task"], o["verdict"], o["reason"]) for o in report["rows"]) == [
        ("0", "not run", "not run with this configuration"),
        ("0", "unchanged", "seeds 0,1"),
        ("1", "not run", "not run with this configuration"),
        ("1", "unchanged", "seeds 0,1"),
    ]


class MeanScore:
    """A third-party metric, lower is better: the mean score of the test set."""

    @hookimpl
    def bench_register_metrics(self, register):
        register(Metric("mean_score", lambda labels, scores: float(scores.mean()), False))


def test_a_plugin_metric_is_compared_in_its_direction(tmp_path):
    plugins.plugin_manager.cache_clear()
    plugins.registry.cache_clear()
    plugins.plugin_manager().register(MeanScore(), name="mean_score")
    spec = RunSpec(detectors=["pca"], classes=["0"], seeds=[0], device="cpu")
    run_into(tmp_path / "bench.sqlite", spec)
    baseline = tmp_path / "baseline.json"
    made = _compare(str(baseline), str(tmp_path / "bench.sqlite"), "--write-baseline")
    assert made.exit_code == 0, made.output

    def up(row):
        row["metrics"]["mean_score"] += 1.0

    result = _compare(str(baseline), str(_edited(baseline, tmp_path, up)))
    assert result.exit_code == 1, result.output
    assert "regression: digits pca/mse task 0 (mean_score): +1.0000" in result.output


def test_only_seeds_both_sides_ran_are_compared(export, tmp_path):
    data = json.loads(export.read_text())
    data["rows"] = [r for r in data["rows"] if r["seed"] == 0]
    for row in data["rows"]:
        row["metrics"]["auroc"] = 0.0 if row["task"] == "1" else row["metrics"]["auroc"]
    only_zero = tmp_path / "seed0.json"
    only_zero.write_text(json.dumps(data))
    report = json.loads(_compare(str(export), str(only_zero), "--json").output)
    assert report["exit_code"] == 1
    assert [(o["task"], o["verdict"], o["reason"]) for o in report["rows"]] == [
        ("0", "unchanged", "seeds 0"),
        ("1", "regressed", "seeds 0"),
    ]
    for row in data["rows"]:
        row["seed"] = 5
    only_zero.write_text(json.dumps(data))
    result = _compare(str(export), str(only_zero))
    assert "no seed in common (seeds 0,1 vs 5)" in result.output


def test_a_row_not_run_is_not_a_failure_and_a_failed_one_regresses(export, tmp_path):
    data = json.loads(export.read_text())
    data["rows"] = [r for r in data["rows"] if r["task"] == "0"]
    data["rows"][1].update(status="failed", error="boom", metrics={})
    current = tmp_path / "current.json"
    current.write_text(json.dumps(data))
    result = _compare(str(export), str(current))
    assert result.exit_code == 1, result.output
    assert "not run (1): no result on the current side (pca/mse)" in result.output
    assert "regression: digits pca/mse task 0 (status): seed 1 failed: boom" in result.output


def test_throughput_is_checked_only_on_fits_long_enough_to_time(export, tmp_path):
    def slow(row):
        row["fit_seconds"] = 2.0
        row["train_images_per_s"] /= 3

    def short(row):
        row["train_images_per_s"] /= 3  # pca fits take milliseconds: noise

    result = _compare(str(export), str(_edited(export, tmp_path, slow)))
    assert result.exit_code == 1, result.output
    assert "regression: digits pca/mse task 0 (throughput): -66.7%" in result.output
    lenient = _compare(str(export), str(tmp_path / "current.json"), "--throughput-tolerance", "70")
    assert lenient.exit_code == 0
    quick = _compare(str(export), str(_edited(export, tmp_path, short)), "--json")
    report = json.loads(quick.output)
    assert report["exit_code"] == 0 and quick.exit_code == 0
    throughput = [c for o in report["rows"] for c in o["checks"] if c["name"] == "throughput"]
    assert {c["change"].split(":")[0] for c in throughput} == {"not timed"}


def test_metric_directions_come_from_the_registered_metrics(export, tmp_path):
    def fpr_up(row):  # fpr95 is lower-is-better: up is worse
        row["metrics"]["fpr95"] += 0.2

    result = _compare(str(export), str(_edited(export, tmp_path, fpr_up)))
    assert result.exit_code == 1
    assert "regression: digits pca/mse task 1 (fpr95): +0.2000" in result.output

    def better(row):
        row["metrics"]["auroc"] += 0.02
        row["metrics"]["fpr95"] -= 0.02

    improved = _compare(str(export), str(_edited(export, tmp_path, better)))
    assert improved.exit_code == 0
    assert "compared 2 (regressed 0, improved 2)" in improved.output


def test_a_leaderboard_json_is_compared_only_where_it_records_enough(store, tmp_path):
    args = ["leaderboard", "--store", str(store), "--out", str(tmp_path), "--no-plots"]
    assert CliRunner().invoke(cli, args).exit_code == 0
    board = tmp_path / "digits.json"
    result = _compare(str(board), str(store))  # the board records seeds, threads and torch
    assert result.exit_code == 0, result.output
    assert "compared 2 (regressed 0, improved 0)" in result.output
    data = json.loads(board.read_text())
    del data["provenance"]["torch_threads"]  # as boards written before it was recorded
    older = tmp_path / "older.json"
    older.write_text(json.dumps(data))
    result = _compare(str(older), str(store))
    assert result.exit_code == 0, result.output
    assert "not comparable (2): the baseline side records no torch threads" in result.output
    assert "nothing was compared like for like" in result.output
    data = json.loads(board.read_text())
    data["provenance"]["cpus"] = ["Other CPU (torch AVX2)"]  # the board's rows ran elsewhere
    elsewhere = tmp_path / "elsewhere.json"
    elsewhere.write_text(json.dumps(data))
    result = _compare(str(elsewhere), str(store))
    assert "not comparable (2): CPU Other CPU (torch AVX2) vs " in result.output
    data["provenance"]["n_without_cpu"] = 1  # a row predates the CPU: its CPU is unknown
    elsewhere.write_text(json.dumps(data))
    assert "compared 2 (" in _compare(str(elsewhere), str(store)).output


def test_inputs_that_cannot_be_compared_exit_2_with_the_reason(export, tmp_path):
    def other_dataset(row):
        row["dataset"] = "mnist"

    nothing = _compare(str(export), str(_edited(export, tmp_path, other_dataset)))
    assert nothing.exit_code == 2
    assert "nothing in common" in nothing.output
    junk = tmp_path / "junk.json"
    junk.write_text("[1, 2]")
    bad = _compare(str(junk), str(export))
    assert bad.exit_code == 2
    assert bad.output.count("\n") == 1 and "neither a leaderboard JSON" in bad.output
    not_a_store = tmp_path / "notes.txt"
    not_a_store.write_text("hello, I am not SQLite " * 100)
    foreign = _compare(str(export), str(not_a_store))
    assert foreign.exit_code == 2 and "not a readable results store" in foreign.output


CI_SUITE = Path(__file__).resolve().parents[2] / "leaderboards" / "ci"


@pytest.fixture
def one_thread():
    """The thread count the committed CI baseline was made with (OMP_NUM_THREADS=1)."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def _run_ci_suite(store: Path) -> None:
    args = ["run", "--suite", str(CI_SUITE / "suite.toml"), "--store", str(store)]
    args += ["--workers", "1"]  # in this process, where the test corrupts a detector
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output


def test_the_ci_gate_passes_a_rerun_and_fails_a_corrupted_detector(
    one_thread, tmp_path, monkeypatch
):
    baseline, rerun = tmp_path / "baseline.json", tmp_path / "rerun.sqlite"
    _run_ci_suite(tmp_path / "first.sqlite")
    made = _compare(str(baseline), str(tmp_path / "first.sqlite"), "--write-baseline")
    assert made.exit_code == 0, made.output
    _run_ci_suite(rerun)
    result = _compare(str(baseline), str(rerun), "--strict")
    assert result.exit_code == 0, result.output
    assert "compared 9 (regressed 0, improved 0), not comparable 0, not run 0" in result.output
    # The committed baseline: equal where this machine is the one it was made on, else every row
    # says why not; never a regression.
    committed = _compare(str(CI_SUITE / "baseline.json"), str(rerun))
    assert committed.exit_code == 0, committed.output

    from plugins.detectors.knn import KNNDetector

    honest = KNNDetector.outputs
    monkeypatch.setattr(
        KNNDetector, "outputs", lambda self, x: {"score": -honest(self, x)["score"]}
    )
    _run_ci_suite(tmp_path / "corrupted.sqlite")
    gate = _compare(str(baseline), str(tmp_path / "corrupted.sqlite"), "--strict")
    assert gate.exit_code == 1, gate.output
    assert "compared 9 (regressed 3, improved 0)" in gate.output
    for task in ("0", "1", "2"):
        assert f"regression: digits knn/native task {task} (auroc)" in gate.output
    assert "pca/mse" not in gate.output and "conv_ae/mse" not in gate.output
