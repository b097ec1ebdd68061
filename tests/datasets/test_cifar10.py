"""``cifar10``: python batches (folder and archive) written here, the real JPEGs as image
folders, and the ways they can be bad."""

from __future__ import annotations

import io
import pickle
import tarfile
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from bench.dataset import DataError
from plugins.datasets.cifar10 import ARCHIVE, BATCHES, CLASSES, Cifar10
from tests.datasets.conftest import CIFAR_JPEG

PER_BATCH = 4


def batch(seed: int, n: int = PER_BATCH) -> dict[bytes, object]:
    rng = np.random.default_rng(seed)
    return {
        b"data": rng.integers(0, 256, (n, 3072), dtype=np.uint8),
        b"labels": [int(k) for k in rng.integers(0, 10, n)],
    }


def official_pickles() -> dict[str, bytes]:
    """The official batch files' contents, pickled with protocol 2 like the originals."""
    files = {f"data_batch_{i}": batch(i) for i in range(1, 6)}
    files["test_batch"] = batch(99)
    files["batches.meta"] = {b"label_names": [c.encode() for c in CLASSES]}
    return {name: pickle.dumps(content, protocol=2) for name, content in files.items()}


def write_batches_dir(root: Path, files: dict[str, bytes]) -> Path:
    folder = root / "cifar10" / BATCHES
    folder.mkdir(parents=True)
    for name, data in files.items():
        (folder / name).write_bytes(data)
    return folder


def write_archive(root: Path, files: dict[str, bytes]) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    path = root / ARCHIVE
    with tarfile.open(path, "w:gz") as tar:
        for name, data in files.items():
            info = tarfile.TarInfo(f"{BATCHES}/{name}")
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return path


def test_batches_folder_and_archive_give_the_same_splits(tmp_path):
    files = official_pickles()
    write_batches_dir(tmp_path / "a", files)
    write_archive(tmp_path / "b", files)
    from_dir = Cifar10(tmp_path / "a").load().validate("cifar10")
    from_archive = Cifar10(tmp_path / "b").load().validate("cifar10")
    first = pickle.loads(files["data_batch_1"])
    assert from_dir.train_images.shape == (5 * PER_BATCH, 3, 32, 32)
    # rows are R, G, B planes of 32 x 32: the first row is image 0's red channel, row-major
    assert np.array_equal(from_dir.train_images[0, 0].numpy().ravel(), first[b"data"][0, :1024])
    assert from_dir.train_labels[:PER_BATCH].tolist() == first[b"labels"]
    assert from_dir.class_names == list(CLASSES)
    assert torch.equal(from_dir.train_images, from_archive.train_images)
    assert torch.equal(from_dir.test_labels, from_archive.test_labels)


def test_missing_dataset_says_how_to_get_it(tmp_path):
    with pytest.raises(DataError, match="not found.*bench data download cifar10"):
        Cifar10(tmp_path).load()


def test_missing_batch_is_named(tmp_path):
    files = official_pickles()
    del files["data_batch_3"]
    write_batches_dir(tmp_path, files)
    with pytest.raises(DataError, match="data_batch_3 is missing"):
        Cifar10(tmp_path).load()


def test_label_and_image_count_mismatch(tmp_path):
    files = official_pickles()
    broken = batch(2)
    broken[b"labels"] = broken[b"labels"][:-1]
    files["data_batch_2"] = pickle.dumps(broken, protocol=2)
    write_batches_dir(tmp_path, files)
    with pytest.raises(DataError, match=r"data_batch_2: 4 images but 3 labels"):
        Cifar10(tmp_path).load()


def test_wrong_class_names_in_meta(tmp_path):
    files = official_pickles()
    files["batches.meta"] = pickle.dumps({b"label_names": [b"apple"] * 10}, protocol=2)
    write_batches_dir(tmp_path, files)
    with pytest.raises(DataError, match="batches.meta: label names"):
        Cifar10(tmp_path).load()


class _Payload:
    """Unpickling this would create a file: the loader must refuse to."""

    def __init__(self, target: Path) -> None:
        self.target = target

    def __reduce__(self):
        return (Path.touch, (self.target,))


def test_pickle_with_foreign_objects_is_refused_not_run(tmp_path):
    files = official_pickles()
    marker = tmp_path / "pwned"
    files["test_batch"] = pickle.dumps({b"data": _Payload(marker)}, protocol=2)
    write_batches_dir(tmp_path, files)
    with pytest.raises(DataError, match=r"test_batch: not a CIFAR-10 python pickle.*refusing"):
        Cifar10(tmp_path).load()
    assert not marker.exists()


def test_truncated_archive_names_the_file(tmp_path):
    path = write_archive(tmp_path, official_pickles())
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    with pytest.raises(DataError, match=rf"{ARCHIVE}: truncated or corrupt archive"):
        Cifar10(tmp_path).load()


def test_real_jpegs_in_image_folders(cifar_jpeg_subset):
    splits = Cifar10(cifar_jpeg_subset).load().validate("cifar10")
    per_class = len(list((cifar_jpeg_subset / "train" / "cat").iterdir()))
    assert splits.train_images.shape == (10 * per_class, 3, 32, 32)
    assert splits.train_labels.bincount().tolist() == [per_class] * 10
    # labels follow the official class order, whatever order the folders are listed in
    first_cat = sorted((cifar_jpeg_subset / "train" / "cat").iterdir())[0]
    cat = np.asarray(Image.open(first_cat).convert("RGB")).transpose(2, 0, 1)
    index = int(torch.nonzero(splits.train_labels == CLASSES.index("cat"))[0])
    assert np.array_equal(splits.train_images[index].numpy(), cat)


def copy_tree(src: Path, dst: Path) -> Path:
    for path in src.rglob("*.jpg"):
        target = dst / path.relative_to(src)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(path.read_bytes())
    return dst


def test_corrupt_image_is_named(cifar_jpeg_subset, tmp_path):
    root = copy_tree(cifar_jpeg_subset, tmp_path / "cifar10")
    bad = sorted((root / "test" / "frog").iterdir())[1]
    bad.write_bytes(bad.read_bytes()[:40])
    with pytest.raises(DataError, match=rf"{bad.name}: not a readable image"):
        Cifar10(tmp_path).load()


def test_empty_class_folder(cifar_jpeg_subset, tmp_path):
    root = copy_tree(cifar_jpeg_subset, tmp_path)
    for path in (root / "train" / "ship").iterdir():
        path.unlink()
    with pytest.raises(DataError, match=r"train/ship holds no images"):
        Cifar10(tmp_path).load()


def test_missing_class_folder(cifar_jpeg_subset, tmp_path):
    root = copy_tree(cifar_jpeg_subset, tmp_path)
    (root / "test" / "horse").rename(root / "test" / "pony")
    with pytest.raises(DataError, match=r"missing \['horse'\], unexpected \['pony'\]"):
        Cifar10(tmp_path).load()


@pytest.mark.slow
def test_full_real_jpeg_archive(tmp_path):
    if not CIFAR_JPEG.exists():
        pytest.skip(f"real CIFAR-10 JPEG archive not found at {CIFAR_JPEG}")
    with tarfile.open(CIFAR_JPEG) as tar:
        tar.extractall(tmp_path / "cifar10", filter="data")
    splits = Cifar10(tmp_path).load().validate("cifar10")
    assert splits.train_images.shape == (50000, 3, 32, 32)
    assert splits.test_images.shape == (10000, 3, 32, 32)
    assert splits.test_labels.bincount().tolist() == [1000] * 10
