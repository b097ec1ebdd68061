"""Suite files: a TOML file that pins a benchmark exactly.

Example (``leaderboards/suites/digits.toml``)::

    [suite]
    dataset = "digits"
    detectors = "all"          # or a list of names
    classes = "all"            # or a list of class names (or indices)
    seeds = [0, 1, 2]
    max_train = 300            # any setting of bench.experiment.Settings

    [hparams]                  # applied to every detector that has the key
    epochs = 10

    [detectors.fcn_ae]         # one detector's own settings
    epochs = 20
    scorers = ["mse", "l1"]    # run this detector once per scorer

Every key is checked: an unknown table, key or a value of the wrong type is an error naming it.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

from bench.errors import PlanError
from bench.experiment import Settings
from bench.runner import RunSpec

PLAN_KEYS = ("name", "description", "dataset", "detectors", "classes", "seeds", "scorers",
             "dataset_options")  # fmt: skip
TABLES = ("suite", "hparams", "detectors")


def suite_keys() -> list[str]:
    return [*PLAN_KEYS, *Settings.names()]


def _read(path: Path) -> dict[str, Any]:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise PlanError(f"suite file {path} does not exist") from None
    except UnicodeDecodeError:
        raise PlanError(f"suite file {path} is not UTF-8 text") from None
    except tomllib.TOMLDecodeError as exc:
        raise PlanError(f"suite file {path} is not valid TOML: {exc}") from None
    except OSError as exc:
        raise PlanError(f"suite file {path} cannot be read: {exc.strerror}") from None


def _names(path: Path, key: str, value: Any, allow_ints: bool = False) -> list[str] | None:
    """``"all"`` (None) or a list of names; anything else is refused with what is allowed."""
    if value == "all":
        return None
    kinds = (str, int) if allow_ints else (str,)
    if isinstance(value, list) and all(
        isinstance(v, kinds) and not isinstance(v, bool) for v in value
    ):
        return [str(v) for v in value]
    example = "[0, 1]" if allow_ints else '["pca"]'
    raise PlanError(f'{path}: {key} must be "all" or a list, e.g. {example}; got {value!r}')


def _table(path: Path, where: str, value: Any) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise PlanError(f"{path}: {where} must be a table, got {value!r}")
    return dict(value)


def load_suite(path: str | Path, all_detectors: list[str]) -> RunSpec:
    path = Path(path)
    data = _read(path)
    stray = sorted(set(data) - set(TABLES))
    if stray:
        raise PlanError(f"{path}: unknown table(s) {stray}; known: {list(TABLES)}")
    if "suite" not in data:
        raise PlanError(f"{path}: no [suite] table; a suite names at least its dataset there")
    suite = _table(path, "[suite]", data["suite"])
    unknown = sorted(set(suite) - set(suite_keys()))
    if unknown:
        raise PlanError(f"{path}: unknown [suite] key(s) {unknown}; known: {suite_keys()}")
    per_detector = {
        name: _table(path, f"[detectors.{name}]", table)
        for name, table in _table(path, "[detectors]", data.get("detectors", {})).items()
    }
    detector_scorers = {
        name: _names(path, f"[detectors.{name}] scorers", table.pop("scorers")) or []
        for name, table in per_detector.items()
        if "scorers" in table
    }
    seeds = suite.get("seeds", [0])
    if not (isinstance(seeds, list) and all(type(s) is int for s in seeds)):
        raise PlanError(f"{path}: seeds must be a list of integers, e.g. [0, 1, 2]; got {seeds!r}")
    detectors = _names(path, "detectors", suite.get("detectors", "all"))
    scorers = suite.get("scorers")
    settings = {k: suite[k] for k in Settings.names() if k in suite}
    return RunSpec(
        detectors=list(all_detectors) if detectors is None else detectors,
        dataset=str(suite.get("dataset", "digits")),
        classes=_names(path, "classes", suite.get("classes", "all"), allow_ints=True),
        seeds=seeds,
        scorers=None if scorers is None else _names(path, "scorers", scorers),
        detector_scorers=detector_scorers,
        hparams=_table(path, "[hparams]", data.get("hparams", {})),
        detector_hparams=per_detector,
        dataset_options=_table(path, "dataset_options", suite.get("dataset_options", {})),
        settings=Settings.from_mapping(settings, where=str(path)),
        suite=str(path),
    )
