"""The executor seam: how a list of jobs becomes a stream of result rows.

The runner only hands jobs over and consumes rows as they arrive, in whatever order; it never
assumes jobs run in its own process. Every executor runs :func:`bench.jobs.run_job`, one call
per job (one trained model, a row per scorer), must yield every row of every job, and must not
write to the store (the driver is the only writer).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Protocol

from bench.jobs import Job, ProgressSink, run_job
from bench.pool_executor import PoolExecutor
from bench.results import JobResult


class Executor(Protocol):
    concurrency: int | None  # jobs at once, where the executor decides it (the time-left estimate)

    def run(self, jobs: Sequence[Job], progress: ProgressSink) -> Iterator[JobResult]: ...


class SerialExecutor:
    """Runs jobs one after another in this process, reporting epochs as they finish."""

    concurrency = 1

    def run(self, jobs: Sequence[Job], progress: ProgressSink) -> Iterator[JobResult]:
        for job in jobs:
            progress.job_started(job)

            def on_epoch(epoch: int, total: int, loss: float, job: Job = job) -> None:
                progress.epoch(job, epoch, total, loss)

            yield from run_job(job, on_epoch=on_epoch)


def make_executor(name: str, workers: int = 1, **options: object) -> Executor:
    """The executor called ``name``; options an executor does not use are ignored. ``local``
    runs ``workers`` jobs at once in worker processes, one in this process (``serial``)."""
    if name == "serial" or (name == "local" and workers == 1):
        return SerialExecutor()
    if name == "local":
        return PoolExecutor(workers)
    if name == "ray":
        from bench.ray_executor import RayExecutor  # only now: Ray is an optional extra

        return RayExecutor(**options)  # type: ignore[arg-type]
    raise ValueError(f"unknown executor {name!r}")
