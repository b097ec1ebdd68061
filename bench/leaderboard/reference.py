"""Published results from papers, kept in a data file so that numbers are never edited in code."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path

from bench.leaderboard import LeaderboardError


@dataclass(frozen=True)
class ReferenceRow:
    """One method's published per-class AUROC on one dataset (as a fraction, like ours)."""

    method: str
    dataset: str
    source: str
    read_from: str
    auroc: dict[str, float]

    @property
    def mean_auroc(self) -> float:
        return sum(self.auroc.values()) / len(self.auroc)


def load_reference(path: Path | None) -> list[ReferenceRow]:
    """The rows of a reference TOML file (see leaderboards/reference.toml); none without one."""
    if path is None or not path.exists():
        return []
    try:
        data = tomllib.loads(path.read_text())
    except tomllib.TOMLDecodeError as exc:
        raise LeaderboardError(f"reference file {path} is not valid TOML: {exc}") from None
    rows = []
    for entry in data.get("rows", []):
        try:
            rows.append(
                ReferenceRow(
                    method=str(entry["method"]),
                    dataset=str(entry["dataset"]),
                    source=str(entry["source"]),
                    read_from=str(entry["read_from"]),
                    auroc={str(k): float(v) / 100 for k, v in entry["auroc_percent"].items()},
                )
            )
        except KeyError as exc:
            raise LeaderboardError(f"{path}: a [[rows]] entry lacks {exc}") from None
    return sorted(rows, key=lambda r: (r.dataset, r.method))
