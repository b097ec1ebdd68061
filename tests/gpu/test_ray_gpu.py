"""The Ray executor's GPU reservations, where torch sees a CUDA device and Ray is installed."""

from __future__ import annotations

import pytest
import torch

from bench.executors import make_executor
from bench.results import OK
from bench.runner import RunSpec, execute, plan_jobs
from bench.store import ResultStore
from tests.test_ray_executor import Recorder

pytestmark = [
    pytest.mark.gpu,
    pytest.mark.slow,
    pytest.mark.skipif(not torch.cuda.is_available(), reason="torch sees no CUDA device"),
]


def test_jobs_share_the_gpu_by_fractional_reservations(tmp_path):
    ray = pytest.importorskip("ray")
    ray.init(num_cpus=2, num_gpus=1, include_dashboard=False)
    try:
        spec = RunSpec(detectors=["conv_ae"], classes=["1", "7"], hparams={"epochs": 1},
                       device="cuda")  # fmt: skip
        with ResultStore(tmp_path / "ray.sqlite") as store:
            results = execute(
                plan_jobs(spec), store, make_executor("ray", gpus_per_job=0.5), Recorder()
            )
        assert [r.status for r in results] == [OK, OK], [r.error for r in results]
        assert all(r.device == "cuda" and r.metrics["auroc"] > 0.5 for r in results)
    finally:
        ray.shutdown()
