"""``bench run``: train and score detectors over the job grid, storing every result."""

from __future__ import annotations

import signal
import sys
from dataclasses import replace
from typing import Any

import click
import torch
from rich.console import Console

from bench.commands.errors import friendly_errors
from bench.commands.options import parse_pairs, split_values
from bench.commands.settings import given_settings, settings_options
from bench.errors import PlanError
from bench.executors import make_executor
from bench.plugins import registry
from bench.pool_executor import usable_cpus
from bench.progress import RunProgress, summary_table
from bench.results import OK
from bench.runner import RunSpec, execute, pending_jobs, plan_jobs
from bench.store import DEFAULT_STORE, ResultStore
from bench.suite import load_suite

FAST = {"deterministic": False, "precision": "bf16"}
EXIT_JOBS_FAILED, EXIT_INTERRUPTED = 1, 130


@click.command("run")
@click.option("--all", "all_detectors", is_flag=True, help="Every registered detector.")
@click.option(
    "-d",
    "--detector",
    "detectors",
    multiple=True,
    help="Detector name(s); repeat or comma-separate.",
)
@click.option(
    "--suite", type=click.Path(dir_okay=False), help="A suite TOML file pinning the benchmark."
)
@click.option("--dataset", help="Dataset name (default: digits, the embedded dataset).")
@click.option(
    "--data-dir", help="Where dataset files live (else $BENCH_DATA_DIR, else a per-user cache)."
)
@click.option(
    "--dataset-option",
    "dataset_options",
    multiple=True,
    metavar="KEY=VALUE",
    help="Dataset-specific option.",
)
@click.option("--classes", multiple=True, help="Tasks (normal classes) to run; default: all.")
@click.option("--seeds", multiple=True, help="Seeds, e.g. 0,1,2 (default: 0).")
@click.option(
    "-s", "--scorer", "scorers", multiple=True, help="Scorer(s) instead of each detector's default."
)
@click.option("--epochs", type=int, help="Epochs for every detector that trains in epochs.")
@click.option("--batch-size", type=int, help="Batch size for every detector that has one.")
@click.option("--lr", type=float, help="Learning rate for every detector that has one.")
@click.option(
    "--set",
    "settings",
    multiple=True,
    metavar="[DETECTOR.]KEY=VALUE",
    help="Any hyperparameter, for all detectors or one.",
)
@settings_options
@click.option("--device", default="auto", show_default=True, help="auto, cpu, cuda or cuda:N.")
@click.option(
    "--fast",
    is_flag=True,
    help="The non-deterministic fast path: --no-deterministic --precision bf16.",
)
@click.option(
    "--store",
    default=str(DEFAULT_STORE),
    show_default=True,
    type=click.Path(dir_okay=False),
    help="SQLite results store.",
)
@click.option(
    "--resume", is_flag=True, help="Skip jobs already stored with the same config hash and seed."
)
@click.option(
    "--threads",
    type=click.IntRange(min=1),
    default=1,
    show_default=True,
    help="Torch CPU threads per job; recorded in every row, as results depend on it.",
)
@click.option(
    "--workers",
    default="auto",
    show_default=True,
    metavar="N|auto",
    help="Jobs at once for --executor local, each in a worker process (auto: one per usable "
    "CPU; 1: one at a time in this process).",
)
@click.option(
    "--executor",
    default="local",
    show_default=True,
    type=click.Choice(["local", "serial", "ray"]),
    help="Where jobs run: this machine (serial: --workers 1), or Ray.",
)
@click.option(
    "--ray-address",
    help="Ray cluster address for --executor ray (default: start or join a local instance).",
)
@click.option(
    "--ray-gpus-per-job",
    type=float,
    help="GPUs each Ray job reserves on CUDA (fractions allowed; default 1).",
)
@friendly_errors
def run_command(**opts: Any) -> None:
    """Train and score detectors, one job per detector x task x seed.

    Exit status: 0 every job ok; 1 some job failed or diverged (every row is stored); 2 a
    usage or setup error before any training; 130 interrupted (finished jobs are stored).
    """
    # SIGTERM (a scheduler or `kill` ending the run) gets Ctrl-C's treatment: say what is stored.
    signal.signal(signal.SIGTERM, _interrupt)
    spec = _spec_from_options(opts)
    workers = _workers(opts["workers"], opts["executor"])
    # One thread per job by default: on 2 idle cores a second thread saved 20% of `bench run
    # --all` (119 s -> 95 s), but beside two other training processes (load 2.6) it made a job
    # 2-3x slower (resnet_ae, MNIST 300 images: 5.7-8.4 s -> 10.8-25.9 s); and the committed
    # leaderboards and CI baseline are 1-thread results, which only a 1-thread run reproduces
    # bit for bit. The other cores go to more jobs at once instead (--workers: workers use
    # this thread count too, so their results are the same bits).
    torch.set_num_threads(opts["threads"])
    jobs = plan_jobs(spec)
    executor = make_executor(
        opts["executor"],
        workers=min(workers or usable_cpus(), len(jobs)),  # a pool never outnumbers its jobs
        address=opts["ray_address"],
        gpus_per_job=opts["ray_gpus_per_job"],
    )
    console = Console()
    results: list = []
    rows = sum(len(job.scorers) for job in jobs)
    with ResultStore(opts["store"]) as store:
        todo = pending_jobs(jobs, store.completed_keys()) if opts["resume"] else jobs
        todo_rows = sum(len(job.scorers) for job in todo)
        console.print(
            f"{len(todo)} job(s) to run, {todo_rows} result row(s)"
            + (f", {rows - todo_rows} already stored (--resume)" if rows > todo_rows else "")
            + f"; storing into {opts['store']}",
            soft_wrap=True,  # a path broken over two lines cannot be copied from a log
        )
        try:
            rows_per_job = todo_rows / len(todo) if todo else 1.0
            with RunProgress(todo_rows, console, executor.concurrency, rows_per_job) as progress:

                def stored(result: Any) -> None:
                    results.append(result)
                    progress.job_done(result)

                execute(todo, store, executor, progress, on_result=stored)
        except KeyboardInterrupt:
            console.print(
                f"interrupted: {len(results)} result row(s) of this run are stored in "
                f"{opts['store']}; rerun with --resume to continue",
                soft_wrap=True,
            )
            sys.exit(EXIT_INTERRUPTED)
    console.print(summary_table(results))
    skipped = rows - len(results)
    bad = sum(r.status != OK for r in results)
    console.print(
        f"{len(results)} result row(s) stored, {skipped} skipped as already stored"
        + (f", {bad} failed or diverged" if bad else "")
        + f"; results in {opts['store']}",
        soft_wrap=True,
    )
    if bad:
        sys.exit(EXIT_JOBS_FAILED)


def _interrupt(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt


def _workers(value: str, executor: str) -> int | None:
    """``--workers`` as a count, None for auto (one per usable CPU)."""
    if value.strip().lower() == "auto":
        return None
    if executor != "local":
        raise PlanError(
            f"--workers is for --executor local; --executor {executor} runs "
            + ("one job at a time" if executor == "serial" else "as many jobs as Ray schedules")
        )
    try:
        count = int(value)
    except ValueError:
        count = 0
    if count < 1:
        raise PlanError(f"--workers expects an integer >= 1 or auto, got {value!r}")
    return count


def _spec_from_options(opts: dict[str, Any]) -> RunSpec:
    every = registry().names("detectors")
    if opts["suite"]:
        spec = load_suite(opts["suite"], every)
    else:
        spec = RunSpec(detectors=[])
    if opts["all_detectors"]:
        spec.detectors = every
    elif opts["detectors"]:
        spec.detectors = split_values(opts["detectors"])
    if opts["dataset"]:
        spec.dataset = opts["dataset"]
    if opts["data_dir"]:
        spec.data_dir = opts["data_dir"]
    spec.dataset_options.update(parse_pairs(opts["dataset_options"], "--dataset-option"))
    if opts["classes"]:
        spec.classes = split_values(opts["classes"])
    if opts["seeds"]:
        try:
            spec.seeds = [int(s) for s in split_values(opts["seeds"])]
        except ValueError:
            raise PlanError(f"--seeds expects integers, got {' '.join(opts['seeds'])}") from None
    if opts["scorers"]:
        spec.scorers = split_values(opts["scorers"])
        spec.detector_scorers = {}
    for key in ("epochs", "batch_size", "lr"):
        if opts[key] is not None:
            spec.hparams[key] = opts[key]
    for key, value in parse_pairs(opts["settings"], "--set").items():
        detector, dot, name = key.rpartition(".")
        if dot:
            spec.detector_hparams.setdefault(detector, {})[name] = value
        else:
            spec.hparams[name] = value
    spec.device = opts["device"]
    spec.settings = spec.settings.updated(
        **{**(FAST if opts["fast"] else {}), **given_settings(opts)}
    )
    if spec.suite is not None:
        pinned = load_suite(opts["suite"], every)
        # Where the data lives and which device runs it do not change the experiment, and a
        # part of the suite's grid (seed 0 now, seeds 1-2 later with --resume) runs the
        # suite's own experiments.
        unchanged = {"device": pinned.device, "data_dir": pinned.data_dir}
        for key in ("detectors", "classes", "seeds"):
            mine, theirs = getattr(spec, key), getattr(pinned, key)
            if mine is not None and (theirs is None or set(mine) <= set(theirs)):
                unchanged[key] = theirs
        if replace(spec, **unchanged) != pinned:
            spec.suite = f"{spec.suite} (with command-line overrides)"
    return spec
