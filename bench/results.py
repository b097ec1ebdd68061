"""One finished job, as stored, reported to plugins and shown in tables."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

OK, FAILED, DIVERGED = "ok", "failed", "diverged"


@dataclass
class JobResult:
    detector: str
    scorer: str
    dataset: str
    task: str
    seed: int
    config_hash: str
    config: dict[str, Any]
    status: str = OK
    error: str | None = None
    metrics: dict[str, float] = field(default_factory=dict)
    fit_seconds: float | None = None
    score_seconds: float | None = None
    train_images_per_s: float | None = None
    steady_images_per_s: float | None = None  # training after the first epoch
    cpu_images_per_s: float | None = None  # training per second of the process's CPU time
    score_images_per_s: float | None = None
    n_train: int | None = None
    n_test: int | None = None
    parameters: int | None = None
    labelled_fraction: float = 0.0
    device: str = "cpu"
    device_name: str | None = None
    torch_version: str | None = None
    cuda_version: str | None = None
    versions: dict[str, str] = field(default_factory=dict)
    git_commit: str | None = None
    suite: str | None = None  # the suite file the job was planned from, if any
    started_at: str | None = None
    finished_at: str | None = None
    # Per-image test scores and labels (plots, exports) and a few inputs/reconstructions.
    scores: np.ndarray | None = None
    labels: np.ndarray | None = None
    examples: dict[str, np.ndarray] | None = None
    # Last, so positional construction keeps its meaning (added with store schema 3). The
    # hyperparameters as the detector trained with them: ``config``'s, plus the values it
    # filled in at fit for those left to it (``None`` in ``config``, e.g. per input shape).
    fitted_hparams: dict[str, Any] | None = None
