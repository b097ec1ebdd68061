"""Progress for a run (rich bars on a terminal, plain lines elsewhere) and its summary table.

A log file or CI sees nothing of a live progress bar until the run ends, so when the console is
not a terminal every finished row is one plain line, and each long job prints a heartbeat line
at most every :data:`HEARTBEAT_SECONDS` from its epochs (each: two workers' jobs both show).
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from datetime import datetime

import pandas as pd
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    Task,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table
from rich.text import Text

from bench.jobs import Job
from bench.metrics import PRIMARY
from bench.results import OK, JobResult

HEARTBEAT_SECONDS = 60.0  # plain output: one line a minute at most while a job trains


def duration(seconds: float) -> str:
    """``45 s``, ``12 min``, ``3 h 05 min``: as precise as a glance at a log needs."""
    if seconds < 90:
        return f"{seconds:.0f} s"
    minutes = round(seconds / 60)
    return f"{minutes} min" if minutes < 90 else f"{minutes // 60} h {minutes % 60:02d} min"


def job_seconds(result: JobResult) -> float | None:
    """How long the row's job ran where it ran, from the row's own timestamps (None for a
    row its executor made up for a job that never reported, e.g. a dead worker's)."""
    if result.started_at is None or result.finished_at is None:
        return None
    started, finished = map(datetime.fromisoformat, (result.started_at, result.finished_at))
    return (finished - started).total_seconds()


class TimeLeftColumn(TimeRemainingColumn):
    """The run's own estimate on the results bar, rich's on the epochs bar: rich estimates
    from the last 30 s of progress, which holds no row at all when jobs take minutes."""

    def render(self, task: Task) -> Text:
        if "left" in task.fields:
            return Text(task.fields["left"], style="progress.remaining")
        return super().render(task)


class RunProgress:
    """A bar over the run's result rows and an epochs bar for the job in flight (on a
    terminal); plain lines otherwise.

    ``concurrency`` is how many jobs run at once where the executor knows it, ``rows_per_job``
    the run's mean number of scorers per job; with both, the time left is estimated from the
    jobs' own durations (see :meth:`_left`)."""

    def __init__(
        self,
        total_rows: int,
        console: Console | None = None,
        concurrency: int | None = None,
        rows_per_job: float = 1.0,
    ) -> None:
        self.console = console or Console()
        self.plain = not self.console.is_terminal
        self.total, self.done = total_rows, 0
        self.heard: dict[str, float] = {}  # each job's last line or start, by describe()
        self.concurrency, self.rows_per_job = concurrency, rows_per_job
        self.durations: list[float] = []  # of the jobs so far, one entry per row
        self.started = time.monotonic()
        self.progress = Progress(
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[info]}"),
            TimeElapsedColumn(),
            TimeLeftColumn(),
            console=self.console,
            disable=self.plain,
            transient=False,
            # No refresh thread: waking one ten times a second next to PyTorch's spinning
            # OpenMP workers made CPU training 25x slower on 2 cores. Redraw on events instead.
            auto_refresh=False,
        )
        self.jobs = self.progress.add_task("results", total=total_rows, info="", left="")
        self.epochs = self.progress.add_task("epochs", total=None, info="", visible=False)

    def __enter__(self) -> RunProgress:
        self.progress.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.progress.stop()

    def job_started(self, job: Job) -> None:
        self.heard[job.describe()] = time.monotonic()
        self.progress.update(self.jobs, info=job.describe())
        self.progress.reset(self.epochs, total=None, visible=False, info="")
        self.progress.refresh()

    def epoch(self, job: Job, epoch: int, total: int, loss: float) -> None:
        name = job.describe()
        if self.plain and time.monotonic() - self.heard.get(name, 0.0) >= HEARTBEAT_SECONDS:
            self.heard[name] = time.monotonic()
            self.console.print(f"  {name}: epoch {epoch + 1}/{total}, loss {loss:.4g}")
        # With workers, the bar follows whichever job reported last, so it names the job.
        info = f"loss {loss:.4g}" if self.concurrency == 1 else f"{name}, loss {loss:.4g}"
        self.progress.update(self.epochs, total=total, completed=epoch + 1, visible=True, info=info)
        self.progress.refresh()

    def _left(self, elapsed: float) -> float:
        """Seconds left. Rows so far over time so far misreads parallel workers: their rows
        come in bursts, and just after the first row of a burst its partners, nearly done,
        count as not begun (two workers, 10-minute jobs: "3 h 34 min left", then "2 h 37 min"
        one row later). So where the concurrency is known, the jobs left are run in rounds of
        that many, each as long as the mean job so far; without it, the plain rate."""
        left = self.total - self.done
        if self.concurrency is None or not self.durations:
            return elapsed / self.done * left
        mean = sum(self.durations) / len(self.durations)
        return math.ceil(left / self.rows_per_job / self.concurrency) * mean

    def job_done(self, result: JobResult) -> None:
        self.done += 1
        seconds = job_seconds(result)
        if seconds is not None:
            self.durations.append(seconds)
        elapsed = time.monotonic() - self.started
        left = f"about {duration(self._left(elapsed))} left" if self.done < self.total else ""
        self.progress.update(self.jobs, advance=1, left=left)
        self.progress.refresh()
        if self.plain:
            # the log's only clock: a bar's elapsed and remaining columns show on a terminal only
            timing = f"{duration(elapsed)} in" + (f", {left}" if left else "")
            value = result.metrics.get(PRIMARY)
            if result.status != OK:
                outcome = f"{result.status}: {result.error}"
            elif value is None:
                outcome = result.status
            else:
                outcome = f"{result.status} {PRIMARY} {value:.4f}"
            fit = f" ({result.fit_seconds:.1f} s fit)" if result.fit_seconds else ""
            # markup=False: an error message may hold [brackets] that rich would eat
            self.console.print(
                f"[{self.done}/{self.total}] {result.detector}/{result.scorer} "
                f"{result.dataset}:{result.task} seed {result.seed}: {outcome}{fit}"
                f"; {timing}",
                markup=False,
                highlight=False,
                soft_wrap=True,  # one row, one line, however narrow the log's 80 columns
            )
        elif result.status != OK:
            self.progress.console.print(
                f"[red]{result.status}[/red] {result.detector} {result.dataset}:{result.task} "
                f"seed {result.seed}: {result.error}"
            )


def summary_table(results: Sequence[JobResult]) -> Table:
    """Mean AUROC, mean fit time per job and status counts per detector and scorer over this
    run's result rows (the leaderboard's fit time is a mean per job too)."""
    table = Table(title="run summary")
    columns = (
        "detector",
        "scorer",
        "jobs",
        "ok",
        "failed/diverged",
        f"mean {PRIMARY}",
        "fit s/job",
    )
    for column in columns:
        justify = "left" if column in ("detector", "scorer") else "right"
        table.add_column(column, justify=justify, overflow="fold")  # never cut a name
    if not results:
        return table
    frame = pd.DataFrame(
        {
            "detector": r.detector,
            "scorer": r.scorer,
            "ok": r.status == OK,
            "primary": r.metrics.get(PRIMARY),
            "fit": r.fit_seconds,
        }
        for r in results
    )
    for (detector, scorer), group in frame.groupby(["detector", "scorer"], sort=True):
        ok = int(group["ok"].sum())
        auroc = group.loc[group["ok"], "primary"].dropna()
        table.add_row(
            detector,
            scorer,
            str(len(group)),
            str(ok),
            str(len(group) - ok),
            f"{auroc.mean():.4f}" if len(auroc) else "-",
            f"{group['fit'].mean():.2f}" if group["fit"].notna().any() else "-",
        )
    return table
