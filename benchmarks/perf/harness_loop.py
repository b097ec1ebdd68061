"""The harness's own training path, timed from outside: ``TorchDetector.fit`` as ``bench run``
calls it, seeded as :func:`bench.jobs.fit_and_score` seeds. Timing hooks in through
``RunContext.on_epoch`` only, so nothing here can drift from the code it measures.
"""

from __future__ import annotations

from typing import Any

import torch

from bench.detector import Detector, RunContext
from bench.seeding import seed_everything
from benchmarks.perf.measure import Measurement, timed_fit


def training_hparams(
    detector_cls: type, epochs: int, batch_size: int | None, extra: dict[str, Any] | None = None
) -> dict[str, Any]:
    """``extra`` plus epochs and batch size, keeping only keys the detector actually has."""
    wanted = {**(extra or {}), "epochs": epochs, "batch_size": batch_size}
    return {k: v for k, v in wanted.items() if v is not None and k in detector_cls.defaults}


def train(
    detector_cls: type,
    images: torch.Tensor,
    device: torch.device,
    *,
    seed: int,
    batch_size: int | None,
    epochs: int,
    warmup: int = 1,
    hparams: dict[str, Any] | None = None,
    fast: bool = False,
    compile: bool = False,
) -> tuple[Measurement, Detector]:
    """Fit a fresh detector on uint8 N x C x H x W ``images``; time the last ``epochs``.

    ``fast`` is ``bench run --fast``: non-deterministic, bf16 autocast (CUDA only, as the
    harness decides), channels_last and fused Adam on CUDA. Returns the measurement and the
    fitted detector.
    """
    seed_everything(seed, deterministic=not fast)
    ctx = RunContext(
        device=device,
        seed=seed,
        hparams=training_hparams(detector_cls, warmup + epochs, batch_size, hparams),
        deterministic=not fast,
        precision="bf16" if fast else "fp32",
        compile=compile,
    )
    return timed_fit(detector_cls, ctx, images, epochs)
