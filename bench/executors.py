"""The executor seam: how a list of jobs becomes a stream of results.

The runner only hands jobs over and consumes results as they arrive, in whatever order; it
never assumes jobs run in its own process. An executor must yield exactly one result per job
and must not write to the store (the driver is the only writer).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Protocol

from bench.jobs import FitCache, Job, run_job
from bench.results import JobResult


class ProgressSink(Protocol):
    def job_started(self, job: Job) -> None: ...

    def epoch(self, job: Job, epoch: int, total: int, loss: float) -> None: ...


class Executor(Protocol):
    name: str

    def run(self, jobs: Sequence[Job], progress: ProgressSink) -> Iterator[JobResult]: ...


class SerialExecutor:
    """Runs jobs one after another in this process, reporting epochs as they finish. Jobs
    that differ only in scorer share one training run."""

    name = "serial"

    def run(self, jobs: Sequence[Job], progress: ProgressSink) -> Iterator[JobResult]:
        fits = FitCache()
        for job in jobs:
            progress.job_started(job)

            def on_epoch(epoch: int, total: int, loss: float, job: Job = job) -> None:
                progress.epoch(job, epoch, total, loss)

            yield run_job(job, on_epoch=on_epoch, fits=fits)


def make_executor(name: str, **options: object) -> Executor:
    """The executor called ``name``; options an executor does not use are ignored."""
    if name == "serial":
        return SerialExecutor()
    if name == "ray":
        from bench.ray_executor import RayExecutor  # only now: Ray is an optional extra

        return RayExecutor(**options)  # type: ignore[arg-type]
    raise ValueError(f"unknown executor {name!r}")
