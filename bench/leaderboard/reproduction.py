"""Reproduction tables: a published row (``reproduces = "detector/scorer"`` in reference.toml)
beside the board's row for that detector and scorer, class by class.

Ours is the board's row exactly (the latest configuration per class and seed, as the board
ranks it), as mean ± sample std over its ok seeds. The difference is also given in units of the
paper's std for that class, and checked against a tolerance of 2 such stds: were our seeds and
the paper's drawn alike, with the paper's spread s, our 3-seed mean minus its 10-seed mean would
have a std of s * sqrt(1/3 + 1/10) = 0.66 s, so 2 s is a 3-sigma band. Only the stds the
reference file records are used, none are assumed.
"""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from bench.leaderboard.markdown import metric_label, row_label, table
from bench.leaderboard.reference import ReferenceRow
from bench.leaderboard.tables import OK, PARTIAL, Leaderboard, cells_of, is_number, metric_values

SECTION = "Reproduction of published results"
NO_STD = "no std published"
TOLERANCE_STDS = 2
IN_STDS = "ours - paper in paper stds"
WITHIN = f"within {TOLERANCE_STDS} paper stds"


def reproduced(lb: Leaderboard, reference: Sequence[ReferenceRow]) -> list[ReferenceRow]:
    return [r for r in reference if r.dataset == lb.dataset and r.reproduces]


def heading(ref: ReferenceRow) -> str:
    detector, scorer = ref.reproduces
    return f"{ref.method} vs {row_label(detector, scorer)}"


def _spread(mean: float, std: float | None) -> str:
    return f"{mean:.3f}" + (f" ± {std:.3f}" if is_number(std) else "")


def _in_stds(ours: float, paper: float, std: float | None) -> tuple[str, str]:
    """The difference in paper stds and whether it is within the tolerance, as two cells."""
    if std is None:
        return "", NO_STD
    stds = (ours - paper) / std
    return f"{stds:+.2f}", "yes" if abs(stds) <= TOLERANCE_STDS else "no"


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
        in_stds, within = _in_stds(cell[mean], paper, paper_std)
        records.append(
            {
                **record,
                "ours": _spread(cell[mean], cell[std]),
                "seeds": str(int(cell["n_ok"])),
                "ours - paper": f"{cell[mean] - paper:+.3f}",
                IN_STDS: in_stds,
                WITHIN: within,
            }
        )
    if compared:
        ours = float(cells.loc[compared, mean].mean())
        paper = ref.mean_over(compared)
        assert paper is not None  # every compared class has a paper value
        seeds = _seed_means(lb, detector, scorer, compared)
        name = "mean" if len(compared) == len(ref.auroc) else f"mean of {len(compared)} classes"
        records.append(
            {
                "class": name,
                "paper": f"{paper:.3f}",
                "ours": _spread(ours, seeds.std(ddof=1) if len(seeds) > 1 else None),
                "seeds": str(len(seeds)),
                "ours - paper": f"{ours - paper:+.3f}",
                WITHIN: NO_STD,
            }
        )
    columns = ["class", "ours", "seeds", "paper", "ours - paper", IN_STDS, WITHIN]
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
        "seeds of each seed's mean, over the seeds with every compared class. *ours - paper in "
        "paper stds*: (ours - paper) / the paper's std for that class; *within "
        f"{TOLERANCE_STDS} paper stds*: its absolute value is at most {TOLERANCE_STDS}.",
        "",
    ]
    for ref in mine:
        lines += [f"### {heading(ref)}", "", f"{ref.source}.", ""]
        result = _table(lb, ref)
        lines += [result if isinstance(result, str) else table(result), ""]
    return lines
