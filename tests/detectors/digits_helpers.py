"""Train detectors on one ``digits`` class through the harness's own code paths (on CPU unless
a setting says otherwise)."""

from __future__ import annotations

from typing import Any

import torch

from bench.detector import Detector
from bench.experiment import Experiment, Settings
from bench.images import ImageBatches
from bench.jobs import Job, run_job
from bench.loading import load_splits
from bench.plugins import registry
from bench.results import JobResult
from bench.tasks import Task, build_task
from bench.training import train


def _experiment(detector: str, task: str, hparams: dict[str, Any], **settings: Any) -> Experiment:
    return Experiment(detector, "digits", task, hparams, settings=Settings(**settings))


def run_on_digits(
    detector: str,
    task: str = "0",
    scorer: str | None = None,
    device: str = "cpu",
    settings: dict[str, Any] | None = None,
    **hparams: Any,
) -> JobResult:
    """What ``bench run`` does for one job; fails the test unless the job succeeded.
    ``settings`` are :class:`bench.experiment.Settings` fields (deterministic, precision)."""
    scorer = scorer or registry().get("detectors", detector).default_scorer
    job = Job(_experiment(detector, task, hparams, **(settings or {})), 0, (scorer,), device, ".")
    (result,) = run_job(job)
    assert result.status == "ok", result.error
    return result


def digits_task(task: str = "0") -> Task:
    return build_task(load_splits("digits", ".", {}), "digits", True, task)


def fit_on_digits(detector: str, task: str = "0", **hparams: Any) -> Detector:
    """The fitted detector itself, for tests that look inside it."""
    cls = registry().get("detectors", detector)
    experiment = _experiment(detector, task, hparams)
    return train(cls, experiment, digits_task(task), 0, torch.device("cpu")).detector


def training_inputs(detector: Detector, task: str = "0") -> torch.Tensor:
    """The task's training images as the detector sees them."""
    return ImageBatches(digits_task(task).train_images, detector.input_spec).all()
