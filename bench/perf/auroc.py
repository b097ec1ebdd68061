"""Does the harness's speed cost accuracy? Train one detector on one MNIST one-class task with
the course's loop and with the harness, same seeds and epochs, and compare test AUROC.

Both go through :func:`bench.jobs.fit_and_score` -- same task, scorer and metrics; only ``fit``
differs -- so any AUROC gap comes from training alone.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import torch

from bench.dataset import DataError
from bench.jobs import Job, fit_and_score, load_splits
from bench.perf import reference_loop
from bench.perf.harness_loop import training_hparams
from bench.plugins import registry
from bench.registry import UnknownNameError
from bench.results import JobResult
from bench.tasks import build_task

DATASET = "mnist"


def _auroc(job: Job, task: Any, cls: type, scorer: Any, device: torch.device) -> float:
    result = JobResult(
        job.detector, job.scorer, job.dataset, job.task, job.seed, job.config_hash, job.config()
    )
    fit_and_score(job, task, cls, scorer, device, None, result)
    return result.metrics["auroc"]


def check(
    detector: str,
    data_dir: Path,
    task_name: str,
    seeds: list[int],
    epochs: int,
    device: torch.device,
    num_workers: int = 0,
    hparams: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """AUROC per seed for both loops, with mean and std; ``{"skipped": why}`` without MNIST."""
    try:
        splits = load_splits(DATASET, str(data_dir), {})
        one_class = registry().get("datasets", DATASET).one_class
    except (DataError, UnknownNameError, FileNotFoundError) as exc:
        return {"skipped": f"no MNIST to check on ({exc})"}
    cls = registry().get("detectors", detector)
    scorer = registry().get("scorers", cls.default_scorer)
    course = reference_loop.course_version(cls, num_workers)
    hparams = training_hparams(cls, epochs, None, hparams)
    runs = []
    for seed in seeds:
        task = build_task(splits, DATASET, one_class, task_name, 0.0, seed)
        job = Job(
            detector=detector,
            scorer=scorer.name,
            dataset=DATASET,
            task=task_name,
            seed=seed,
            hparams=hparams,
            data_dir=str(data_dir),
            device=str(device),
        )
        runs.append(
            {
                "seed": seed,
                "reference": _auroc(job, task, course, scorer, device),
                "harness": _auroc(job, task, cls, scorer, device),
            }
        )
    summary = {
        f"{loop}_{stat}": float(fn([r[loop] for r in runs]))
        for loop in ("reference", "harness")
        for stat, fn in (("mean", np.mean), ("std", np.std))
    }
    batch_size = {**cls.defaults, **hparams}["batch_size"]
    return {
        "detector": detector,
        "task": task_name,
        "epochs": epochs,
        "batch_size": batch_size,
        "runs": runs,
        **summary,
    }
