"""``bench run --workers N``: the local pool gives the serial executor's bits, survives a dying
worker, and leaves no worker behind when a run stops."""

from __future__ import annotations

import multiprocessing
import textwrap

import numpy as np
import pytest
from click.testing import CliRunner

from bench.cli import cli
from bench.executors import SerialExecutor, make_executor
from bench.pool_executor import PoolExecutor
from bench.runner import RunSpec, plan_jobs
from bench.store import ResultStore, read_results

GRID = ["-d", "pca,fcn_ae", "--set", "fcn_ae.epochs=1", "--classes", "0,1", "--device", "cpu"]

# Registered by import path from a folder on the driver's sys.path only, as a notebook's or a
# test's module would be: spawned workers must find it too.
PLUGIN = '''
import os
import signal
import time
from pathlib import Path

from bench import hookimpl
from bench.detector import Detector


class SelfKilling(Detector):
    """Dies in fit the way a segfault or the OOM killer ends a process."""

    name = "self_killing"
    produces = ("reconstruction",)
    default_scorer = "mse"
    defaults = {"attempts_file": ""}

    def fit(self, train):
        with open(self.hparams["attempts_file"], "a") as attempts:
            attempts.write(f"{os.getpid()}\\n")
        os.kill(os.getpid(), signal.SIGKILL)


class Sleeping(Detector):
    """Trains for 30 s, then leaves a mark: a stopped run must never get that far."""

    name = "sleeping"
    produces = ("reconstruction",)
    default_scorer = "mse"
    defaults = {"mark": ""}

    def fit(self, train):
        time.sleep(30)
        Path(self.hparams["mark"]).touch()


@hookimpl
def bench_register_detectors(register):
    register(SelfKilling)
    register(Sleeping)
'''


class Recorder:
    def __init__(self) -> None:
        self.started: list = []
        self.epochs: list = []

    def job_started(self, job) -> None:
        self.started.append(job)

    def epoch(self, job, epoch, total, loss) -> None:
        self.epochs.append((job, epoch, total))


@pytest.fixture
def plugin(tmp_path, monkeypatch):
    folder = tmp_path / "plugins"
    folder.mkdir()
    (folder / "pool_test_plugin.py").write_text(textwrap.dedent(PLUGIN))
    monkeypatch.syspath_prepend(str(folder))
    monkeypatch.setenv("BENCH_EXTRA_PLUGINS", "pool_test_plugin")


def _run(tmp_path, name, *args):
    store = tmp_path / f"{name}.sqlite"
    out = CliRunner().invoke(cli, ["run", "--store", str(store), *args])
    return out, store


def _rows(store) -> dict:
    with ResultStore(store, readonly=True) as s:
        frame = s.dataframe()
        return {
            (row.config_hash, row.seed): (row.auroc, s.arrays(row.id)["scores"])
            for row in frame.itertuples()
        }


def test_two_workers_store_the_serial_scores_bit_for_bit(tmp_path):
    serial, serial_store = _run(tmp_path, "serial", *GRID, "--workers", "1")
    pooled, pooled_store = _run(tmp_path, "pooled", *GRID, "--workers", "2")
    assert serial.exit_code == 0, serial.output
    assert pooled.exit_code == 0, pooled.output
    expected, got = _rows(serial_store), _rows(pooled_store)
    assert len(expected) == 4 and got.keys() == expected.keys()
    for key, (auroc, scores) in expected.items():
        assert got[key][0] == auroc
        np.testing.assert_array_equal(got[key][1], scores)
    assert "[4/4]" in pooled.output  # one plain line per row, as each job finishes


def test_workers_report_each_jobs_epochs_to_the_driver(tmp_path):
    spec = RunSpec(
        detectors=["fcn_ae"],
        classes=["0", "1"],
        detector_hparams={"fcn_ae": {"epochs": 3}},
        data_dir=str(tmp_path),
        device="cpu",
    )
    progress = Recorder()
    rows = list(PoolExecutor(2).run(plan_jobs(spec), progress))
    assert [row.status for row in rows] == ["ok", "ok"]
    # at most one epoch a second per job, and always its last
    last = {job.experiment.task: (epoch, total) for job, epoch, total in progress.epochs}
    assert last == {"0": (2, 3), "1": (2, 3)}
    assert {job for job, _, _ in progress.epochs} <= set(progress.started)


def test_a_plain_log_shows_a_heartbeat_from_every_worker(tmp_path, monkeypatch):
    monkeypatch.setattr("bench.progress.HEARTBEAT_SECONDS", 0.0)
    out, _ = _run(tmp_path, "beat", "-d", "fcn_ae", "--set", "fcn_ae.epochs=2",
                  "--classes", "0,1", "--workers", "2")  # fmt: skip
    assert out.exit_code == 0, out.output
    for digit in "01":
        assert f"  fcn_ae/mse digits:{digit} seed 0: epoch 2/2, loss " in out.output


def test_a_killed_worker_fails_its_job_after_a_retry_and_the_rest_succeed(tmp_path, plugin):
    attempts = tmp_path / "attempts"
    out, store = _run(
        tmp_path,
        "crash",
        *("-d", "self_killing,pca", "--classes", "0,1", "--workers", "2"),
        *("--set", f"self_killing.attempts_file={attempts}"),
    )
    assert out.exit_code == 1, out.output
    frame = read_results(store)
    by_detector = frame.groupby("detector")["status"].apply(sorted).to_dict()
    assert by_detector == {"pca": ["ok", "ok"], "self_killing": ["failed", "failed"]}
    errors = set(frame.loc[frame.detector == "self_killing", "error"])
    assert errors == {
        "WorkerDiedError after 2 attempt(s): the worker process was killed by SIGKILL"
    }
    pids = attempts.read_text().split()
    # Both jobs ran once alone in a fresh worker (one may have been cut short in the first pool
    # by the other's death before it started).
    assert 2 <= len(pids) <= 4 and len(set(pids)) == len(pids)
    assert multiprocessing.active_children() == []


def test_closing_the_stream_terminates_the_workers_at_once(tmp_path, plugin):
    mark = tmp_path / "finished"
    spec = RunSpec(
        detectors=["pca", "sleeping"],
        classes=["0"],
        detector_hparams={"sleeping": {"mark": str(mark)}},
        data_dir=str(tmp_path),
        device="cpu",
    )
    progress = Recorder()
    stream = PoolExecutor(2).run(plan_jobs(spec), progress)
    first = next(stream)
    stream.close()
    assert first.detector == "pca" and first.status == "ok"
    assert [job.experiment.detector for job in progress.started] == ["pca", "sleeping"]
    assert multiprocessing.active_children() == []
    assert not mark.exists()  # the sleeping job was stopped, not waited for


def test_one_worker_is_the_serial_executor():
    assert isinstance(make_executor("local", workers=1), SerialExecutor)
    assert isinstance(make_executor("local", workers=3), PoolExecutor)


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["--workers", "0"], "--workers expects an integer >= 1 or auto, got '0'"),
        (["--workers", "x"], "--workers expects an integer >= 1 or auto, got 'x'"),
        (["--workers", "2", "--executor", "ray"], "--workers is for --executor local"),
        (["--workers", "2", "--executor", "serial"], "--workers is for --executor local"),
    ],
)
def test_a_bad_workers_value_is_a_one_line_usage_error(tmp_path, args, says):
    out, store = _run(tmp_path, "bad", "-d", "pca", *args)
    assert out.exit_code == 2, out.output
    assert len(out.output.strip().splitlines()) == 1 and says in out.output
    assert not store.exists()
