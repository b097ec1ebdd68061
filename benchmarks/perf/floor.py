"""A compute floor for training time: FLOPs per image over the device's measured matmul rate.

``FlopCounterMode`` counts the matmuls and convolutions of a forward and backward pass; the
device's rate is timed on a large square matmul in the dtype a loop computes in. Their ratio
is the images/s a loop would reach if every FLOP ran at matmul speed and nothing else cost
time -- an upper bound on throughput that the small convolutions of these models cannot reach,
but the right yardstick for how much of a gap is data handling rather than arithmetic.
"""

from __future__ import annotations

import torch
from torch.utils import benchmark
from torch.utils.flop_counter import FlopCounterMode

from bench.torch_detector import TorchDetector

_FLOP_BATCH = 4
_MATMUL_SIDE = {"cuda": 8192, "cpu": 1024}


def flops_per_image(detector: TorchDetector, images: torch.Tensor) -> float:
    """Forward + backward FLOPs of one training step, per image, for a fitted detector (its
    loss may need what ``fit`` prepared) on a few of the uint8 training ``images``."""
    x = detector.input_spec.convert(images[:_FLOP_BATCH].to(detector.ctx.device))
    with FlopCounterMode(display=False) as counter:
        detector.training_loss(detector.model, x, None).backward()
    detector.model.zero_grad(set_to_none=True)
    return counter.get_total_flops() / len(x)


def matmul_flops_per_s(device: torch.device, dtype: torch.dtype) -> float:
    """Measured rate of a large ``n x n`` matmul (the timer synchronises CUDA itself)."""
    n = _MATMUL_SIDE.get(device.type, _MATMUL_SIDE["cpu"])
    a = torch.randn(n, n, device=device, dtype=dtype)
    b = torch.randn(n, n, device=device, dtype=dtype)
    timer = benchmark.Timer("a @ b", globals={"a": a, "b": b}, num_threads=torch.get_num_threads())
    return 2 * n**3 / timer.blocked_autorange(min_run_time=0.5).median


def fast_dtype(device: torch.device) -> torch.dtype:
    """The dtype the harness's fast path computes in: bf16 autocast is CUDA-only."""
    return torch.bfloat16 if device.type == "cuda" else torch.float32
