"""A store cut down to what ``bench leaderboard`` draws from it, for committing beside the
boards: every result row of the chosen datasets (so tables, provenance and ``bench compare``
see the same rows), but stored arrays only for the rows the figures draw (the plot seed's ok
rows: scores, labels, example images). Other seeds' scores are what a store is mostly made of
and no board shows them."""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from bench.leaderboard import LeaderboardError
from bench.leaderboard.build import drawn_rows, metric_directions
from bench.leaderboard.tables import build_all
from bench.store import ResultStore, StoreError, write_subset


@dataclass(frozen=True)
class Trimmed:
    rows: int
    rows_with_arrays: int
    bytes: int


def _check_target(store: Path, out: Path) -> None:
    """Replace only a results store, and never the store being read."""
    if out.exists() and out.resolve() == store.resolve():
        raise LeaderboardError(f"--out {out} is the store being exported; name another file")
    if out.is_dir():
        raise LeaderboardError(f"--out {out} is a folder; name the .sqlite file to write")
    if out.exists():
        try:
            ResultStore(out, readonly=True).close()
        except StoreError:
            raise LeaderboardError(
                f"--out {out} exists and is not a results store; it was left untouched"
            ) from None


def trim_store(store: Path, out: Path, datasets: Sequence[str] = ()) -> Trimmed:
    """Write the trimmed store of ``datasets`` (all when empty) to ``out``, atomically."""
    _check_target(store, out)
    with ResultStore(store, readonly=True) as source:
        directions = metric_directions()
        frame = source.dataframe(directions)
        unknown = sorted(set(datasets) - set(frame["dataset"]))
        if unknown:
            have = ", ".join(sorted(set(frame["dataset"]))) or "none"
            missing = ", ".join(unknown)
            raise LeaderboardError(f"{store} has no results for {missing}; it has {have}")
        if datasets:
            frame = frame[frame["dataset"].isin(datasets)]
        boards = build_all(frame, directions)
        drawn = {int(i) for lb in boards.values() for i in drawn_rows(lb)["id"]}
        partial = out.with_name(out.name + ".partial")
        partial.unlink(missing_ok=True)
        out.parent.mkdir(parents=True, exist_ok=True)
        try:
            write_subset(source, partial, frame["id"].astype(int).tolist(), drawn)
        except BaseException:
            partial.unlink(missing_ok=True)  # a full disk or Ctrl-C leaves no half file
            raise
    os.replace(partial, out)
    return Trimmed(len(frame), len(drawn), out.stat().st_size)
