"""Machine-readable leaderboards: the JSON that ``bench compare`` reads and a tidy CSV.

Floats are rounded to 6 decimals and keys sorted, so the same store gives byte-identical files.
"""

from __future__ import annotations

import json
from typing import Any

import pandas as pd

from bench.leaderboard.tables import Leaderboard, cells_of, is_number

JSON_SCHEMA = 2  # 2: a mean_<metric> per row and <metric>_mean/_std per cell for every metric
_CELL_TIMES = ["rank", "fit_seconds", "train_images_per_s", "score_images_per_s"]
_ROW_TIMES = ["seed_std", "avg_rank", "fit_seconds", "train_images_per_s"]


def _cell_numbers(lb: Leaderboard) -> list[str]:
    return [f"{m.name}_{s}" for m in lb.metrics for s in ("mean", "std")] + _CELL_TIMES


def _row_numbers(lb: Leaderboard) -> list[str]:
    return [f"mean_{m.name}" for m in lb.metrics] + _ROW_TIMES


def csv_columns(lb: Leaderboard) -> list[str]:
    return ["detector", "scorer", "task", "status", "n_seeds", "n_ok", *_cell_numbers(lb),
            "parameters", "errors"]  # fmt: skip


def _num(value: Any) -> float | None:
    return round(float(value), 6) if is_number(value) else None


def _int(value: Any) -> int | None:
    return int(round(float(value))) if is_number(value) else None


def leaderboard_dict(lb: Leaderboard) -> dict[str, Any]:
    """Per detector/scorer row: summary numbers and, per task, mean/std AUROC, seeds, status."""
    rows = []
    for row in lb.summary.to_dict("records"):
        mine = cells_of(lb, row["detector"], row["scorer"])
        tasks = {
            cell["task"]: {
                "status": cell["status"],
                "n_seeds": int(cell["n_seeds"]),
                "n_ok": int(cell["n_ok"]),
                "parameters": _int(cell["parameters"]),
                "errors": cell["errors"],
                **{name: _num(cell[name]) for name in _cell_numbers(lb)},
            }
            for cell in mine.to_dict("records")
        }
        rows.append(
            {
                "detector": row["detector"],
                "scorer": row["scorer"],
                "status": row["status"],
                "n_tasks": int(row["n_tasks"]),
                "n_tasks_scored": int(row["n_tasks_scored"]),
                "parameters": _int(row["parameters"]),
                "settings": [json.loads(s) for s in row["settings"]],
                "input_shapes": list(row["input_shapes"]),
                "tasks": tasks,
                **{name: _num(row[name]) for name in _row_numbers(lb)},
            }
        )
    return {
        "schema": JSON_SCHEMA,
        "dataset": lb.dataset,
        "tasks": lb.tasks,
        "metrics": [{"name": m.name, "higher_is_better": m.higher_is_better} for m in lb.metrics],
        "rank_by": lb.rank_by,
        "provenance": lb.provenance,
        "rows": rows,
    }


def leaderboard_json(lb: Leaderboard) -> str:
    return json.dumps(leaderboard_dict(lb), indent=2, sort_keys=True) + "\n"


def cells_csv(lb: Leaderboard) -> str:
    """One line per detector x scorer x task; a row's mean of each metric and average rank are
    the means of its ``<metric>_mean`` and ``rank`` columns."""
    frame = lb.cells.copy()
    frame["errors"] = [
        "; ".join(f"seed {e['seed']} {e['status']}: {e['error']}" for e in errors)
        for errors in frame["errors"]
    ]
    frame["parameters"] = frame["parameters"].round().astype("Int64")
    return pd.DataFrame(frame[csv_columns(lb)]).to_csv(
        index=False, float_format="%.6g", lineterminator="\n"
    )
