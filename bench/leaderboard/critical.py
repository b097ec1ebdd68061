"""Critical-difference statistics of one board, as Demšar (2006, JMLR 7) recommends for several
methods over several data sets: Friedman's test over the tasks (scipy), then Nemenyi's post-hoc
test of every pair (scikit-posthocs, which also draws the diagram). Both take the ranks the
board already shows: per task, each row's mean over seeds of the ranking metric, ranked with
ties averaged and failed or unrun tasks last, so a row's average rank here is its *avg rank*.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
from scipy.stats import friedmanchisquare

from bench.leaderboard.markdown import metric_label, row_label, table
from bench.leaderboard.tables import Leaderboard, row_keys

ALPHA = 0.05
POSTHOC = "Nemenyi (scikit-posthocs `posthoc_nemenyi_friedman`)"
# Friedman's statistic needs three groups (scipy refuses fewer) and ranks over one task say
# nothing about consistency.
MIN_ROWS, MIN_TASKS = 3, 2
SECTION = "Critical-difference diagram"


@dataclass(frozen=True)
class CriticalDifference:
    ranks: pd.Series  # average rank per row label, best first
    statistic: float  # Friedman's chi-square
    pvalue: float
    pvalues: pd.DataFrame  # Nemenyi's p-value for every pair of row labels
    n_tasks: int


def rank_matrix(lb: Leaderboard) -> pd.DataFrame:
    """Tasks x row labels: each cell's rank on its task (1 = best)."""
    labels = [row_label(d, s) for d, s in row_keys(lb.cells)]
    matrix = lb.cells.assign(label=labels).pivot(index="task", columns="label", values="rank")
    order = [row_label(d, s) for d, s in row_keys(lb.summary)]
    return matrix.reindex(index=lb.tasks, columns=order)


def critical_difference(lb: Leaderboard) -> CriticalDifference | str:
    """The tests' results, or why there are none (one sentence)."""
    n_rows, n_tasks = len(lb.summary), len(lb.tasks)
    if n_rows < MIN_ROWS or n_tasks < MIN_TASKS:
        return (
            f"No critical-difference diagram: it needs at least {MIN_ROWS} rows and "
            f"{MIN_TASKS} classes, and this board has {n_rows} row(s) and {n_tasks} class(es)."
        )
    matrix = rank_matrix(lb)
    if (matrix.nunique(axis=1) == 1).all():
        return "No critical-difference diagram: every row ties on every class."
    from scikit_posthocs import posthoc_nemenyi_friedman  # 0.9 s to import (statsmodels)

    result = friedmanchisquare(*matrix.T.to_numpy())
    pvalues = posthoc_nemenyi_friedman(matrix)
    ranks = matrix.mean().sort_values(kind="stable")
    return CriticalDifference(
        ranks, float(result.statistic), float(result.pvalue), pvalues, n_tasks
    )


def pvalue_text(p: float) -> str:
    return f"{p:.3g}" if p >= 1e-3 else f"{p:.1e}"


def section(lb: Leaderboard, cd: CriticalDifference | str, image: str | None) -> list[str]:
    lines = [f"## {SECTION}", ""]
    if isinstance(cd, str):
        return [*lines, cd, ""]
    metric = metric_label(lb.rank_by)
    verdict = (
        f"Friedman's test rejects equal ranks at α = {ALPHA}"
        if cd.pvalue < ALPHA
        else f"Friedman's test does not reject equal ranks at α = {ALPHA}, so the post-hoc "
        "differences below are not to be read as significant"
    )
    lines += [
        f"Friedman test over the {cd.n_tasks} normal classes (scipy `friedmanchisquare`; each "
        f"row's value on a class is its mean {metric} over seeds, classes it failed or did not "
        f"run rank last, as in *avg rank*): χ² = {cd.statistic:.2f} with {len(cd.ranks) - 1} "
        f"degrees of freedom, p = {pvalue_text(cd.pvalue)}. {verdict}. Post-hoc test: {POSTHOC}, "
        f"α = {ALPHA}; in the diagram, rows joined by a bar do not differ significantly.",
        "",
    ]
    if image:
        lines += [f"![critical-difference diagram]({image})", ""]
    frame = pd.DataFrame(
        {
            "row": label,
            "avg rank": f"{rank:.2f}",
            "differs significantly from": ", ".join(
                other for other in cd.ranks.index if cd.pvalues.loc[label, other] < ALPHA
            )
            or "none",
        }
        for label, rank in cd.ranks.items()
    )
    return [*lines, table(frame), "", f"*differs significantly from*: Nemenyi p < {ALPHA}.", ""]
