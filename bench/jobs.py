"""A job (detector x task x seed) and the function that runs one, anywhere.

:func:`run_job` is a plain function of a picklable :class:`Job`, so any executor (in-process,
a process pool, a Ray cluster) can run it; it never writes to the store and never raises: a
failure becomes a result row.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
import traceback
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import torch

from bench import environment
from bench.dataset import Splits
from bench.detector import DivergedError, EpochCallback, RunContext
from bench.images import ImageBatches
from bench.metrics import evaluate
from bench.plugins import registry
from bench.results import DIVERGED, FAILED, JobResult
from bench.seeding import seed_everything
from bench.tasks import Task, build_task

log = logging.getLogger("bench.jobs")
EXAMPLES_PER_KIND = 4


@dataclass(frozen=True)
class Job:
    detector: str
    scorer: str
    dataset: str
    task: str
    seed: int
    hparams: dict[str, Any] = field(default_factory=dict, hash=False)
    dataset_options: dict[str, Any] = field(default_factory=dict, hash=False)
    data_dir: str = ""
    labelled_fraction: float = 0.0
    max_train: int | None = None
    max_test: int | None = None
    device: str = "cpu"
    deterministic: bool = True
    precision: str = "fp32"
    compile: bool = False
    suite: str | None = None  # provenance only: not part of the config or its hash

    def config(self) -> dict[str, Any]:
        """What defines the experiment, apart from seed, the machine it runs on and the suite
        file it came from (the same job planned ad hoc or from a suite is the same job)."""
        return {
            "detector": self.detector,
            "scorer": self.scorer,
            "dataset": self.dataset,
            "dataset_options": self.dataset_options,
            "task": self.task,
            "hparams": self.hparams,
            "labelled_fraction": self.labelled_fraction,
            "max_train": self.max_train,
            "max_test": self.max_test,
            "deterministic": self.deterministic,
            "precision": self.precision,
            "compile": self.compile,
        }

    @property
    def config_hash(self) -> str:
        canonical = json.dumps(self.config(), sort_keys=True, default=str)
        return hashlib.sha256(canonical.encode()).hexdigest()[:16]

    @property
    def training_key(self) -> str:
        """What the trained model depends on: everything but the scorer (and the suite)."""
        training = {k: v for k, v in self.config().items() if k != "scorer"}
        where = {"seed": self.seed, "device": self.device, "data_dir": self.data_dir}
        return json.dumps({**training, **where}, sort_keys=True, default=str)

    @property
    def key(self) -> tuple[str, int]:
        return (self.config_hash, self.seed)

    def result(self, **fields: Any) -> JobResult:
        """A result row for this job: its identity plus ``fields``."""
        return JobResult(
            detector=self.detector,
            scorer=self.scorer,
            dataset=self.dataset,
            task=self.task,
            seed=self.seed,
            config_hash=self.config_hash,
            config=self.config(),
            labelled_fraction=self.labelled_fraction,
            suite=self.suite,
            **fields,
        )

    def describe(self) -> str:
        return f"{self.detector}/{self.scorer} {self.dataset}:{self.task} seed {self.seed}"


@lru_cache(maxsize=4)
def _load_cached(dataset: str, data_dir: str, options: str) -> Splits:
    cls = registry().get("datasets", dataset)
    return cls(Path(data_dir), **json.loads(options)).load().validate(dataset)


def load_splits(dataset: str, data_dir: str, options: dict[str, Any]) -> Splits:
    """Load (once per process) and validate a dataset's splits."""
    return _load_cached(dataset, data_dir, json.dumps(options, sort_keys=True))


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def run_job(
    job: Job,
    on_epoch: EpochCallback | None = None,
    splits: Splits | None = None,
    fits: FitCache | None = None,
) -> JobResult:
    """Run one job and return its result; ``splits`` lets an executor pass preloaded data,
    ``fits`` reuse the model trained for the previous job when only the scorer differs."""
    device = torch.device(job.device)
    result = job.result(
        device=str(device),
        torch_version=torch.__version__,
        cuda_version=environment.cuda_version(),
        # The thread count changes float summation order, so it is part of reproducing a row.
        versions={**environment.package_versions(), "torch_threads": str(torch.get_num_threads())},
        git_commit=environment.git_commit(),
        started_at=_now(),
    )
    try:
        result.device_name = environment.device_name(device)
        reg = registry()
        detector_cls = reg.get("detectors", job.detector)
        scorer = reg.get("scorers", job.scorer)
        scorer.check_compatible(job.detector, detector_cls.produces)
        if splits is None:
            splits = load_splits(job.dataset, job.data_dir, job.dataset_options)
        dataset_cls = reg.get("datasets", job.dataset)
        task = build_task(
            splits,
            job.dataset,
            dataset_cls.one_class,
            job.task,
            job.labelled_fraction,
            job.seed,
            job.max_train,
            job.max_test,
        )
        fit_and_score(job, task, detector_cls, scorer, device, on_epoch, result, fits)
    except DivergedError as exc:
        result.status, result.error = DIVERGED, str(exc)
    except Exception as exc:  # a broken plugin must never stop the run
        log.debug("job %s failed:\n%s", job.describe(), traceback.format_exc())
        result.status, result.error = FAILED, f"{type(exc).__name__}: {exc}"
    result.finished_at = _now()
    return result


@dataclass
class Fit:
    """A fitted detector and what its training cost, shared by the rows of every scorer."""

    detector: Any
    n_train: int
    fit_seconds: float
    train_images_per_s: float


class FitCache:
    """The most recent fit, so jobs that differ only in scorer train once.

    :func:`bench.runner.plan_jobs` puts such jobs next to each other, so one entry is enough
    and at most one spare model is kept alive. Reuse gives the same scores as training
    afresh: training is seeded and deterministic, and scoring is reseeded either way.
    """

    def __init__(self) -> None:
        self._key: str | None = None
        self._fit: Fit | None = None

    def get(self, job: Job) -> Fit | None:
        return self._fit if self._key == job.training_key else None

    def put(self, job: Job, fit: Fit) -> None:
        self._key, self._fit = job.training_key, fit


def fit_and_score(
    job: Job,
    task: Task,
    detector_cls: type,
    scorer: Any,
    device: torch.device,
    on_epoch: EpochCallback | None,
    result: JobResult,
    fits: FitCache | None = None,
) -> Any:
    """Seed, build, fit and score one detector on one task, filling ``result``; returns the
    fitted detector. With ``fits``, a fit of the same training job is reused. Raises on
    failure: :func:`run_job` turns exceptions into rows."""
    fit = fits.get(job) if fits is not None else None
    if fit is None:
        fit = _fit(job, task, detector_cls, device, on_epoch)
        if fits is not None:
            fits.put(job, fit)
    detector = fit.detector
    result.n_train = fit.n_train
    result.fit_seconds = fit.fit_seconds
    result.train_images_per_s = fit.train_images_per_s
    result.parameters = detector.parameter_count()

    # Scoring starts from the same RNG state whether the fit was fresh or reused.
    seed_everything(job.seed, job.deterministic)
    spec = detector.input_spec
    test = ImageBatches(task.test_images, spec, device, seed=job.seed)
    batch_size = int(detector.hparams.get("batch_size", 256))
    start = time.perf_counter()
    scores = torch.cat(
        [scorer(detector.outputs(x), x).float().reshape(-1) for x in test.batches(batch_size)]
    )
    scores_np = scores.cpu().numpy()
    result.score_seconds = time.perf_counter() - start
    result.n_test = len(test)
    result.score_images_per_s = len(test) / max(result.score_seconds, 1e-9)
    if scores_np.shape != (len(test),):
        raise ValueError(f"scorer returned {scores_np.shape} scores for {len(test)} test images")
    if not np.isfinite(scores_np).all():
        raise DivergedError(f"{int((~np.isfinite(scores_np)).sum())} test scores are not finite")
    result.scores = scores_np
    result.labels = task.test_labels
    if task.test_labels is not None:
        result.metrics = evaluate(registry_metrics(), task.test_labels, scores_np)
    if "reconstruction" in detector.produces:
        result.examples = _examples(detector, spec, task, device)
    return detector


def _fit(
    job: Job,
    task: Task,
    detector_cls: type,
    device: torch.device,
    on_epoch: EpochCallback | None,
) -> Fit:
    """Seed, then build and train the detector; the seed comes first so the model's initial
    weights are the harness's, not whatever the RNG held."""
    seed_everything(job.seed, job.deterministic)
    ctx = RunContext(
        device=device,
        seed=job.seed,
        hparams=job.hparams,
        logger=logging.getLogger(f"bench.detector.{job.detector}"),
        deterministic=job.deterministic,
        precision=job.precision,
        compile=job.compile,
    )
    if on_epoch is not None:
        ctx.on_epoch = on_epoch
    # Count every epoch the detector reports, including phases beyond its ``epochs``
    # (deep_svdd's pretraining), so images/s divides by the training actually timed.
    epochs_run = 0
    report = ctx.on_epoch

    def count_epoch(epoch: int, total: int, loss: float) -> None:
        nonlocal epochs_run
        epochs_run += 1
        report(epoch, total, loss)

    ctx.on_epoch = count_epoch
    detector = detector_cls(ctx)
    targets = task.train_targets if detector.uses_labelled_anomalies else None
    spec = detector.input_spec
    train = ImageBatches(task.train_images, spec, device, targets=targets, seed=job.seed)
    start = time.perf_counter()
    detector.fit(train)
    _sync(device)
    seconds = time.perf_counter() - start
    passes = max(epochs_run, 1)  # a classical detector reports no epochs: one pass
    return Fit(detector, len(train), seconds, len(train) * passes / max(seconds, 1e-9))


def registry_metrics() -> list[Any]:
    reg = registry()
    return [reg.get("metrics", name) for name in reg.names("metrics")]


def _examples(detector: Any, spec: Any, task: Task, device: torch.device) -> dict[str, np.ndarray]:
    """A few normal and anomalous test inputs with their reconstructions, for the plots."""
    if task.test_labels is None:
        idx = np.arange(min(2 * EXAMPLES_PER_KIND, len(task.test_images)))
    else:
        normal = np.flatnonzero(task.test_labels == 0)[:EXAMPLES_PER_KIND]
        anomalous = np.flatnonzero(task.test_labels == 1)[:EXAMPLES_PER_KIND]
        idx = np.concatenate([normal, anomalous])
    x = spec.convert(task.test_images[torch.from_numpy(idx)].to(device))
    recon = detector.outputs(x)["reconstruction"]
    return {
        "inputs": x.cpu().numpy().astype(np.float16),
        "reconstructions": recon.cpu().numpy().astype(np.float16),
        "labels": np.zeros(len(idx), np.int8)
        if task.test_labels is None
        else task.test_labels[idx],
        "value_range": np.asarray(spec.value_range, np.float32),
    }
