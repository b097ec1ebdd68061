"""Real result stores built by running short real jobs on the embedded digits dataset."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench import plugins
from bench.executors import SerialExecutor
from bench.runner import RunSpec, execute, plan_jobs
from bench.store import ResultStore
from tests.harness.plugin_helpers import BrokenPlugin

CLASSES = ["0", "1", "2"]
SEEDS = [0, 1]


class Silent:
    def job_started(self, job):
        pass

    def epoch(self, job, epoch, total, loss):
        pass


def run_into(store_path: Path, spec: RunSpec) -> None:
    with ResultStore(store_path) as store:
        execute(plan_jobs(spec), store, SerialExecutor(), Silent())


@pytest.fixture(scope="session")
def mixed_store(tmp_path_factory) -> Path:
    """On three classes x two seeds: pca, a detector that raises and one that diverges; plus a
    small conv_ae (1 epoch) run on class 0 with seed 0 only, so its other classes were never
    run (and its one cell has no spread)."""
    plugins.plugin_manager.cache_clear()
    plugins.registry.cache_clear()
    plugins.plugin_manager().register(BrokenPlugin(), name="broken")
    path = tmp_path_factory.mktemp("mixed") / "bench.sqlite"
    try:
        spec = RunSpec(
            detectors=["pca", "exploding", "diverging"], classes=CLASSES, seeds=SEEDS, device="cpu"
        )
        run_into(path, spec)
        small_ae = {"epochs": 1, "widths": [4, 8, 8]}
        spec = RunSpec(
            detectors=["conv_ae"], classes=CLASSES[:1], seeds=[0], hparams=small_ae, device="cpu"
        )
        run_into(path, spec)
    finally:
        plugins.plugin_manager.cache_clear()
        plugins.registry.cache_clear()
    return path
