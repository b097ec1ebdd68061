"""The local pool executor: ``--workers N`` jobs at once, each in its own worker process.

Why it is built this way:

- Every job trains with the driver's torch thread count (1 by default), so a job's scores are
  bit for bit the serial executor's; N one-thread workers use N cores where the serial
  executor leaves all but one idle.
- Workers are *spawned*: forking a driver whose torch has started its thread pools can
  deadlock the child. A spawned child inherits the driver's environment (so ``BENCH_PLUGINS``
  and ``BENCH_EXTRA_PLUGINS``) and is handed its ``sys.path``, so it builds the same plugin
  registry; each loads its data through :func:`bench.loading.load_splits`, once per process.
- At most N jobs are in flight, so a job is announced when a worker takes it and rows are
  yielded as each job finishes (the runner stores each at once).
- Workers send their jobs' epochs back over one pipe, at most one a second per job, so a
  log shows that a 90-minute job is alive. The pipe has no lock: each message is a single
  write of well under ``PIPE_BUF`` (4096 bytes on Linux), which the OS keeps whole, so a
  worker killed mid-send can neither leave half a message for the driver to block on nor hold
  a lock its partners would wait on forever.
- A worker that dies (a segfault, the OOM killer) breaks the whole pool and fails every job in
  flight, not only its own. Those jobs are retried one at a time in a fresh one-worker pool
  (they are seeded, so a retry is the same work); a job that kills that worker too is stored
  as failed, with the worker's exit code, and the others go on.
- The driver owns interruption: workers ignore Ctrl-C (the terminal sends it to all of them),
  and a stopped run (Ctrl-C, SIGTERM, the runner closing the stream) terminates them. A worker
  whose driver was killed outright exits on its own rather than linger.
"""

from __future__ import annotations

import itertools
import multiprocessing
import multiprocessing.connection
import os
import signal
import threading
import time
from collections import deque
from collections.abc import Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager
from multiprocessing.connection import Connection

import torch

from bench.jobs import Job, ProgressSink, failed_rows, run_job
from bench.results import JobResult

ATTEMPTS = 2  # the first try, then one retry alone in a fresh worker
EPOCH_REPORT_SECONDS = 1.0  # a worker sends a job's epoch at most this often (and its last)
# fork after torch has started its thread pools can deadlock the child
SPAWN = multiprocessing.get_context("spawn")


class WorkerDiedError(RuntimeError):
    """The worker process running a job ended without handing back its rows."""


def usable_cpus() -> int:
    """The CPUs this process may run on (a container's or ``taskset``'s limit, not the
    machine's count where the platform says)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # no affinity on this platform (macOS)
        return os.cpu_count() or 1


# In a worker: where its jobs' epochs go (the driver's end is read by ``_forward_epochs``).
_epochs: Connection | None = None


def _init_worker(threads: int, epochs: Connection) -> None:
    global _epochs
    _epochs = epochs
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the driver decides what Ctrl-C stops
    torch.set_num_threads(threads)
    parent = multiprocessing.parent_process()
    if parent is not None:  # a SIGKILLed driver runs no cleanup: leave with it
        threading.Thread(target=_exit_with, args=(parent.sentinel,), daemon=True).start()


def _exit_with(sentinel: int) -> None:
    multiprocessing.connection.wait([sentinel])
    os._exit(1)


def _run_reporting(key: int, job: Job) -> list[JobResult]:
    """:func:`run_job` in a worker, sending ``(key, epoch, total, loss)`` to the driver."""
    epochs = _epochs
    assert epochs is not None, "runs only in a worker started by _init_worker"
    sent = -EPOCH_REPORT_SECONDS

    def on_epoch(epoch: int, total: int, loss: float) -> None:
        nonlocal sent
        if time.monotonic() - sent >= EPOCH_REPORT_SECONDS or epoch + 1 == total:
            sent = time.monotonic()
            epochs.send((key, epoch, total, loss))

    return run_job(job, on_epoch=on_epoch)


def _forward_epochs(epochs: Connection, in_flight: dict[int, Job], progress: ProgressSink) -> None:
    """Hand every epoch waiting in the pipe to ``progress`` (those of jobs still in flight: a
    retried job's first attempt may have sent some before its worker died)."""
    while epochs.poll():
        key, epoch, total, loss = epochs.recv()
        if key in in_flight:
            progress.epoch(in_flight[key], epoch, total, loss)


@contextmanager
def _children_ignore_sigint() -> Iterator[None]:
    """Spawn workers with Ctrl-C ignored from their first instruction: a child inherits an
    ignored signal, and its imports (torch: seconds) come before :func:`_init_worker` runs."""
    if threading.current_thread() is not threading.main_thread():
        yield  # only the main thread may set handlers; _init_worker still ignores Ctrl-C
        return
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:  # None: set outside Python and not restorable, so Python's own Ctrl-C handler
        signal.signal(signal.SIGINT, signal.default_int_handler if previous is None else previous)


def _stop(pool: ProcessPoolExecutor) -> None:
    """Shut ``pool`` down without waiting for the jobs its workers are running."""
    # CPython's own list of the pool's processes (public as terminate_workers() from 3.14).
    for process in list((pool._processes or {}).values()):  # type: ignore[attr-defined]
        process.terminate()
    pool.shutdown(wait=True, cancel_futures=True)


def _death(pool: ProcessPoolExecutor) -> str:
    """How the one worker of a broken one-worker pool ended; shuts the pool down, which joins
    the worker (its pipe closes a moment before its exit code can be read)."""
    processes = list((pool._processes or {}).values())  # type: ignore[attr-defined]
    pool.shutdown(wait=True)
    codes = [p.exitcode for p in processes]
    if len(codes) != 1 or codes[0] is None:
        return "the worker process died"
    if codes[0] < 0:
        return f"the worker process was killed by {signal.Signals(-codes[0]).name}"
    return f"the worker process died with exit code {codes[0]}"


class PoolExecutor:
    """Runs jobs ``workers`` at a time in spawned worker processes on this machine."""

    def __init__(self, workers: int) -> None:
        self.workers = workers

    @property
    def concurrency(self) -> int:
        return self.workers

    def run(self, jobs: Sequence[Job], progress: ProgressSink) -> Iterator[JobResult]:
        todo, suspects = deque(jobs), deque[Job]()
        # each job with the key its worker tags its epochs with
        running: dict[Future[list[JobResult]], tuple[int, Job]] = {}
        keys = itertools.count()
        pool: ProcessPoolExecutor | None = None
        solo = broken = False
        threads = torch.get_num_threads()
        epochs, worker_end = SPAWN.Pipe(duplex=False)
        try:
            while todo or suspects or running:
                if pool is not None and not running and (broken or solo != bool(suspects)):
                    _stop(pool)
                    pool, broken = None, False
                if pool is None:
                    solo = bool(suspects)
                    size = 1 if solo else min(self.workers, len(todo))
                    pool = ProcessPoolExecutor(size, SPAWN, _init_worker, (threads, worker_end))
                source, limit = (suspects, 1) if solo else (todo, self.workers)
                with _children_ignore_sigint():
                    while source and len(running) < limit and not broken:
                        key = next(keys)
                        try:
                            future = pool.submit(_run_reporting, key, source[0])
                        except BrokenProcessPool:  # a worker died since the last result
                            broken = True
                            break
                        running[future] = (key, source.popleft())
                        progress.job_started(running[future][1])
                done: set[Future[list[JobResult]]] = set()
                while running and not done:  # a job's last epochs precede its rows
                    done, _ = wait(running, EPOCH_REPORT_SECONDS, FIRST_COMPLETED)
                    _forward_epochs(epochs, dict(running.values()), progress)
                for future in done:
                    _, job = running.pop(future)
                    try:
                        rows = future.result()
                    except BrokenProcessPool:
                        broken = True
                        if not solo:  # it may only have been in flight beside the culprit
                            suspects.append(job)
                            continue
                        died = WorkerDiedError(_death(pool))
                        rows = failed_rows(job, died, f"after {ATTEMPTS} attempt(s)")
                    except Exception as exc:  # e.g. rows that could not be sent back
                        rows = failed_rows(job, exc)
                    yield from rows
        finally:  # Ctrl-C, SIGTERM, or the runner stopped listening: nobody will collect the rest
            for future in running:
                future.cancel()
            if pool is not None:
                _stop(pool)
            epochs.close()
            worker_end.close()
