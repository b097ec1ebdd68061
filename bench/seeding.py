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
    torch.use_deterministic_algorithms(deterministic, warn_only=False)
    # Filling fresh tensors with NaN only helps find reads of uninitialised memory; it costs a
    # pass over every allocation and changes no result.
    torch.utils.deterministic.fill_uninitialized_memory = False
    torch.backends.cudnn.deterministic = deterministic
    torch.backends.cudnn.benchmark = not deterministic
