"""Evaluation metrics: registered through the metrics hook and computed on test labels only
after scoring is finished, so nothing a detector does can depend on them."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

import numpy as np

MetricFn = Callable[[np.ndarray, np.ndarray], float]
PRIMARY = "auroc"  # what leaderboards rank by and run summaries show, unless told otherwise


@dataclass(frozen=True)
class Metric:
    """``fn(labels, scores)`` with labels 1 = anomalous; ``higher_is_better`` orders rankings."""

    name: str
    fn: MetricFn
    higher_is_better: bool = True
    description: str = ""


def evaluate(metrics: Iterable[Metric], labels: np.ndarray, scores: np.ndarray) -> dict[str, float]:
    if len(np.unique(labels)) < 2:
        raise ValueError("the test labels hold a single class: no ranking metric is defined")
    return {m.name: float(m.fn(labels, scores)) for m in metrics}
