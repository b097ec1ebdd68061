"""``--compile`` on CPU: the path the harness takes when a user asks torch.compile for speed."""

from __future__ import annotations

import pytest

from bench.executors import SerialExecutor
from bench.experiment import Settings
from bench.runner import RunSpec, execute, plan_jobs
from bench.store import ResultStore
from tests.harness.test_runner import Silent


@pytest.mark.slow
def test_compiled_resnet_type_models_train_on_cpu(tmp_path):
    # Inductor's channels_last layout used to reach a torch 2.13.0+cpu convolution backward
    # that corrupts the heap on resnet shortcuts: the whole process died, not just the job.
    spec = RunSpec(detectors=["resnet_ae", "conv_ae"], classes=["1"], device="cpu",
                   settings=Settings(deterministic=False, compile=True))  # fmt: skip
    with ResultStore(tmp_path / "s.sqlite") as store:
        results = execute(plan_jobs(spec), store, SerialExecutor(), Silent())
    assert [r.status for r in results] == ["ok", "ok"], [r.error for r in results]
    assert all(r.metrics["auroc"] >= 0.85 for r in results)  # uncompiled: 0.919 and 0.894
