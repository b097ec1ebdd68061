"""Fixtures for the dataset tests: a small subset of the real CIFAR-10 JPEG archive."""

from __future__ import annotations

import tarfile
from pathlib import Path

import pytest

from tests.conftest import ENV_TEST_DATA, SHARED_DATA

CIFAR_JPEG = SHARED_DATA / "cifar10" / "cifar10-jpeg.tar.gz"
PER_CLASS = 3


@pytest.fixture(scope="session")
def cifar_jpeg_subset(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The first few real JPEGs of every class and split, in the train|test/<class>/ layout."""
    if not CIFAR_JPEG.exists():
        pytest.skip(f"real CIFAR-10 JPEG archive not found at {CIFAR_JPEG} (set {ENV_TEST_DATA})")
    root = tmp_path_factory.mktemp("cifar_subset")
    with tarfile.open(CIFAR_JPEG) as tar:
        for member in tar:
            split_class, _, name = member.name.rpartition("/")
            if member.isfile() and name < f"{PER_CLASS:04d}.jpg":
                tar.extract(member, root, filter="data")
    return root
