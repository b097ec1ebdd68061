"""Built-in metrics, all from sklearn.metrics: AUROC, AUPRC (average precision) and the false
positive rate at 95% true positive rate (anomalies are the positive class)."""

from __future__ import annotations

import numpy as np
from sklearn.metrics import average_precision_score, roc_auc_score, roc_curve

from bench import hookimpl
from bench.metrics import Metric


def fpr_at_95_tpr(labels: np.ndarray, scores: np.ndarray) -> float:
    fpr, tpr, _ = roc_curve(labels, scores)
    return float(fpr[np.searchsorted(tpr, 0.95, side="left")])


@hookimpl
def bench_register_metrics(register):
    register(Metric("auroc", roc_auc_score, True, "area under the ROC curve"))
    register(Metric("auprc", average_precision_score, True, "average precision"))
    register(Metric("fpr95", fpr_at_95_tpr, False, "false positive rate at 95% recall"))
