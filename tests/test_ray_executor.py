"""The Ray executor against the serial one, on a real local Ray instance and the digits data.

One Ray instance serves the whole module (starting one takes several seconds). It ships this
``tests`` package to its workers (``py_modules``), so they can import the crash plugin named by
``BENCH_EXTRA_PLUGINS`` just as the driver does, from any working directory.
"""

from __future__ import annotations

import sys
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from bench.cli import cli
from bench.errors import PlanError
from bench.executors import SerialExecutor, make_executor
from bench.jobs import Job
from bench.plugins import registry
from bench.results import FAILED, OK, JobResult
from bench.runner import RunSpec, execute, plan_jobs
from bench.store import ResultStore

HERE = Path(__file__).resolve().parent
CRASH_PLUGIN = "tests.ray_crash_plugin"


class Recorder:
    """A progress sink that remembers which jobs were announced."""

    def __init__(self) -> None:
        self.started: list[Job] = []

    def job_started(self, job: Job) -> None:
        self.started.append(job)

    def epoch(self, job: Job, epoch: int, total: int, loss: float) -> None:
        pass


@pytest.fixture(scope="module")
def ray_instance():
    ray = pytest.importorskip("ray")
    ray.init(
        num_cpus=2,
        include_dashboard=False,
        runtime_env={"py_modules": [str(HERE)], "excludes": ["__pycache__"]},
    )
    yield ray
    ray.shutdown()


def _ray_executor(**options: object):
    return make_executor("ray", **options)


def _by_key(results: list[JobResult]) -> dict[tuple[str, int], JobResult]:
    return {(r.config_hash, r.seed): r for r in results}


@pytest.mark.slow
def test_grid_matches_the_serial_executor_and_resumes(ray_instance, tmp_path):
    spec = RunSpec(
        detectors=["pca", "conv_ae"],
        classes=["0", "1"],
        seeds=[0, 1],
        scorers=["mse", "l1"],  # one task per trained model, scoring twice
        hparams={"epochs": 1},
        data_dir=str(tmp_path),
        device="cpu",
    )
    jobs = plan_jobs(spec)
    serial = _by_key(list(SerialExecutor().run(jobs, Recorder())))
    progress = Recorder()
    with ResultStore(tmp_path / "ray.sqlite") as store:
        results = execute(jobs, store, _ray_executor(), progress)
        stored = store.dataframe()
        resumed = execute(jobs, store, _ray_executor(), Recorder(), resume=True)

    assert len(jobs) == 8  # trained models, each scored by both scorers
    assert [r.status for r in results] == [OK] * 16
    assert _by_key(results).keys() == serial.keys()
    for key, result in _by_key(results).items():
        assert result.metrics["auroc"] == serial[key].metrics["auroc"]
        assert result.metrics == serial[key].metrics
        np.testing.assert_array_equal(result.scores, serial[key].scores)
    assert sorted(stored["auroc"]) == sorted(r.metrics["auroc"] for r in results)
    fits = stored.groupby(["detector", "task", "seed"])["fit_seconds"].nunique()
    assert (fits == 1).all()  # mse and l1 rows of a model share its one training run
    assert {k for job in progress.started for k in job.row_keys()} == set(_by_key(results))
    assert resumed == []
    assert ray_instance.is_initialized()  # the executor leaves a Ray it did not start alone


@pytest.mark.slow
def test_a_dying_worker_is_retried_then_recorded_as_failed(ray_instance, tmp_path, monkeypatch):
    monkeypatch.setenv("BENCH_EXTRA_PLUGINS", CRASH_PLUGIN)
    attempts = tmp_path / "attempts"
    spec = RunSpec(
        detectors=["process_killer", "pca"],
        classes=["0"],
        detector_hparams={"process_killer": {"attempts_file": str(attempts)}},
        data_dir=str(tmp_path),
        device="cpu",
    )
    with ResultStore(tmp_path / "ray.sqlite") as store:
        results = execute(plan_jobs(spec), store, _ray_executor(max_retries=1), Recorder())
        stored = store.dataframe().set_index("detector")

    assert len(attempts.read_text().splitlines()) == 2  # the first try and one retry
    assert [r.detector for r in results if r.status == OK] == ["pca"]
    assert stored.loc["process_killer", "status"] == FAILED
    assert stored.loc["process_killer", "error"].startswith("WorkerCrashedError after 2 attempt")
    assert stored.loc["pca", "auroc"] > 0.5


@pytest.mark.slow
def test_an_interrupt_keeps_finished_jobs_and_the_rest_can_resume(ray_instance, tmp_path):
    spec = RunSpec(
        detectors=["pca"], classes=["0", "1", "2", "3"], data_dir=str(tmp_path), device="cpu"
    )
    jobs = plan_jobs(spec)

    def interrupt(result: JobResult) -> None:
        raise KeyboardInterrupt

    with ResultStore(tmp_path / "ray.sqlite") as store:
        with pytest.raises(KeyboardInterrupt):
            execute(jobs, store, _ray_executor(), Recorder(), on_result=interrupt)
        assert len(store.dataframe()) == 1
        rest = execute(jobs, store, _ray_executor(), Recorder(), resume=True)
        assert len(rest) == len(jobs) - 1
        assert len(store.dataframe()) == len(jobs)


@pytest.mark.slow
def test_cuda_jobs_on_a_cluster_without_gpus_stop_before_submitting(ray_instance, tmp_path):
    spec = RunSpec(detectors=["pca"], classes=["0"], data_dir=str(tmp_path), device="cpu")
    jobs = [replace(job, device="cuda") for job in plan_jobs(spec)]
    progress = Recorder()
    with ResultStore(tmp_path / "ray.sqlite") as store:
        with pytest.raises(PlanError, match="the Ray cluster has 0"):
            execute(jobs, store, _ray_executor(gpus_per_job=0.5), progress)
        assert store.dataframe().empty
    assert progress.started == []


def test_cli_says_how_to_install_ray_when_it_is_missing(monkeypatch):
    monkeypatch.setitem(sys.modules, "ray", None)  # makes `import ray` fail
    out = CliRunner().invoke(cli, ["run", "-d", "pca", "--classes", "0", "--executor", "ray"])
    assert out.exit_code == 2
    assert (
        out.output.strip() == "Error: the ray executor needs Ray: pip install 'anomaly-bench[ray]'"
    )


def test_gpus_per_job_must_be_schedulable():
    pytest.importorskip("ray")
    assert _ray_executor(gpus_per_job=0.25).gpus_per_job == 0.25
    with pytest.raises(PlanError, match="--ray-gpus-per-job"):
        _ray_executor(gpus_per_job=1.5)


def test_extra_plugins_register_modules_by_import_path(monkeypatch):
    monkeypatch.setenv("BENCH_EXTRA_PLUGINS", CRASH_PLUGIN)
    assert "process_killer" in registry().names("detectors")
    assert "pca" in registry().names("detectors")  # in addition to the installed plugins


def test_extra_plugins_name_an_importable_module(monkeypatch):
    monkeypatch.setenv("BENCH_EXTRA_PLUGINS", "no_such_plugin_module")
    with pytest.raises(RuntimeError, match="BENCH_EXTRA_PLUGINS names 'no_such_plugin_module'"):
        registry()
