"""The unit of work: one trained model (experiment x seed), scored by each of its scorers.

:func:`run_job` is a plain function of a picklable :class:`Job`, so any executor (in-process, a
Ray cluster) runs exactly the same code: it trains once and returns one result row per scorer.
It never writes to the store and never raises for a broken plugin: a failure becomes a row.
"""

from __future__ import annotations

import logging
import traceback
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any, Protocol

import torch

from bench import environment
from bench.dataset import Splits
from bench.detector import DivergedError, EpochCallback
from bench.experiment import Experiment
from bench.loading import load_splits
from bench.metrics import evaluate
from bench.plugins import registry
from bench.results import DIVERGED, FAILED, JobResult
from bench.scoring import Scored, score
from bench.tasks import build_task
from bench.training import Trained, train

log = logging.getLogger("bench.jobs")


@dataclass(frozen=True)
class Job:
    """One model to train and the scorers to score it with. ``device``, ``data_dir`` and
    ``suite`` say where it runs and where it came from; none of them is part of the
    experiment (the same job planned ad hoc or from a suite is the same job)."""

    experiment: Experiment
    seed: int
    scorers: tuple[str, ...]
    device: str = "cpu"
    data_dir: str = ""
    suite: str | None = None

    def row_keys(self) -> list[tuple[str, int]]:
        """(config hash, seed) of each row this job stores, in scorer order."""
        return [(self.experiment.config_hash(s), self.seed) for s in self.scorers]

    def with_scorers(self, scorers: tuple[str, ...]) -> Job:
        return replace(self, scorers=scorers)

    def describe(self) -> str:
        e = self.experiment
        return f"{e.detector}/{','.join(self.scorers)} {e.dataset}:{e.task} seed {self.seed}"

    def row(self, scorer: str, **fields: Any) -> JobResult:
        """A result row of this job for ``scorer``: its identity plus ``fields``."""
        e = self.experiment
        return JobResult(
            detector=e.detector,
            scorer=scorer,
            dataset=e.dataset,
            task=e.task,
            seed=self.seed,
            config_hash=e.config_hash(scorer),
            config=e.config(scorer),
            labelled_fraction=e.settings.labelled_fraction,
            suite=self.suite,
            **fields,
        )


class ProgressSink(Protocol):
    """What every executor tells the progress display while it runs jobs."""

    def job_started(self, job: Job) -> None: ...

    def epoch(self, job: Job, epoch: int, total: int, loss: float) -> None: ...


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def failed_rows(job: Job, exc: BaseException, context: str = "") -> list[JobResult]:
    """Failed rows for a job whose worker never handed back rows of its own (it died, or its
    executor could not reach it)."""
    kind = f"{type(exc).__name__} {context}" if context else type(exc).__name__
    message = " ".join(str(exc).split())  # e.g. Ray's messages span lines; a row holds one
    finished = _now()
    return [
        job.row(s, status=FAILED, error=f"{kind}: {message}", device=job.device,
                finished_at=finished)
        for s in job.scorers
    ]  # fmt: skip


def _provenance(device: torch.device) -> dict[str, Any]:
    return {
        "device": str(device),
        "torch_version": torch.__version__,
        "cuda_version": environment.cuda_version(),
        # The thread count changes float summation order, and the CPU the kernels, so both are
        # part of reproducing a row.
        "versions": {
            **environment.package_versions(),
            "torch_threads": str(torch.get_num_threads()),
            "cpu": environment.processor(),
        },
        "git_commit": environment.git_commit(),
    }


def _failure(exc: BaseException) -> tuple[str, str]:
    if isinstance(exc, DivergedError):
        return DIVERGED, str(exc)
    return FAILED, f"{type(exc).__name__}: {exc}"


def run_job(
    job: Job, splits: Splits | None = None, on_epoch: EpochCallback | None = None
) -> list[JobResult]:
    """Train ``job``'s model once and return one row per scorer; ``splits`` lets an executor
    pass data it loaded already. Anything a plugin raises (``sys.exit()`` included; only
    Ctrl-C passes) becomes a failed row, so one broken detector never ends a run."""
    device = torch.device(job.device)
    common = {**_provenance(device), "started_at": _now()}
    e = job.experiment
    try:
        common["device_name"] = environment.device_name(device)
        reg = registry()
        detector_cls = reg.get("detectors", e.detector)
        scorers = [reg.get("scorers", name) for name in job.scorers]
        for scorer in scorers:
            scorer.check_compatible(e.detector, detector_cls.produces)
        metrics = [reg.get("metrics", name) for name in reg.names("metrics")]
        if splits is None:
            splits = load_splits(e.dataset, job.data_dir, dict(e.dataset_options))
        dataset_cls = reg.get("datasets", e.dataset)
        s = e.settings
        task = build_task(splits, e.dataset, dataset_cls.one_class, e.task, s.labelled_fraction,
                          job.seed, s.max_train, s.max_test)  # fmt: skip
        trained = train(detector_cls, e, task, job.seed, device, on_epoch)
        scored = score(trained.detector, scorers, task, job.seed, s.deterministic, device,
                       trained.input_shape)  # fmt: skip
    except KeyboardInterrupt:
        raise
    except BaseException as exc:  # a broken plugin must never stop the run
        log.debug("job %s failed:\n%s", job.describe(), traceback.format_exc())
        status, error = _failure(exc)
        return [
            job.row(name, status=status, error=error, finished_at=_now(), **common)
            for name in job.scorers
        ]
    return [
        _scored_row(job, name, trained, scored, task.test_labels, metrics, common)
        for name in job.scorers
    ]


def _scored_row(
    job: Job,
    scorer: str,
    trained: Trained,
    scored: Scored,
    labels: Any,
    metrics: list[Any],
    common: dict[str, Any],
) -> JobResult:
    fields = {
        **common,
        "n_train": trained.n_train,
        "fit_seconds": trained.fit_seconds,
        "train_images_per_s": trained.train_images_per_s,
        "steady_images_per_s": trained.steady_images_per_s,
        "cpu_images_per_s": trained.cpu_images_per_s,
        "parameters": trained.detector.parameter_count(),
        "fitted_hparams": dict(trained.detector.hparams),
        "n_test": scored.n_test,
        "score_seconds": scored.seconds,
        "score_images_per_s": scored.n_test / max(scored.seconds, 1e-9),
    }
    if scorer in scored.errors:
        status, error = _failure(scored.errors[scorer])
        return job.row(scorer, status=status, error=error, finished_at=_now(), **fields)
    values = scored.scores[scorer]
    try:
        measured = {} if labels is None else evaluate(metrics, labels, values)
    except Exception as exc:  # a metric plugin's failure costs its row, not the run
        status, error = _failure(exc)
        return job.row(scorer, status=status, error=error, finished_at=_now(), **fields)
    return job.row(
        scorer,
        scores=values,
        labels=labels,
        metrics=measured,
        examples=scored.examples,
        finished_at=_now(),
        **fields,
    )
