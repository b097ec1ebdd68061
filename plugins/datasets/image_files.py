"""Decode folders of image files (PNG, JPEG, BMP) into one uint8 array; shared by the datasets
that read image folders. Not a plugin: it registers nothing."""

from __future__ import annotations

import io
import os
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
from PIL import Image

from bench.dataset import DataError

SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp")
CHUNK = 512  # images per thread-pool task: enough to amortise the scheduling
# Pillow's modes for 16-bit grey PNGs ("I" is 32-bit integers, which older Pillows used).
WIDE_GREY = ("I;16", "I;16B", "I;16L", "I;16N", "I")


# An image file, or an archive member as (where it is, its bytes): decoded alike.
Source = Path | tuple[str, bytes]


class SizeMismatchError(DataError):
    """Images of different sizes where one size is required; callers may suggest a resize."""


def list_images(folder: Path) -> list[Path]:
    """The image files directly in ``folder``, sorted by name so every user gets one order."""
    return sorted(p for p in folder.iterdir() if p.suffix.lower() in SUFFIXES and p.is_file())


def _to_8_bit(image: Image.Image, where: str) -> Image.Image:
    """16-bit grey scaled onto 0..255 (65535 / 257 = 255). Pillow's own convert clips at 255
    instead: one user's 16-bit PNGs came out 99.97% white, and AUROC fell to 0.20."""
    pixels = np.asarray(image)
    if pixels.min() < 0 or pixels.max() > 65535:
        raise DataError(
            f"{where}: {image.mode} pixels outside 0..65535; save it with 8 or 16 bits per channel"
        )
    return Image.fromarray(np.round(pixels / 257).astype(np.uint8), "L")


def _open(source: Source) -> Image.Image:
    return Image.open(source if isinstance(source, Path) else io.BytesIO(source[1]))


def _where(source: Source) -> str:
    return str(source) if isinstance(source, Path) else source[0]


def _decode(path: Source, mode: str, size: tuple[int, int] | None) -> np.ndarray:
    try:
        with _open(path) as image:
            if image.mode in WIDE_GREY:
                image = _to_8_bit(image, _where(path))
            if image.mode != mode:
                image = image.convert(mode)
            if size is not None and image.size != size:
                image = image.resize(size, Image.Resampling.BILINEAR)
            return np.asarray(image)
    except (OSError, SyntaxError, ValueError) as exc:  # Pillow's ways of saying "corrupt"
        raise DataError(f"{_where(path)}: not a readable image ({exc})") from None


def image_size(path: Source) -> tuple[int, int]:
    """(width, height) from the header alone."""
    try:
        with _open(path) as image:
            return image.size
    except (OSError, SyntaxError, ValueError) as exc:
        raise DataError(f"{_where(path)}: not a readable image ({exc})") from None


def decode_images(
    paths: Sequence[Source], mode: str = "RGB", size: tuple[int, int] | None = None
) -> np.ndarray:
    """N x H x W x C uint8 images in ``mode`` ("RGB" or "L").

    ``size`` (width, height) resizes every image; without it every image must have the first
    one's size. Pillow releases the GIL while decoding, so a thread pool gains some speed
    without the cost of shipping arrays between processes.
    """
    if not paths:
        raise DataError("no images to read")
    width, height = size or image_size(paths[0])
    out = np.empty((len(paths), height, width, len(mode)), np.uint8)

    def fill(start: int) -> None:
        for i in range(start, min(start + CHUNK, len(paths))):
            pixels = _decode(paths[i], mode, size)
            if pixels.shape[:2] != (height, width):
                raise SizeMismatchError(
                    f"{_where(paths[i])}: {pixels.shape[1]}x{pixels.shape[0]} pixels, but "
                    f"{_where(paths[0])} "
                    f"has {width}x{height}; all images must share one size"
                )
            out[i] = pixels.reshape(out.shape[1:])

    with ThreadPoolExecutor(min(8, os.cpu_count() or 1)) as pool:
        list(pool.map(fill, range(0, len(paths), CHUNK)))  # list(): re-raise the first error
    return out
