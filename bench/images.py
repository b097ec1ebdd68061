"""Images as data: uint8 N x C x H x W tensors kept as they are, converted batch by batch.

Datasets hand over uint8 tensors; each detector declares what its architecture needs in an
:class:`InputSpec`, which resolves the shape it gets: the dataset's own unless the user forces
one. Conversion (value range, channels, size) happens batched on the run's device, per batch,
so a task's images are stored once, compactly, and no per-sample Python runs in a training
loop.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass

import torch
import torch.nn.functional as F

from bench.errors import BenchError

# Largest intermediate a CPU conversion makes: cache-sized, and well under glibc's 32 MiB
# threshold for fresh memory maps (measurements in benchmarks/NOTES.md).
CPU_CHUNK_BYTES = 4 * 2**20


class InputShapeError(BenchError, ValueError):
    """A forced input shape the detector cannot take, or channels that cannot be converted."""


@dataclass(frozen=True)
class InputSpec:
    """What a detector needs to see: constraints, not a shape, so it can run at native size.

    ``channels`` and ``size`` fix the channel count or the (square) size when a detector truly
    needs one; ``None`` keeps the dataset's own. ``min_size`` and ``size_multiple`` say how far
    the images must be enlarged for the architecture (e.g. four stride-2 stages need sizes
    divisible by 16), never shrunk.
    """

    channels: int | None = None
    size: int | None = None
    value_range: tuple[float, float] = (0.0, 1.0)
    min_size: int | None = None
    size_multiple: int | None = None

    def __post_init__(self) -> None:
        if self.size is not None and (self.min_size or self.size_multiple):
            raise ValueError("a fixed size leaves no room for min_size or size_multiple")

    def resolve(
        self, raw: tuple[int, int, int], size: int | None = None, channels: int | None = None
    ) -> tuple[int, int, int]:
        """The C x H x W the detector gets for raw C x H x W images; ``size`` and ``channels``
        force a shape (the course's 3 x 64 x 64 on any dataset), else the policy applies."""
        raw_c, raw_h, raw_w = raw
        if channels is not None and self.channels not in (None, channels):
            raise InputShapeError(f"this detector takes {self.channels} channels, not {channels}")
        c = channels or self.channels or raw_c
        if c not in (raw_c, 1) and raw_c != 1:
            raise InputShapeError(f"cannot turn {raw_c} channels into {c}")
        if size is None:
            return (c, *self._enlarged((raw_h, raw_w))[1])
        if self.size not in (None, size):
            raise InputShapeError(f"this detector takes {self.size} x {self.size} images only")
        if size < (self.min_size or 1):
            raise InputShapeError(f"input size {size} is below this detector's {self.min_size}")
        if size % (self.size_multiple or 1):
            raise InputShapeError(f"input size {size} is not a multiple of {self.size_multiple}")
        return (c, size, size)

    def _enlarged(self, hw: tuple[int, int]) -> tuple[tuple[int, int], tuple[int, int]]:
        """The policy for raw H x W: the size to resize to, then the size to pad that to.

        Below ``min_size`` the image is resized (bilinear, aspect kept): a minimum says the
        architecture needs that much resolution, and a border adds none. A ``size_multiple`` is
        met by centred zero padding instead, as the literature pads MNIST 28 -> 32 (Golan &
        El-Yaniv 2018): it adds fewer than ``size_multiple`` pixels and leaves every original
        pixel as it was.
        """
        if self.size is not None:
            return (self.size, self.size), (self.size, self.size)
        scale = max(1.0, (self.min_size or 0) / min(hw))
        resized = (round(hw[0] * scale), round(hw[1] * scale))
        multiple = self.size_multiple or 1
        padded = tuple(multiple * math.ceil(side / multiple) for side in resized)
        return resized, (padded[0], padded[1])

    def convert(
        self, images: torch.Tensor, shape: tuple[int, int, int] | None = None
    ) -> torch.Tensor:
        """uint8 N x C x H x W (any device) -> float32 N x ``shape`` (default: the policy's),
        in this spec's value range, on the same device."""
        if images.dtype != torch.uint8 or images.ndim != 4:
            raise ValueError(
                f"expected uint8 images of shape N x C x H x W, got {images.dtype} "
                f"{tuple(images.shape)}"
            )
        raw = tuple(images.shape[1:])
        shape = tuple(shape) if shape else self.resolve(raw)  # a list from JSON compares unequal
        if shape[0] not in (raw[0], 1) and raw[0] != 1:
            raise InputShapeError(f"cannot turn {raw[0]} channels into {shape[0]}")
        plan = self.plan(raw[1:], shape[1:])
        rows = max(1, CPU_CHUNK_BYTES // (4 * max(math.prod(raw), math.prod(shape))))
        if images.device.type != "cpu" or len(images) <= rows:
            return self._convert(images, shape[0], *plan)
        # On CPU, intermediates the size of a whole batch cost a page fault per 4 KiB each
        # time (glibc maps anything over 32 MiB afresh) and stream through memory several
        # times; chunks stay in cache and reuse the heap. Only the result is batch-sized.
        out = torch.empty((len(images), *shape), dtype=torch.float32)
        for start in range(0, len(images), rows):
            out[start : start + rows] = self._convert(images[start : start + rows], shape[0], *plan)
        return out

    def plan(
        self, raw: tuple[int, int], target: tuple[int, int]
    ) -> tuple[tuple[int, int], tuple[int, int, int, int]]:
        """How raw H x W becomes ``target``: the size to resize to, then the padding (left,
        right, top, bottom). The policy's enlargement when ``target`` is the policy's size, else
        a plain resize (a forced shape, as before shapes were negotiated). The shape alone thus
        decides the pixels, so the effective shape recorded with a result identifies its
        inputs; ``bench perf``'s per-image reference loop follows the same plan."""
        resized, padded = self._enlarged(raw)
        if target != padded:
            return target, (0, 0, 0, 0)
        dh, dw = padded[0] - resized[0], padded[1] - resized[1]
        return resized, (dw // 2, dw - dw // 2, dh // 2, dh - dh // 2)

    def _convert(
        self,
        images: torch.Tensor,
        channels: int,
        resized: tuple[int, int],
        padding: tuple[int, int, int, int],
    ) -> torch.Tensor:
        # One float copy, rescaled in place (``x * a + b`` allocated two more). The affine map
        # commutes with the channel mean, replication and bilinear resizing that follow, so it
        # runs first, on the fewest pixels.
        lo, hi = self.value_range
        x = images.float().mul_((hi - lo) / 255.0).add_(lo)
        if channels == 1 and x.shape[1] != 1:
            x = x.mean(dim=1, keepdim=True)
        if tuple(x.shape[-2:]) != resized:
            x = F.interpolate(x, size=resized, mode="bilinear", align_corners=False)
        if any(padding):
            x = F.pad(x, padding, value=lo)  # black, i.e. uint8 0: "zero" padding
        if x.shape[1] != channels:
            # Replicated after resizing: interpolating one channel, not three, gives the same.
            x = x.expand(-1, channels, -1, -1)
        return x.contiguous()

    def shape(self, channels: int, size: tuple[int, int]) -> tuple[int, int, int]:
        """The policy's C x H x W for raw images of ``channels`` x ``size``."""
        return self.resolve((channels, *size))


class ImageBatches:
    """A set of images (and optional 0/1 targets) served as converted batches of one shape.

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
        shape: tuple[int, int, int] | None = None,
    ) -> None:
        self.device = torch.device(device)
        self.images = images.to(self.device)
        self.spec = spec
        self._shape = tuple(shape) if shape else spec.resolve(tuple(images.shape[1:]))
        self._targets = None if targets is None else targets.to(self.device)
        self._generator = torch.Generator(device=self.device)
        self._generator.manual_seed(seed)

    def __len__(self) -> int:
        return self.images.shape[0]

    @property
    def shape(self) -> tuple[int, int, int]:
        """C x H x W of the converted images: ``shape`` if given, else the spec's policy."""
        return self._shape

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
            yield self.spec.convert(self.images.index_select(0, idx), self._shape)

    def labelled_batches(
        self, batch_size: int, shuffle: bool = False
    ) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        """Converted batches with their 0 (normal) / 1 (labelled anomaly) targets."""
        targets = self.targets
        for idx in self._order(shuffle).split(batch_size):
            yield self.spec.convert(self.images.index_select(0, idx), self._shape), targets[idx]

    def all(self) -> torch.Tensor:
        """Every image converted at once (for classical detectors that need the whole matrix)."""
        return self.spec.convert(self.images, self._shape)
