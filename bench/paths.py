"""Where data lives: ``--data-dir``, else ``BENCH_DATA_DIR``, else a per-user cache directory."""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs

ENV_DATA_DIR = "BENCH_DATA_DIR"


def resolve_data_dir(explicit: str | Path | None = None) -> Path:
    if explicit:
        return Path(explicit).expanduser()
    if os.environ.get(ENV_DATA_DIR):
        return Path(os.environ[ENV_DATA_DIR]).expanduser()
    return Path(platformdirs.user_cache_dir("anomaly-bench")) / "data"
