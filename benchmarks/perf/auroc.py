"""Does the harness's speed cost accuracy? Train one detector on one MNIST one-class task with
the course's loop and with the harness, same seeds and epochs, and compare test AUROC.

Both go through the harness's own :func:`bench.training.train` and :func:`bench.scoring.score`
-- same task, scorer and metrics; only ``fit`` differs -- so any AUROC gap comes from training
alone.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import torch

from bench.dataset import DataError
from bench.experiment import Experiment
from bench.loading import load_splits
from bench.metrics import evaluate
from bench.plugins import registry
from bench.registry import UnknownNameError
from bench.scoring import score
from bench.tasks import Task, build_task
from bench.training import train
from benchmarks.perf import reference_loop
from benchmarks.perf.harness_loop import training_hparams

DATASET = "mnist"


def _auroc(
    experiment: Experiment, task: Task, seed: int, cls: type, scorer: Any, device: torch.device
) -> float:
    detector = train(cls, experiment, task, seed, device).detector
    scores = score(detector, [scorer], task, seed, True, device).scores[scorer.name]
    auroc = registry().get("metrics", "auroc")
    return evaluate([auroc], task.test_labels, scores)["auroc"]


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
        experiment = Experiment(detector, DATASET, task_name, hparams)
        runs.append(
            {
                "seed": seed,
                "reference": _auroc(experiment, task, seed, course, scorer, device),
                "harness": _auroc(experiment, task, seed, cls, scorer, device),
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
