"""Provenance recorded with every result: versions, device and source commit."""

from __future__ import annotations

import platform
import subprocess
from functools import lru_cache
from importlib import metadata
from pathlib import Path

import torch

from bench.errors import SetupError

PACKAGES = ("anomaly-bench", "torch", "numpy", "scikit-learn", "pluggy")


@lru_cache(maxsize=1)
def package_versions() -> dict[str, str]:
    versions = {"python": platform.python_version()}
    for name in PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return versions


@lru_cache(maxsize=1)
def git_commit() -> str | None:
    """The commit of the anomaly-bench checkout, when it runs from one."""
    source = Path(__file__).resolve().parent.parent
    try:
        out = subprocess.run(
            ["git", "-C", str(source), "rev-parse", "HEAD"],
            capture_output=True,
            text=True,
            timeout=5,
            check=True,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() or None


def resolve_device(requested: str = "auto") -> torch.device:
    if requested == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        device = torch.device(requested)
    except RuntimeError:
        raise SetupError(
            f"--device {requested!r} is not a device; use auto, cpu, cuda or cuda:N"
        ) from None
    if device.type not in ("cpu", "cuda"):
        raise SetupError(f"--device {requested}: the harness runs on cpu or cuda[:N] only")
    if device.type == "cuda" and not torch.cuda.is_available():
        raise SetupError(f"--device {requested} asked for CUDA but torch sees no CUDA device")
    return device


def _cpuinfo() -> dict[str, str]:
    """The first processor's fields in /proc/cpuinfo (empty where there is none: macOS)."""
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return {}
    fields: dict[str, str] = {}
    for line in text.split("\n\n", 1)[0].splitlines():
        key, _, value = line.partition(":")
        fields[key.strip()] = value.strip()
    return fields


@lru_cache(maxsize=1)
def processor() -> str:
    """The CPU a run's floating-point kernels were picked for: its model and the instruction set
    torch's own kernels dispatch to. oneDNN, MKL and OpenBLAS pick kernels per
    microarchitecture, so two CPUs that both call themselves x86_64 trained the same seeded MNIST
    jobs to different scores (README, Reproducible)."""
    fields = _cpuinfo()
    name = fields.get("model name") or platform.processor() or platform.machine() or "cpu"
    where = [f"family {fields['cpu family']} model {fields['model']}"] if "model" in fields else []
    return f"{name} ({'; '.join([*where, f'torch {torch.backends.cpu.get_cpu_capability()}'])})"


def device_name(device: torch.device) -> str:
    if device.type == "cuda":
        return torch.cuda.get_device_name(device)
    return platform.processor() or platform.machine() or "cpu"


def cuda_version() -> str | None:
    return torch.version.cuda
