"""Turns a :class:`RunSpec` into the job grid, and streams results into the store.

Everything that can be checked before training (names, scorer compatibility, hyperparameter
keys, data present) is checked in :func:`plan_jobs`, so a typo fails in a second, not after an
hour of training.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench import environment
from bench.errors import BenchError
from bench.executors import Executor, ProgressSink
from bench.jobs import Job, load_splits
from bench.paths import resolve_data_dir
from bench.plugins import plugin_manager, registry
from bench.results import OK, JobResult
from bench.store import ResultStore
from bench.tasks import task_names

log = logging.getLogger("bench.runner")


class PlanError(BenchError, ValueError):
    """The requested run cannot be built (unknown name, incompatible scorer, bad option)."""


@dataclass
class RunSpec:
    detectors: list[str]
    dataset: str = "digits"
    classes: list[str] | None = None  # None: every class
    seeds: list[int] = field(default_factory=lambda: [0])
    scorers: list[str] | None = None  # None: each detector's default scorer
    detector_scorers: dict[str, list[str]] = field(default_factory=dict)
    hparams: dict[str, Any] = field(default_factory=dict)  # for every detector with the key
    detector_hparams: dict[str, dict[str, Any]] = field(default_factory=dict)
    dataset_options: dict[str, Any] = field(default_factory=dict)
    data_dir: str | None = None
    labelled_fraction: float = 0.0
    max_train: int | None = None  # reduced runs: cap on normal training images per task
    max_test: int | None = None  # reduced runs: cap on test images (a fixed subsample)
    device: str = "auto"
    deterministic: bool = True
    precision: str = "fp32"
    compile: bool = False
    suite: str | None = None  # the suite file this spec was loaded from, recorded with results


def check_hparam_keys(
    shared: Mapping[str, Any],
    own: Mapping[str, Mapping[str, Any]],
    classes: Mapping[str, type],
    role: str = "selected",
) -> None:
    """Refuse keys the detectors do not have: ignoring one would run a different experiment
    from the one asked for. ``shared`` keys need one detector in ``classes`` that has them,
    ``own[name]`` keys detector ``name`` itself."""
    for name, values in own.items():
        defaults = classes[name].defaults
        unknown = set(values) - set(defaults)
        if unknown:
            raise PlanError(
                f"detector {name!r} has no hyperparameter(s) {sorted(unknown)}; "
                f"known: {sorted(defaults)}"
            )
    known_keys = set().union(*(set(c.defaults) for c in classes.values()))
    stray = set(shared) - known_keys
    if stray:
        raise PlanError(
            f"no {role} detector has hyperparameter(s) {sorted(stray)}; known: {sorted(known_keys)}"
        )


def _hparams_for(spec: RunSpec, name: str, defaults: dict[str, Any]) -> dict[str, Any]:
    shared = {k: v for k, v in spec.hparams.items() if k in defaults}
    return {**defaults, **shared, **spec.detector_hparams.get(name, {})}


def plan_jobs(spec: RunSpec) -> list[Job]:
    reg = registry()
    if not spec.detectors:
        raise PlanError("no detector selected; pass --detector NAME or --all")
    if not 0.0 <= spec.labelled_fraction < 1.0:
        raise PlanError("--labelled-anomalies must be a fraction in [0, 1)")
    try:
        detector_classes = {name: reg.get("detectors", name) for name in spec.detectors}
        dataset_cls = reg.get("datasets", spec.dataset)
        for name in spec.scorers or []:
            reg.get("scorers", name)
    except KeyError as exc:
        raise PlanError(str(exc)) from None
    # Settings of detectors not selected (a suite's, under a narrower --detector) stay unused.
    own = {n: spec.detector_hparams[n] for n in detector_classes if n in spec.detector_hparams}
    check_hparam_keys(spec.hparams, own, detector_classes)
    device = str(environment.resolve_device(spec.device))
    data_dir = str(resolve_data_dir(spec.data_dir))
    splits = load_splits(spec.dataset, data_dir, spec.dataset_options)
    all_tasks = task_names(splits, spec.dataset, dataset_cls.one_class)
    tasks = all_tasks if spec.classes is None else spec.classes
    missing = [t for t in tasks if t not in all_tasks]
    if missing:
        raise PlanError(f"{spec.dataset} has no task(s) {missing}; tasks: {', '.join(all_tasks)}")

    jobs = []
    for name, cls in detector_classes.items():
        hparams = _hparams_for(spec, name, cls.defaults)
        scorer_names = spec.detector_scorers.get(name) or spec.scorers or [cls.default_scorer]
        for scorer_name in scorer_names:
            try:
                reg.get("scorers", scorer_name).check_compatible(name, cls.produces)
            except (KeyError, ValueError) as exc:
                raise PlanError(str(exc)) from None
        # Scorers innermost: jobs sharing a trained model run back to back (see FitCache).
        for task in tasks:
            for seed in spec.seeds:
                for scorer_name in scorer_names:
                    jobs.append(
                        Job(
                            detector=name,
                            scorer=scorer_name,
                            dataset=spec.dataset,
                            task=task,
                            seed=seed,
                            hparams=hparams,
                            dataset_options=spec.dataset_options,
                            data_dir=data_dir,
                            labelled_fraction=spec.labelled_fraction,
                            max_train=spec.max_train,
                            max_test=spec.max_test,
                            device=device,
                            deterministic=spec.deterministic,
                            precision=spec.precision,
                            compile=spec.compile,
                            suite=spec.suite,
                        )
                    )
    return jobs


def execute(
    jobs: list[Job],
    store: ResultStore,
    executor: Executor,
    progress: ProgressSink,
    resume: bool = False,
    on_result: Callable[[JobResult], None] | None = None,
) -> list[JobResult]:
    """Run the jobs not already done, storing and reporting each result as soon as it arrives."""
    done = store.completed_keys() if resume else set()
    todo = [job for job in jobs if job.key not in done]
    skipped = len(jobs) - len(todo)
    if skipped:
        log.info("resume: %d of %d jobs already stored, skipped", skipped, len(jobs))
    hook = plugin_manager().hook
    jobs_by_key = {job.key: job for job in todo}
    results = []
    # closing(): an interrupted run stops the executor at once (cancels outstanding work).
    with closing(executor.run(todo, progress)) as stream:
        for result in stream:
            _record(result, jobs_by_key, store, hook, on_result)
            results.append(result)
    return results


def _record(
    result: JobResult,
    jobs_by_key: dict[tuple[str, int], Job],
    store: ResultStore,
    hook: Any,
    on_result: Callable[[JobResult], None] | None,
) -> None:
    """Store a finished job first (so nothing after it can lose it), then export and report."""
    store.add(result)
    _export_scores(jobs_by_key[(result.config_hash, result.seed)], result, store)
    try:
        hook.bench_report_result(result=result)
    except Exception:  # a reporting plugin must not lose the run
        log.exception("a bench_report_result hook failed for %s", result.detector)
    if on_result is not None:
        on_result(result)


def _export_scores(job: Job, result: JobResult, store: ResultStore) -> None:
    """Write the scores in the dataset's community format (e.g. a competition's submission
    CSV) under ``<store dir>/submissions/``; a failed export is logged, never fatal: the
    result is already stored."""
    if result.status != OK or result.scores is None:
        return
    if job.max_test is not None:  # a subsample's scores do not make a whole submission
        log.info("%s: --max-test set, scores not exported", job.describe())
        return
    stem = f"{job.dataset}-{job.task}-{job.detector}-{job.scorer}-seed{job.seed}"
    try:
        dataset = registry().get("datasets", job.dataset)(Path(job.data_dir), **job.dataset_options)
        path = dataset.export_scores(
            job.task, result.scores, store.path.parent / "submissions", stem
        )
    except Exception:
        log.exception("exporting the scores of %s failed", job.describe())
        return
    if path is not None:
        log.info("%s: scores written to %s", job.describe(), path)
