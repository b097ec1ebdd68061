"""Classes are taken by name or by the literature's index, and for datasets whose class names
are fixed a wrong one is refused before any data is read."""

from __future__ import annotations

import pytest

from bench.errors import PlanError
from bench.runner import RunSpec, plan_jobs


def test_a_cifar10_class_typo_is_refused_before_loading(tmp_path):
    # tmp_path holds no CIFAR-10: reaching the loader would fail with "not found" instead.
    spec = RunSpec(detectors=["pca"], dataset="cifar10", classes=["dear"], data_dir=str(tmp_path))
    with pytest.raises(PlanError, match="cifar10 has no class 'dear'; classes: airplane"):
        plan_jobs(spec)


def test_digits_classes_by_name_and_out_of_range_index():
    (job,) = plan_jobs(RunSpec(detectors=["pca"], classes=["4"]))
    assert job.experiment.task == "4"
    with pytest.raises(PlanError, match="digits has no class '10'"):
        plan_jobs(RunSpec(detectors=["pca"], classes=["10"]))
