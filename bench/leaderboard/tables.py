"""Aggregation: store rows -> one cell per detector x scorer x task and one summary row per
detector x scorer. Every number the Markdown, CSV, JSON, plots and ``bench compare`` show is
computed here, once, so they cannot disagree.

Rules, in one place:

* a later row (higher store id) for the same detector, scorer, task and seed replaces an earlier
  one, so rerunning with other hyperparameters updates the leaderboard instead of mixing in;
* every metric the rows carry (built-in or a plugin's) gets a column; a cell's value of each is
  the mean and sample standard deviation (ddof=1) over its ok seeds;
* a cell is ``ok`` (every seed ok), ``partial`` (some failed), ``failed``/``diverged`` (none ok)
  or ``missing`` (never run);
* per task, rows are ranked by the mean of one metric (``rank_by``, AUROC unless told otherwise;
  1 = best in that metric's direction, ties averaged, cells without a value last); a row's
  average rank is the mean over tasks.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from bench.metrics import PRIMARY
from bench.results import DIVERGED, FAILED, OK

PARTIAL, MISSING = "partial", "missing"
KEY = ["detector", "scorer"]
CELL = ["detector", "scorer", "task"]
_SEED_KEY = ["dataset", "detector", "scorer", "task", "seed"]


@dataclass(frozen=True)
class MetricColumn:
    name: str
    higher_is_better: bool = True


@dataclass
class Leaderboard:
    dataset: str
    tasks: list[str]
    rows: pd.DataFrame  # the store rows it is built from (latest per cell and seed)
    cells: pd.DataFrame  # one row per detector x scorer x task, sorted like the summary
    summary: pd.DataFrame  # one row per detector x scorer, in leaderboard order
    provenance: dict[str, Any]
    metrics: list[MetricColumn]  # the rank_by metric first
    rank_by: str = PRIMARY


def task_order(tasks: list[str]) -> list[str]:
    """Class names in natural order: "2" before "10", names alphabetically after numbers."""
    return sorted(set(tasks), key=lambda t: (0, int(t), "") if t.isdigit() else (1, 0, t))


def latest_rows(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.sort_values("id").drop_duplicates(_SEED_KEY, keep="last").reset_index(drop=True)


def build_all(
    frame: pd.DataFrame, directions: dict[str, bool] | None = None, rank_by: str = PRIMARY
) -> dict[str, Leaderboard]:
    """One leaderboard per dataset in a store's rows (from :func:`bench.store.read_results`).
    ``directions`` maps metric names to ``higher_is_better`` (the registered metrics, in
    registration order); a stored metric not in it is taken as higher-is-better."""
    rows = latest_rows(frame)
    return {
        str(dataset): build(str(dataset), group.reset_index(drop=True), directions or {}, rank_by)
        for dataset, group in rows.groupby("dataset", sort=True)
    }


def metric_columns(
    rows: pd.DataFrame, directions: dict[str, bool], rank_by: str
) -> list[MetricColumn]:
    """The metrics present in ``rows``: ``rank_by`` first, then registration order, then the
    rest by name."""
    present = {name for values in rows["metrics"] for name in values}
    order = [rank_by, *directions, *sorted(present)]
    names = list(dict.fromkeys(n for n in order if n in present or n == rank_by))
    return [MetricColumn(n, directions.get(n, True)) for n in names]


def metric_values(rows: pd.DataFrame, metrics: list[MetricColumn]) -> pd.DataFrame:
    """One column per metric (NaN where a row lacks it), aligned with ``rows``."""
    values = pd.DataFrame(list(rows["metrics"]), index=rows.index, dtype=float)
    return values.reindex(columns=[m.name for m in metrics])


def build(
    dataset: str, rows: pd.DataFrame, directions: dict[str, bool], rank_by: str = PRIMARY
) -> Leaderboard:
    tasks = task_order(rows["task"].tolist())
    metrics = metric_columns(rows, directions, rank_by)
    cells = _cells(rows, tasks, metrics)
    summary = _summary(rows, cells, len(tasks), metrics)
    order = {key: i for i, key in enumerate(row_keys(summary))}
    task_index = {t: i for i, t in enumerate(tasks)}
    cells = (
        cells.assign(
            _row=[order[k] for k in row_keys(cells)],
            _task=cells["task"].map(task_index),
        )
        .sort_values(["_row", "_task"])
        .drop(columns=["_row", "_task"])
        .reset_index(drop=True)
    )
    return Leaderboard(dataset, tasks, rows, cells, summary, _provenance(rows), metrics, rank_by)


def row_keys(frame: pd.DataFrame) -> list[tuple[str, str]]:
    """(detector, scorer) of each line of a summary or cells frame, in order."""
    return list(frame[KEY].itertuples(index=False, name=None))


def cells_of(lb: Leaderboard, detector: str, scorer: str) -> pd.DataFrame:
    """One row's cells, in task order."""
    return lb.cells[(lb.cells["detector"] == detector) & (lb.cells["scorer"] == scorer)]


def _cell_status(statuses: pd.Series) -> str:
    if (statuses == OK).all():
        return OK
    if (statuses == OK).any():
        return PARTIAL
    return DIVERGED if (statuses == DIVERGED).all() else FAILED


def _cells(rows: pd.DataFrame, tasks: list[str], metrics: list[MetricColumn]) -> pd.DataFrame:
    values = metric_values(rows, metrics)
    records = {}
    for (detector, scorer, task), group in rows.groupby(CELL, sort=True):
        ok = group[group["status"] == OK]
        bad = group[group["status"] != OK].sort_values("seed")
        measured = values.loc[ok.index]
        records[(detector, scorer, task)] = {
            "status": _cell_status(group["status"]),
            "n_seeds": len(group),
            "n_ok": len(ok),
            **{f"{m.name}_mean": measured[m.name].mean() for m in metrics},
            **{f"{m.name}_std": measured[m.name].std(ddof=1) for m in metrics},
            "fit_seconds": ok["fit_seconds"].mean(),
            "train_images_per_s": ok["train_images_per_s"].mean(),
            "score_images_per_s": ok["score_images_per_s"].mean(),
            "parameters": ok["parameters"].median(),
            "errors": [
                {"seed": int(r.seed), "status": str(r.status), "error": str(r.error or "")}
                for r in bad.itertuples()
            ],
        }
    keys = sorted({(d, s) for d, s, _ in records})
    grid = []
    for detector, scorer in keys:
        for task in tasks:
            empty = {"status": MISSING, "n_seeds": 0, "n_ok": 0, "errors": []}
            grid.append(
                {"detector": detector, "scorer": scorer, "task": task}
                | records.get((detector, scorer, task), empty)
            )
    cells = pd.DataFrame(grid)
    for m in metrics:  # a grid of missing cells still has every metric column
        for stat in ("mean", "std"):
            cells[f"{m.name}_{stat}"] = cells.get(f"{m.name}_{stat}", float("nan"))
    ranked = metrics[0]
    cells["rank"] = cells.groupby("task")[f"{ranked.name}_mean"].rank(
        ascending=not ranked.higher_is_better, method="average", na_option="bottom"
    )
    return cells


def _settings(config: dict[str, Any]) -> str:
    """What distinguishes a run's configuration, besides which detector, scorer and task."""
    drop = {"detector", "scorer", "dataset", "task"}
    return json.dumps({k: v for k, v in config.items() if k not in drop}, sort_keys=True)


def _shape(config: dict[str, Any]) -> str:
    """The input a row's detector was fed, e.g. "1x28x28" ("unrecorded" for rows stored before
    shapes were)."""
    shape = config.get("input_shape")
    return "x".join(str(n) for n in shape) if shape else "unrecorded"


def _summary(
    rows: pd.DataFrame, cells: pd.DataFrame, n_tasks: int, metrics: list[MetricColumn]
) -> pd.DataFrame:
    ok_rows = rows[rows["status"] == OK]
    ranked = metrics[0].name
    values = metric_values(ok_rows, metrics)
    records = []
    for (detector, scorer), group in cells.groupby(KEY, sort=True):
        mine = ok_rows[(ok_rows["detector"] == detector) & (ok_rows["scorer"] == scorer)]
        per_seed = values.loc[mine.index, ranked].groupby(mine["seed"]).mean()
        configs = rows.loc[(rows["detector"] == detector) & (rows["scorer"] == scorer), "config"]
        records.append(
            {
                "detector": detector,
                "scorer": scorer,
                **{f"mean_{m.name}": group[f"{m.name}_mean"].mean() for m in metrics},
                "seed_std": per_seed.std(ddof=1),  # spread of the seeds' mean of rank_by
                "n_tasks_scored": int(group[f"{ranked}_mean"].notna().sum()),
                "n_tasks": n_tasks,
                "avg_rank": group["rank"].mean(),
                "fit_seconds": mine["fit_seconds"].mean(),
                "train_images_per_s": mine["train_images_per_s"].mean(),
                "parameters": mine["parameters"].median(),
                "status": _row_status(group["status"]),
                "settings": sorted({_settings(c) for c in configs}),
                "input_shapes": sorted({_shape(c) for c in configs}),
            }
        )
    summary = pd.DataFrame(records)
    summary["_unscored"] = summary[f"mean_{ranked}"].isna()
    return (
        summary.sort_values(
            ["avg_rank", "_unscored", f"mean_{ranked}", "detector", "scorer"],
            ascending=[True, True, not metrics[0].higher_is_better, True, True],
        )
        .drop(columns="_unscored")
        .reset_index(drop=True)
    )


def _row_status(statuses: pd.Series) -> str:
    """ok when every task has a result; otherwise what went wrong most broadly."""
    present = set(statuses)
    if present <= {OK}:
        return OK
    if present & {OK, PARTIAL}:
        return PARTIAL
    if present == {DIVERGED}:
        return DIVERGED
    return FAILED if present & {FAILED, DIVERGED} else MISSING


def _unique(series: pd.Series) -> list[str]:
    return sorted({str(v) for v in series.dropna()})


def _provenance(rows: pd.DataFrame) -> dict[str, Any]:
    devices = rows[["device_name", "device"]].fillna("unknown").drop_duplicates()
    return {
        "n_results": len(rows),
        "suites": _unique(rows["suite"]),
        "n_without_suite": int(rows["suite"].isna().sum()),
        "git_commits": _unique(rows["git_commit"]),
        "devices": sorted(f"{name} ({kind})" for name, kind in devices.itertuples(index=False)),
        "first_started_at": min(_unique(rows["started_at"]), default=None),
        "last_finished_at": max(_unique(rows["finished_at"]), default=None),
        "seeds": sorted(int(s) for s in rows["seed"].unique()),
        # What makes rows reproduce bit for bit besides their config (bench compare reads them).
        "torch_threads": sorted({str(v.get("torch_threads")) for v in rows["versions"]}),
        "torch_versions": _unique(rows["torch_version"]),
        "cpus": sorted({v["cpu"] for v in rows["versions"] if "cpu" in v}),
        "n_without_cpu": int(sum("cpu" not in v for v in rows["versions"])),
        "data_caps": sorted(
            {_caps(config) for config in rows["config"]}, key=lambda caps: (caps is None, caps)
        ),
    }


def _caps(config: dict[str, Any]) -> str | None:
    """How a reduced run capped the data ("300 train / 1000 test images per task"), or None."""
    train, test = config.get("max_train"), config.get("max_test")
    if train is None and test is None:
        return None
    return f"{train or 'all'} train / {test or 'all'} test images per task (fixed subsample)"


def plot_seed(lb: Leaderboard) -> int | None:
    """The seed per-seed plots show: the smallest seed with any ok result."""
    ok = lb.rows.loc[lb.rows["status"] == OK, "seed"]
    return None if ok.empty else int(ok.min())


def is_number(value: Any) -> bool:
    return value is not None and not (isinstance(value, float) and np.isnan(value))
