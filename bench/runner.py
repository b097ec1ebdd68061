"""Turns a :class:`RunSpec` into jobs (one per trained model), and streams results into the store.

Everything that can be checked before training (names, scorer compatibility, hyperparameter
keys and values, settings, data present) is checked in :func:`plan_jobs`, so a typo fails in a
second, not after an hour of training.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable, Mapping, Sequence
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench import environment
from bench.dataset import DataError
from bench.detector import Detector, RunContext
from bench.errors import PlanError
from bench.executors import Executor
from bench.experiment import Experiment, Settings, canonical_json
from bench.jobs import Job, ProgressSink
from bench.loading import load_splits
from bench.paths import resolve_data_dir
from bench.plugins import plugin_manager, registry
from bench.results import JobResult
from bench.store import ResultStore
from bench.tasks import resolve_task, task_names

log = logging.getLogger("bench.runner")


@dataclass
class RunSpec:
    """A request for a grid of jobs: which detectors, tasks and seeds, with which settings."""

    detectors: list[str]
    dataset: str = "digits"
    classes: list[str] | None = None  # None: every class
    seeds: list[int] = field(default_factory=lambda: [0])
    scorers: list[str] | None = None  # None: each detector's default scorer
    detector_scorers: dict[str, list[str]] = field(default_factory=dict)
    hparams: dict[str, Any] = field(default_factory=dict)  # for every detector with the key
    detector_hparams: dict[str, dict[str, Any]] = field(default_factory=dict)
    dataset_options: dict[str, Any] = field(default_factory=dict)
    settings: Settings = field(default_factory=Settings)
    data_dir: str | None = None
    device: str = "auto"
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


def _recorded(cls: type[Detector], hparams: dict[str, Any]) -> dict[str, Any]:
    """``hparams`` as the config stores them: without those added later, when at the default."""
    late = cls.hparams_unrecorded_at_default
    return {k: v for k, v in hparams.items() if k not in late or v != cls.defaults[k]}


def _lookup(kind: str, name: str) -> Any:
    try:
        return registry().get(kind, name)
    except KeyError as exc:
        raise PlanError(str(exc.args[0])) from None


def input_shape(
    cls: type[Detector], hparams: dict[str, Any], raw: tuple[int, int, int], settings: Settings
) -> tuple[int, int, int]:
    """The C x H x W ``cls`` will be fed, from an unfitted instance's spec (a detector's spec
    may follow its hyperparameters, e.g. conv_ae's size multiple follows its depth)."""
    spec = cls(RunContext(hparams=hparams)).input_spec
    try:
        return spec.resolve(raw, settings.input_size, settings.input_channels)
    except ValueError as exc:
        raise PlanError(f"detector {cls.name!r}: {exc}") from None


def _resolved(requested: str, class_names: Sequence[str], dataset: str) -> str:
    try:
        return resolve_task(requested, class_names, dataset)
    except DataError as exc:
        raise PlanError(str(exc)) from None


def plan_jobs(spec: RunSpec) -> list[Job]:
    """One job per detector x task x seed, each carrying its scorers."""
    if not spec.detectors:
        raise PlanError("no detector selected; pass --detector NAME or --all")
    if not spec.seeds:
        raise PlanError("no seed selected")
    bad_seeds = [
        s for s in spec.seeds if isinstance(s, bool) or not isinstance(s, int) or not 0 <= s < 2**32
    ]
    if bad_seeds:  # NumPy's legacy seed, which the harness sets too, takes 32 bits
        raise PlanError(f"seeds must be integers in [0, 2**32), got {bad_seeds}")
    if spec.classes is not None and not spec.classes:
        raise PlanError("no class selected; pass --classes NAME or leave it out for every class")
    detector_classes = {name: _lookup("detectors", name) for name in spec.detectors}
    dataset_cls = _lookup("datasets", spec.dataset)
    for name in spec.scorers or []:
        _lookup("scorers", name)
    stray = sorted(set(spec.detector_hparams) - set(registry().names("detectors")))
    if stray:
        raise PlanError(
            f"settings for unknown detector(s) {stray}; detectors: "
            f"{', '.join(registry().names('detectors'))}"
        )
    # Settings of detectors not selected (a suite's, under a narrower --detector) stay unused.
    own = {n: spec.detector_hparams[n] for n in detector_classes if n in spec.detector_hparams}
    check_hparam_keys(spec.hparams, own, detector_classes)
    device = str(environment.resolve_device(spec.device))
    data_dir = str(resolve_data_dir(spec.data_dir))
    known = getattr(dataset_cls, "class_names", None)
    classes, by_name = spec.classes, spec.classes is not None and dataset_cls.one_class
    if by_name and known is not None:
        # Fixed class names: a typo (or the literature's index, "4" for deer) is settled
        # before a minute of loading.
        classes = [_resolved(c, known, spec.dataset) for c in classes]
    splits = load_splits(spec.dataset, data_dir, spec.dataset_options)
    all_tasks = task_names(splits, spec.dataset, dataset_cls.one_class)
    if by_name and known is None:  # names known only once loaded
        classes = [_resolved(c, all_tasks, spec.dataset) for c in classes]
    # A repeated class, seed or scorer would train the same job twice for one stored row.
    tasks = all_tasks if classes is None else list(dict.fromkeys(classes))
    seeds = list(dict.fromkeys(spec.seeds))
    missing = [t for t in tasks if t not in all_tasks]
    if missing:
        raise PlanError(f"{spec.dataset} has no task(s) {missing}; tasks: {', '.join(all_tasks)}")

    jobs = []
    for name, cls in detector_classes.items():
        hparams = _hparams_for(spec, name, cls.defaults)
        try:
            cls.check_hparams(hparams)
        except ValueError as exc:
            raise PlanError(f"detector {name!r}: {exc}") from None
        canonical_json(hparams)  # NaN or inf: refused now, not stored as invalid JSON
        hparams = _recorded(cls, hparams)
        shape = input_shape(cls, hparams, tuple(splits.train_images.shape[1:]), spec.settings)
        scorer_names = list(
            dict.fromkeys(spec.detector_scorers.get(name) or spec.scorers or [cls.default_scorer])
        )
        for scorer_name in scorer_names:
            try:
                _lookup("scorers", scorer_name).check_compatible(name, cls.produces)
            except ValueError as exc:
                raise PlanError(str(exc)) from None
        for task in tasks:
            experiment = Experiment(
                detector=name,
                dataset=spec.dataset,
                task=task,
                hparams=hparams,
                dataset_options=dict(spec.dataset_options),
                settings=spec.settings,
                input_shape=shape,
            )
            for seed in seeds:
                jobs.append(
                    Job(experiment, seed, tuple(scorer_names), device, data_dir, spec.suite)
                )
    return jobs


def pending_jobs(jobs: list[Job], done: set[tuple[str, int]]) -> list[Job]:
    """The jobs with rows still to store, each reduced to the scorers whose rows are missing."""
    todo = []
    for job in jobs:
        keys = zip(job.scorers, job.row_keys(), strict=True)
        missing = tuple(scorer for scorer, key in keys if key not in done)
        if missing:
            todo.append(job.with_scorers(missing))
    return todo


def execute(
    jobs: list[Job],
    store: ResultStore,
    executor: Executor,
    progress: ProgressSink,
    resume: bool = False,
    on_result: Callable[[JobResult], None] | None = None,
) -> list[JobResult]:
    """Run the jobs not already done, storing and reporting each result as soon as it arrives."""
    todo = pending_jobs(jobs, store.completed_keys()) if resume else jobs
    rows = sum(len(job.scorers) for job in jobs)
    skipped = rows - sum(len(job.scorers) for job in todo)
    if skipped:
        log.info("resume: %d of %d result rows already stored, skipped", skipped, rows)
    hook = plugin_manager().hook
    results = []
    # closing(): an interrupted run stops the executor at once (cancels outstanding work).
    with closing(executor.run(todo, progress)) as stream:
        for result in stream:
            _record(result, store, hook, on_result)
            results.append(result)
    return results


def _record(
    result: JobResult,
    store: ResultStore,
    hook: Any,
    on_result: Callable[[JobResult], None] | None,
) -> None:
    """Store a finished row first (so nothing after it can lose it), then report it."""
    store.add(result)
    try:
        hook.bench_report_result(result=result, output_dir=Path(store.path).parent)
    except Exception:  # a reporting plugin must not lose the run
        log.warning(
            "a bench_report_result hook failed for %s: %s (bench -vv: traceback)",
            result.detector,
            sys.exc_info()[1],
        )
        log.debug("hook failure", exc_info=True)
    if on_result is not None:
        on_result(result)
