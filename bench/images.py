"""Images as data: uint8 N x C x H x W tensors kept as they are, converted batch by batch.

Datasets hand over uint8 tensors; each detector declares the input it wants in an
:class:`InputSpec`. Conversion (value range, channels, size) happens batched on the run's
device, per batch, so a task's images are stored once, compactly, and no per-sample Python
runs in a training loop.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass

import torch
import torch.nn.functional as F

# Largest intermediate a CPU conversion makes: cache-sized, and well under glibc's 32 MiB
# threshold for fresh memory maps (measurements in benchmarks/NOTES.md).
CPU_CHUNK_BYTES = 4 * 2**20


@dataclass(frozen=True)
class InputSpec:
    """What a detector wants to see. ``None`` keeps the dataset's own channels or size."""

    channels: int | None = None
    size: int | None = None
    value_range: tuple[float, float] = (0.0, 1.0)

    def convert(self, images: torch.Tensor) -> torch.Tensor:
        """uint8 N x C x H x W (any device) -> float32 per this spec, on the same device."""
        if images.dtype != torch.uint8 or images.ndim != 4:
            raise ValueError(
                f"expected uint8 images of shape N x C x H x W, got {images.dtype} "
                f"{tuple(images.shape)}"
            )
        channels = images.shape[1]
        if self.channels not in (None, channels, 1) and channels != 1:
            raise ValueError(f"cannot turn {channels} channels into {self.channels}")
        shape = self.shape(channels, tuple(images.shape[-2:]))
        rows = max(1, CPU_CHUNK_BYTES // (4 * max(math.prod(images.shape[1:]), math.prod(shape))))
        if images.device.type != "cpu" or len(images) <= rows:
            return self._convert(images)
        # On CPU, intermediates the size of a whole batch cost a page fault per 4 KiB each
        # time (glibc maps anything over 32 MiB afresh) and stream through memory several
        # times; chunks stay in cache and reuse the heap. Only the result is batch-sized.
        out = torch.empty((len(images), *shape), dtype=torch.float32)
        for start in range(0, len(images), rows):
            out[start : start + rows] = self._convert(images[start : start + rows])
        return out

    def _convert(self, images: torch.Tensor) -> torch.Tensor:
        # One float copy, rescaled in place (``x * a + b`` allocated two more). The affine map
        # commutes with the channel mean, replication and bilinear resizing that follow, so it
        # runs first, on the fewest pixels.
        lo, hi = self.value_range
        x = images.float().mul_((hi - lo) / 255.0).add_(lo)
        if self.channels == 1 and x.shape[1] != 1:
            x = x.mean(dim=1, keepdim=True)
        if self.size is not None and tuple(x.shape[-2:]) != (self.size, self.size):
            x = F.interpolate(x, size=(self.size, self.size), mode="bilinear", align_corners=False)
        if self.channels is not None and x.shape[1] != self.channels:
            # Replicated after resizing: interpolating one channel, not three, gives the same.
            x = x.expand(-1, self.channels, -1, -1)
        return x.contiguous()

    def shape(self, channels: int, size: tuple[int, int]) -> tuple[int, int, int]:
        """The C x H x W a detector will receive for images of the given raw shape."""
        c = self.channels or channels
        h, w = (self.size, self.size) if self.size else size
        return (c, h, w)


class ImageBatches:
    """A set of images (and optional 0/1 targets) served as converted batches.

    Labels are only present when the task hands labelled anomalies to a detector that asked for
    them; asking for labels otherwise raises, so a detector cannot peek by accident.
    """

    def __init__(
        self,
        images: torch.Tensor,
        spec: InputSpec,
        device: torch.device | str = "cpu",
        targets: torch.Tensor | None = None,
        seed: int = 0,
    ) -> None:
        self.device = torch.device(device)
        self.images = images.to(self.device)
        self.spec = spec
        self._targets = None if targets is None else targets.to(self.device)
        self._generator = torch.Generator(device=self.device)
        self._generator.manual_seed(seed)

    def __len__(self) -> int:
        return self.images.shape[0]

    @property
    def shape(self) -> tuple[int, int, int]:
        """C x H x W of the converted images."""
        return self.spec.shape(self.images.shape[1], tuple(self.images.shape[-2:]))

    @property
    def has_targets(self) -> bool:
        return self._targets is not None

    @property
    def targets(self) -> torch.Tensor:
        if self._targets is None:
            raise PermissionError(
                "these images carry no labels: detectors see labels only for labelled anomalies "
                "in the semi-supervised setting, and only when they set uses_labelled_anomalies"
            )
        return self._targets

    def _order(self, shuffle: bool) -> torch.Tensor:
        if shuffle:
            return torch.randperm(len(self), device=self.device, generator=self._generator)
        return torch.arange(len(self), device=self.device)

    def batches(self, batch_size: int, shuffle: bool = False) -> Iterator[torch.Tensor]:
        """Converted batches; with ``shuffle`` in a seeded on-device order."""
        for idx in self._order(shuffle).split(batch_size):
            yield self.spec.convert(self.images.index_select(0, idx))

    def labelled_batches(
        self, batch_size: int, shuffle: bool = False
    ) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        """Converted batches with their 0 (normal) / 1 (labelled anomaly) targets."""
        targets = self.targets
        for idx in self._order(shuffle).split(batch_size):
            yield self.spec.convert(self.images.index_select(0, idx)), targets[idx]

    def all(self) -> torch.Tensor:
        """Every image converted at once (for classical detectors that need the whole matrix)."""
        return self.spec.convert(self.images)
