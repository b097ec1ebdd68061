"""Training one detector on one task: seeded, timed, and nothing else.

A plain function of its inputs (the registry lookup happens in the caller), so the runner, the
conformance kit, tests and benchmarks all train through exactly this code.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import torch

from bench.detector import Detector, EpochCallback, RunContext
from bench.experiment import Experiment
from bench.images import ImageBatches
from bench.seeding import seed_everything
from bench.tasks import Task


@dataclass
class Trained:
    """A fitted detector and what its training cost.

    ``train_images_per_s`` divides every image of every reported epoch by the whole fit's wall
    time (warm-up, first-epoch allocations and compilation included). ``steady_images_per_s``
    leaves the first epoch out: it is what a longer run approaches, and what compares across
    epoch counts. ``cpu_images_per_s`` divides by the process's CPU time, which a busy machine
    inflates far less than wall time.
    """

    detector: Detector
    n_train: int
    fit_seconds: float
    train_images_per_s: float
    steady_images_per_s: float | None
    cpu_images_per_s: float
    input_shape: tuple[int, int, int]  # what the detector was fed; scoring feeds the same


def sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def train(
    detector_cls: type[Detector],
    experiment: Experiment,
    task: Task,
    seed: int,
    device: torch.device,
    on_epoch: EpochCallback | None = None,
) -> Trained:
    """Seed, then build and train the detector. The seed comes first so the model's initial
    weights are the harness's, not whatever the RNG held."""
    settings = experiment.settings
    seed_everything(seed, settings.deterministic)
    ctx = RunContext(
        device=device,
        seed=seed,
        hparams=experiment.hparams,
        deterministic=settings.deterministic,
        precision=settings.precision,
        compile=settings.compile,
    )
    report = on_epoch or ctx.on_epoch
    # Every epoch the detector reports counts, including phases beyond its ``epochs``
    # (deep_svdd's pretraining), so images/s divides by the training actually timed. The
    # detector syncs the device to read each epoch's loss, so these stamps are device time.
    epoch_ends: list[float] = []

    def stamp_epoch(epoch: int, total: int, loss: float) -> None:
        epoch_ends.append(time.perf_counter())
        report(epoch, total, loss)

    ctx.on_epoch = stamp_epoch
    detector = detector_cls(ctx)
    targets = task.train_targets if detector.uses_labelled_anomalies else None
    shape = experiment.input_shape or detector.input_spec.resolve(
        tuple(task.train_images.shape[1:]), settings.input_size, settings.input_channels
    )
    images = ImageBatches(
        task.train_images, detector.input_spec, device, targets=targets, seed=seed, shape=shape
    )
    start, cpu_start = time.perf_counter(), time.process_time()
    detector.fit(images)
    sync(device)
    seconds = time.perf_counter() - start
    cpu_seconds = time.process_time() - cpu_start
    passes = max(len(epoch_ends), 1)  # a classical detector reports no epochs: one pass
    steady = None
    if len(epoch_ends) >= 2 and epoch_ends[-1] > epoch_ends[0]:
        steady = len(images) * (len(epoch_ends) - 1) / (epoch_ends[-1] - epoch_ends[0])
    return Trained(
        detector=detector,
        n_train=len(images),
        fit_seconds=seconds,
        train_images_per_s=len(images) * passes / max(seconds, 1e-9),
        steady_images_per_s=steady,
        cpu_images_per_s=len(images) * passes / max(cpu_seconds, 1e-9),
        input_shape=tuple(images.shape),
    )
