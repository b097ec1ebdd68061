"""Markdown layout shared by every board section: row labels, metric names and tables."""

from __future__ import annotations

import pandas as pd

TEXT_COLUMNS = {
    "detector", "scorer", "method", "dataset", "source", "suite", "settings", "class", "row",
    "differs significantly from", "within 2 paper stds", "data", "critical difference",
    "reproduction",
}  # fmt: skip


def row_label(detector: str, scorer: str) -> str:
    return f"{detector}/{scorer}"


def metric_label(name: str) -> str:
    """How a metric is named in a table header: ``auroc`` -> ``AUROC``."""
    return name.upper()


def table(frame: pd.DataFrame) -> str:
    """Text columns left-aligned, numbers right-aligned; cells are already formatted strings."""
    align = ["left" if c in TEXT_COLUMNS else "right" for c in frame.columns]
    return frame.to_markdown(index=False, colalign=align, disable_numparse=True)
