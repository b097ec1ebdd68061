"""`bench compare`: a real rerun passes, a detector that got worse (or slower, or broke) fails."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from click.testing import CliRunner

from bench import hookimpl, plugins
from bench.cli import cli
from bench.detector import Detector
from bench.images import InputSpec
from bench.runner import RunSpec
from tests.leaderboard.conftest import run_into

SPEC = dict(detectors=["pca"], classes=["0", "1"], seeds=[0, 1], device="cpu")
# Timings on a shared test machine are noise, so checks that are about AUROC or status allow any
# throughput drop; the throughput check itself is tested on an edited leaderboard below.
ANY_SLOWDOWN = ["--throughput-tolerance", "100"]


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
def baseline(tmp_path_factory) -> Path:
    """The leaderboard JSON of a real pca run."""
    folder = tmp_path_factory.mktemp("baseline")
    store = folder / "bench.sqlite"
    run_into(store, RunSpec(**SPEC))
    args = ["leaderboard", "--store", str(store), "--out", str(folder), "--no-plots"]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    return folder / "digits.json"


def test_an_unchanged_rerun_passes(baseline, tmp_path):
    run_into(tmp_path / "rerun.sqlite", RunSpec(**SPEC))
    result = _compare(str(baseline), str(tmp_path / "rerun.sqlite"), *ANY_SLOWDOWN)
    assert result.exit_code == 0, result.output
    assert "no regressions" in result.output


def test_a_detector_whose_scores_became_noise_fails_and_is_named(baseline, tmp_path, monkeypatch):
    monkeypatch.setenv("BENCH_PLUGINS", "scorers,metrics,digits")  # no built-in pca
    plugins.plugin_manager.cache_clear()
    plugins.registry.cache_clear()
    plugins.plugin_manager().register(NoisyPlugin(), name="noisy")
    run_into(tmp_path / "noisy.sqlite", RunSpec(**SPEC))
    result = _compare(str(baseline), str(tmp_path / "noisy.sqlite"), *ANY_SLOWDOWN)
    assert result.exit_code == 1, result.output
    assert "2 regression(s)" in result.output
    for task in ("0", "1"):
        assert f"digits pca/mse task {task} (auroc)" in result.output
    # a fixed tolerance larger than any AUROC drop lets it pass
    noisy = str(tmp_path / "noisy.sqlite")
    lenient = _compare(str(baseline), noisy, "--auroc-tolerance", "1", *ANY_SLOWDOWN)
    assert lenient.exit_code == 0, lenient.output


def _edited(baseline: Path, tmp_path: Path, edit) -> Path:
    board = json.loads(baseline.read_text())
    edit(board["rows"][0]["tasks"])
    path = tmp_path / "current.json"
    path.write_text(json.dumps(board))
    return path


def test_a_throughput_drop_beyond_tolerance_fails(baseline, tmp_path):
    def halve(tasks):
        tasks["1"]["train_images_per_s"] /= 2

    current = _edited(baseline, tmp_path, halve)
    result = _compare(str(baseline), str(current))
    assert result.exit_code == 1, result.output
    assert "digits pca/mse task 1 (throughput): -50.0%" in result.output
    assert _compare(str(baseline), str(current), "--throughput-tolerance", "60").exit_code == 0


@pytest.mark.parametrize("status", ["failed", "missing"])
def test_rows_that_were_ok_and_failed_or_vanished_fail(baseline, tmp_path, status):
    def lose(tasks):
        if status == "missing":
            del tasks["0"]
        else:
            tasks["0"].update(status="failed", n_ok=0, auroc_mean=None, auroc_std=None)

    result = _compare(str(baseline), str(_edited(baseline, tmp_path, lose)))
    assert result.exit_code == 1, result.output
    assert "digits pca/mse task 0 (status): results lost" in result.output


def test_a_changed_configuration_is_reported_but_not_a_regression(baseline, tmp_path):
    board = json.loads(baseline.read_text())
    board["rows"][0]["settings"][0]["hparams"]["n_components"] = 0.5
    current = tmp_path / "current.json"
    current.write_text(json.dumps(board))
    result = _compare(str(baseline), str(current))
    assert result.exit_code == 0, result.output
    assert "settings changed" in result.output and "0.5" in result.output
