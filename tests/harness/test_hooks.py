"""One test per hook: a plugin implementing it is seen by the harness."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from bench import hookimpl
from bench.dataset import Dataset, Splits
from bench.executors import SerialExecutor
from bench.metrics import Metric
from bench.plugins import build_registry, plugin_manager, registry
from bench.registry import PluginConflictError
from bench.runner import RunSpec, execute, plan_jobs
from bench.scorer import Scorer
from bench.store import ResultStore


class _Silent:
    def job_started(self, job):
        pass

    def epoch(self, job, epoch, total, loss):
        pass


class TinyNoise(Dataset):
    """Two classes that differ in brightness: trivially separable."""

    name = "tiny_noise"

    def load(self) -> Splits:
        g = torch.Generator().manual_seed(0)
        dark = torch.randint(0, 60, (40, 1, 4, 4), generator=g, dtype=torch.uint8)
        light = torch.randint(190, 255, (40, 1, 4, 4), generator=g, dtype=torch.uint8)
        images = torch.cat([dark, light])
        labels = torch.cat([torch.zeros(40), torch.ones(40)]).long()
        return Splits(images[::2], labels[::2], images[1::2], labels[1::2], ["dark", "light"])


class ExtraPlugin:
    @hookimpl
    def bench_register_datasets(self, register):
        register(TinyNoise)

    @hookimpl
    def bench_register_scorers(self, register):
        register(
            Scorer(
                "neg_mse",
                ("reconstruction",),
                lambda out, x: -(out["reconstruction"] - x).pow(2).mean((1, 2, 3)),
            )
        )

    @hookimpl
    def bench_register_metrics(self, register):
        register(Metric("mean_score_gap", lambda y, s: float(s[y == 1].mean() - s[y == 0].mean())))


def test_register_datasets_scorers_metrics_and_detectors(tmp_path):
    plugin_manager().register(ExtraPlugin(), name="extra")
    reg = build_registry(plugin_manager())
    assert reg.datasets["tiny_noise"].plugin == "extra"
    assert reg.scorers["neg_mse"].plugin == "extra"
    assert reg.metrics["mean_score_gap"].plugin == "extra"
    assert reg.detectors["pca"].plugin == "pca"

    registry.cache_clear()
    jobs = plan_jobs(RunSpec(detectors=["pca"], dataset="tiny_noise", data_dir=str(tmp_path)))
    with ResultStore(tmp_path / "s.sqlite") as store:
        (dark, light) = execute(jobs, store, SerialExecutor(), _Silent())
    # The plugin's metric is computed on every task alongside the built-in ones.
    assert dark.metrics["mean_score_gap"] > 0 and dark.metrics["auroc"] > 0.9
    assert set(dark.metrics) >= {"auroc", "auprc", "fpr95", "mean_score_gap"}


def test_report_result_called_with_every_result(tmp_path):
    seen = []

    class Reporter:
        @hookimpl
        def bench_report_result(self, result):
            seen.append((result.detector, result.task, result.status))

    plugin_manager().register(Reporter(), name="reporter")
    jobs = plan_jobs(RunSpec(detectors=["pca"], classes=["0", "1"], seeds=[0, 1]))
    with ResultStore(tmp_path / "s.sqlite") as store:
        execute(jobs, store, SerialExecutor(), _Silent())
    assert sorted(seen) == sorted([("pca", t, "ok") for t in ("0", "1") for _ in range(2)])


def test_reporting_hook_failure_does_not_stop_the_run(tmp_path):
    class BrokenReporter:
        @hookimpl
        def bench_report_result(self, result):
            raise RuntimeError("reporter down")

    plugin_manager().register(BrokenReporter(), name="broken_reporter")
    jobs = plan_jobs(RunSpec(detectors=["pca"], classes=["0", "1"]))
    with ResultStore(tmp_path / "s.sqlite") as store:
        results = execute(jobs, store, SerialExecutor(), _Silent())
        assert len(store.dataframe()) == 2
    assert [r.status for r in results] == ["ok", "ok"]


def test_same_name_from_two_plugins_is_an_error_naming_both():
    class Impostor:
        @hookimpl
        def bench_register_scorers(self, register):
            register(Scorer("mse", ("reconstruction",), lambda out, x: x.sum()))

    plugin_manager().register(Impostor(), name="impostor")
    with pytest.raises(PluginConflictError, match="'scorers'.*'impostor'|'impostor'.*'scorers'"):
        build_registry(plugin_manager())


def test_unnamed_registration_is_refused():
    class Nameless:
        @hookimpl
        def bench_register_metrics(self, register):
            register(object())

    plugin_manager().register(Nameless(), name="nameless")
    with pytest.raises(TypeError, match="nameless"):
        build_registry(plugin_manager())


def test_metrics_receive_only_finished_scores():
    # The built-in fpr95 agrees with its definition on a hand-checkable case.
    fpr95 = registry().get("metrics", "fpr95")
    labels = np.array([0, 0, 0, 0, 1, 1])
    scores = np.array([0.1, 0.2, 0.3, 0.9, 0.8, 0.95])
    assert fpr95.fn(labels, scores) == pytest.approx(0.25)
