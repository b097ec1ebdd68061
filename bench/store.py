"""The results store: one SQLite file, one transaction per finished job.

Committing each job on its own means a run killed at any point (even with SIGKILL) keeps every
job that finished. ``PRAGMA user_version`` carries the schema version; :func:`read_results`
returns a pandas DataFrame for analysis.

A file is checked before anything is written to it: one that is not ours (another program's
SQLite file, a truncated or non-SQLite file) is refused in one line and left untouched, a
version 1 store is upgraded in place in one transaction, and a read-only open (what
:func:`read_results` uses) changes nothing and works on read-only media.

Schema version 2 keeps every metric only in the ``metrics`` JSON column (version 1 also copied
AUROC, AUPRC and FPR95 into columns of their own, so a plugin's metric was second-class) and
adds the steady-state and per-CPU-second training throughputs. Version 3 adds
``fitted_hparams``: the hyperparameters a detector trained with, after it filled in those it
derives at fit (e.g. deep_svdd's epochs and batch size follow the input shape, so ``config``
holds ``null`` for them); older rows keep it NULL.

It is longer than the project's ~250-line guide because opening, checking, migrating, writing
with lock retries and reading read-only all act on the same connection and schema; split up,
each part would have to re-derive which file state it may touch.
"""

from __future__ import annotations

import io
import json
import logging
import sqlite3
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pandas as pd

from bench.errors import BenchError
from bench.results import FAILED, JobResult

log = logging.getLogger("bench.store")

SCHEMA_VERSION = 3
DEFAULT_STORE = Path("results") / "bench.sqlite"
# How long one attempt waits for another writer's lock. With SQLite's default of 5 s, a lock
# held longer made add() raise and the finished job was lost; now add() says so after each
# wait and tries again, for as long as it takes. 15 s, not more: SQLite's wait does not see
# Ctrl-C, so this is also how long an interrupt may take to land.
LOCK_TIMEOUT_S = 15.0

_COLUMNS = {
    "detector": "TEXT NOT NULL",
    "scorer": "TEXT NOT NULL",
    "dataset": "TEXT NOT NULL",
    "task": "TEXT NOT NULL",
    "seed": "INTEGER NOT NULL",
    "status": "TEXT NOT NULL",
    "error": "TEXT",
    "metrics": "TEXT NOT NULL",
    "fit_seconds": "REAL",
    "score_seconds": "REAL",
    "train_images_per_s": "REAL",
    "score_images_per_s": "REAL",
    "steady_images_per_s": "REAL",  # training, after the first epoch
    "cpu_images_per_s": "REAL",  # training images per CPU-second of the process
    "n_train": "INTEGER",
    "n_test": "INTEGER",
    "parameters": "INTEGER",
    "labelled_fraction": "REAL NOT NULL",
    "config_hash": "TEXT NOT NULL",
    "config": "TEXT NOT NULL",
    "fitted_hparams": "TEXT",  # JSON; NULL before schema 3 and for jobs that failed in fit
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
_V1_METRIC_COLUMNS = ("auroc", "auprc", "fpr95")
_V2_NEW_COLUMNS = ("steady_images_per_s", "cpu_images_per_s")
_V3_NEW_COLUMNS = ("fitted_hparams",)
# Columns each version adds, in order: an upgrade adds those of every later version.
_NEW_COLUMNS = {2: _V2_NEW_COLUMNS, 3: _V3_NEW_COLUMNS}
_RESULT_COLUMNS = {
    3: {"id", *_COLUMNS},
    2: {"id", *(set(_COLUMNS) - set(_V3_NEW_COLUMNS))},
    1: {"id", *_V1_METRIC_COLUMNS, *(set(_COLUMNS) - {*_V2_NEW_COLUMNS, *_V3_NEW_COLUMNS})},
}
_ARRAY_COLUMNS = {"result_id", "name", "data"}

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
    """The store file is not one this version of anomaly-bench can read or write."""


class MissingStoreError(StoreError, FileNotFoundError):
    """No store at the path given: nothing has been run into it yet."""


def _pack(array: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, array, allow_pickle=False)
    return buffer.getvalue()


def _unpack(blob: bytes) -> np.ndarray:
    return np.load(io.BytesIO(blob), allow_pickle=False)


def _code(exc: sqlite3.Error) -> str:
    return getattr(exc, "sqlite_errorname", "") or ""


def _is_locked(exc: sqlite3.Error) -> bool:
    return _code(exc).startswith(("SQLITE_BUSY", "SQLITE_LOCKED")) or "locked" in str(exc)


def _store_error(path: Path, exc: sqlite3.Error, doing: str) -> StoreError:
    """One line for what SQLite said, in the user's terms."""
    code = _code(exc)
    if code.startswith("SQLITE_FULL"):
        why = "the disk is full; free some space"
    elif code.startswith("SQLITE_READONLY") or code.startswith("SQLITE_CANTOPEN"):
        why = f"the file or its folder is not writable ({exc}); pass --store on writable media"
    elif code.startswith(("SQLITE_NOTADB", "SQLITE_CORRUPT")):
        why = f"not a readable results store ({exc}); pass another --store"
    elif _is_locked(exc):
        why = f"another process holds its lock ({exc}); try again when it has finished"
    else:
        why = str(exc)
    return StoreError(f"{path}: {doing} failed: {why}")


@contextmanager
def _sqlite_errors(path: Path, doing: str) -> Iterator[None]:
    try:
        yield
    except sqlite3.Error as exc:
        raise _store_error(path, exc, doing) from None


def _connect_readonly(path: Path) -> sqlite3.Connection:
    """A connection that cannot write, even the WAL index: on read-only media a WAL-mode
    database does not open with ``mode=ro`` (it needs to create ``-shm``), so fall back to
    ``immutable=1``, which reads the file as it is."""
    uri = path.resolve().as_uri()
    conn = sqlite3.connect(f"{uri}?mode=ro", uri=True, timeout=LOCK_TIMEOUT_S)
    try:
        conn.execute("PRAGMA schema_version").fetchone()
        return conn
    except sqlite3.OperationalError as exc:
        conn.close()
        if not _code(exc).startswith("SQLITE_CANTOPEN"):
            raise
    return sqlite3.connect(f"{uri}?immutable=1", uri=True)


def _schema_version(conn: sqlite3.Connection, path: Path) -> int:
    """0 for an empty file, else the version of a store we can read; refuses anything else.

    Only reads: a file that is not ours must leave as it came.
    """
    version = conn.execute("PRAGMA user_version").fetchone()[0]
    tables = {
        name: {row[1] for row in conn.execute(f'PRAGMA table_info("{name}")')}
        for (name,) in conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
        )
    }
    if version == 0 and not tables:
        return 0
    if version > SCHEMA_VERSION:
        raise StoreError(
            f"{path} has schema version {version}; this anomaly-bench reads versions up to "
            f"{SCHEMA_VERSION}: upgrade anomaly-bench"
        )
    expected = {"results": _RESULT_COLUMNS.get(version), "arrays": _ARRAY_COLUMNS}
    if tables != expected:
        raise StoreError(
            f"{path} is not an anomaly-bench results store (schema version {version}, tables "
            f"{', '.join(sorted(tables)) or 'none'}); it was left untouched, pass another --store"
        )
    return version


class ResultStore:
    """The results of every finished job. ``readonly=True`` opens an existing store without
    writing anything to it (no upgrade, no WAL switch), for reading only."""

    def __init__(self, path: str | Path = DEFAULT_STORE, readonly: bool = False) -> None:
        self.path = Path(path)
        self.readonly = readonly
        if self.path.is_dir():
            raise StoreError(f"{self.path} is a folder; a results store is one SQLite file")
        if readonly and not self.path.is_file():
            raise MissingStoreError(f"no results store at {self.path}; run `bench run` first")
        if not readonly:
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise StoreError(f"cannot create {self.path.parent}: {exc.strerror}") from None
        with _sqlite_errors(self.path, "opening the store"):
            if readonly:
                self.conn = _connect_readonly(self.path)
            else:  # autocommit: transactions are explicit
                self.conn = sqlite3.connect(self.path, timeout=LOCK_TIMEOUT_S, isolation_level=None)
            try:
                self.version = _schema_version(self.conn, self.path)
                if not readonly:
                    self._prepare()
            except BaseException:
                self.conn.close()
                raise
        if readonly and self.version == 0:
            self.conn.close()
            raise StoreError(f"{self.path} is an empty file, not a results store")

    def _prepare(self) -> None:
        """Make the (checked) file a current store: create, or upgrade, then switch to WAL."""
        self.conn.execute("PRAGMA foreign_keys = ON")
        if self.version == 0:
            self.conn.executescript(
                f"BEGIN IMMEDIATE; {_SCHEMA} PRAGMA user_version = {SCHEMA_VERSION}; COMMIT;"
            )
        elif self.version < SCHEMA_VERSION:
            self._upgrade()
        self.version = SCHEMA_VERSION
        self.conn.execute("PRAGMA journal_mode = WAL")

    def _upgrade(self) -> None:
        """Bring an older store to the current schema in one transaction (a crash leaves it as
        it was): drop v1's copies of three metrics (the ``metrics`` JSON holds the same values),
        then add each later version's columns, NULL in the rows already there."""
        with self._transaction():
            version = self.conn.execute("PRAGMA user_version").fetchone()[0]
            if version == SCHEMA_VERSION:
                return  # another process upgraded it while we waited for the lock
            if version == 1:
                for name in _V1_METRIC_COLUMNS:
                    self.conn.execute(f"ALTER TABLE results DROP COLUMN {name}")
            for added in range(version + 1, SCHEMA_VERSION + 1):
                for name in _NEW_COLUMNS[added]:
                    self.conn.execute(f"ALTER TABLE results ADD COLUMN {name} {_COLUMNS[name]}")
            self.conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
        log.info("%s upgraded from schema version %d to %d", self.path, version, SCHEMA_VERSION)

    def close(self) -> None:
        self.conn.close()

    def __enter__(self) -> ResultStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def completed_keys(self) -> set[tuple[str, int]]:
        """(config hash, seed) of stored jobs that need no rerun: everything but failures."""
        with _sqlite_errors(self.path, "reading the stored jobs"):
            rows = self.conn.execute(
                "SELECT config_hash, seed FROM results WHERE status != ?", (FAILED,)
            ).fetchall()
        return {(h, s) for h, s in rows}

    def add(self, result: JobResult) -> int:
        """Store one result in its own transaction, replacing an earlier row of the same job.

        While another writer holds the lock, wait and try again for as long as it takes,
        saying so on screen: the result is in memory and a trained model is worth the wait.
        """
        job = f"{result.detector}/{result.scorer} on {result.dataset} {result.task}"
        job += f" seed {result.seed}"
        if self.readonly:
            raise StoreError(f"{self.path} was opened read-only; cannot store {job}")
        values = {
            **{name: getattr(result, name, None) for name in _COLUMNS},
            "metrics": json.dumps(result.metrics, sort_keys=True),
            "config": json.dumps(result.config, sort_keys=True, default=str),
            "fitted_hparams": None
            if result.fitted_hparams is None
            else json.dumps(result.fitted_hparams, sort_keys=True, default=str),
            "versions": json.dumps(result.versions, sort_keys=True),
        }
        arrays = {"scores": result.scores, "labels": result.labels}
        arrays.update({f"example_{k}": v for k, v in (result.examples or {}).items()})
        packed = [(k, _pack(np.asarray(v))) for k, v in arrays.items() if v is not None]
        while True:
            try:
                return self._insert(values, packed, result)
            except sqlite3.Error as exc:
                if not _is_locked(exc):
                    raise _store_error(self.path, exc, f"storing {job}") from None
                log.warning(
                    "%s is locked by another writer (waited %.0f s); the result of %s is kept "
                    "in memory, trying again",
                    self.path,
                    LOCK_TIMEOUT_S,
                    job,
                )

    def _insert(
        self, values: dict[str, object], arrays: list[tuple[str, bytes]], result: JobResult
    ) -> int:
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
                [(row_id, name, data) for name, data in arrays],
            )
        return row_id

    @contextmanager
    def _transaction(self) -> Iterator[None]:
        self.conn.execute("BEGIN IMMEDIATE")
        try:
            yield
            self.conn.execute("COMMIT")  # inside: a failed commit rolls back too
        except BaseException:
            if self.conn.in_transaction:  # SQLite rolls back by itself on some errors (full)
                self.conn.execute("ROLLBACK")
            raise

    def arrays(self, result_id: int) -> dict[str, np.ndarray]:
        with _sqlite_errors(self.path, "reading stored arrays"):
            rows = self.conn.execute(
                "SELECT name, data FROM arrays WHERE result_id = ?", (result_id,)
            ).fetchall()
        return {name: _unpack(data) for name, data in rows}

    def dataframe(self, metric_names: Iterable[str] = ()) -> pd.DataFrame:
        """Every stored result, ordered by insertion, JSON columns decoded, and one column per
        metric (from the ``metrics`` JSON) next to it. A metric named like a stored column
        stays only in ``metrics``. ``metric_names`` (e.g. the registered metrics) get a column
        even when no row has them, so code reading ``frame.auroc`` works on any store."""
        with _sqlite_errors(self.path, "reading the results"):
            frame = pd.read_sql_query("SELECT * FROM results ORDER BY id", self.conn)
        if self.version == 1:  # read-only: show an older store as the current schema would
            frame = frame.drop(columns=list(_V1_METRIC_COLUMNS))
        for added in range(self.version + 1, SCHEMA_VERSION + 1):
            for name in _NEW_COLUMNS[added]:
                frame[name] = np.nan
        for column in ("metrics", "config", "versions"):
            frame[column] = frame[column].map(json.loads)
        frame["fitted_hparams"] = frame["fitted_hparams"].map(  # NULL reads as None or NaN
            lambda text: json.loads(text) if isinstance(text, str) else None
        )
        metrics = frame["metrics"].tolist()
        names = sorted({name for row in metrics for name in row} | set(metric_names))
        at = frame.columns.get_loc("metrics")
        for name in (n for n in names if n not in frame.columns):
            values = [row.get(name) for row in metrics]
            frame.insert(at, name, np.array([np.nan if v is None else v for v in values], float))
            at += 1
        return frame


def read_results(path: str | Path, metric_names: Iterable[str] = ()) -> pd.DataFrame:
    """Every stored result as a DataFrame (see :meth:`ResultStore.dataframe`), read without
    writing anything, so stores on read-only media can be read too."""
    with ResultStore(path, readonly=True) as store:
        return store.dataframe(metric_names)


def _select_current_columns(source: ResultStore) -> str:
    """The current schema's result columns as ``source`` can give them: NULL for those an
    older store lacks."""
    present = {row[1] for row in source.conn.execute("PRAGMA table_info(results)")}
    return ", ".join(name if name in present else "NULL" for name in _COLUMNS)


def write_subset(
    dest: Path, rows: Iterable[tuple[ResultStore, int, int]], array_ids: Iterable[int]
) -> None:
    """A new store at ``dest`` (which must not exist) with the given rows, each a (source store,
    its id there, its id in ``dest``): ids order replacements, so a row keeps its place. Only
    the arrays of the ``dest`` ids in ``array_ids`` are copied. Rollback journal instead of WAL
    and VACUUMed, so it is one small self-contained file that can be committed and read from
    read-only media."""
    names = ["id", *_COLUMNS]
    keep = set(array_ids)
    selects: dict[ResultStore, str] = {}
    with _sqlite_errors(dest, "writing the export"):
        conn = sqlite3.connect(dest, isolation_level=None)
        try:
            conn.executescript(f"BEGIN; {_SCHEMA} PRAGMA user_version = {SCHEMA_VERSION};")
            for source, source_id, dest_id in sorted(rows, key=lambda row: row[2]):
                if source not in selects:
                    selects[source] = _select_current_columns(source)
                values = source.conn.execute(
                    f"SELECT {selects[source]} FROM results WHERE id = ?", (source_id,)
                ).fetchone()
                conn.execute(
                    f"INSERT INTO results ({', '.join(names)}) "
                    f"VALUES ({', '.join('?' for _ in names)})",
                    (dest_id, *values),
                )
                if dest_id in keep:
                    conn.executemany(
                        "INSERT INTO arrays (result_id, name, data) VALUES (?, ?, ?)",
                        source.conn.execute(
                            "SELECT ?, name, data FROM arrays WHERE result_id = ? ORDER BY name",
                            (dest_id, source_id),
                        ),
                    )
            conn.execute("COMMIT")
            conn.execute("VACUUM")
        finally:
            conn.close()
