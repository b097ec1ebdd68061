"""The pytest-benchmark suite runs on CPU, saves comparable JSON with the machine's accelerator
and versions, and a second run can be compared against the first (the documented workflow)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _pytest(*args: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "pytest", "-m", "benchmark", "tests/benchmarks", "-q",
               "-k", "conv_ae", "-p", "no:cacheprovider", "--benchmark-enable",
               "--benchmark-min-rounds=2", "--benchmark-max-time=0.05", *args]  # fmt: skip
    return subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=600)


@pytest.mark.slow
def test_benchmarks_save_and_compare(tmp_path):
    storage = f"--benchmark-storage=file://{tmp_path}"
    first = _pytest(storage, "--benchmark-autosave", f"--benchmark-json={tmp_path / 'run.json'}")
    assert first.returncode == 0, first.stdout + first.stderr
    run = json.loads((tmp_path / "run.json").read_text())
    assert {b["name"] for b in run["benchmarks"]} == {
        "test_training_step[conv_ae]",
        "test_scoring[conv_ae]",
    }
    info = run["machine_info"]
    assert info["torch_version"] and info["bench_device"] in ("cpu", "cuda")
    assert "cuda_version" in info and info["bench_device_name"]
    second = _pytest(storage, "--benchmark-compare", "--benchmark-compare-fail=mean:10000%")
    assert second.returncode == 0, second.stdout + second.stderr
    assert "0001_" in second.stdout  # the table compares against the first, saved run
