"""``bench history``: a metric and training throughput per detector over commits, and where a
step change began."""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path

import click
from rich.console import Console
from rich.table import Table

from bench.commands.errors import friendly_errors
from bench.commands.options import NON_NEGATIVE
from bench.errors import PlanError
from bench.leaderboard.compare import (
    DEFAULT_MIN_FIT_SECONDS,
    DEFAULT_THROUGHPUT_TOLERANCE,
    MIN_TOLERANCE,
)
from bench.leaderboard.history import Series, build_history
from bench.leaderboard.history_plot import SHORT_COMMIT, history_png
from bench.leaderboard.rows import load_rows

DEFAULT_PLOT = Path("results") / "history.png"


def _number(value: float | None, fmt: str) -> str:
    return "-" if value is None else format(value, fmt)


def _tables(series: list[Series], metric: str) -> list[Table]:
    """One table per environment: a row per series and commit; red* where a step begins."""
    tables: dict[str, Table] = {}
    for s in series:
        if s.environment not in tables:
            table = Table(title=s.environment, caption="*: a step begins at this commit")
            table.add_column("dataset detector/scorer", no_wrap=True)  # names never elided
            for column in ("commit", "date", metric, "img/s"):
                table.add_column(column, overflow="fold")  # folded when narrow, never cut
            tables[s.environment] = table
        for i, p in enumerate(s.points):
            value, speed = _number(p.value, ".4f"), _number(p.throughput, ",.0f")
            if s.metric_step is not None and s.metric_step.commit == p.commit:
                value = f"[red]{value}*[/]"
            if s.throughput_step is not None and s.throughput_step.commit == p.commit:
                speed = f"[red]{speed}*[/]"
            tables[s.environment].add_row(
                f"{s.dataset} {s.detector}/{s.scorer}" if i == 0 else "",
                p.commit[:SHORT_COMMIT],
                (p.started_at or "-")[:10],
                value,
                speed,
            )
    return list(tables.values())


PLOT_SUFFIXES = (".png", ".pdf", ".svg")  # what matplotlib writes without extra backends


@click.command("history")
@click.argument("sources", nargs=-1, required=True, type=click.Path())
@click.option("--metric", default="auroc", show_default=True, help="Metric to follow.")
@click.option(
    "--tolerance",
    type=NON_NEGATIVE,
    default=MIN_TOLERANCE,
    show_default=True,
    help="Smallest change of the metric that counts as a step.",
)
@click.option(
    "--throughput-tolerance",
    type=NON_NEGATIVE,
    default=DEFAULT_THROUGHPUT_TOLERANCE,
    show_default=True,
    help="Smallest change of training images/s that counts as a step, in percent.",
)
@click.option(
    "--min-fit-seconds",
    type=NON_NEGATIVE,
    default=DEFAULT_MIN_FIT_SECONDS,
    show_default=True,
    help="Show throughput only where fits took at least this long (shorter ones are noise).",
)
@click.option(
    "--plot",
    default=str(DEFAULT_PLOT),
    show_default=True,
    type=click.Path(dir_okay=False),
    help="PNG to write.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the series as JSON.")
@friendly_errors
def history_command(
    sources: tuple[str, ...],
    metric: str,
    tolerance: float,
    throughput_tolerance: float,
    min_fit_seconds: float,
    plot: str,
    as_json: bool,
) -> None:
    """Follow each detector's METRIC and training throughput over commits.

    Each SOURCE is a results store, a results export (`bench compare --write-baseline`), a
    leaderboard JSON or a directory of JSON files; their rows are pooled and grouped by the git
    commit each row records. A step is flagged at the commit from which every later point
    differs from the mean before it by more than max(tolerance, 3 x the noise).
    """
    if Path(plot).suffix.lower() not in PLOT_SUFFIXES:
        raise PlanError(f"--plot {plot}: write a {', '.join(PLOT_SUFFIXES)} file")
    rows = [row for source in sources for row in load_rows(Path(source), [metric])]
    present = sorted({name for row in rows for name in row.metrics})
    if rows and metric not in present:
        raise PlanError(f"no row records metric {metric!r}; recorded: {', '.join(present)}")
    series = build_history(rows, metric, tolerance, throughput_tolerance, min_fit_seconds)
    history_png(series, metric, Path(plot))
    if as_json:
        click.echo(json.dumps([asdict(s) for s in series], indent=1))
        return
    console = Console()
    for s in series:
        for name, step in ((metric, s.metric_step), ("throughput", s.throughput_step)):
            if step is not None:
                console.print(
                    f"[red]step:[/] {s.describe()} {name} from commit {step.commit[:SHORT_COMMIT]}:"
                    f" {step.before:.4g} -> {step.after:.4g}"
                    + (" (provisional: the latest commit only)" if step.provisional else ""),
                    soft_wrap=True,
                )
    for table in _tables(series, metric):
        console.print(table)
    console.print(f"plot: {plot}")
