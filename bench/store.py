"""The results store: one SQLite file, one transaction per finished job.

Committing each job on its own means a run killed at any point (even with SIGKILL) keeps every
job that finished. ``PRAGMA user_version`` carries the schema version; :func:`read_results`
returns a pandas DataFrame for analysis.
"""

from __future__ import annotations

import io
import json
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pandas as pd

from bench.errors import BenchError
from bench.results import FAILED, JobResult

SCHEMA_VERSION = 1
DEFAULT_STORE = Path("results") / "bench.sqlite"

_COLUMNS = {
    "detector": "TEXT NOT NULL",
    "scorer": "TEXT NOT NULL",
    "dataset": "TEXT NOT NULL",
    "task": "TEXT NOT NULL",
    "seed": "INTEGER NOT NULL",
    "status": "TEXT NOT NULL",
    "error": "TEXT",
    "auroc": "REAL",
    "auprc": "REAL",
    "fpr95": "REAL",
    "metrics": "TEXT NOT NULL",
    "fit_seconds": "REAL",
    "score_seconds": "REAL",
    "train_images_per_s": "REAL",
    "score_images_per_s": "REAL",
    "n_train": "INTEGER",
    "n_test": "INTEGER",
    "parameters": "INTEGER",
    "labelled_fraction": "REAL NOT NULL",
    "config_hash": "TEXT NOT NULL",
    "config": "TEXT NOT NULL",
    "device": "TEXT",
    "device_name": "TEXT",
    "torch_version": "TEXT",
    "cuda_version": "TEXT",
    "versions": "TEXT NOT NULL",
    "git_commit": "TEXT",
    "suite": "TEXT",
    "started_at": "TEXT",
    "finished_at": "TEXT",
}

_SCHEMA = f"""
CREATE TABLE IF NOT EXISTS results (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    {", ".join(f"{name} {kind}" for name, kind in _COLUMNS.items())},
    UNIQUE (config_hash, seed)
);
CREATE TABLE IF NOT EXISTS arrays (
    result_id INTEGER NOT NULL REFERENCES results(id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    data BLOB NOT NULL,
    PRIMARY KEY (result_id, name)
);
"""


class StoreError(BenchError, RuntimeError):
    """The store file is not one this version of anomaly-bench can read."""


class MissingStoreError(StoreError, FileNotFoundError):
    """No store at the path given: nothing has been run into it yet."""


def _pack(array: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, array, allow_pickle=False)
    return buffer.getvalue()


def _unpack(blob: bytes) -> np.ndarray:
    return np.load(io.BytesIO(blob), allow_pickle=False)


class ResultStore:
    def __init__(self, path: str | Path = DEFAULT_STORE) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.conn = sqlite3.connect(self.path, isolation_level=None)  # explicit transactions
        self.conn.execute("PRAGMA foreign_keys = ON")
        self.conn.execute("PRAGMA journal_mode = WAL")
        version = self.conn.execute("PRAGMA user_version").fetchone()[0]
        if version == 0:
            self.conn.executescript(_SCHEMA + f"PRAGMA user_version = {SCHEMA_VERSION};")
        elif version != SCHEMA_VERSION:
            raise StoreError(
                f"{self.path} has schema version {version}; this anomaly-bench reads version "
                f"{SCHEMA_VERSION}"
            )

    def close(self) -> None:
        self.conn.close()

    def __enter__(self) -> ResultStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def completed_keys(self) -> set[tuple[str, int]]:
        """(config hash, seed) of stored jobs that need no rerun: everything but failures."""
        rows = self.conn.execute(
            "SELECT config_hash, seed FROM results WHERE status != ?", (FAILED,)
        )
        return {(h, s) for h, s in rows}

    def add(self, result: JobResult) -> int:
        """Store one result in its own transaction, replacing an earlier row of the same job."""
        values = {
            **{name: getattr(result, name, None) for name in _COLUMNS},
            "auroc": result.metrics.get("auroc"),
            "auprc": result.metrics.get("auprc"),
            "fpr95": result.metrics.get("fpr95"),
            "metrics": json.dumps(result.metrics, sort_keys=True),
            "config": json.dumps(result.config, sort_keys=True, default=str),
            "versions": json.dumps(result.versions, sort_keys=True),
        }
        arrays = {"scores": result.scores, "labels": result.labels}
        arrays.update({f"example_{k}": v for k, v in (result.examples or {}).items()})
        names = ", ".join(values)
        marks = ", ".join("?" for _ in values)
        with self._transaction():
            self.conn.execute(
                "DELETE FROM results WHERE config_hash = ? AND seed = ?",
                (result.config_hash, result.seed),
            )
            cursor = self.conn.execute(
                f"INSERT INTO results ({names}) VALUES ({marks})", tuple(values.values())
            )
            row_id = int(cursor.lastrowid)
            self.conn.executemany(
                "INSERT INTO arrays (result_id, name, data) VALUES (?, ?, ?)",
                [(row_id, k, _pack(np.asarray(v))) for k, v in arrays.items() if v is not None],
            )
        return row_id

    @contextmanager
    def _transaction(self) -> Iterator[None]:
        self.conn.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            self.conn.execute("ROLLBACK")
            raise
        self.conn.execute("COMMIT")

    def arrays(self, result_id: int) -> dict[str, np.ndarray]:
        rows = self.conn.execute("SELECT name, data FROM arrays WHERE result_id = ?", (result_id,))
        return {name: _unpack(data) for name, data in rows}

    def dataframe(self) -> pd.DataFrame:
        return read_results(self.path, conn=self.conn)


def read_results(path: str | Path, conn: sqlite3.Connection | None = None) -> pd.DataFrame:
    """Every stored result as a DataFrame (JSON columns decoded), ordered by insertion."""
    own = conn is None
    if own:
        if not Path(path).exists():
            raise MissingStoreError(f"no results store at {path}; run `bench run` first")
        conn = sqlite3.connect(path)
    try:
        frame = pd.read_sql_query("SELECT * FROM results ORDER BY id", conn)
    finally:
        if own:
            conn.close()
    for column in ("metrics", "config", "versions"):
        frame[column] = frame[column].map(json.loads)
    return frame
