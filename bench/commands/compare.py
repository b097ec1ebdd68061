"""``bench compare``: like-for-like regression check of results against a baseline.

Exit codes, for CI: 0 no regression, 1 at least one regression, 2 could not compare (unreadable
input, nothing in common, or with ``--strict`` any baseline row not compared).
"""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path

import click
from rich.console import Console
from rich.table import Table

from bench.commands.errors import EXIT_USAGE, OneLineError
from bench.commands.options import NON_NEGATIVE
from bench.errors import BenchError
from bench.leaderboard.compare import (
    DEFAULT_MIN_FIT_SECONDS,
    DEFAULT_THROUGHPUT_TOLERANCE,
    IMPROVED,
    NEW,
    NOT_COMPARABLE,
    NOT_RUN,
    REGRESSED,
    Outcome,
    Tolerances,
    compare_rows,
    reasons_by_kind,
    summary,
)  # fmt: skip
from bench.leaderboard.rows import export_json, load_rows
from bench.store import DEFAULT_STORE

NO_REGRESSION, REGRESSION, CANNOT_COMPARE = 0, 1, EXIT_USAGE


def _registered_metrics() -> dict[str, bool]:
    """Each registered metric and whether higher is better (a plugin's metric is checked too)."""
    from bench.plugins import registry

    reg = registry()
    return {name: reg.get("metrics", name).higher_is_better for name in reg.names("metrics")}


def _print_report(console: Console, title: str, outcomes: list[Outcome], show_all: bool) -> None:
    counts = summary(outcomes)
    console.print(
        f"{title}: compared {counts['compared']} (regressed {counts[REGRESSED]}, improved "
        f"{counts[IMPROVED]}), not comparable {counts[NOT_COMPARABLE]}, not run {counts[NOT_RUN]}"
        + (f", new {counts['new']}" if counts["new"] else ""),
        soft_wrap=True,
    )
    for verdict in (NOT_COMPARABLE, NOT_RUN):
        for reason, group in reasons_by_kind(outcomes, verdict).items():
            names = sorted({f"{o.detector}/{o.scorer}" for o in group})
            console.print(
                f"  [yellow]{verdict}[/] ({len(group)}): {reason} [dim]({', '.join(names)})[/]",
                soft_wrap=True,
            )
    table = Table(caption="red: regressed, green: improved" + (", dim: unchanged" * show_all))
    widest = max((len(o.describe()) for o in outcomes), default=0)
    table.add_column("row", no_wrap=True, min_width=widest)  # names whole, never elided
    for column in ("check", "was", "now", "change"):
        table.add_column(column, overflow="fold")  # folded when narrow, never cut
    for o in outcomes:
        shown = [c for c in o.checks if show_all or c.verdict in (REGRESSED, IMPROVED)]
        if show_all and not shown:
            table.add_row(o.describe(), f"[yellow]{o.verdict}[/]", "-", "-", o.reason)
        for c in shown:
            style = {REGRESSED: "red", IMPROVED: "green"}.get(c.verdict, "dim")
            table.add_row(o.describe(), c.name, c.baseline, c.current, f"[{style}]{c.change}[/]")
    if table.row_count:
        console.print(table)
    for o in outcomes:
        for c in o.checks:
            if c.verdict == REGRESSED:
                line = f"[red]regression:[/] {o.describe()} ({c.name}): {c.change}"
                console.print(line, soft_wrap=True)


@click.command("compare")
@click.argument("baseline", type=click.Path())
@click.argument("current", required=False, type=click.Path())
@click.option(
    "--metric-tolerance",
    "--auroc-tolerance",
    "metric_tolerance",
    type=NON_NEGATIVE,
    help="Allowed change of every metric (default: max(0.01, 2 x the baseline's std over seeds)).",
)
@click.option(
    "--throughput-tolerance",
    type=NON_NEGATIVE,
    default=DEFAULT_THROUGHPUT_TOLERANCE,
    show_default=True,
    help="Allowed drop in training images/s, in percent.",
)
@click.option(
    "--min-fit-seconds",
    type=NON_NEGATIVE,
    default=DEFAULT_MIN_FIT_SECONDS,
    show_default=True,
    help="Compare throughput only when a fit took at least this long (shorter ones are noise).",
)
@click.option("--all", "show_all", is_flag=True, help="Show every row, not only changes.")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON (for CI).")
@click.option(
    "--strict", is_flag=True, help="Exit 2 unless every baseline row was compared (for CI)."
)
@click.option(
    "--write-baseline",
    is_flag=True,
    help="After reporting, replace BASELINE by CURRENT's rows (a results export).",
)
def compare_command(
    baseline: str,
    current: str | None,
    metric_tolerance: float | None,
    throughput_tolerance: float,
    min_fit_seconds: float,
    show_all: bool,
    as_json: bool,
    strict: bool,
    write_baseline: bool,
) -> None:
    """Compare CURRENT against BASELINE, like for like, per dataset, detector, scorer and task.

    Each side is a results store, a results export (--write-baseline), a leaderboard JSON (from
    `bench leaderboard`) or a directory of JSON files; CURRENT defaults to the default store.
    Rows whose configuration, device, thread count or torch version differ, or that share no
    seed, are "not comparable", never regressions. Exit 0: no regression; 1: a regression;
    2: could not compare.
    """
    if write_baseline and (Path(baseline).is_dir() or Path(baseline).suffix != ".json"):
        raise OneLineError(
            f"--write-baseline writes a results export (.json); {baseline} is not one, "
            "and a results store is never overwritten"
        )
    current = current or str(DEFAULT_STORE)
    try:
        metrics = _registered_metrics()
        after = load_rows(Path(current), list(metrics))
        if write_baseline and not Path(baseline).exists():
            Path(baseline).write_text(export_json(after))
            click.echo(f"wrote {baseline}: {len(after)} rows from {current}")
            return
        before = load_rows(Path(baseline), list(metrics))
    except BenchError as exc:
        raise OneLineError(str(exc)) from exc
    tol = Tolerances(metric_tolerance, throughput_tolerance, min_fit_seconds)
    outcomes = compare_rows(before, after, metrics, tol)
    counts = summary(outcomes)
    problem = None
    if not any(o.verdict not in (NOT_RUN, NEW) for o in outcomes):
        problem = (
            f"nothing in common: no dataset/detector/scorer/task of {baseline} is in {current}"
        )
    elif strict and counts[NOT_COMPARABLE] + counts[NOT_RUN]:
        problem = "--strict: some baseline rows were not compared (see above)"
    code = REGRESSION if counts[REGRESSED] else CANNOT_COMPARE if problem else NO_REGRESSION
    if as_json:
        report = {
            "baseline": baseline,
            "current": current,
            "exit_code": code,
            "problem": problem,
            "summary": counts,
            "rows": [asdict(o) for o in outcomes],
        }
        click.echo(json.dumps(report, indent=1))
    else:
        _print_report(Console(), f"{baseline} -> {current}", outcomes, show_all)
    if write_baseline:
        target = Path(baseline)
        try:
            target.write_text(export_json(after))
        except BenchError as exc:
            raise OneLineError(str(exc)) from exc
        click.echo(f"wrote {baseline}: {len(after)} rows from {current}", err=as_json)
        return
    if problem:
        raise OneLineError(problem)
    if code == NO_REGRESSION and not as_json:
        nothing = " (nothing was compared like for like: see why above)"
        click.echo("no regressions" + ("" if counts["compared"] else nothing))
    raise SystemExit(code)
