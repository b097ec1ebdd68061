"""Ruff et al. 2018's preprocessing: global contrast normalisation (l1), then min-max scaling.

Each image is centred on its own mean pixel and divided by its mean absolute deviation (the
"l1" scale of the authors' ``global_contrast_normalization``), so images differ only in their
pattern, not in brightness or contrast. A single affine map then sends the smallest and largest
normalised pixel value of the normal class's training images to 0 and 1. The authors hard-code
those bounds per class; here they are computed by :meth:`GCNMinMax.fit` from the training images
the detector is given, so a test image can fall outside [0, 1] exactly as it could there.
"""

from __future__ import annotations

import torch

from bench.images import ImageBatches

# A constant image has no contrast; its centred pixels are all 0, so any positive scale leaves
# them 0 instead of 0/0 = NaN. Far below the smallest real scale (about 0.1 on 8-bit images).
MIN_SCALE = 1e-12


def global_contrast_normalize(x: torch.Tensor) -> torch.Tensor:
    """Per image: subtract the mean over all pixels and channels, divide by the mean |x - mean|."""
    dims = tuple(range(1, x.ndim))
    centred = x - x.mean(dim=dims, keepdim=True)
    return centred / centred.abs().mean(dim=dims, keepdim=True).clamp_min(MIN_SCALE)


class GCNMinMax:
    """GCN followed by min-max scaling with bounds learned from training images only."""

    def __init__(self, low: float, high: float) -> None:
        if not high > low:
            raise ValueError(f"min-max bounds need high > low, got [{low}, {high}]")
        self.low, self.high = low, high

    @classmethod
    def fit(cls, train: ImageBatches, batch_size: int) -> GCNMinMax:
        """Bounds over every pixel of every (GCN-normalised) training image, in one pass."""
        low, high = torch.tensor(float("inf")), torch.tensor(float("-inf"))
        for x in train.batches(batch_size):
            z = global_contrast_normalize(x)
            low, high = torch.minimum(low, z.min().cpu()), torch.maximum(high, z.max().cpu())
        return cls(low.item(), high.item())

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        return (global_contrast_normalize(x) - self.low) / (self.high - self.low)
