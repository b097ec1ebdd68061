"""Scoring a fitted detector's test images with one or more scorers, in one pass.

Outputs are computed once per test batch and every scorer reads them, so a model scored three
ways runs its network over the test set once. The same pass keeps a few inputs and their
reconstructions for the leaderboard's figures.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import torch

from bench.detector import Detector, DivergedError
from bench.images import ImageBatches
from bench.outputs import RECONSTRUCTION
from bench.scorer import Scorer
from bench.seeding import seed_everything
from bench.tasks import Task

EXAMPLES_PER_KIND = 4  # normal and anomalous test images kept for the reconstruction figures
DEFAULT_BATCH = 256  # for detectors without a batch_size hyperparameter


@dataclass
class Scored:
    """Scores per scorer (for those that worked), the error of each that did not, and the pass's
    cost (shared by every scorer: they read the same outputs)."""

    scores: dict[str, np.ndarray]
    errors: dict[str, BaseException]
    n_test: int
    seconds: float
    examples: dict[str, np.ndarray] | None = field(default=None)


def example_indices(task: Task) -> np.ndarray:
    if task.test_labels is None:
        return np.arange(min(2 * EXAMPLES_PER_KIND, len(task.test_images)))
    normal = np.flatnonzero(task.test_labels == 0)[:EXAMPLES_PER_KIND]
    anomalous = np.flatnonzero(task.test_labels == 1)[:EXAMPLES_PER_KIND]
    return np.concatenate([normal, anomalous])  # normal first: the figures' order


def score(
    detector: Detector,
    scorers: Sequence[Scorer],
    task: Task,
    seed: int,
    deterministic: bool,
    device: torch.device,
    shape: tuple[int, int, int] | None = None,
) -> Scored:
    """Score ``task``'s test images, converted to ``shape`` (the one the detector was trained
    at; None: its spec's own resolution). Scoring starts from a freshly seeded RNG, so a
    detector whose outputs are stochastic gives the same scores however often it is scored."""
    seed_everything(seed, deterministic)
    spec = detector.input_spec
    test = ImageBatches(task.test_images, spec, device, seed=seed, shape=shape)
    batch_size = int(detector.hparams.get("batch_size", DEFAULT_BATCH))
    wanted = example_indices(task)
    parts: dict[str, list[torch.Tensor]] = {s.name: [] for s in scorers}
    errors: dict[str, BaseException] = {}
    kept: dict[int, tuple[np.ndarray, np.ndarray]] = {}  # test index -> input, reconstruction
    start = time.perf_counter()
    offset = 0
    for x in test.batches(batch_size):
        out = detector.outputs(x)
        for scorer in scorers:
            if scorer.name in errors:
                continue
            try:
                parts[scorer.name].append(scorer(out, x).float().reshape(-1))
            except Exception as exc:  # one broken scorer must not cost the others their rows
                errors[scorer.name] = exc
        if RECONSTRUCTION in out:
            for index in wanted[(wanted >= offset) & (wanted < offset + len(x))]:
                i = int(index) - offset
                kept[int(index)] = (x[i].cpu().numpy(), out[RECONSTRUCTION][i].cpu().numpy())
        offset += len(x)
    results = {
        name: torch.cat(chunks).cpu().numpy()
        for name, chunks in parts.items()
        if name not in errors
    }
    seconds = time.perf_counter() - start
    for name, values in list(results.items()):
        problem = _problem(values, len(test))
        if problem is not None:
            errors[name] = problem
            del results[name]
    examples = None
    if kept:
        labels = task.test_labels
        examples = {
            "inputs": np.stack([kept[int(i)][0] for i in wanted]).astype(np.float16),
            "reconstructions": np.stack([kept[int(i)][1] for i in wanted]).astype(np.float16),
            "labels": np.zeros(len(wanted), np.int8) if labels is None else labels[wanted],
            "value_range": np.asarray(spec.value_range, np.float32),
        }
    return Scored(results, errors, len(test), seconds, examples)


def _problem(scores: np.ndarray, n_test: int) -> Exception | None:
    if scores.shape != (n_test,):
        return ValueError(f"scorer returned {scores.shape} scores for {n_test} test images")
    if not np.isfinite(scores).all():
        return DivergedError(f"{int((~np.isfinite(scores)).sum())} test scores are not finite")
    return None
