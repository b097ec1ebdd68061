"""`bench history`: points per commit, and the step rule on constructed histories (a known step,
noise only, a dip that recovers) and on a real store holding two commits with a planted drop."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from bench import environment, hookimpl, plugins
from bench.cli import cli
from bench.leaderboard.history import build_history, find_step
from bench.leaderboard.rows import Row
from bench.runner import RunSpec
from tests.leaderboard.conftest import run_into
from tests.leaderboard.test_compare import NoisyPCA

ABSOLUTE = 0.01


def _fixed(_level: float) -> float:
    return ABSOLUTE


def test_a_known_step_is_found_where_it_began():
    rng = np.random.default_rng(0)
    noise = 0.004 * rng.standard_normal(20)
    values = list(np.r_[np.full(12, 0.90), np.full(8, 0.85)] + noise)
    assert find_step(values, _fixed) == 12
    assert find_step(values[:13], _fixed) == 12  # a drop at the latest commit is flagged at once


@pytest.mark.parametrize("std", [0.002, 0.02])  # below and above the 0.01 tolerance
def test_noise_alone_is_no_step(std):
    """40 histories of 25 commits of Gaussian noise: no step, except at most one provisional
    flag on a last point (seed 1 at std 0.02 ends 4.5 std below the mean of the rest)."""
    flags = []
    for seed in range(40):
        values = list(0.9 + std * np.random.default_rng(seed).standard_normal(25))
        flags += [i for i in [find_step(values, _fixed)] if i is not None]
    assert set(flags) <= {24} and len(flags) <= 1


def test_a_dip_that_recovers_is_no_step_and_seed_noise_raises_the_threshold():
    assert find_step([0.9, 0.9, 0.7, 0.9, 0.9], _fixed) is None
    assert find_step([0.9, 0.9, 0.88], _fixed) == 2
    assert find_step([0.9, 0.9, 0.88], _fixed, noise=0.01) is None  # within 3 x seed spread


def _row(commit: str, when: str, task: str, seed: int, auroc: float, speed: float = 100.0) -> Row:
    env = {"device": "cpu", "device_name": "x", "torch_threads": "1", "torch": "t", "cuda": None}
    return Row(
        "digits", "pca", "mse", task, (seed,), "ok", {"auroc": auroc}, None, 2.0, speed,
        {"detector": "pca"}, env, commit, when,
    )  # fmt: skip


def test_points_use_only_runs_every_commit_has():
    rows = [
        _row("a", "2026-01-01", "0", 0, 0.9),
        _row("a", "2026-01-01", "1", 0, 0.5),  # only commit a ran task 1
        _row("b", "2026-01-02", "0", 0, 0.8, speed=40.0),
    ]
    (series,) = build_history(rows, "auroc", 0.01, 50.0, 1.0)
    assert [(p.commit, p.value, p.throughput) for p in series.points] == [
        ("a", 0.9, 100.0),
        ("b", 0.8, 40.0),
    ]
    assert series.metric_step is not None and series.metric_step.commit == "b"
    assert series.throughput_step is not None and series.throughput_step.commit == "b"


def _history_json(source: Path, png: Path) -> list[dict]:
    result = CliRunner().invoke(cli, ["history", str(source), "--plot", str(png), "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


class BrokenPCA(NoisyPCA):
    """pca as a later commit broke it: its default changed (so its rows sit beside the old ones
    in one store) and its reconstructions became noise."""

    defaults = {"n_components": 0.5}


class BrokenPlugin:
    @hookimpl
    def bench_register_detectors(self, register):
        register(BrokenPCA)


def test_a_planted_drop_in_a_store_of_two_commits_is_flagged(tmp_path, monkeypatch):
    store = tmp_path / "bench.sqlite"
    spec = RunSpec(detectors=["pca"], classes=["0", "1"], seeds=[0], device="cpu")
    monkeypatch.setattr(environment, "git_commit", lambda: "1111111111aaaa")
    run_into(store, spec)
    monkeypatch.setenv("BENCH_PLUGINS", "scorers,metrics,digits")  # no built-in pca
    plugins.plugin_manager.cache_clear()
    plugins.registry.cache_clear()
    plugins.plugin_manager().register(BrokenPlugin(), name="broken")
    monkeypatch.setattr(environment, "git_commit", lambda: "2222222222bbbb")
    run_into(store, spec)

    png = tmp_path / "history.png"
    result = CliRunner().invoke(cli, ["history", str(store), "--plot", str(png)])
    assert result.exit_code == 0, result.output
    assert "step: digits pca/mse" in result.output and "auroc from commit 22222222" in result.output
    assert png.read_bytes().startswith(b"\x89PNG")
    report = _history_json(store, png)
    (series,) = report
    assert [p["commit"] for p in series["points"]] == ["1111111111aaaa", "2222222222bbbb"]
    assert series["metric_step"]["commit"] == "2222222222bbbb"
    assert series["metric_step"]["before"] - series["metric_step"]["after"] > 0.3


def test_history_reads_results_exports_one_per_commit(tmp_path):
    """The CI way: one export per commit in a directory."""
    folder = tmp_path / "history"
    folder.mkdir()
    for name, auroc in (("1.json", 0.9), ("2.json", 0.9), ("3.json", 0.6)):
        commit, when = name[0] * 8, f"2026-01-0{name[0]}"
        row = {
            "dataset": "digits", "detector": "knn", "scorer": "native", "task": "0", "seed": 0,
            "status": "ok", "metrics": {"auroc": auroc}, "fit_seconds": 0.1,
            "train_images_per_s": 1e4, "config": {}, "environment": {}, "git_commit": commit,
            "started_at": when, "error": None,
        }  # fmt: skip
        data = {"format": "anomaly-bench results", "schema": 1, "rows": [row]}
        (folder / name).write_text(json.dumps(data))
    png = tmp_path / "h.png"
    report = _history_json(folder, png)
    assert [p["value"] for p in report[0]["points"]] == [0.9, 0.9, 0.6]
    assert report[0]["metric_step"]["commit"] == "33333333"
    assert report[0]["throughput_step"] is None


def test_a_change_of_cpu_starts_another_series_instead_of_a_step(tmp_path):
    folder = tmp_path / "history"
    folder.mkdir()
    for name, auroc, cpu in (("1.json", 0.9, "A"), ("2.json", 0.9, "A"), ("3.json", 0.6, "B")):
        row = {
            "dataset": "digits", "detector": "knn", "scorer": "native", "task": "0", "seed": 0,
            "status": "ok", "metrics": {"auroc": auroc}, "fit_seconds": 0.1,
            "train_images_per_s": 1e4, "config": {}, "environment": {"cpu": cpu},
            "git_commit": name[0] * 8, "started_at": f"2026-01-0{name[0]}", "error": None,
        }  # fmt: skip
        data = {"format": "anomaly-bench results", "schema": 1, "rows": [row]}
        (folder / name).write_text(json.dumps(data))
    report = _history_json(folder, tmp_path / "h.png")
    assert [[p["value"] for p in s["points"]] for s in report] == [[0.9, 0.9], [0.6]]
    assert [s["metric_step"] for s in report] == [None, None]


def test_missing_sources_are_one_line_errors(tmp_path):
    result = CliRunner().invoke(cli, ["history", str(tmp_path / "nope.sqlite")])
    assert result.exit_code == 2
    assert result.output.count("\n") == 1 and "no results store" in result.output
