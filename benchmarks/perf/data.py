"""The images both loops train on: one uint8 tensor, handed to each loop in its own layout.

The harness gets N x C x H x W uint8 (what datasets produce); the course's loop gets the same
pixels as the N x H x W x C numpy array its notebook loaded from ``trainingset.npy``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from bench.loading import load_splits

HW8_SHAPE = (3, 64, 64)  # the course's face images
_BLOB = 8  # side of the random grid that is upsampled into smooth, learnable images
_CHUNK = 8192


def synthetic(count: int, seed: int) -> torch.Tensor:
    """Seeded HW8-sized images: smooth colour fields an autoencoder can actually learn.

    Uniform noise would do for timing, but the perf tests also check that training reduces the
    loss, which needs structure to learn.
    """
    generator = torch.Generator().manual_seed(seed)
    chunks = []
    for start in range(0, count, _CHUNK):
        n = min(_CHUNK, count - start)
        grid = torch.randint(0, 256, (n, HW8_SHAPE[0], _BLOB, _BLOB), generator=generator)
        smooth = F.interpolate(grid.float(), size=HW8_SHAPE[1:], mode="bilinear")
        chunks.append(smooth.round().clamp(0, 255).to(torch.uint8))
    return torch.cat(chunks)


def mnist(count: int, data_dir: Path) -> torch.Tensor:
    """The first ``count`` MNIST training images (1 x 28 x 28; detectors upsample them)."""
    splits = load_splits("mnist", str(data_dir), {})
    return splits.train_images[:count]


def nhwc(images: torch.Tensor) -> np.ndarray:
    """The course's layout: a contiguous N x H x W x C uint8 array."""
    return np.ascontiguousarray(images.permute(0, 2, 3, 1).cpu().numpy())
