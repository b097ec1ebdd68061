"""Every committed suite plans: its keys, detectors and hyperparameters are ones the installed
plugins accept (a pin that no longer checks would only fail hours into a leaderboard run), and
it asks for the grid its comments promise (every class x its seeds)."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.plugins import registry
from bench.runner import plan_jobs
from bench.suite import load_suite
from tests.conftest import ROOT, SHARED_DATA

SUITES = sorted((ROOT / "leaderboards").glob("**/*.toml"))
SUITES = [p for p in SUITES if p.name != "reference.toml"]
# The data each dataset needs here (digits is embedded); CIFAR-10's first decode takes a minute.
NEEDS = {"mnist": "mnist/train-images-idx3-ubyte.gz", "cifar10": "cifar10/cifar10-jpeg.tar.gz"}
SLOW = {"cifar10"}


def _params() -> list:
    params = []
    for path in SUITES:
        dataset = load_suite(path, registry().names("detectors")).dataset
        marks = [pytest.mark.slow] if dataset in SLOW else []
        params.append(pytest.param(path, id=str(path.relative_to(ROOT)), marks=marks))
    return params


@pytest.mark.parametrize("path", _params())
def test_committed_suite_plans_its_whole_grid(path: Path):
    spec = load_suite(path, registry().names("detectors"))
    if spec.dataset != "digits":
        needed = NEEDS.get(spec.dataset)
        if needed is None or not (SHARED_DATA / needed).exists():
            pytest.skip(f"no {spec.dataset} data under {SHARED_DATA}")
        spec.data_dir = str(SHARED_DATA)
    jobs = plan_jobs(spec)
    tasks = {job.experiment.task for job in jobs}
    assert len(jobs) == len(spec.detectors) * len(tasks) * len(spec.seeds)
    if spec.classes is None:
        assert len(tasks) == 10  # every committed suite covers a 10-class dataset
