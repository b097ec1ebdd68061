"""The store refuses files that are not ours without touching them, upgrades version 1 in place,
survives another writer's long lock, and says in one line when the disk is full or read-only."""

from __future__ import annotations

import logging
import os
import shutil
import sqlite3
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pytest

from bench import store as store_module
from bench.results import JobResult
from bench.store import SCHEMA_VERSION, ResultStore, StoreError, read_results

# The version 1 schema exactly as anomaly-bench 0.1.0 (commit 80dbbaf) created it.
V1_DDL = """
CREATE TABLE results (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    detector TEXT NOT NULL, scorer TEXT NOT NULL, dataset TEXT NOT NULL, task TEXT NOT NULL,
    seed INTEGER NOT NULL, status TEXT NOT NULL, error TEXT, auroc REAL, auprc REAL,
    fpr95 REAL, metrics TEXT NOT NULL, fit_seconds REAL, score_seconds REAL,
    train_images_per_s REAL, score_images_per_s REAL, n_train INTEGER, n_test INTEGER,
    parameters INTEGER, labelled_fraction REAL NOT NULL, config_hash TEXT NOT NULL,
    config TEXT NOT NULL, device TEXT, device_name TEXT, torch_version TEXT, cuda_version TEXT,
    versions TEXT NOT NULL, git_commit TEXT, suite TEXT, started_at TEXT, finished_at TEXT,
    UNIQUE (config_hash, seed)
);
CREATE TABLE arrays (
    result_id INTEGER NOT NULL REFERENCES results(id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    data BLOB NOT NULL,
    PRIMARY KEY (result_id, name)
);
PRAGMA user_version = 1;
"""


def result(seed: int, n_scores: int = 4, **metrics: float) -> JobResult:
    return JobResult(
        detector="pca", scorer="mse", dataset="digits", task="0", seed=seed, config_hash="h",
        config={"hparams": {}}, metrics=metrics or {"auroc": 0.75},
        scores=np.linspace(0, 1, n_scores, dtype=np.float32),
        labels=(np.arange(n_scores) % 2).astype(np.int8),
    )  # fmt: skip


def one_line(exc: pytest.ExceptionInfo) -> str:
    message = str(exc.value)
    assert "\n" not in message
    return message


def snapshot(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in folder.iterdir()}


def test_a_foreign_sqlite_file_is_refused_and_left_untouched(tmp_path):
    path = tmp_path / "other.sqlite"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE results (name TEXT, score REAL)")
        conn.execute("INSERT INTO results VALUES ('theirs', 1.0)")
    conn.close()
    before = snapshot(tmp_path)
    with pytest.raises(StoreError) as caught:
        ResultStore(path)
    assert "not an anomaly-bench results store" in one_line(caught)
    assert str(path) in str(caught.value)
    assert snapshot(tmp_path) == before  # no user_version, no WAL files, no arrays table
    with pytest.raises(StoreError, match="not an anomaly-bench results store"):
        read_results(path)


def test_a_folder_is_not_a_store(tmp_path):
    with pytest.raises(StoreError, match="is a folder"):
        ResultStore(tmp_path)
    with pytest.raises(StoreError, match="is a folder"):
        read_results(tmp_path)


def test_an_empty_file_becomes_a_store(tmp_path):
    path = tmp_path / "new.sqlite"
    path.touch()
    with ResultStore(path) as store:
        store.add(result(0))
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    assert read_results(path)["auroc"].tolist() == [0.75]


@pytest.mark.parametrize("damage", ["text", "truncated", "zeroed-header"])
def test_a_corrupt_file_is_one_line(tmp_path, damage):
    path = tmp_path / "s.sqlite"
    with ResultStore(path) as store:
        for seed in range(30):
            store.add(result(seed, n_scores=500))
    data = path.read_bytes()
    broken = {
        "text": b"detector,auroc\npca,0.9\n",
        "truncated": data[: len(data) // 3],
        "zeroed-header": bytes(100) + data[100:],
    }[damage]
    path.write_bytes(broken)
    with pytest.raises(StoreError) as caught:
        with ResultStore(path) as store:
            store.dataframe()
    assert str(path) in one_line(caught)
    with pytest.raises(StoreError):
        read_results(path)
    assert path.read_bytes() == broken


def test_version_1_is_upgraded_in_place_keeping_rows_metrics_and_arrays(tmp_path):
    path = tmp_path / "v1.sqlite"
    with sqlite3.connect(path) as conn:
        conn.executescript(V1_DDL)
        conn.execute(
            "INSERT INTO results (detector, scorer, dataset, task, seed, status, auroc, auprc, "
            "fpr95, metrics, labelled_fraction, config_hash, config, versions) VALUES "
            "('pca', 'mse', 'digits', '3', 0, 'ok', 0.9, 0.8, 0.1, ?, 0, 'h', '{}', '{}')",
            ('{"auprc": 0.8, "auroc": 0.9, "fpr95": 0.1, "plugin_metric": 0.5}',),
        )
        conn.execute(
            "INSERT INTO arrays VALUES (1, 'scores', ?)", (store_module._pack(np.ones(3)),)
        )
    conn.close()
    as_v1 = read_results(path)  # read-only: readable as it is, and not upgraded
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == 1
    conn.close()

    with ResultStore(path) as store:
        assert store.arrays(1)["scores"].tolist() == [1.0, 1.0, 1.0]
        store.add(result(5))
        frame = store.dataframe()
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION == 3
        columns = {row[1] for row in conn.execute("PRAGMA table_info(results)")}
    conn.close()
    assert not columns & {"auroc", "auprc", "fpr95"}
    assert {"steady_images_per_s", "cpu_images_per_s", "fitted_hparams"} <= columns
    assert frame["task"].tolist() == ["3", "0"]
    assert frame.loc[0, ["auroc", "auprc", "fpr95", "plugin_metric"]].tolist() == [
        0.9, 0.8, 0.1, 0.5
    ]  # fmt: skip
    assert np.isnan(frame.loc[1, "plugin_metric"])
    assert as_v1.drop(columns="id").iloc[0].equals(frame.drop(columns="id").iloc[0])


def test_every_metric_is_a_column_and_throughputs_are_stored(tmp_path):
    path = tmp_path / "s.sqlite"
    row = result(0, auroc=0.6, my_metric=0.25)
    row.steady_images_per_s = 1234.5  # JobResult gains these fields with the lead's refactor
    row.cpu_images_per_s = 99.0
    with ResultStore(path) as store:
        store.add(row)
    frame = read_results(path, metric_names=["auroc", "auprc"])
    assert frame.loc[0, "my_metric"] == 0.25 and frame.loc[0, "auroc"] == 0.6
    assert np.isnan(frame.loc[0, "auprc"])  # asked for, absent: a column of NaN
    assert frame.loc[0, "steady_images_per_s"] == 1234.5
    assert frame.loc[0, "cpu_images_per_s"] == 99.0


def test_a_long_lock_is_waited_out_and_the_result_kept(tmp_path, monkeypatch, caplog):
    path = tmp_path / "s.sqlite"
    ResultStore(path).close()
    monkeypatch.setattr(store_module, "LOCK_TIMEOUT_S", 0.05)
    other = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    other.execute("BEGIN IMMEDIATE")  # another writer holding the lock for as long as it likes
    warnings: list[str] = []

    class ReleaseAfterTwoRetries(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            warnings.append(record.getMessage())
            if len(warnings) == 2:
                other.execute("COMMIT")

    handler = ReleaseAfterTwoRetries(logging.WARNING)
    logging.getLogger("bench.store").addHandler(handler)
    try:
        with ResultStore(path) as store:
            store.add(result(0))
    finally:
        logging.getLogger("bench.store").removeHandler(handler)
        other.close()
    assert len(warnings) == 2
    assert "locked by another writer" in warnings[0] and "pca/mse" in warnings[0]
    assert read_results(path)["seed"].tolist() == [0]


def test_a_full_disk_is_one_line_and_committed_rows_stay(tmp_path):
    path = tmp_path / "s.sqlite"
    with ResultStore(path) as store:
        store.add(result(0))
        pages = store.conn.execute("PRAGMA page_count").fetchone()[0]
        store.conn.execute(f"PRAGMA max_page_count = {pages}")  # SQLITE_FULL, as on a full disk
        with pytest.raises(StoreError) as caught:
            store.add(result(1, n_scores=100_000))
    assert "disk is full" in one_line(caught) and "seed 1" in str(caught.value)
    assert read_results(path)["seed"].tolist() == [0]


@contextmanager
def read_only_media(*paths: Path) -> Iterator[None]:
    """Make ``paths`` unwritable even for root: the immutable attribute where chattr works
    (tests often run as root, whom chmod does not stop), else chmod for other users."""
    chattr = shutil.which("chattr")
    if chattr and subprocess.run([chattr, "+i", *paths], capture_output=True).returncode == 0:
        try:
            yield
        finally:
            subprocess.run([chattr, "-i", *paths], check=True)
        return
    if os.geteuid() == 0:
        pytest.skip("running as root without chattr: cannot make a read-only folder")
    modes = {p: p.stat().st_mode for p in paths}
    for p in paths:
        p.chmod(0o555 if p.is_dir() else 0o444)
    try:
        yield
    finally:
        for p, mode in modes.items():
            p.chmod(mode)


def test_a_store_on_read_only_media_is_readable(tmp_path):
    folder = tmp_path / "media"
    path = folder / "s.sqlite"
    with ResultStore(path) as store:
        store.add(result(0))
        store.add(result(1))
    before = snapshot(folder)
    with read_only_media(path, folder):
        assert read_results(path)["seed"].tolist() == [0, 1]
        with ResultStore(path, readonly=True) as store:
            assert store.arrays(1)["scores"].shape == (4,)
            with pytest.raises(StoreError, match="read-only"):
                store.add(result(2))
        with pytest.raises(StoreError) as caught:
            ResultStore(path)
        assert "not writable" in one_line(caught)
    assert snapshot(folder) == before


def test_version_2_gains_fitted_hparams_null_in_its_rows(tmp_path):
    path = tmp_path / "v2.sqlite"
    with ResultStore(path) as store:
        store.add(result(0))
    with sqlite3.connect(path) as conn:  # the same store as schema version 2 wrote it
        conn.execute("ALTER TABLE results DROP COLUMN fitted_hparams")
        conn.execute("PRAGMA user_version = 2")
    conn.close()
    assert read_results(path)["fitted_hparams"].tolist() == [None]  # read-only: not upgraded

    fitted = result(1)
    fitted.fitted_hparams = {"epochs": 60, "batch_size": 32}
    with ResultStore(path) as store:
        store.add(fitted)
        frame = store.dataframe()
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    conn.close()
    assert frame["fitted_hparams"].tolist() == [None, {"batch_size": 32, "epochs": 60}]
