"""Published results from papers, kept in a data file so that numbers are never edited in code."""

from __future__ import annotations

import tomllib
from collections.abc import Iterable
from dataclasses import dataclass, field
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
    auroc_std: dict[str, float] = field(default_factory=dict)  # only where the paper gives one
    reproduces: tuple[str, str] | None = None  # (detector, scorer) of the harness row it checks

    @property
    def mean_auroc(self) -> float | None:
        return self.mean_over(self.auroc)

    def mean_over(self, classes: Iterable[str]) -> float | None:
        """The published mean over those of ``classes`` the paper reports (None: none of them),
        so that a board of some classes is set against the paper's mean over the same ones."""
        values = [self.auroc[c] for c in classes if c in self.auroc]
        return sum(values) / len(values) if values else None


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
                    auroc=_fractions(entry["auroc_percent"]),
                    auroc_std=_fractions(entry.get("auroc_std_percent", {})),
                    reproduces=_row_key(entry.get("reproduces"), path),
                )
            )
        except KeyError as exc:
            raise LeaderboardError(f"{path}: a [[rows]] entry lacks {exc}") from None
    return sorted(rows, key=lambda r: (r.dataset, r.method))


def _fractions(percent: dict[str, float]) -> dict[str, float]:
    return {str(k): float(v) / 100 for k, v in percent.items()}


def _row_key(value: str | None, path: Path) -> tuple[str, str] | None:
    """``"deep_svdd/distance"`` -> ("deep_svdd", "distance")."""
    if value is None:
        return None
    detector, slash, scorer = str(value).partition("/")
    if not (detector and slash and scorer) or "/" in scorer:
        raise LeaderboardError(f"{path}: reproduces = {value!r} is not 'detector/scorer'")
    return detector, scorer
