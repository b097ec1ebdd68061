"""Shared fixtures: real data locations and a clean plugin registry per test."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from bench import plugins

ROOT = Path(__file__).resolve().parent.parent
SHARED_DATA = ROOT.parent / "shared" / "data"

# Two cores: keep PyTorch from oversubscribing when pytest and the code share them.
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
