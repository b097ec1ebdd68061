"""Suite files: a TOML file that pins a benchmark exactly.

Example (``leaderboards/suites/digits.toml``)::

    [suite]
    dataset = "digits"
    detectors = "all"          # or a list of names
    classes = "all"            # or a list of class names
    seeds = [0, 1, 2]

    [hparams]                  # applied to every detector that has the key
    epochs = 10

    [detectors.fcn_ae]         # one detector's own settings
    epochs = 20
    scorers = ["mse", "l1"]    # run this detector once per scorer
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

from bench.runner import PlanError, RunSpec

_SUITE_KEYS = {
    "name", "description", "dataset", "detectors", "classes", "seeds", "scorers",
    "dataset_options", "labelled_fraction", "max_train", "max_test", "deterministic", "precision",
}  # fmt: skip


def load_suite(path: str | Path, all_detectors: list[str]) -> RunSpec:
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text())
    except FileNotFoundError:
        raise PlanError(f"suite file {path} does not exist") from None
    except tomllib.TOMLDecodeError as exc:
        raise PlanError(f"suite file {path} is not valid TOML: {exc}") from None
    suite: dict[str, Any] = data.get("suite", {})
    unknown = set(suite) - _SUITE_KEYS
    if unknown:
        raise PlanError(f"{path}: unknown [suite] key(s) {sorted(unknown)}")
    detectors = suite.get("detectors", "all")
    per_detector: dict[str, dict[str, Any]] = {
        name: dict(table) for name, table in data.get("detectors", {}).items()
    }
    detector_scorers = {
        name: list(table.pop("scorers"))
        for name, table in per_detector.items()
        if "scorers" in table
    }
    classes = suite.get("classes", "all")
    return RunSpec(
        detectors=list(all_detectors) if detectors == "all" else list(detectors),
        dataset=suite.get("dataset", "digits"),
        classes=None if classes == "all" else [str(c) for c in classes],
        seeds=[int(s) for s in suite.get("seeds", [0])],
        scorers=suite.get("scorers"),
        detector_scorers=detector_scorers,
        hparams=dict(data.get("hparams", {})),
        detector_hparams=per_detector,
        dataset_options=dict(suite.get("dataset_options", {})),
        labelled_fraction=float(suite.get("labelled_fraction", 0.0)),
        max_train=suite.get("max_train"),
        max_test=suite.get("max_test"),
        deterministic=bool(suite.get("deterministic", True)),
        precision=str(suite.get("precision", "fp32")),
        suite=str(path),
    )
