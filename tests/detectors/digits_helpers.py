"""Train detectors on one ``digits`` class through the harness's own code paths (on CPU unless
a job option says otherwise)."""

from __future__ import annotations

from typing import Any

import torch

from bench.detector import Detector
from bench.images import ImageBatches
from bench.jobs import Job, fit_and_score, load_splits, run_job
from bench.plugins import registry
from bench.results import JobResult
from bench.tasks import Task, build_task


def _job(
    detector: str, task: str, scorer: str | None, hparams: dict[str, Any], **options: Any
) -> Job:
    scorer = scorer or registry().get("detectors", detector).default_scorer
    return Job(detector=detector, scorer=scorer, dataset="digits", task=task, seed=0,
               hparams=hparams, data_dir=".", **options)  # fmt: skip


def run_on_digits(
    detector: str,
    task: str = "0",
    scorer: str | None = None,
    job_options: dict[str, Any] | None = None,
    **hparams: Any,
) -> JobResult:
    """What ``bench run`` does for one job; fails the test unless the job succeeded.
    ``job_options`` are further :class:`Job` fields (device, deterministic, precision)."""
    result = run_job(_job(detector, task, scorer, hparams, **(job_options or {})))
    assert result.status == "ok", result.error
    return result


def digits_task(task: str = "0") -> Task:
    return build_task(load_splits("digits", ".", {}), "digits", True, task)


def fit_on_digits(detector: str, task: str = "0", **hparams: Any) -> Detector:
    """The fitted detector itself, for tests that look inside it."""
    job = _job(detector, task, None, hparams)
    reg = registry()
    cls = reg.get("detectors", detector)
    result = JobResult(detector, job.scorer, "digits", task, 0, job.config_hash, {})
    scorer = reg.get("scorers", job.scorer)
    return fit_and_score(job, digits_task(task), cls, scorer, torch.device("cpu"), None, result)


def training_inputs(detector: Detector, task: str = "0") -> torch.Tensor:
    """The task's training images as the detector sees them."""
    return ImageBatches(digits_task(task).train_images, detector.input_spec).all()
