"""``mnist``: the real IDX files, small IDX files written here, and every way they can be bad."""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np
import pytest
import torch

from bench.dataset import DataError
from plugins.datasets.mnist import IMAGES_MAGIC, LABELS_MAGIC, Mnist


def idx_bytes(array: np.ndarray, magic: int) -> bytes:
    header = magic.to_bytes(4, "big") + b"".join(d.to_bytes(4, "big") for d in array.shape)
    return header + array.astype(np.uint8).tobytes()


def write_mnist(folder: Path, n_train=12, n_test=7, compress=True, seed=0) -> dict:
    """A tiny MNIST in the official format; returns the arrays written."""
    rng = np.random.default_rng(seed)
    arrays = {}
    folder.mkdir(parents=True, exist_ok=True)
    for prefix, n in (("train", n_train), ("t10k", n_test)):
        images = rng.integers(0, 256, (n, 28, 28), dtype=np.uint8)
        labels = np.arange(n, dtype=np.uint8) % 10
        files = {"images-idx3": (images, IMAGES_MAGIC), "labels-idx1": (labels, LABELS_MAGIC)}
        for kind, (array, magic) in files.items():
            data = idx_bytes(array, magic)
            name = f"{prefix}-{kind}-ubyte"
            if compress:
                (folder / f"{name}.gz").write_bytes(gzip.compress(data))
            else:
                (folder / name).write_bytes(data)
        arrays[prefix] = (images, labels)
    return arrays


def test_real_mnist_loads_in_official_order(mnist_dir):
    splits = Mnist(mnist_dir.parent).load().validate("mnist")
    assert splits.train_images.shape == (60000, 1, 28, 28)
    assert splits.test_images.shape == (10000, 1, 28, 28)
    assert splits.train_images.dtype == torch.uint8
    assert set(splits.train_labels.unique().tolist()) == set(range(10))
    assert int(splits.train_images.max()) == 255 and int(splits.train_images.min()) == 0
    # the same files found directly in data_dir give the same data
    direct = Mnist(mnist_dir).load()
    assert torch.equal(direct.test_labels, splits.test_labels)


@pytest.mark.parametrize("compress", [True, False])
def test_written_idx_round_trips(tmp_path, compress):
    arrays = write_mnist(tmp_path / "mnist", compress=compress)
    splits = Mnist(tmp_path).load().validate("mnist")
    assert np.array_equal(splits.train_images[:, 0].numpy(), arrays["train"][0])
    assert np.array_equal(splits.test_labels.numpy(), arrays["t10k"][1])
    assert splits.class_names == [str(k) for k in range(10)]


def test_missing_file_says_where_and_how(tmp_path):
    expected = r"train-images-idx3-ubyte\.gz not found.*run `bench data download mnist"
    with pytest.raises(DataError, match=expected):
        Mnist(tmp_path).load()


def test_truncated_idx_names_the_file(tmp_path):
    write_mnist(tmp_path)
    path = tmp_path / "train-images-idx3-ubyte.gz"
    data = gzip.decompress(path.read_bytes())
    path.write_bytes(gzip.compress(data[:-100]))
    with pytest.raises(DataError, match=r"train-images-idx3-ubyte\.gz.*truncated"):
        Mnist(tmp_path).load()


def test_truncated_gzip_names_the_file(tmp_path):
    write_mnist(tmp_path)
    path = tmp_path / "t10k-images-idx3-ubyte.gz"
    path.write_bytes(path.read_bytes()[:200])
    with pytest.raises(DataError, match=r"t10k-images-idx3-ubyte\.gz: not a readable gzip"):
        Mnist(tmp_path).load()


def test_wrong_magic_number(tmp_path):
    write_mnist(tmp_path)
    # a label file where the image file should be
    labels = (tmp_path / "train-labels-idx1-ubyte.gz").read_bytes()
    (tmp_path / "train-images-idx3-ubyte.gz").write_bytes(labels)
    with pytest.raises(DataError, match=r"magic number 0x00000801 .* image file"):
        Mnist(tmp_path).load()


def test_label_count_mismatch(tmp_path):
    write_mnist(tmp_path)
    short = idx_bytes(np.zeros(5, np.uint8), LABELS_MAGIC)
    (tmp_path / "train-labels-idx1-ubyte.gz").write_bytes(gzip.compress(short))
    with pytest.raises(DataError, match="holds 12 images but .* 5 labels"):
        Mnist(tmp_path).load()


def test_unknown_option_is_refused(tmp_path):
    with pytest.raises(DataError, match="has no option"):
        Mnist(tmp_path, labels="x.csv")
