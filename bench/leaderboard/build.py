"""``bench leaderboard``'s work: read the stores, write every dataset's Markdown, CSV, JSON and
plots, then the index. Each dataset's plot folder is rebuilt from scratch so no stale figure
(of a detector since removed from the store) survives a regeneration.

Several stores may be read at once (e.g. the per-dataset exports committed beside the boards);
each dataset must then come from one of them, as its rows' ids (which order replacements and
name stored arrays) only mean something within one store.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from bench.leaderboard import LeaderboardError, critical, plots
from bench.leaderboard.export import cells_csv, leaderboard_json
from bench.leaderboard.index import index_markdown
from bench.leaderboard.markdown import metric_label, row_label
from bench.leaderboard.protocol import Defaults
from bench.leaderboard.reference import ReferenceRow, load_reference
from bench.leaderboard.render import dataset_markdown
from bench.leaderboard.tables import Leaderboard, build_all, plot_seed, row_keys
from bench.metrics import PRIMARY
from bench.plugins import registry
from bench.results import OK
from bench.store import ResultStore, read_results

PLOTS_DIR = "plots"
STORE_SUFFIX = ".sqlite"


def _file_stem(label: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", label)


def _write(path: Path, text: str, written: list[Path]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8", newline="\n")
    written.append(path)


def store_files(paths: Sequence[Path]) -> list[Path]:
    """The stores named: files as given, folders as every ``*.sqlite`` file in them."""
    files = []
    for path in paths:
        if path.is_dir():
            found = sorted(path.glob(f"*{STORE_SUFFIX}"))
            if not found:
                raise LeaderboardError(f"{path} is a folder with no {STORE_SUFFIX} store in it")
            files += found
        else:
            files.append(path)
    return list(dict.fromkeys(files))


def drawn_rows(lb: Leaderboard) -> pd.DataFrame:
    """The rows whose stored arrays the figures draw: the ok rows at the plot seed."""
    seed = plot_seed(lb)
    at_seed = lb.rows[(lb.rows["seed"] == seed) & (lb.rows["status"] == OK)]
    return at_seed.sort_values("id")


def draw_plots(
    lb: Leaderboard, store: ResultStore, out_dir: Path, cd: critical.CriticalDifference | str
) -> plots.PlotSet | None:
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
    for row in drawn_rows(lb).itertuples():
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
    if isinstance(cd, critical.CriticalDifference):
        result.cd = f"{rel}/cd.png"
        metric = metric_label(lb.rank_by)
        title = f"{lb.dataset}: average rank by {metric} over {cd.n_tasks} classes"
        palette = plots.colours(plotted)  # each row in the colour of its bar and ROC curve
        plots.cd_diagram(cd.ranks, cd.pvalues, critical.ALPHA, title, out_dir / result.cd, palette)
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


def metric_directions() -> dict[str, bool]:
    reg = registry()
    return {n: reg.get("metrics", n).higher_is_better for n in reg.names("metrics")}


def detector_defaults() -> Defaults:
    reg = registry()
    return {n: dict(reg.get("detectors", n).defaults) for n in reg.names("detectors")}


def read_boards(stores: Sequence[Path]) -> dict[str, tuple[Leaderboard, Path]]:
    """Every dataset's board with the store it was read from; a dataset in two stores is
    refused (see the module docstring)."""
    directions = metric_directions()
    boards: dict[str, tuple[Leaderboard, Path]] = {}
    for path in stores:
        for name, lb in build_all(read_results(path, metric_names=directions), directions).items():
            if name in boards:
                raise LeaderboardError(
                    f"dataset {name} has results in both {boards[name][1]} and {path}; "
                    "pass the stores so that each dataset is in one"
                )
            boards[name] = (lb, path)
    return dict(sorted(boards.items()))


def build_leaderboards(
    store_paths: Sequence[Path], out_dir: Path, reference_path: Path | None, with_plots: bool = True
) -> list[Path]:
    """Regenerate ``out_dir`` from the stores; returns the files written (plots excluded)."""
    boards = read_boards(store_files(store_paths))
    reference: list[ReferenceRow] = load_reference(reference_path)
    defaults = detector_defaults()
    written: list[Path] = []
    figures: dict[str, plots.PlotSet | None] = {}
    cds: dict[str, critical.CriticalDifference | str] = {}
    for name, (lb, path) in boards.items():
        cd = cds[name] = critical.critical_difference(lb)
        if with_plots:
            with ResultStore(path, readonly=True) as store:
                figures[name] = draw_plots(lb, store, out_dir, cd)
        markdown = dataset_markdown(lb, figures.get(name), reference, defaults, cd)
        _write(out_dir / f"{name}.md", markdown, written)
        _write(out_dir / f"{name}.csv", cells_csv(lb), written)
        _write(out_dir / f"{name}.json", leaderboard_json(lb), written)
    only = {name: lb for name, (lb, _) in boards.items()}
    _write(out_dir / "README.md", index_markdown(only, reference, figures, cds), written)
    return written
