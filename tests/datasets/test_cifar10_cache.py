"""CIFAR-10 image files are decoded once and then read from a cache that is never stale and
survives damage; the JPEG archive is read as it is; classes are known before loading."""

from __future__ import annotations

import logging
import tarfile
from pathlib import Path

import numpy as np
import pytest
import torch

import plugins.datasets.cifar10_images as images_module
from bench.dataset import DataError
from bench.tasks import resolve_task
from plugins.datasets.array_cache import cache_dir
from plugins.datasets.cifar10 import CLASSES, Cifar10
from plugins.datasets.cifar10_images import JPEG_ARCHIVE
from plugins.datasets.mnist import Mnist
from tests.datasets.test_cifar10 import copy_tree


@pytest.fixture
def decodes(monkeypatch) -> list[int]:
    """How many images each decode_images call decoded."""
    calls: list[int] = []
    real = images_module.decode_images

    def counting(sources, *args, **kwargs):
        calls.append(len(sources))
        return real(sources, *args, **kwargs)

    monkeypatch.setattr(images_module, "decode_images", counting)
    return calls


def same(a, b) -> bool:
    return all(
        torch.equal(getattr(a, f), getattr(b, f))
        for f in ("train_images", "train_labels", "test_images", "test_labels")
    )


def entries() -> list[Path]:
    return sorted(cache_dir().glob("cifar10-*.npz"))


def test_second_load_reads_the_cache(cifar_jpeg_subset, tmp_path, decodes):
    root = copy_tree(cifar_jpeg_subset, tmp_path / "cifar10")
    first = Cifar10(tmp_path).load()
    assert sum(decodes) == 60 and len(entries()) == 1
    second = Cifar10(tmp_path).load().validate("cifar10")
    assert sum(decodes) == 60  # nothing decoded again
    assert same(first, second)
    assert second.class_names == list(CLASSES)
    assert not [p for p in cache_dir().iterdir() if p.name.startswith(".")]  # no temp files
    assert root.is_dir()


def test_a_changed_file_is_decoded_again(cifar_jpeg_subset, tmp_path, decodes):
    root = copy_tree(cifar_jpeg_subset, tmp_path / "cifar10")
    first = Cifar10(tmp_path).load()
    cat, dog = (
        sorted((root / "train" / "cat").iterdir())[0],
        sorted((root / "train" / "dog").iterdir())[0],
    )
    cat.write_bytes(dog.read_bytes())  # same size is likely, same mtime is possible: not the key
    changed = Cifar10(tmp_path).load()
    assert sum(decodes) == 120
    index = int(torch.nonzero(changed.train_labels == CLASSES.index("cat"))[0])
    assert not torch.equal(first.train_images[index], changed.train_images[index])


@pytest.mark.parametrize("damage", ["truncated", "garbage", "empty"])
def test_a_damaged_cache_is_decoded_again_and_rewritten(
    cifar_jpeg_subset, tmp_path, decodes, damage, caplog
):
    copy_tree(cifar_jpeg_subset, tmp_path / "cifar10")
    first = Cifar10(tmp_path).load()
    (entry,) = entries()
    data = entry.read_bytes()
    entry.write_bytes(
        {"truncated": data[: len(data) // 2], "garbage": b"x" * 1000, "empty": b""}[damage]
    )
    with caplog.at_level(logging.WARNING, logger="bench.datasets.cache"):
        again = Cifar10(tmp_path).load()
    assert same(first, again) and sum(decodes) == 120
    assert "unreadable cache entry" in caplog.text
    assert entry.read_bytes() == data  # rewritten whole
    Cifar10(tmp_path).load()
    assert sum(decodes) == 120


def test_an_unwritable_cache_only_costs_time(cifar_jpeg_subset, tmp_path, monkeypatch, decodes):
    copy_tree(cifar_jpeg_subset, tmp_path / "cifar10")
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the cache folder would go")
    monkeypatch.setenv("BENCH_CACHE_DIR", str(blocker / "cache"))
    assert len(Cifar10(tmp_path).load().train_images) == 30
    assert len(Cifar10(tmp_path).load().train_images) == 30
    assert sum(decodes) == 120


def test_the_jpeg_archive_is_read_as_it_is_and_cached(cifar_jpeg_subset, tmp_path, decodes):
    copy_tree(cifar_jpeg_subset, tmp_path / "folders" / "cifar10")
    (tmp_path / "archive" / "cifar10").mkdir(parents=True)
    with tarfile.open(tmp_path / "archive" / "cifar10" / JPEG_ARCHIVE, "w:gz") as tar:
        for split in ("test", "train"):  # not the folders' order: order comes from the names
            tar.add(cifar_jpeg_subset / split, arcname=split)
    from_folders = Cifar10(tmp_path / "folders").load()
    from_archive = Cifar10(tmp_path / "archive").load().validate("cifar10")
    assert same(from_folders, from_archive)
    Cifar10(tmp_path / "archive").load()
    assert sum(decodes) == 120  # folders once, archive once, then the cache


def test_a_corrupt_jpeg_archive_is_one_line(tmp_path):
    (tmp_path / "cifar10").mkdir()
    (tmp_path / "cifar10" / JPEG_ARCHIVE).write_bytes(b"\x1f\x8b" + b"\0" * 50)
    with pytest.raises(DataError, match=rf"{JPEG_ARCHIVE}: truncated or corrupt archive"):
        Cifar10(tmp_path).load()


def test_classes_are_known_before_loading_and_taken_by_index_or_name():
    assert Cifar10.class_names == CLASSES
    assert resolve_task("4", Cifar10.class_names, "cifar10") == "deer"
    assert resolve_task("deer", Cifar10.class_names, "cifar10") == "deer"
    assert resolve_task("4", Mnist.class_names, "mnist") == "4"
    for bad in ("10", "-1", "Deer", "4.0", ""):
        with pytest.raises(DataError, match=r"cifar10 has no class .*indices 0-9"):
            resolve_task(bad, Cifar10.class_names, "cifar10")


def test_labels_follow_the_official_class_order(cifar_jpeg_subset, tmp_path):
    copy_tree(cifar_jpeg_subset, tmp_path / "cifar10")
    splits = Cifar10(tmp_path).load()
    assert splits.test_labels.bincount().tolist() == [3] * 10
    assert np.all(np.diff(splits.train_labels.numpy()) >= 0)
