"""Shared fixtures: real data locations and a clean plugin registry per test."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import torch

from bench import plugins

ROOT = Path(__file__).resolve().parent.parent
SHARED_DATA = ROOT.parent / "shared" / "data"

# CI has two cores; OMP_NUM_THREADS, when set, wins (e.g. 1 on a busy machine).
if "OMP_NUM_THREADS" not in os.environ:
    torch.set_num_threads(2)


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
        pytest.skip(f"real MNIST not found at {path}")
    return path
