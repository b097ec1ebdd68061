"""``folder``: image folders written here in anomalib's Folder-like layout, and bad inputs."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from bench.dataset import DataError
from plugins.datasets.folder import Folder

SIDE = 12


def save(path: Path, seed: int, size: tuple[int, int] = (SIDE, SIDE), mode: str = "RGB") -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    shape = (size[1], size[0], 3) if mode == "RGB" else (size[1], size[0])
    Image.fromarray(rng.integers(0, 256, shape, dtype=np.uint8), mode).save(path)


@pytest.fixture
def layout(tmp_path) -> Path:
    """5 normal training images, 3 normal and 2 abnormal test images, mixed formats."""
    for i in range(5):
        save(tmp_path / "train" / f"{i:02d}.png", i)
    for i in range(3):
        save(tmp_path / "test" / "normal" / f"n{i}.bmp", 10 + i)
    save(tmp_path / "test" / "abnormal" / "a0.png", 20)
    save(tmp_path / "test" / "abnormal" / "a1.jpg", 21, mode="L")  # grey: converted to RGB
    return tmp_path


def test_default_layout(layout):
    splits = Folder(layout).load().validate("folder")
    assert splits.train_images.shape == (5, 3, SIDE, SIDE)
    assert splits.test_labels.tolist() == [0, 0, 0, 1, 1]
    png = np.asarray(Image.open(layout / "train" / "03.png")).transpose(2, 0, 1)
    assert np.array_equal(splits.train_images[3].numpy(), png)  # name order, lossless


def test_grey_mode(layout):
    splits = Folder(layout, mode="L").load()
    assert splits.train_images.shape == (5, 1, SIDE, SIDE)
    grey = np.asarray(Image.open(layout / "test" / "normal" / "n1.bmp").convert("L"))
    assert np.array_equal(splits.test_images[1, 0].numpy(), grey)


def test_custom_folders_relative_to_data_dir(layout):
    (layout / "train").rename(layout / "good")
    (layout / "test").rename(layout / "eval")
    splits = Folder(layout, normal_dir="good", test_dir=str(layout / "eval")).load()
    assert len(splits.train_images) == 5 and len(splits.test_images) == 5


def test_mixed_sizes_are_refused_unless_resized(layout):
    save(layout / "train" / "99.png", 99, size=(20, 16))
    with pytest.raises(DataError, match=r"99.png: 20x16 pixels, .*size=N"):
        Folder(layout).load()
    splits = Folder(layout, size=8).load()
    assert splits.train_images.shape == (6, 3, 8, 8)


def test_missing_and_empty_folders(layout):
    for path in (layout / "test" / "abnormal").iterdir():
        path.unlink()
    with pytest.raises(DataError, match=r"test/abnormal holds no images"):
        Folder(layout).load()
    (layout / "test" / "abnormal").rmdir()
    with pytest.raises(DataError, match=r"test abnormal images expected in .*test/abnormal"):
        Folder(layout).load()


def test_corrupt_image_is_named(layout):
    (layout / "test" / "normal" / "n2.bmp").write_bytes(b"not an image at all")
    with pytest.raises(DataError, match=r"n2.bmp: not a readable image"):
        Folder(layout).load()


@pytest.mark.parametrize(
    "options, message",
    [
        ({"mode": "CMYK"}, "mode must be"),
        ({"size": -3}, "size must be"),
        ({"sise": 8}, "no option"),
    ],
)
def test_bad_options(layout, options, message):
    with pytest.raises(DataError, match=message):
        Folder(layout, **options).load()
