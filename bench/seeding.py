"""Seeding owned by the harness: called before a detector (and so its model) is built."""

from __future__ import annotations

import os
import random

import numpy as np
import torch

# cuBLAS needs this before CUDA initialises to make matrix products deterministic.
os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")


def seed_everything(seed: int, deterministic: bool = True) -> None:
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)  # also seeds every CUDA device
    # The same switch as torch.use_deterministic_algorithms(deterministic), which also imports
    # inductor to set its config: 1.0 s per process (1.4 s profiled), on every worker's first
    # job. Inductor gets the setting where it is used, in TorchDetector's torch.compile call.
    torch.set_deterministic_debug_mode("error" if deterministic else "default")
    # Filling fresh tensors with NaN only helps find reads of uninitialised memory; it costs a
    # pass over every allocation and changes no result.
    torch.utils.deterministic.fill_uninitialized_memory = False
    torch.backends.cudnn.deterministic = deterministic
    torch.backends.cudnn.benchmark = not deterministic
