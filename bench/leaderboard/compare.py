"""Regression checks between two leaderboards (``bench compare``).

Each side is a leaderboard JSON, a directory of them, or a results store aggregated exactly as
``bench leaderboard`` does. Per dataset, detector, scorer and task the current side regresses when

* its mean AUROC dropped by more than the tolerance (default: max(0.01, 2 x the baseline's std
  over seeds), so seed noise alone does not fail a check);
* its training throughput dropped by more than a percentage (default 15%);
* a cell whose seeds were all ok has failed, diverged, lost seeds or is missing.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.leaderboard import LeaderboardError
from bench.leaderboard.export import leaderboard_dict
from bench.leaderboard.tables import MISSING, OK, PARTIAL, build_all
from bench.store import read_results

MIN_AUROC_TOLERANCE = 0.01
STD_MULTIPLE = 2.0
DEFAULT_THROUGHPUT_TOLERANCE = 15.0  # percent
_SCORED = (OK, PARTIAL)

Board = dict[str, Any]  # one dataset's leaderboard JSON, as a dict


@dataclass(frozen=True)
class Finding:
    dataset: str
    detector: str
    scorer: str
    task: str
    check: str  # "auroc", "throughput", "status", "config", "new"
    baseline: str
    current: str
    detail: str
    regression: bool

    def describe(self) -> str:
        return f"{self.dataset} {self.detector}/{self.scorer} task {self.task} ({self.check})"


def load_boards(path: Path) -> dict[str, Board]:
    """Leaderboards by dataset from a JSON file, a directory of them, or a results store."""
    if path.is_dir():
        files = sorted(path.glob("*.json"))
        if not files:
            raise LeaderboardError(f"{path} holds no leaderboard JSON files")
        return {k: v for f in files for k, v in load_boards(f).items()}
    if path.suffix == ".json":
        try:
            board = json.loads(path.read_text())
        except FileNotFoundError:
            raise LeaderboardError(f"leaderboard file {path} does not exist") from None
        except json.JSONDecodeError as exc:
            raise LeaderboardError(f"{path} is not valid JSON: {exc}") from None
        if not isinstance(board, dict) or "dataset" not in board or "rows" not in board:
            raise LeaderboardError(f"{path} is not a leaderboard JSON (from bench leaderboard)")
        return {board["dataset"]: board}
    return {name: leaderboard_dict(lb) for name, lb in build_all(read_results(path)).items()}


def _cells(board: Board) -> dict[tuple[str, str, str], dict[str, Any]]:
    return {
        (row["detector"], row["scorer"], task): cell
        for row in board["rows"]
        for task, cell in row["tasks"].items()
    }


def _auroc(cell: dict[str, Any]) -> str:
    if cell["auroc_mean"] is None:
        return cell["status"]
    std = cell["auroc_std"]
    return f"{cell['auroc_mean']:.3f}" + ("" if std is None else f"±{std:.3f}")


def _status_regressed(base: dict[str, Any], cur: dict[str, Any] | None) -> bool:
    if base["status"] not in _SCORED:
        return False
    if cur is None or cur["status"] not in _SCORED:
        return True
    return base["status"] == OK and (cur["status"] != OK or cur["n_ok"] < base["n_ok"])


def compare_cell(
    key: tuple[str, str, str, str],
    base: dict[str, Any],
    cur: dict[str, Any] | None,
    auroc_tolerance: float | None,
    throughput_tolerance: float,
) -> list[Finding]:
    """What changed in one dataset/detector/scorer/task cell; ``cur`` None when it is gone."""
    findings = []
    if _status_regressed(base, cur):
        now = MISSING if cur is None else f"{cur['status']} ({cur['n_ok']}/{cur['n_seeds']} ok)"
        was = f"{base['status']} ({base['n_ok']}/{base['n_seeds']} ok)"
        findings.append(Finding(*key, "status", was, now, "results lost", True))
    if cur is None or base["auroc_mean"] is None or cur["auroc_mean"] is None:
        return findings
    tolerance = auroc_tolerance
    if tolerance is None:
        tolerance = max(MIN_AUROC_TOLERANCE, STD_MULTIPLE * (base["auroc_std"] or 0.0))
    drop = base["auroc_mean"] - cur["auroc_mean"]
    if abs(drop) > tolerance:
        detail = f"{-drop:+.3f} (tolerance {tolerance:.3f})"
        findings.append(Finding(*key, "auroc", _auroc(base), _auroc(cur), detail, drop > 0))
    before, after = base["train_images_per_s"], cur["train_images_per_s"]
    if before and after is not None:
        change = 100.0 * (after - before) / before
        if abs(change) > throughput_tolerance:
            detail = f"{change:+.1f}% (tolerance {throughput_tolerance:g}%)"
            was, now = f"{before:,.0f}/s", f"{after:,.0f}/s"
            findings.append(Finding(*key, "throughput", was, now, detail, change < 0))
    return findings


def _settings_changes(dataset: str, base: Board, cur: Board | None) -> list[Finding]:
    """Rows whose configuration (hyperparameters, reduced-run caps...) changed: not a
    regression in itself, but the numbers then measure something else."""
    if cur is None:
        return []
    after = {(r["detector"], r["scorer"]): r["settings"] for r in cur["rows"]}
    findings = []
    for row in base["rows"]:
        key = (row["detector"], row["scorer"])
        if key in after and after[key] != row["settings"]:
            detail = f"settings changed to {json.dumps(after[key], sort_keys=True)}"
            findings.append(Finding(dataset, *key, "all", "config", "-", "-", detail, False))
    return findings


def compare_boards(
    baseline: dict[str, Board],
    current: dict[str, Board],
    auroc_tolerance: float | None = None,
    throughput_tolerance: float = DEFAULT_THROUGHPUT_TOLERANCE,
) -> list[Finding]:
    """Every regression and notable change, for the datasets the baseline covers."""
    findings = []
    for dataset in sorted(baseline):
        base_cells = _cells(baseline[dataset])
        cur_cells = _cells(current[dataset]) if dataset in current else {}
        findings += _settings_changes(dataset, baseline[dataset], current.get(dataset))
        for key, base in base_cells.items():
            cur = cur_cells.get(key)
            findings += compare_cell(
                (dataset, *key), base, cur, auroc_tolerance, throughput_tolerance
            )
        for key in sorted(set(cur_cells) - set(base_cells)):
            cell = cur_cells[key]
            findings.append(
                Finding(dataset, *key, "new", "-", _auroc(cell), "not in the baseline", False)
            )
    return findings


def device_note(baseline: dict[str, Board], current: dict[str, Board]) -> str | None:
    """A warning when throughput is compared across different devices."""
    before = sorted({d for b in baseline.values() for d in b["provenance"]["devices"]})
    after = sorted({d for b in current.values() for d in b["provenance"]["devices"]})
    if before == after:
        return None
    return f"devices differ ({'; '.join(before)} vs {'; '.join(after)}): throughput not comparable"
