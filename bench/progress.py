"""Rich progress bars for a run (jobs and epochs) and the summary table at its end."""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table

from bench.jobs import Job
from bench.results import OK, JobResult


class RunProgress:
    """A jobs bar for the whole grid and an epochs bar for the job in flight."""

    def __init__(self, total_jobs: int, console: Console | None = None) -> None:
        self.progress = Progress(
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[info]}"),
            TimeElapsedColumn(),
            TimeRemainingColumn(),
            console=console,
            transient=False,
            # No refresh thread: waking one ten times a second next to PyTorch's spinning
            # OpenMP workers made CPU training 25x slower on 2 cores. Redraw on events instead.
            auto_refresh=False,
        )
        self.jobs = self.progress.add_task("jobs", total=total_jobs, info="")
        self.epochs = self.progress.add_task("epochs", total=None, info="", visible=False)

    def __enter__(self) -> RunProgress:
        self.progress.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.progress.stop()

    def job_started(self, job: Job) -> None:
        self.progress.update(self.jobs, info=job.describe())
        self.progress.reset(self.epochs, total=None, visible=False, info="")
        self.progress.refresh()

    def epoch(self, job: Job, epoch: int, total: int, loss: float) -> None:
        self.progress.update(
            self.epochs, total=total, completed=epoch + 1, visible=True, info=f"loss {loss:.4g}"
        )
        self.progress.refresh()

    def job_done(self, result: JobResult) -> None:
        self.progress.advance(self.jobs)
        self.progress.refresh()
        if result.status != OK:
            self.progress.console.print(
                f"[red]{result.status}[/red] {result.detector} {result.dataset}:{result.task} "
                f"seed {result.seed}: {result.error}"
            )


def summary_table(results: Sequence[JobResult]) -> Table:
    """Mean AUROC and status counts per detector and scorer over this run's jobs."""
    table = Table(title="run summary")
    for column in ("detector", "scorer", "jobs", "ok", "failed/diverged", "mean AUROC", "fit s"):
        table.add_column(column, justify="left" if column in ("detector", "scorer") else "right")
    if not results:
        return table
    frame = pd.DataFrame(
        {
            "detector": r.detector,
            "scorer": r.scorer,
            "ok": r.status == OK,
            "auroc": r.metrics.get("auroc"),
            "fit": r.fit_seconds,
        }
        for r in results
    )
    for (detector, scorer), group in frame.groupby(["detector", "scorer"], sort=True):
        ok = int(group["ok"].sum())
        auroc = group.loc[group["ok"], "auroc"].dropna()
        table.add_row(
            detector,
            scorer,
            str(len(group)),
            str(ok),
            str(len(group) - ok),
            f"{auroc.mean():.4f}" if len(auroc) else "-",
            f"{group['fit'].sum():.1f}",
        )
    return table
