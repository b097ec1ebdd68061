"""Loading a dataset through its plugin, once per process."""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path
from typing import Any

from bench.dataset import Splits
from bench.plugins import registry


@lru_cache(maxsize=4)
def _load_cached(dataset: str, data_dir: str, options: str) -> Splits:
    cls = registry().get("datasets", dataset)
    return cls(Path(data_dir), **json.loads(options)).load().validate(dataset)


def load_splits(dataset: str, data_dir: str, options: dict[str, Any]) -> Splits:
    """Load (once per process: the planner and every job of a run share it) and validate a
    dataset's splits."""
    return _load_cached(dataset, data_dir, json.dumps(options, sort_keys=True))
