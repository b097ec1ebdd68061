"""Clocks and memory readings that an asynchronous GPU cannot fool, and the timed ``fit``.

CUDA kernels run after the Python call that queued them returns, so a clock read without a
synchronisation measures how fast work is queued, not done. Every reading here synchronises
first. Peak memory is reset per measurement, so one loop's peak never leaks into the next, and
counted above what was allocated when training started: both loops start with the uint8
images on the device (``ImageBatches`` holds them there, though only the harness reads them),
so the peak is each loop's own working memory -- model, optimiser state, batches, activations.
"""

from __future__ import annotations

import gc
import time
from dataclasses import dataclass, field

import torch

from bench.detector import Detector, RunContext
from bench.images import ImageBatches


@dataclass
class Measurement:
    """Throughput of the timed (last) epochs of one training run.

    ``cpu_seconds`` is this process's CPU time over the same epochs: on a shared machine other
    processes steal wall-clock time but not CPU time, so images per CPU-second compares loops
    fairly there (it misses DataLoader worker processes, hence ``num_workers=0`` for that use).
    """

    images_per_s: float
    seconds: float
    timed_images: int
    images_per_cpu_s: float
    cpu_seconds: float
    peak_memory_bytes: int | None  # above the start; None on CPU (no allocator statistics)
    epoch_losses: list[float] = field(default_factory=list)


def synchronize(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def release_memory(device: torch.device) -> None:
    """Free what the previous measurement left and restart the peak counter."""
    gc.collect()
    if device.type == "cuda":
        torch.cuda.empty_cache()
        torch.cuda.reset_peak_memory_stats(device)


def allocated_memory(device: torch.device) -> int | None:
    if device.type == "cuda":
        return int(torch.cuda.memory_allocated(device))
    return None


def peak_memory(device: torch.device) -> int | None:
    if device.type == "cuda":
        return int(torch.cuda.max_memory_allocated(device))
    return None


class EpochClock:
    """Wall-clock and CPU times at the start and at every epoch end (``RunContext.on_epoch``),
    each taken after the device is idle."""

    def __init__(self, device: torch.device) -> None:
        self.device = device
        self.start_memory: int | None = None
        self.times: list[float] = []
        self.cpu_times: list[float] = []
        self.losses: list[float] = []

    def tick(self) -> None:
        synchronize(self.device)
        if not self.times:
            self.start_memory = allocated_memory(self.device)
        self.times.append(time.perf_counter())
        self.cpu_times.append(time.process_time())

    def on_epoch(self, epoch: int, total: int, loss: float) -> None:
        self.losses.append(loss)
        self.tick()

    def measurement(self, images_per_epoch: int, timed_epochs: int) -> Measurement:
        """Throughput over the last ``timed_epochs`` epochs. Everything before them -- warm-up
        epochs, and any phase a detector's ``fit`` runs first (deep_svdd's pretraining and
        centre) -- is untimed."""
        if len(self.times) <= timed_epochs:
            raise RuntimeError(f"{len(self.times) - 1} epoch(s) reported, {timed_epochs} timed")
        seconds = self.times[-1] - self.times[-1 - timed_epochs]
        cpu_seconds = self.cpu_times[-1] - self.cpu_times[-1 - timed_epochs]
        images = images_per_epoch * timed_epochs
        peak = peak_memory(self.device)
        return Measurement(
            images_per_s=images / max(seconds, 1e-9),
            seconds=seconds,
            timed_images=images,
            images_per_cpu_s=images / max(cpu_seconds, 1e-9),
            cpu_seconds=cpu_seconds,
            peak_memory_bytes=None if peak is None else peak - (self.start_memory or 0),
            epoch_losses=self.losses,
        )


def timed_fit(
    detector_cls: type, ctx: RunContext, images: torch.Tensor, timed_epochs: int
) -> tuple[Measurement, Detector]:
    """Build the detector and its ``ImageBatches`` as :func:`bench.jobs.fit_and_score` does,
    fit it, and time the last ``timed_epochs`` epochs through ``ctx.on_epoch``. The caller
    seeds first. Returns the measurement and the fitted detector."""
    clock = EpochClock(ctx.device)
    ctx.on_epoch = clock.on_epoch
    detector = detector_cls(ctx)
    batches = ImageBatches(images, detector.input_spec, ctx.device, seed=ctx.seed)
    release_memory(ctx.device)
    clock.tick()
    detector.fit(batches)
    return clock.measurement(len(batches), timed_epochs), detector
