"""`bench export`: a store with every row but only the arrays the boards draw, from which
`bench leaderboard` rebuilds the same files byte for byte and `bench compare` reads as a store."""

from __future__ import annotations

import shutil
import sqlite3
from dataclasses import replace

import numpy as np
from click.testing import CliRunner

from bench.cli import cli
from bench.store import SCHEMA_VERSION, ResultStore, _pack, read_results
from tests.hardening.test_store_files import V1_DDL, result
from tests.leaderboard.test_leaderboard import _generate, _snapshot


def _export(store, out, *extra):
    result = CliRunner().invoke(cli, ["export", "--store", str(store), "--out", str(out), *extra])
    assert result.exit_code == 0, result.output
    return result.output


def _one_line_error(args):
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 2, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: "), result.output
    return lines[0]


def test_boards_regenerate_byte_identical_from_the_export(mixed_store, tmp_path):
    boards = tmp_path / "leaderboards"
    _generate(mixed_store, boards)
    first = _snapshot(boards)
    assert "plots/digits/cd.png" in first
    exported = tmp_path / "results" / "digits.sqlite"
    said = _export(mixed_store, exported, "--dataset", "digits")
    shutil.rmtree(boards)
    _generate(exported.parent, boards)  # a folder of stores
    assert _snapshot(boards) == first  # PNGs included

    rows, kept = read_results(mixed_store), read_results(exported)
    assert list(kept["id"]) == list(rows["id"]) and f"{len(rows)} result row(s)" in said
    with sqlite3.connect(exported) as conn:
        with_arrays = {r for (r,) in conn.execute("SELECT DISTINCT result_id FROM arrays")}
        assert conn.execute("PRAGMA journal_mode").fetchone() == ("delete",)
    drawn = rows[(rows["seed"] == rows["seed"].min()) & (rows["status"] == "ok")]
    assert with_arrays == set(drawn["id"])  # seed 1's scores are left out
    assert len(with_arrays) < len(rows)
    assert not exported.with_name(exported.name + "-wal").exists()


def test_compare_reads_the_export_as_a_store(mixed_store, tmp_path):
    exported = tmp_path / "digits.sqlite"
    _export(mixed_store, exported)
    result = CliRunner().invoke(cli, ["compare", str(mixed_store), str(exported)])
    assert result.exit_code == 0, result.output
    assert "regressed 0" in result.output and "not comparable 0" in result.output


def test_export_refuses_to_overwrite_its_store_or_another_file(mixed_store, tmp_path):
    before = mixed_store.read_bytes()
    line = _one_line_error(["export", "--store", str(mixed_store), "--out", str(mixed_store)])
    assert "is a store being exported" in line and mixed_store.read_bytes() == before
    notes = tmp_path / "notes.sqlite"
    notes.write_text("my notes\n")
    line = _one_line_error(["export", "--store", str(mixed_store), "--out", str(notes)])
    assert "exists and is not a results store" in line and notes.read_text() == "my notes\n"
    line = _one_line_error(["export", "--store", str(mixed_store), "--out",
                            str(tmp_path / "x.sqlite"), "--dataset", "mnist"])  # fmt: skip
    assert "has no results for mnist; it has digits" in line


def test_a_dataset_in_two_stores_is_refused(mixed_store, tmp_path):
    copy = tmp_path / "copy.sqlite"
    _export(mixed_store, copy)
    line = _one_line_error(["leaderboard", "--store", str(mixed_store), "--store", str(copy),
                            "--out", str(tmp_path / "lb"), "--no-plots"])  # fmt: skip
    assert "dataset digits has results in both" in line
    empty = tmp_path / "empty"
    empty.mkdir()
    line = _one_line_error(["leaderboard", "--store", str(empty), "--out", str(tmp_path / "lb")])
    assert f"{empty} is a folder with no .sqlite store in it" in line


def test_a_version_1_store_exports_as_the_current_schema(tmp_path):
    source = tmp_path / "v1.sqlite"
    with sqlite3.connect(source) as conn:
        conn.executescript(V1_DDL)
        conn.execute(
            "INSERT INTO results (detector, scorer, dataset, task, seed, status, auroc, metrics, "
            "labelled_fraction, config_hash, config, versions) VALUES "
            "('pca', 'mse', 'digits', '3', 0, 'ok', 0.9, ?, 0, 'h', '{}', '{}')",
            ('{"auroc": 0.9}',),
        )
        conn.execute("INSERT INTO arrays VALUES (1, 'scores', ?)", (_pack(np.ones(3)),))
    conn.close()
    exported = tmp_path / "out.sqlite"
    _export(source, exported)
    with ResultStore(exported, readonly=True) as store:
        assert store.version == SCHEMA_VERSION
        assert store.arrays(1)["scores"].tolist() == [1.0, 1.0, 1.0]
        frame = store.dataframe()
    assert frame["auroc"].tolist() == [0.9] and frame["steady_images_per_s"].isna().all()
    with sqlite3.connect(source) as conn:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == 1  # read, not upgraded
    conn.close()


def test_stores_merge_as_if_the_later_ones_were_run_after(tmp_path):
    board, rerun = tmp_path / "board.sqlite", tmp_path / "rerun.sqlite"
    with ResultStore(board) as store:
        store.add(result(0, auroc=0.5))
        store.add(result(1, auroc=0.6))
    with ResultStore(rerun) as store:
        store.add(replace(result(0, n_scores=6, auroc=0.9), config_hash="other"))
        store.add(result(0, n_scores=6, auroc=0.7))  # the board's seed 0, rerun
    merged = tmp_path / "merged.sqlite"
    said = _export(board, merged, "--store", str(rerun))
    assert "3 result row(s) (1 replaced by a later store's)" in said
    frame = read_results(merged)
    assert frame[["id", "config_hash", "seed", "auroc"]].values.tolist() == [
        [2, "h", 1, 0.6], [3, "other", 0, 0.9], [4, "h", 0, 0.7],
    ]  # fmt: skip
    with ResultStore(merged, readonly=True) as store:
        assert len(store.arrays(4)["scores"]) == 6  # the rerun's arrays came with its row

    _export(rerun, merged, "--store", str(board))  # the other way round, the board wins
    frame = read_results(merged)
    assert sorted(frame[["config_hash", "seed", "auroc"]].values.tolist()) == [
        ["h", 0, 0.5], ["h", 1, 0.6], ["other", 0, 0.9],
    ]  # fmt: skip
    line = _one_line_error(["export", "--store", str(board), "--store", str(rerun),
                            "--out", str(rerun)])  # fmt: skip
    assert "is a store being exported" in line
