"""``bench leaderboard``'s work: read the store, write every dataset's Markdown, CSV, JSON and
plots, then the index. Each dataset's plot folder is rebuilt from scratch so no stale figure
(of a detector since removed from the store) survives a regeneration."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import numpy as np

from bench.leaderboard import plots
from bench.leaderboard.export import cells_csv, leaderboard_json
from bench.leaderboard.reference import ReferenceRow, load_reference
from bench.leaderboard.render import dataset_markdown, index_markdown, metric_label, row_label
from bench.leaderboard.tables import Leaderboard, build_all, plot_seed, row_keys
from bench.metrics import PRIMARY
from bench.plugins import registry
from bench.results import OK
from bench.store import ResultStore, read_results

PLOTS_DIR = "plots"


def _file_stem(label: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", label)


def _write(path: Path, text: str, written: list[Path]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8", newline="\n")
    written.append(path)


def draw_plots(lb: Leaderboard, store: ResultStore, out_dir: Path) -> plots.PlotSet | None:
    """Every figure of one dataset, from the stored scores of its smallest seed."""
    seed = plot_seed(lb)
    folder = out_dir / PLOTS_DIR / lb.dataset
    shutil.rmtree(folder, ignore_errors=True)
    if seed is None:
        return None
    rel = f"{PLOTS_DIR}/{lb.dataset}"
    labels = [row_label(d, s) for d, s in row_keys(lb.summary)]
    scored: dict[tuple[str, str], plots.Scored] = {}
    examples: dict[str, dict[str, dict[str, np.ndarray]]] = {}
    at_seed = lb.rows[(lb.rows["seed"] == seed) & (lb.rows["status"] == OK)]
    for row in at_seed.sort_values("id").itertuples():
        label = row_label(row.detector, row.scorer)
        arrays = store.arrays(int(row.id))
        if "scores" in arrays and "labels" in arrays:
            scored[(label, row.task)] = (arrays["scores"], arrays["labels"])
        if "example_reconstructions" in arrays:
            examples.setdefault(label, {})[row.task] = {
                k.removeprefix("example_"): v for k, v in arrays.items() if k.startswith("example_")
            }
    mean = f"mean_{lb.rank_by}"
    with_scores = lb.summary[lb.summary[mean].notna()]
    plotted = [row_label(d, s) for d, s in row_keys(with_scores)]
    result = plots.PlotSet(seed=seed, bars=f"{rel}/{lb.rank_by}.png", roc=f"{rel}/roc.png")
    plots.metric_bars(
        plotted,
        with_scores[mean].tolist(),
        with_scores["seed_std"].tolist(),
        f"{lb.dataset}: mean {metric_label(lb.rank_by)}",
        out_dir / result.bars,
        xlabel=f"mean {metric_label(lb.rank_by)} over tasks",
        chance=0.5 if lb.rank_by == PRIMARY else None,  # a random ranking's AUROC
    )
    plots.roc_grid(
        plotted, lb.tasks, scored, f"{lb.dataset}: ROC (seed {seed})", out_dir / result.roc
    )
    for label in labels:
        mine = {task: data for (lab, task), data in scored.items() if lab == label}
        if mine:
            path = f"{rel}/scores_{_file_stem(label)}.png"
            plots.score_histograms(
                lb.tasks, mine, f"{lb.dataset}: {label} scores (seed {seed})", out_dir / path
            )
            result.histograms[label] = path
        if label in examples:
            path = f"{rel}/reconstructions_{_file_stem(label)}.png"
            plots.reconstruction_grid(
                lb.tasks, examples[label], f"{lb.dataset}: {label} (seed {seed})", out_dir / path
            )
            result.reconstructions[label] = path
    return result


def build_leaderboards(
    store_path: Path, out_dir: Path, reference_path: Path | None, with_plots: bool = True
) -> list[Path]:
    """Regenerate ``out_dir`` from the store; returns the files written (plots excluded)."""
    reg = registry()
    directions = {n: reg.get("metrics", n).higher_is_better for n in reg.names("metrics")}
    boards = build_all(read_results(store_path, metric_names=directions), directions)
    reference: list[ReferenceRow] = load_reference(reference_path)
    written: list[Path] = []
    with ResultStore(store_path, readonly=True) as store:
        for name, lb in boards.items():
            figures = draw_plots(lb, store, out_dir) if with_plots else None
            _write(out_dir / f"{name}.md", dataset_markdown(lb, figures, reference), written)
            _write(out_dir / f"{name}.csv", cells_csv(lb), written)
            _write(out_dir / f"{name}.json", leaderboard_json(lb), written)
    _write(out_dir / "README.md", index_markdown(boards, reference), written)
    return written
