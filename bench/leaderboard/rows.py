"""What ``bench compare`` and ``bench history`` read, in one shape: result rows from a results
store, a results export (``bench compare --write-baseline``) or a leaderboard JSON.

A store and an export hold one row per seed with its whole configuration and the environment it
ran in, so they can be compared like for like. A leaderboard JSON (``bench leaderboard``) holds
one cell per detector x scorer x task: the mean over its seeds, without per-seed values, torch
thread count or torch version. Its cells become *pooled* rows whose unrecorded environment fields
are :data:`UNRECORDED`, which never compares equal to anything.
"""

from __future__ import annotations

import json
import math
import sqlite3
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from bench.leaderboard import LeaderboardError
from bench.results import OK
from bench.store import read_results

EXPORT_FORMAT = "anomaly-bench results"
EXPORT_SCHEMA = 1
UNRECORDED = "not recorded"
# What a row ran on, beyond its configuration: any difference makes two rows incomparable (the
# torch thread count alone changes float summation order, and so trained weights and AUROCs).
ENVIRONMENT = {
    "device": "device",
    "device_name": "device name",
    "torch_threads": "torch threads",
    "torch": "torch version",
    "cuda": "CUDA version",
    "cpu": "CPU",
}
# Recorded only by rows stored since they were added (the CPU: 2026-12-07). A side without one
# leaves it unchecked rather than making every older baseline incomparable at once.
ADDED_LATER = frozenset({"cpu"})


@dataclass(frozen=True)
class Row:
    dataset: str
    detector: str
    scorer: str
    task: str
    seeds: tuple[int, ...]  # one seed; for a leaderboard cell, the ok seeds its mean pools
    status: str
    metrics: dict[str, float]
    spread: dict[str, float] | None  # a pooled cell's std over its seeds; None for one seed
    fit_seconds: float | None
    train_images_per_s: float | None
    config: dict[str, Any] | None  # None: a leaderboard row that mixes several configurations
    environment: dict[str, str | None]
    git_commit: str | None
    started_at: str | None
    error: str | None = None

    @property
    def cell(self) -> tuple[str, str, str, str]:
        return (self.dataset, self.detector, self.scorer, self.task)

    @property
    def pooled(self) -> bool:
        return self.spread is not None


def _value(x: Any) -> Any:
    """pandas' missing values (NaN) as None."""
    return None if isinstance(x, float) and math.isnan(x) else x


def _number(x: Any) -> float | None:
    x = _value(x)
    return None if x is None else float(x)


def _store_rows(path: Path) -> list[Row]:
    try:
        records = read_results(path).to_dict("records")
    except (sqlite3.DatabaseError, pd.errors.DatabaseError) as exc:  # pandas wraps sqlite's
        raise LeaderboardError(f"{path} is not a results store ({exc})") from None
    rows = []
    for r in records:
        versions = r["versions"]
        rows.append(
            Row(
                dataset=r["dataset"],
                detector=r["detector"],
                scorer=r["scorer"],
                task=str(r["task"]),
                seeds=(int(r["seed"]),),
                status=r["status"],
                metrics={k: float(v) for k, v in r["metrics"].items() if _number(v) is not None},
                spread=None,
                fit_seconds=_number(r["fit_seconds"]),
                train_images_per_s=_number(r["train_images_per_s"]),
                config=r["config"],
                environment={
                    "device": _value(r["device"]),
                    "device_name": _value(r["device_name"]),
                    "torch_threads": versions.get("torch_threads", UNRECORDED),
                    "torch": versions.get("torch") or _value(r["torch_version"]) or UNRECORDED,
                    "cpu": versions.get("cpu", UNRECORDED),
                    # the CUDA build a CPU run was made with does not touch its numbers
                    "cuda": _value(r["cuda_version"]) if "cuda" in str(r["device"]) else None,
                },
                git_commit=_value(r["git_commit"]),
                started_at=_value(r["started_at"]),
                error=_value(r["error"]),
            )
        )
    return rows


def _export_rows(data: dict[str, Any], path: Path) -> list[Row]:
    if data.get("schema") != EXPORT_SCHEMA:
        raise LeaderboardError(
            f"{path} is a results export of schema {data.get('schema')}; this anomaly-bench "
            f"reads schema {EXPORT_SCHEMA}"
        )
    rows = []
    for r in data["rows"]:
        seed = r.pop("seed")
        rows.append(Row(**r, seeds=(int(seed),), spread=None))
    return rows


def _device(provenance: dict[str, Any]) -> dict[str, str | None]:
    """A leaderboard's device, from its provenance's "name (kind)" strings, when it has one."""
    devices = provenance.get("devices", [])
    if len(devices) != 1:
        return {"device": UNRECORDED, "device_name": UNRECORDED}
    name, _, kind = devices[0].rpartition(" (")
    return {"device": kind.rstrip(")"), "device_name": name}


def _board_rows(board: dict[str, Any], metric_names: list[str]) -> list[Row]:
    """A leaderboard cell's seeds are its provenance's when it has that many; its failed seeds
    are named in its errors, so its mean pools the rest."""
    provenance = board["provenance"]
    all_seeds = [int(s) for s in provenance.get("seeds", [])]
    device = _device(provenance)
    recorded = {
        key: values[0]
        for key, field in (
            ("torch_threads", "torch_threads"),
            ("torch", "torch_versions"),
            ("cpu", "cpus"),
        )
        if len(values := provenance.get(field, [])) == 1
    }
    if provenance.get("n_without_cpu"):  # some of its rows predate the CPU: not all are known
        recorded.pop("cpu", None)
    environment = {
        **{k: UNRECORDED for k in ENVIRONMENT},
        **device,
        **recorded,
        **({"cuda": None} if device["device"] == "cpu" else {}),
    }
    commit = "+".join(provenance.get("git_commits", [])) or None
    common = {
        "dataset": board["dataset"],
        "environment": environment,
        "git_commit": commit,
        "started_at": provenance.get("first_started_at"),
    }
    rows = []
    for line in board["rows"]:
        names = {"detector": line["detector"], "scorer": line["scorer"]}
        settings = line.get("settings", [])
        for task, cell in line["tasks"].items():
            config = None  # several settings: which seed ran which is not recorded
            if len(settings) == 1:
                config = {**settings[0], **names, "dataset": board["dataset"], "task": task}
            known = cell["n_seeds"] == len(all_seeds)
            failed = {int(e["seed"]): e for e in cell["errors"]}
            ident = {**common, **names, "task": task, "config": config}
            for seed, e in sorted(failed.items()):
                rows.append(
                    Row(**ident, seeds=(seed,), status=e["status"], metrics={}, spread=None,
                        fit_seconds=None, train_images_per_s=None, error=e["error"])
                )  # fmt: skip
            if cell["n_ok"] == 0:
                continue
            means = {
                m: cell[f"{m}_mean"] for m in metric_names if cell.get(f"{m}_mean") is not None
            }
            spread = {m: cell.get(f"{m}_std") or 0.0 for m in means}
            ok_seeds = tuple(s for s in all_seeds if s not in failed) if known else ()
            rows.append(
                Row(**ident, seeds=ok_seeds, status=OK, metrics=means, spread=spread,
                    fit_seconds=cell.get("fit_seconds"),
                    train_images_per_s=cell.get("train_images_per_s"))
            )  # fmt: skip
    return rows


def load_rows(path: Path, metric_names: list[str]) -> list[Row]:
    """Every row in a store, a results export, a leaderboard JSON or a directory of JSON files
    (``metric_names``: which ``<metric>_mean`` columns to read from a leaderboard)."""
    if path.is_dir():
        files = sorted(path.glob("*.json"))
        if not files:
            raise LeaderboardError(f"{path} holds no leaderboard JSON or results export files")
        return [row for f in files for row in load_rows(f, metric_names)]
    if path.suffix != ".json":
        return _store_rows(path)
    try:
        data = json.loads(path.read_text())
    except FileNotFoundError:
        raise LeaderboardError(f"{path} does not exist") from None
    except UnicodeDecodeError:
        raise LeaderboardError(f"{path} is not UTF-8 text, so not JSON") from None
    except json.JSONDecodeError as exc:
        raise LeaderboardError(f"{path} is not valid JSON: {exc}") from None
    if isinstance(data, dict) and data.get("format") == EXPORT_FORMAT:
        return _export_rows(data, path)
    if isinstance(data, dict) and {"dataset", "rows", "provenance"} <= set(data):
        return _board_rows(data, metric_names)
    raise LeaderboardError(
        f"{path} is neither a leaderboard JSON (bench leaderboard) nor a results export "
        "(bench compare --write-baseline)"
    )


def export_json(rows: list[Row]) -> str:
    """Per-seed rows as a results export: sorted, so the same store gives the same file."""
    if any(r.pooled for r in rows):
        raise LeaderboardError(
            "a leaderboard JSON keeps no per-seed results; write a baseline from a results store"
        )
    records = []
    for row in rows:
        record = asdict(row)
        del record["spread"]
        record["seed"] = record.pop("seeds")[0]
        records.append(record)
    records.sort(
        key=lambda r: (r["dataset"], r["detector"], r["scorer"], r["task"],
                       json.dumps(r["config"], sort_keys=True), r["seed"])
    )  # fmt: skip
    data = {"format": EXPORT_FORMAT, "schema": EXPORT_SCHEMA, "rows": records}
    return json.dumps(data, indent=1, sort_keys=True, default=str) + "\n"
