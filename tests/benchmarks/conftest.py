"""pytest-benchmark setup: every test here is a ``benchmark`` (deselected by default), and saved
runs record which accelerator and library versions produced them, so a comparison across
machines is visible as such."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from bench import environment

HERE = Path(__file__).parent


def pytest_collection_modifyitems(items):
    for item in items:
        if HERE in Path(item.fspath).parents:
            item.add_marker(pytest.mark.benchmark)


def pytest_benchmark_update_machine_info(config, machine_info):
    device = environment.resolve_device("auto")
    machine_info["bench_device"] = str(device)
    machine_info["bench_device_name"] = environment.device_name(device)
    machine_info["torch_version"] = torch.__version__
    machine_info["cuda_version"] = environment.cuda_version()
    machine_info["torch_threads"] = torch.get_num_threads()
