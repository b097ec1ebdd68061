"""Reproduction tables: a published row (``reproduces = "detector/scorer"`` in reference.toml)
beside the board's row for that detector and scorer, class by class.

Ours is the board's row exactly (the latest configuration per class and seed, as the board
ranks it), as mean ± sample std over its ok seeds. *within paper's std* asks whether
|ours - paper| <= the paper's std for that class; only the stds the reference file records are
used, none are assumed.
"""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from bench.leaderboard.markdown import metric_label, row_label, table
from bench.leaderboard.reference import ReferenceRow
from bench.leaderboard.tables import OK, PARTIAL, Leaderboard, cells_of, is_number, metric_values

SECTION = "Reproduction of published results"
NO_STD = "no std published"


def reproduced(lb: Leaderboard, reference: Sequence[ReferenceRow]) -> list[ReferenceRow]:
    return [r for r in reference if r.dataset == lb.dataset and r.reproduces]


def heading(ref: ReferenceRow) -> str:
    detector, scorer = ref.reproduces
    return f"{ref.method} vs {row_label(detector, scorer)}"


def _spread(mean: float, std: float | None) -> str:
    return f"{mean:.3f}" + (f" ± {std:.3f}" if is_number(std) else "")


def _within(ours: float, paper: float, std: float | None) -> str:
    if std is None:
        return NO_STD
    return "yes" if abs(ours - paper) <= std else "no"


def _seed_means(lb: Leaderboard, detector: str, scorer: str, tasks: list[str]) -> pd.Series:
    """Each seed's mean over ``tasks``, for the seeds with an ok result on every one of them."""
    rows = lb.rows[
        (lb.rows["detector"] == detector)
        & (lb.rows["scorer"] == scorer)
        & (lb.rows["status"] == OK)
        & (lb.rows["task"].isin(tasks))
    ]
    values = metric_values(rows, lb.metrics)[lb.rank_by]
    by_seed = values.groupby(rows["seed"])
    complete = by_seed.count() == len(tasks)
    return by_seed.mean()[complete]


def _table(lb: Leaderboard, ref: ReferenceRow) -> pd.DataFrame | str:
    detector, scorer = ref.reproduces
    cells = cells_of(lb, detector, scorer).set_index("task")
    if cells.empty:
        return f"{row_label(detector, scorer)} has no row on this board (not run)."
    mean, std = f"{lb.rank_by}_mean", f"{lb.rank_by}_std"
    records, compared = [], []
    tasks = [t for t in lb.tasks if t in ref.auroc] + [t for t in ref.auroc if t not in lb.tasks]
    for task in tasks:
        paper, paper_std = ref.auroc[task], ref.auroc_std.get(task)
        record = {"class": task, "paper": _spread(paper, paper_std)}
        cell = cells.loc[task] if task in cells.index else None
        if cell is None or cell["status"] not in (OK, PARTIAL) or not is_number(cell[mean]):
            status = "not run" if cell is None or cell["status"] == "missing" else cell["status"]
            records.append({**record, "ours": status, "seeds": "0"})
            continue
        compared.append(task)
        records.append(
            {
                **record,
                "ours": _spread(cell[mean], cell[std]),
                "seeds": str(int(cell["n_ok"])),
                "ours - paper": f"{cell[mean] - paper:+.3f}",
                "within paper's std": _within(cell[mean], paper, paper_std),
            }
        )
    if compared:
        ours = float(cells.loc[compared, mean].mean())
        paper = sum(ref.auroc[t] for t in compared) / len(compared)
        seeds = _seed_means(lb, detector, scorer, compared)
        name = "mean" if len(compared) == len(ref.auroc) else f"mean of {len(compared)} classes"
        records.append(
            {
                "class": name,
                "paper": f"{paper:.3f}",
                "ours": _spread(ours, seeds.std(ddof=1) if len(seeds) > 1 else None),
                "seeds": str(len(seeds)),
                "ours - paper": f"{ours - paper:+.3f}",
                "within paper's std": NO_STD,
            }
        )
    columns = ["class", "ours", "seeds", "paper", "ours - paper", "within paper's std"]
    return pd.DataFrame(records).reindex(columns=columns).fillna("")


def mean_comparison(lb: Leaderboard, ref: ReferenceRow) -> str:
    """ "ours 0.912 vs paper 0.948" over the classes both have, for the index; or why not."""
    result = _table(lb, ref)
    if isinstance(result, str) or not result["class"].iloc[-1].startswith("mean"):
        return "not run"
    mean = result.iloc[-1]
    return f"ours {mean['ours'].split(' ')[0]} vs paper {mean['paper']}"


def section(lb: Leaderboard, reference: Sequence[ReferenceRow]) -> list[str]:
    mine = reproduced(lb, reference)
    if not mine:
        return []
    metric = metric_label(lb.rank_by)
    lines = [
        f"## {SECTION}",
        "",
        f"Our row against the paper's, per normal class ({metric}). *ours*: mean ± sample std "
        "over *seeds* (the ok seeds of the board's row); the mean row's ± is the std over "
        "seeds of each seed's mean, over the seeds with every compared class. *within paper's "
        "std*: |ours - paper| <= the paper's std for that class.",
        "",
    ]
    for ref in mine:
        lines += [f"### {heading(ref)}", "", f"{ref.source}.", ""]
        result = _table(lb, ref)
        lines += [result if isinstance(result, str) else table(result), ""]
    return lines
