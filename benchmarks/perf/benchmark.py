"""One ``bench perf`` run: every detector through the course's loop and the harness's, in one
process on one device, on the same images, batch size, epochs and seed."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import torch

from bench.detector import Detector
from bench.plugins import registry
from bench.torch_detector import TorchDetector
from benchmarks.perf import data, floor, harness_loop, reference_loop
from benchmarks.perf.measure import Measurement

log = logging.getLogger("bench.perf")
LOOPS = ("reference", "harness_fp32", "harness_fast")


@dataclass
class PerfSettings:
    device: torch.device
    images: int
    data: str = "synthetic"  # or "mnist"
    data_dir: Path | None = None
    batch_size: int | None = 2000  # None: each detector's own default
    epochs: int = 1
    warmup: int = 1
    num_workers: int = 0
    seed: int = 0
    compile: bool = False
    repeats: int = 1
    # Hyperparameters for both loops: "*" for every detector, else per detector name.
    hparams: dict[str, dict[str, Any]] = field(default_factory=dict)

    def hparams_for(self, detector: str) -> dict[str, Any]:
        return {**self.hparams.get("*", {}), **self.hparams.get(detector, {})}


def neural_detectors() -> list[str]:
    """Registered detectors that train through the harness's shared loop."""
    reg = registry()
    return [n for n in reg.names("detectors") if issubclass(reg.get("detectors", n), TorchDetector)]


def load_images(settings: PerfSettings) -> torch.Tensor:
    if settings.data == "synthetic":
        return data.synthetic(settings.images, settings.seed)
    if settings.data == "mnist":
        if settings.data_dir is None:
            raise ValueError("--data mnist needs a data directory")
        return data.mnist(settings.images, settings.data_dir)
    raise ValueError(f"unknown perf data {settings.data!r}; use synthetic or mnist")


def _best_of(
    repeats: int, run: Callable[[], tuple[Measurement, Detector]]
) -> tuple[Measurement, Detector]:
    """The fastest of ``repeats`` fresh runs: other load on the machine only ever slows a run.
    Only the best run's detector is kept alive, so the next run's peak memory is its own."""
    best = run()
    for _ in range(repeats - 1):
        best = max(best, run(), key=lambda r: r[0].images_per_s)
    return best


def _size(detector: Detector, images: torch.Tensor) -> dict[str, Any]:
    """Parameters and training FLOPs per image of a fitted detector (None where counting
    fails: an unusual op must cost the floor estimate, not the row)."""
    try:
        flops = floor.flops_per_image(detector, images)
    except Exception:
        log.debug("%s: FLOP count failed", detector.name, exc_info=True)
        flops = None
    return {"parameters": detector.parameter_count(), "flops_per_image": flops}


LoopCallback = Callable[[str, str], None]


def measure_detector(
    cls: type,
    images: torch.Tensor,
    settings: PerfSettings,
    rates: dict[str, float],
    on_loop: LoopCallback | None = None,
) -> dict[str, Any]:
    """One report row: each loop's measurement (or its error), ratios, FLOPs and floors.
    ``on_loop(detector, loop)`` is called as each loop starts."""
    batch = min(settings.batch_size or int(cls.defaults["batch_size"]), len(images))
    shape = cls.input_spec.shape(images.shape[1], tuple(images.shape[-2:]))
    common = {
        "seed": settings.seed,
        "batch_size": batch,
        "epochs": settings.epochs,
        "warmup": settings.warmup,
        "hparams": settings.hparams_for(cls.name),
    }
    runs = {
        "reference": lambda: reference_loop.train(
            cls, images, settings.device, num_workers=settings.num_workers, **common
        ),
        "harness_fp32": lambda: harness_loop.train(cls, images, settings.device, **common),
        "harness_fast": lambda: harness_loop.train(
            cls, images, settings.device, fast=True, compile=settings.compile, **common
        ),
    }
    row: dict[str, Any] = {"detector": cls.name, "input_shape": list(shape), "batch_size": batch}
    row["parameters"] = row["flops_per_image"] = None
    for loop, run in runs.items():
        log.info("%s: %s loop", cls.name, loop)
        if on_loop is not None:
            on_loop(cls.name, loop)
        try:
            measurement, detector = _best_of(settings.repeats, run)
        except Exception as exc:  # one broken detector or loop must not stop the others
            log.debug("%s/%s failed", cls.name, loop, exc_info=True)
            row[loop] = {"error": f"{type(exc).__name__}: {exc}"}
            continue
        row[loop] = asdict(measurement)
        if loop == "harness_fp32":  # its loss may need what fit prepared: count on this one
            row.update(_size(detector, images))
        del detector
    for variant in ("fp32", "fast"):
        for suffix, key in (("", "images_per_s"), ("_cpu", "images_per_cpu_s")):
            reference, harness = row["reference"].get(key), row[f"harness_{variant}"].get(key)
            ratio = harness / reference if harness and reference else None
            row[f"ratio_{variant}{suffix}"] = ratio
    flops = row["flops_per_image"]
    row["floor_images_per_s"] = {k: rate / flops if flops else None for k, rate in rates.items()}
    return row


def run(
    settings: PerfSettings,
    detectors: list[str],
    on_row: Callable[[dict], None] | None = None,
    on_loop: LoopCallback | None = None,
) -> dict[str, Any]:
    """Measure ``detectors``; returns the report (settings, matmul rates, one row each)."""
    images = load_images(settings)
    settings.images = len(images)
    dtype = floor.fast_dtype(settings.device)
    fp32 = floor.matmul_flops_per_s(settings.device, torch.float32)
    fast = fp32 if dtype == torch.float32 else floor.matmul_flops_per_s(settings.device, dtype)
    rates = {"fp32": fp32, "fast": fast}
    reg = registry()
    rows = []
    for name in detectors:
        cls = reg.get("detectors", name)
        rows.append(measure_detector(cls, images, settings, rates, on_loop))
        if on_row is not None:
            on_row(rows[-1])
    return {
        "settings": {**asdict(settings), "device": str(settings.device)},
        "matmul_flops_per_s": rates,
        "fast_dtype": str(dtype).removeprefix("torch."),
        "resident_image_bytes": images.numel(),  # uint8: one byte per value
        "detectors": rows,
    }
