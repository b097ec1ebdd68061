"""Leaderboard figures, drawn with matplotlib's object API on the Agg canvas.

No pyplot: nothing global is touched (no backend switch, no open-figure registry), and PNGs are
saved without the Software/date metadata so the same data gives the same file.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import matplotlib
import numpy as np
import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from sklearn.metrics import roc_curve

Scored = tuple[np.ndarray, np.ndarray]  # (scores, 0/1 labels) of one test set
_PNG_METADATA = {"Software": None}
_COLUMNS = 5
RECONSTRUCTION_TASKS = 4
_GREY = (0.5, 0.5, 0.5, 1.0)


def colours(labels: Sequence[str]) -> dict[str, tuple[float, ...]]:
    """A fixed colour per row label (by sorted name, so ranks moving do not recolour); tab20's
    dark shades first, so up to ten rows get ten distinct hues."""
    cmap = matplotlib.colormaps["tab20"]
    order = [*range(0, 20, 2), *range(1, 20, 2)]
    return {label: cmap(order[i % 20]) for i, label in enumerate(sorted(labels))}


def _save(fig: Figure, path: Path, dpi: int = 100) -> None:
    FigureCanvasAgg(fig)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=dpi, metadata=_PNG_METADATA)


def _grid(n: int, width: float, height: float, extra_height: float = 0.0) -> tuple[Figure, list]:
    cols = min(_COLUMNS, n)
    rows = math.ceil(n / cols)
    fig = Figure(figsize=(width * cols, height * rows + extra_height), layout="constrained")
    axes = fig.subplots(rows, cols, squeeze=False).ravel().tolist()
    for ax in axes[n:]:
        ax.set_visible(False)
    return fig, axes[:n]


def metric_bars(
    labels: Sequence[str],
    means: Sequence[float],
    errors: Sequence[float],
    title: str,
    path: Path,
    xlabel: str = "mean AUROC over tasks",
    chance: float | None = 0.5,
) -> None:
    """The ranking metric's mean per row, best on top; error bars: std over seeds of each seed's
    mean; a dashed line at the ``chance`` level (AUROC 0.5), if given."""
    fig = Figure(figsize=(7, 0.35 * len(labels) + 1.2), layout="constrained")
    ax = fig.subplots()
    y = np.arange(len(labels))[::-1]
    err = [e if np.isfinite(e) else 0.0 for e in errors]
    palette = colours(labels)
    ax.barh(y, means, xerr=err, color=[palette[lb] for lb in labels], capsize=3)
    for yi, m, e in zip(y, means, err, strict=True):
        ax.text(m + e + 0.01, yi, f"{m:.3f}", va="center", fontsize=8)
    ax.set_yticks(y, labels)
    ax.set_xlim(0, 1.1)
    if chance is not None:
        ax.axvline(chance, color="grey", lw=0.8, ls="--")
    ax.set_xlabel(xlabel)
    ax.set_title(title)
    _save(fig, path)


def roc_grid(
    labels: Sequence[str],
    tasks: Sequence[str],
    data: Mapping[tuple[str, str], Scored],
    title: str,
    path: Path,
) -> None:
    """One axes per task with every row's ROC curve on it."""
    fig, axes = _grid(len(tasks), 3.0, 3.0, extra_height=0.3 * math.ceil(len(labels) / 4))
    palette = colours(labels)
    for ax, task in zip(axes, tasks, strict=True):
        for label in labels:
            if (label, task) in data:
                scores, y = data[(label, task)]
                fpr, tpr, _ = roc_curve(y, scores)
                ax.plot(fpr, tpr, color=palette[label], lw=1.2, label=label)
        ax.plot([0, 1], [0, 1], color="grey", lw=0.6, ls="--")
        ax.set_title(f"normal class {task}", fontsize=9)
        ax.set_xlabel("false positive rate", fontsize=8)
        ax.set_ylabel("true positive rate", fontsize=8)
        ax.tick_params(labelsize=7)
    handles = [Line2D([], [], color=palette[lb], label=lb) for lb in labels]
    fig.legend(handles=handles, loc="outside lower center", ncols=min(4, len(labels)), fontsize=8)
    fig.suptitle(title)
    _save(fig, path)


def score_histograms(
    tasks: Sequence[str], data: Mapping[str, Scored], title: str, path: Path
) -> None:
    """Per task, the score distributions of normal and anomalous test images (densities).

    Each histogram is one filled outline rather than one bar per bin: the same picture with 2
    patches instead of 60, which cut `bench leaderboard` on the committed boards from 94 s to
    72 s. The legend sits below the grid, where it covers no histogram."""
    fig, axes = _grid(len(tasks), 2.8, 2.2, extra_height=0.3)
    handles: list = []
    for ax, task in zip(axes, tasks, strict=True):
        ax.set_title(f"normal class {task}", fontsize=9)
        ax.tick_params(labelsize=7)
        if task not in data:
            ax.text(0.5, 0.5, "no result", ha="center", va="center", transform=ax.transAxes)
            continue
        scores, y = data[task]
        bins = np.histogram_bin_edges(scores, bins=30)
        drawn = [
            ax.hist(scores[y == k], bins=bins, density=True, alpha=0.6, histtype="stepfilled",
                    label=kind)[2][0]
            for k, kind in enumerate(("normal", "anomalous"))
        ]  # fmt: skip
        handles = handles or drawn
        ax.set_xlabel("anomaly score", fontsize=8)
    if handles:
        fig.legend(handles=handles, loc="outside lower center", ncols=2, fontsize=8)
    fig.suptitle(title)
    _save(fig, path)


def _rgb(images: np.ndarray, value_range: np.ndarray) -> np.ndarray:
    """N x C x H x W in the detector's value range -> N x H x W x 3 in [0, 1]."""
    lo, hi = (float(v) for v in value_range)
    x = np.clip((images.astype(np.float32) - lo) / (hi - lo), 0.0, 1.0)
    x = np.repeat(x, 3, axis=1) if x.shape[1] == 1 else x[:, :3]
    return x.transpose(0, 2, 3, 1)


def _strip(tiles: np.ndarray, gap: int = 1) -> np.ndarray:
    """N x H x W x 3 tiles side by side, separated by white columns."""
    n, h, _, _ = tiles.shape
    white = np.ones((h, gap, 3), dtype=np.float32)
    parts = [p for tile in tiles for p in (tile, white)][:-1] if n else []
    return np.concatenate(parts, axis=1)


def reconstruction_grid(
    tasks: Sequence[str], examples: Mapping[str, Mapping[str, np.ndarray]], title: str, path: Path
) -> None:
    """Per task three strips (inputs, reconstructions, absolute error averaged over channels),
    one tile per stored example, normal ones first. Each strip is one image (one axes), which
    keeps drawing fast; only the first few tasks, as image grids do not compress."""
    shown = [t for t in tasks if t in examples][:RECONSTRUCTION_TASKS]
    errors = {}
    for task in shown:
        ex = examples[task]
        lo, hi = (float(v) for v in ex["value_range"])
        diff = np.abs(ex["inputs"].astype(np.float32) - ex["reconstructions"].astype(np.float32))
        errors[task] = diff.mean(axis=1) / (hi - lo)
    vmax = max(float(e.max()) for e in errors.values()) or 1.0
    magma = matplotlib.colormaps["magma"]
    n_tiles = max(len(examples[t]["inputs"]) for t in shown)
    fig = Figure(figsize=(0.8 * n_tiles + 1.2, 0.85 * 3 * len(shown) + 0.5), layout="constrained")
    axes = fig.subplots(3 * len(shown), 1, squeeze=False)[:, 0]
    for block, task in enumerate(shown):
        ex = examples[task]
        strips = (
            ("input", _rgb(ex["inputs"], ex["value_range"])),
            ("reconstruction", _rgb(ex["reconstructions"], ex["value_range"])),
            ("|error|", magma(errors[task] / vmax)[..., :3].astype(np.float32)),
        )
        for r, (name, tiles) in enumerate(strips):
            ax = axes[3 * block + r]
            ax.imshow(_strip(tiles), interpolation="nearest")
            ax.set_yticks([])
            ax.set_ylabel(f"{task}: {name}", fontsize=7, rotation=0, ha="right", va="center")
            width = tiles.shape[2] + 1
            if r == 0:
                kinds = ["anomalous" if label else "normal" for label in ex["labels"]]
                ax.set_xticks([width * i + width / 2 - 1 for i in range(len(kinds))], kinds)
                ax.tick_params(axis="x", labelsize=6, length=0, labeltop=True, labelbottom=False)
            else:
                ax.set_xticks([])
    fig.suptitle(f"{title}; error colour scale 0 to {vmax:.2f} of the value range", fontsize=9)
    _save(fig, path, dpi=72)


def cd_diagram(
    ranks: pd.Series,
    pvalues: pd.DataFrame,
    alpha: float,
    title: str,
    path: Path,
    palette: Mapping[str, tuple[float, ...]],
) -> None:
    """Average ranks on one axis, rows that do not differ significantly joined by a bar
    (scikit-posthocs draws it on our axes; nothing global is touched).

    The library keeps the rows of each bar in a set, and a set of strings iterates in an order
    that changes with Python's per-process hash seed: with row names, 2 of 5 processes drew a
    different PNG of the same ranks. Rows are handed to it as integers (whose set order is
    fixed) and the labels are named afterwards. Rows missing from ``palette`` (the other
    figures' colours, which leave out rows without a score) are grey."""
    from scikit_posthocs import critical_difference_diagram  # 0.9 s to import (statsmodels)

    names = list(ranks.index)
    keys = list(range(len(names)))
    fig = Figure(figsize=(8, 0.25 * len(ranks) + 1.5), layout="constrained")
    ax = fig.subplots()
    drawn = critical_difference_diagram(
        pd.Series(ranks.to_numpy(), index=keys),
        pd.DataFrame(pvalues.loc[names, names].to_numpy(), index=keys, columns=keys),
        alpha=alpha,
        ax=ax,
        color_palette={k: palette.get(n, _GREY) for k, n in zip(keys, names, strict=True)},
        label_props={"fontsize": 8},
        label_fmt_left="{label}",
        label_fmt_right="{label}",
    )
    for text in drawn["labels"]:
        key = int(text.get_text())
        rank = f"{ranks.iloc[key]:.2f}"
        left = text.get_horizontalalignment() == "right"
        text.set_text(f"{names[key]} ({rank})" if left else f"({rank}) {names[key]}")
    ax.set_title(title, fontsize=10)
    _save(fig, path)


@dataclass
class PlotSet:
    """The figures drawn for one dataset, as paths relative to the leaderboard directory."""

    seed: int
    bars: str
    roc: str
    cd: str | None = None  # None: too few rows or classes for the diagram
    histograms: dict[str, str] = field(default_factory=dict)  # row label -> path
    reconstructions: dict[str, str] = field(default_factory=dict)  # row label -> path
