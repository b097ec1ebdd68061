"""The runner: failures become rows, nothing is trained before the plan is valid, resume."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
import torch

from bench.errors import PlanError
from bench.executors import SerialExecutor
from bench.experiment import Settings
from bench.plugins import plugin_manager
from bench.runner import RunSpec, execute, plan_jobs
from bench.store import ResultStore
from tests.harness.plugin_helpers import BrokenPlugin


class Silent:
    def job_started(self, job):
        pass

    def epoch(self, job, epoch, total, loss):
        pass


def _run(spec: RunSpec, store_path, resume=False):
    with ResultStore(store_path) as store:
        results = execute(plan_jobs(spec), store, SerialExecutor(), Silent(), resume=resume)
        return results, store.dataframe()


def test_failing_and_diverging_detectors_become_rows_and_the_run_goes_on(tmp_path):
    plugin_manager().register(BrokenPlugin(), name="broken")
    spec = RunSpec(detectors=["exploding", "pca", "diverging"], classes=["0", "1"])
    results, frame = _run(spec, tmp_path / "s.sqlite")
    by_detector = {d: g for d, g in frame.groupby("detector")}
    assert list(by_detector["exploding"]["status"]) == ["failed", "failed"]
    assert by_detector["exploding"]["error"].str.contains("ValueError: boom during fit").all()
    assert list(by_detector["diverging"]["status"]) == ["diverged", "diverged"]
    assert by_detector["diverging"]["error"].str.contains("loss became nan").all()
    assert list(by_detector["pca"]["status"]) == ["ok", "ok"]
    assert (by_detector["pca"]["auroc"] > 0.9).all()
    assert len(results) == 6


def test_sys_exit_inside_a_detector_is_a_failed_row_and_the_run_goes_on(tmp_path):
    plugin_manager().register(BrokenPlugin(), name="broken")
    spec = RunSpec(detectors=["pca", "exiting", "knn"], classes=["0"])
    results, frame = _run(spec, tmp_path / "s.sqlite")
    assert list(frame["detector"]) == ["pca", "exiting", "knn"]
    assert list(frame["status"]) == ["ok", "failed", "ok"]
    assert frame["error"][1] == "SystemExit: 3"


def test_incompatible_scorer_is_refused_before_training():
    with pytest.raises(PlanError, match="scorer 'elbo' needs outputs .* detector 'pca'"):
        plan_jobs(RunSpec(detectors=["pca"], scorers=["elbo"]))


@pytest.mark.parametrize(
    "spec, message",
    [
        (RunSpec(detectors=["nope"]), "unknown detector 'nope'"),
        (RunSpec(detectors=["pca"], dataset="nope"), "unknown dataset 'nope'"),
        (RunSpec(detectors=["pca"], classes=["11"]), "has no class '11'"),
        (RunSpec(detectors=["pca"], hparams={"epochz": 3}), "epochz"),
        (RunSpec(detectors=["pca"], detector_hparams={"pca": {"lr": 1}}), "'pca' has no hyper"),
        (RunSpec(detectors=[]), "no detector selected"),
    ],
)
def test_plan_errors_name_the_problem(spec, message):
    with pytest.raises(PlanError, match=message):
        plan_jobs(spec)


def test_shared_hparams_apply_only_where_the_detector_has_them():
    jobs = plan_jobs(RunSpec(detectors=["pca", "conv_ae"], classes=["0"], hparams={"epochs": 3}))
    by_detector = {job.experiment.detector: job.experiment for job in jobs}
    assert by_detector["conv_ae"].hparams["epochs"] == 3
    assert "epochs" not in by_detector["pca"].hparams


def test_grid_is_detectors_times_tasks_times_seeds_with_distinct_keys():
    jobs = plan_jobs(RunSpec(detectors=["pca", "conv_ae"], classes=["3", "4"], seeds=[0, 1, 2]))
    assert len(jobs) == 12
    assert len({key for job in jobs for key in job.row_keys()}) == 12
    # The config hash ignores the seed, so resume can match (hash, seed) pairs.
    assert len({hash_ for job in jobs for hash_, _ in job.row_keys()}) == 4


def test_resume_skips_stored_jobs_and_reruns_failed_ones(tmp_path):
    plugin_manager().register(BrokenPlugin(), name="broken")
    store = tmp_path / "s.sqlite"
    _run(RunSpec(detectors=["pca", "exploding"], classes=["0"]), store)
    results, frame = _run(
        RunSpec(detectors=["pca", "exploding"], classes=["0", "1"]), store, resume=True
    )
    rerun = sorted((r.detector, r.task) for r in results)
    assert rerun == [("exploding", "0"), ("exploding", "1"), ("pca", "1")]
    assert len(frame) == 4  # the failed row was replaced, not duplicated
    assert not frame.duplicated(["config_hash", "seed"]).any()


def test_same_seed_gives_identical_scores_and_rows_record_provenance(tmp_path):
    spec = RunSpec(detectors=["conv_ae"], classes=["2"], hparams={"epochs": 2})
    first, _ = _run(spec, tmp_path / "a.sqlite")
    second, frame = _run(spec, tmp_path / "b.sqlite")
    assert first[0].metrics["auroc"] == second[0].metrics["auroc"]
    assert (first[0].scores == second[0].scores).all()
    row = frame.iloc[0]
    assert row["versions"]["torch"] and row["torch_version"] and row["device_name"]
    assert row["versions"]["torch_threads"] == str(torch.get_num_threads())
    # the CPU picks the kernels: its model and torch's instruction set, e.g. "... AVX512)"
    capability = torch.backends.cpu.get_cpu_capability()
    assert row["versions"]["cpu"].endswith(f"torch {capability})")
    assert row["device"] == "cpu" and row["parameters"] > 0 and row["train_images_per_s"] > 0
    assert row["config"]["hparams"]["epochs"] == 2 and len(row["config_hash"]) == 16


def test_training_throughput_counts_every_reported_epoch(tmp_path):
    # deep_svdd pretrains for its own epochs before the main ones: both are timed, so both count.
    hparams = {"epochs": 1, "pretrain_epochs": 2, "batch_size": 64}
    spec = RunSpec(detectors=["deep_svdd"], classes=["0"], detector_hparams={"deep_svdd": hparams})
    (result,), _ = _run(spec, tmp_path / "s.sqlite")
    images_trained = result.train_images_per_s * result.fit_seconds
    assert images_trained == pytest.approx(3 * result.n_train)


def test_scorers_of_one_model_share_its_training_and_match_a_fresh_fit(tmp_path):
    epochs = []

    class Counting(Silent):
        def epoch(self, job, epoch, total, loss):
            epochs.append((job.scorers, epoch))

    spec = RunSpec(detectors=["conv_ae"], classes=["1"], scorers=["mse", "l1", "max_error"],
                   hparams={"epochs": 2}, settings=Settings(max_test=60))  # fmt: skip
    jobs = plan_jobs(spec)
    with ResultStore(tmp_path / "s.sqlite") as store:
        results = execute(jobs, store, SerialExecutor(), Counting())
    assert [r.scorer for r in results] == ["mse", "l1", "max_error"]
    assert len(jobs) == 1  # one trained model, scored three ways
    assert epochs == [(("mse", "l1", "max_error"), 0), (("mse", "l1", "max_error"), 1)]
    assert len({r.fit_seconds for r in results}) == 1

    (alone,), _ = _run(replace(spec, scorers=["max_error"]), tmp_path / "alone.sqlite")
    assert np.array_equal(results[2].scores, alone.scores)
    assert results[2].metrics == alone.metrics


def test_a_lone_trailing_training_image_is_skipped_not_fatal(tmp_path):
    # 121 normal images of class 1 with batch 8 leave one image in the last batch, which
    # BatchNorm layers cannot train on.
    spec = RunSpec(
        detectors=["resnet_ae"],
        classes=["1"],
        hparams={"epochs": 1, "batch_size": 8},
        settings=Settings(max_test=50),
    )
    results, frame = _run(spec, tmp_path / "s.sqlite")
    assert results[0].n_train % 8 == 1
    assert frame["status"].tolist() == ["ok"], frame["error"].tolist()
