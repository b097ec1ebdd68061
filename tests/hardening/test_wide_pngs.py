"""16-bit PNGs in a folder dataset are scaled onto 0..255, not clipped at 255."""

from __future__ import annotations

import struct
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from plugins.datasets.folder import Folder

SIDE = 16
# Every 16-bit level band, from black to white: clipping would turn all but the first white.
WIDE = (np.arange(SIDE * SIDE, dtype=np.uint32).reshape(SIDE, SIDE) * 65535 // 255).astype(">u2")


def png_rgb48(path: Path, pixels: np.ndarray) -> None:
    """A 16-bit-per-channel RGB PNG (Pillow cannot write one): signature, IHDR, IDAT, IEND."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    height, width, _ = pixels.shape
    rows = b"".join(b"\0" + pixels[y].astype(">u2").tobytes() for y in range(height))
    header = struct.pack(">IIBBBBB", width, height, 16, 2, 0, 0, 0)  # depth 16, colour type 2
    path.write_bytes(
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )  # fmt: skip


def layout(root: Path, write) -> Path:
    for folder, count in (("train", 2), ("test/normal", 1), ("test/abnormal", 1)):
        (root / folder).mkdir(parents=True)
        for i in range(count):
            write(root / folder / f"{i}.png")
    return root


@pytest.mark.parametrize("mode", ["L", "RGB"])
def test_16_bit_grey_png_is_scaled(tmp_path, mode):
    def write(path: Path) -> None:
        Image.fromarray(WIDE.astype(np.uint16)).save(path)
        assert Image.open(path).mode == "I;16"  # really 16-bit on disk

    splits = Folder(layout(tmp_path, write), mode=mode).load().validate("folder")
    expected = np.round(WIDE.astype(np.float64) / 257).astype(np.uint8)
    for channel in splits.train_images[0].numpy():
        np.testing.assert_array_equal(channel, expected)
    assert (splits.test_images.numpy() == 255).mean() < 0.01


def test_16_bit_colour_png_is_scaled(tmp_path):
    rgb = np.stack([WIDE, WIDE[::-1], WIDE.T], axis=-1)
    splits = Folder(layout(tmp_path, lambda path: png_rgb48(path, rgb))).load()
    loaded = splits.train_images[0].numpy().transpose(1, 2, 0).astype(np.int64)
    assert np.abs(loaded - rgb.astype(np.float64) / 257).max() <= 1
