"""Shared fixtures: real data locations and a clean plugin registry per test."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import torch

from bench import plugins

ROOT = Path(__file__).resolve().parent.parent
# Real data for the tests that need it: $BENCH_TEST_DATA, else ../shared/data beside the clone.
ENV_TEST_DATA = "BENCH_TEST_DATA"
SHARED_DATA = Path(os.environ.get(ENV_TEST_DATA) or ROOT.parent / "shared" / "data").expanduser()

# CI has two cores; OMP_NUM_THREADS, when set, wins (e.g. 1 on a busy machine).
if "OMP_NUM_THREADS" not in os.environ:
    torch.set_num_threads(2)


@pytest.fixture(autouse=True)
def _private_cache(tmp_path_factory, monkeypatch):
    """Decoded-image caches go to a folder of each test's own, never the user's cache."""
    monkeypatch.setenv("BENCH_CACHE_DIR", str(tmp_path_factory.mktemp("cache")))


@pytest.fixture(autouse=True)
def _fresh_registry():
    """Each test sees the plugins installed (or restricted by BENCH_PLUGINS) at its start."""
    plugins.plugin_manager.cache_clear()
    plugins.registry.cache_clear()
    yield
    plugins.plugin_manager.cache_clear()
    plugins.registry.cache_clear()


@pytest.fixture
def mnist_dir() -> Path:
    path = SHARED_DATA / "mnist"
    if not (path / "train-images-idx3-ubyte.gz").exists():
        pytest.skip(f"real MNIST not found at {path} (set {ENV_TEST_DATA})")
    return path
