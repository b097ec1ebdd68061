"""``bench compare``: fail (exit 1) when results regressed against a baseline leaderboard."""

from __future__ import annotations

from pathlib import Path

import click
from rich.console import Console
from rich.table import Table

from bench.commands.errors import friendly_errors
from bench.leaderboard.compare import (
    DEFAULT_THROUGHPUT_TOLERANCE,
    compare_boards,
    device_note,
    load_boards,
)
from bench.store import DEFAULT_STORE


@click.command("compare")
@click.argument("baseline", type=click.Path(exists=True))
@click.argument("current", required=False, type=click.Path())
@click.option(
    "--auroc-tolerance",
    type=click.FloatRange(min=0),
    help="Allowed drop in mean AUROC (default: max(0.01, 2 x the baseline's std over seeds)).",
)
@click.option(
    "--throughput-tolerance",
    type=click.FloatRange(min=0),
    default=DEFAULT_THROUGHPUT_TOLERANCE,
    show_default=True,
    help="Allowed drop in training images/s, in percent.",
)
@friendly_errors
def compare_command(
    baseline: str, current: str | None, auroc_tolerance: float | None, throughput_tolerance: float
) -> None:
    """Compare CURRENT against BASELINE per dataset, detector, scorer and task.

    Each side is a leaderboard JSON (from `bench leaderboard`), a directory of them, or a results
    store; CURRENT defaults to the default store. Exits 1 on any regression: mean AUROC or
    training throughput dropped beyond tolerance, or results that were ok failed or went missing.
    """
    before = load_boards(Path(baseline))
    after = load_boards(Path(current or DEFAULT_STORE))
    findings = compare_boards(before, after, auroc_tolerance, throughput_tolerance)
    console = Console()
    if findings:
        table = Table(title=f"{baseline} -> {current or DEFAULT_STORE}")
        for column in ("dataset", "detector", "scorer", "task", "check", "was", "now"):
            table.add_column(column, overflow="fold")  # never hide a number behind an ellipsis
        table.add_column("change", overflow="fold")
        for f in findings:
            style = "red" if f.regression else ("green" if f.check != "new" else "")
            table.add_row(
                f.dataset, f.detector, f.scorer, f.task, f.check, f.baseline, f.current,
                f"[{style}]{f.detail}[/]" if style else f.detail,
            )  # fmt: skip
        console.print(table)
    note = device_note(before, after)
    if note:
        console.print(f"[yellow]note:[/] {note}")
    regressions = [f for f in findings if f.regression]
    if regressions:
        console.print(f"[red]{len(regressions)} regression(s):[/]")
        for f in regressions:
            console.print(f"  {f.describe()}: {f.detail}")
        raise SystemExit(1)
    console.print(f"no regressions ({len(findings)} other change(s))")
