"""The SQLite results store."""

from __future__ import annotations

import sqlite3

import numpy as np
import pytest

from bench.results import JobResult
from bench.store import SCHEMA_VERSION, ResultStore, StoreError, read_results


def _result(seed: int, status: str = "ok", auroc: float = 0.9) -> JobResult:
    return JobResult(
        detector="d", scorer="mse", dataset="digits", task="0", seed=seed, config_hash="abc",
        config={"hparams": {"epochs": 1}}, status=status, metrics={"auroc": auroc},
        scores=np.arange(4, dtype=np.float32), labels=np.array([0, 1, 0, 1], np.int8),
    )  # fmt: skip


def test_rows_and_arrays_round_trip(tmp_path):
    with ResultStore(tmp_path / "s.sqlite") as store:
        row_id = store.add(_result(0))
        arrays = store.arrays(row_id)
    np.testing.assert_array_equal(arrays["scores"], np.arange(4))
    frame = read_results(tmp_path / "s.sqlite")
    assert frame.loc[0, "auroc"] == 0.9
    assert frame.loc[0, "config"] == {"hparams": {"epochs": 1}}


def test_a_job_is_stored_once(tmp_path):
    with ResultStore(tmp_path / "s.sqlite") as store:
        store.add(_result(0, status="failed", auroc=0.0))
        store.add(_result(0, auroc=0.8))
        store.add(_result(1))
        assert store.completed_keys() == {("abc", 0), ("abc", 1)}
        frame = store.dataframe()
    assert len(frame) == 2 and frame["status"].tolist() == ["ok", "ok"]
    # The replaced row's arrays went with it.
    with sqlite3.connect(tmp_path / "s.sqlite") as conn:
        assert conn.execute("SELECT COUNT(*) FROM arrays").fetchone()[0] == 4


def test_failed_jobs_are_not_counted_as_completed(tmp_path):
    with ResultStore(tmp_path / "s.sqlite") as store:
        store.add(_result(0, status="failed"))
        assert store.completed_keys() == set()


def test_schema_version_is_checked(tmp_path):
    path = tmp_path / "s.sqlite"
    ResultStore(path).close()
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
        conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    with pytest.raises(StoreError, match="schema version"):
        ResultStore(path)


def test_missing_store_is_a_clear_error(tmp_path):
    with pytest.raises(FileNotFoundError, match="bench run"):
        read_results(tmp_path / "nope.sqlite")
