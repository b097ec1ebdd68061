"""A store cut down to what ``bench leaderboard`` draws from it, for committing beside the
boards: every result row of the chosen datasets (so tables, provenance and ``bench compare``
see the same rows), but stored arrays only for the rows the figures draw (the plot seed's ok
rows: scores, labels, example images). Other seeds' scores are what a store is mostly made of
and no board shows them.

Several stores merge into one export the way ``bench run`` would have filled one store: rows
rerun into a store of their own (a fixed detector's seeds) replace the same jobs' rows of the
board's export without copying rows by hand."""

from __future__ import annotations

import os
from collections.abc import Sequence
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from bench.leaderboard import LeaderboardError
from bench.leaderboard.build import drawn_rows, metric_directions
from bench.leaderboard.tables import build_all
from bench.store import ResultStore, StoreError, write_subset


@dataclass(frozen=True)
class Trimmed:
    rows: int
    rows_with_arrays: int
    bytes: int
    replaced: int  # rows of an earlier store that a later store's row of the same job replaced


def _check_target(stores: Sequence[Path], out: Path) -> None:
    """Replace only a results store, and never a store being read."""
    if out.exists() and any(out.resolve() == store.resolve() for store in stores):
        raise LeaderboardError(f"--out {out} is a store being exported; name another file")
    if out.is_dir():
        raise LeaderboardError(f"--out {out} is a folder; name the .sqlite file to write")
    if out.exists():
        try:
            ResultStore(out, readonly=True).close()
        except StoreError:
            raise LeaderboardError(
                f"--out {out} exists and is not a results store; it was left untouched"
            ) from None


def _stacked_rows(sources: Sequence[ResultStore], directions: Sequence[str]) -> pd.DataFrame:
    """Every row of ``sources`` numbered as if each store's rows had been stored after the one
    before's: the first store's rows keep their ids, a later store's follow the highest id so
    far, in their own order. ``source`` and ``source_id`` say where each row is read from."""
    frames, last_id = [], 0
    for index, source in enumerate(sources):
        frame = source.dataframe(directions).sort_values("id")
        frame.insert(0, "source", index)
        frame.insert(1, "source_id", frame["id"].astype(int))
        if index:
            frame["id"] = range(last_id + 1, last_id + 1 + len(frame))
        last_id = max([last_id, *frame["id"].astype(int)])
        frames.append(frame)
    return pd.concat(frames, ignore_index=True)


def trim_store(stores: Sequence[Path], out: Path, datasets: Sequence[str] = ()) -> Trimmed:
    """Write the trimmed merge of ``stores``, rows of ``datasets`` only (all when empty), to
    ``out``, atomically. Of two rows of one job (configuration hash and seed) the later one
    stays, as :meth:`ResultStore.add` keeps it."""
    _check_target(stores, out)
    with ExitStack() as opened:
        sources = [opened.enter_context(ResultStore(s, readonly=True)) for s in stores]
        directions = metric_directions()
        frame = _stacked_rows(sources, directions)
        unknown = sorted(set(datasets) - set(frame["dataset"]))
        if unknown:
            have = ", ".join(sorted(set(frame["dataset"]))) or "none"
            missing = ", ".join(unknown)
            where = (
                str(stores[0])
                if len(stores) == 1
                else f"the merge of {', '.join(map(str, stores))}"
            )
            raise LeaderboardError(f"{where} has no results for {missing}; it has {have}")
        if datasets:
            frame = frame[frame["dataset"].isin(datasets)]
        stacked = len(frame)
        frame = frame.drop_duplicates(["config_hash", "seed"], keep="last")
        boards = build_all(frame.drop(columns=["source", "source_id"]), directions)
        drawn = {int(i) for lb in boards.values() for i in drawn_rows(lb)["id"]}
        partial = out.with_name(out.name + ".partial")
        partial.unlink(missing_ok=True)
        out.parent.mkdir(parents=True, exist_ok=True)
        rows = [
            (sources[int(r.source)], int(r.source_id), int(r.id))
            for r in frame[["source", "source_id", "id"]].itertuples()
        ]
        try:
            write_subset(partial, rows, drawn)
        except BaseException:
            partial.unlink(missing_ok=True)  # a full disk or Ctrl-C leaves no half file
            raise
    os.replace(partial, out)
    return Trimmed(len(frame), len(drawn), out.stat().st_size, stacked - len(frame))
