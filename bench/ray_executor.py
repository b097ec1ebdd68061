"""The Ray executor: every trained model is a Ray task, so a grid spreads over the cores and
GPUs of one machine or a whole cluster while the driver keeps the only pen on the results store.

Why it is built this way:

- Results come back as tasks finish (``ray.wait`` one at a time) and are yielded at once, so
  the runner commits each job before the next arrives and a killed driver loses no finished job.
- Each dataset is loaded once by the driver and put into the object store once; every job gets
  the same reference, so data travels once per node and workers need no data directory.
- Workers build their plugin registry from their own installed entry points; the driver's
  plugin selection (``BENCH_PLUGINS``, ``BENCH_EXTRA_PLUGINS``) travels with every task so both
  sides see the same plugins.
- Jobs use the driver's torch thread count: parallel CPU reductions split work by thread, so
  the thread count is part of what makes a result equal the serial executor's bit for bit.
- A job is one trained model with all its scorers, so a task trains once and returns a row
  per scorer, through the same :func:`bench.jobs.run_job` as the serial executor.
- A task whose worker process dies is retried ``max_retries`` times (it is seeded, so a retry
  is the same work), then its jobs are stored as failed; any other Ray error fails only its
  own task's jobs.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator, Sequence
from dataclasses import replace
from types import ModuleType
from typing import Any

import torch

from bench.dataset import Splits
from bench.errors import PlanError, SetupError
from bench.jobs import Job, ProgressSink, failed_rows, run_job
from bench.loading import load_splits
from bench.plugins import ENV_EXTRA, ENV_RESTRICT
from bench.results import JobResult

INSTALL_HINT = "the ray executor needs Ray: pip install 'anomaly-bench[ray]'"
DEFAULT_MAX_RETRIES = 2


class RayMissingError(SetupError):
    """Ray is not installed; the message says how to install it."""


class RayConnectionError(SetupError):
    """The Ray cluster named by ``--ray-address`` cannot be reached."""


def import_ray() -> ModuleType:
    try:
        import ray
    except ImportError:
        raise RayMissingError(INSTALL_HINT) from None
    return ray


def run_on_worker(job: Job, splits: Splits, num_threads: int) -> list[JobResult]:
    """The body of one Ray task: one job, a row per scorer. Ray resolves ``splits`` from the
    object store before the call."""
    torch.set_num_threads(num_threads)
    return run_job(job, splits=splits)


class RayExecutor:
    """Runs jobs as Ray tasks on the cluster at ``address`` (None: start or join a local one)."""

    concurrency = None  # the cluster's scheduler decides how many run at once

    def __init__(
        self,
        address: str | None = None,
        gpus_per_job: float | None = None,
        max_retries: int = DEFAULT_MAX_RETRIES,
    ) -> None:
        self.ray = import_ray()
        gpus = 1.0 if gpus_per_job is None else float(gpus_per_job)
        if not (0 < gpus <= 1 or gpus.is_integer()):
            raise PlanError(
                f"--ray-gpus-per-job must be a fraction in (0, 1] or a whole number, got {gpus}"
            )
        self.address = address
        self.gpus_per_job = gpus
        self.max_retries = max_retries

    def run(self, jobs: Sequence[Job], progress: ProgressSink) -> Iterator[JobResult]:
        if not jobs:
            return
        ray = self.ray
        started = not ray.is_initialized()
        if started:
            try:
                ray.init(address=self.address)
            except ConnectionError as exc:
                raise RayConnectionError(f"cannot join the Ray cluster: {exc}") from exc
        pending: dict[Any, Job] = {}
        try:
            self._check_gpus(jobs)
            self._submit(jobs, progress, pending)
            while pending:
                [ref], _ = ray.wait(list(pending), num_returns=1)
                yield from self._collect(ref, pending.pop(ref))
        finally:  # Ctrl-C, or the runner stopped listening: nobody will collect the rest
            for ref in pending:
                ray.cancel(ref, force=True)
            if started:
                ray.shutdown()

    def _check_gpus(self, jobs: Sequence[Job]) -> None:
        """Fail now rather than leave CUDA jobs waiting forever for GPUs the cluster lacks."""
        if not any(torch.device(job.device).type == "cuda" for job in jobs):
            return
        available = self.ray.cluster_resources().get("GPU", 0)
        if available < self.gpus_per_job:
            raise PlanError(
                f"the jobs run on CUDA and each reserves {self.gpus_per_job:g} GPU(s), but the "
                f"Ray cluster has {available:g}; use --device cpu or add GPU workers"
            )

    def _submit(self, jobs: Sequence[Job], progress: ProgressSink, pending: dict[Any, Job]) -> None:
        ray = self.ray
        task = ray.remote(run_on_worker)
        env = {name: os.environ[name] for name in (ENV_RESTRICT, ENV_EXTRA) if name in os.environ}
        options: dict[str, Any] = {"num_cpus": 1, "max_retries": self.max_retries}
        if env:
            options["runtime_env"] = {"env_vars": env}
        threads = torch.get_num_threads()
        data: dict[tuple[str, str, str], Any] = {}
        for job in jobs:
            e = job.experiment
            key = (e.dataset, job.data_dir, json.dumps(e.dataset_options, sort_keys=True))
            if key not in data:
                data[key] = ray.put(load_splits(e.dataset, job.data_dir, dict(e.dataset_options)))
            on_cuda = torch.device(job.device).type == "cuda"
            # Ray hides every GPU but the one it assigned, which the worker then sees as "cuda".
            remote = replace(job, device="cuda") if on_cuda else job
            gpus = self.gpus_per_job if on_cuda else 0
            progress.job_started(job)
            ref = task.options(num_gpus=gpus, **options).remote(remote, data[key], threads)
            pending[ref] = job

    def _collect(self, ref: Any, job: Job) -> list[JobResult]:
        errors = self.ray.exceptions
        try:
            return self.ray.get(ref)
        except errors.RayTaskError as exc:  # raised on the worker outside run_job's own guard
            return failed_rows(job, exc.cause if exc.cause is not None else exc)
        except (errors.WorkerCrashedError, errors.NodeDiedError, errors.OutOfMemoryError) as exc:
            return failed_rows(job, exc, f"after {1 + self.max_retries} attempt(s)")
        except errors.RayError as exc:
            return failed_rows(job, exc)
