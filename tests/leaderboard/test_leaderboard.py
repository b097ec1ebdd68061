"""`bench leaderboard` on a real store: deterministic files, honest failures, provenance."""

from __future__ import annotations

import json
import re
import shutil
import sqlite3
import warnings
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
from click.testing import CliRunner

from bench import environment
from bench.cli import cli
from bench.leaderboard import plots
from bench.leaderboard.reference import load_reference
from bench.runner import plan_jobs
from bench.store import read_results
from bench.suite import load_suite
from tests.leaderboard.conftest import CLASSES, SEEDS, run_into

ROOT = Path(__file__).resolve().parents[2]


def _generate(store: Path, out: Path, *extra: str) -> None:
    result = CliRunner().invoke(
        cli, ["leaderboard", "--store", str(store), "--out", str(out), *extra]
    )
    assert result.exit_code == 0, result.output


def _snapshot(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


def _table_row(markdown: str, detector: str) -> str:
    return next(line for line in markdown.splitlines() if line.startswith(f"| {detector} "))


def _cells(row: str) -> list[str]:
    return [c.strip() for c in row.strip().strip("|").split("|")]


def test_regenerating_from_the_same_store_gives_identical_files(mixed_store, tmp_path):
    out = tmp_path / "leaderboards"
    _generate(mixed_store, out)
    first = _snapshot(out)
    assert {"digits.md", "digits.csv", "digits.json", "README.md"} <= set(first)
    assert any(name.startswith("plots/digits/roc") for name in first)
    for name in ("digits.md", "digits.csv", "digits.json", "README.md"):
        (out / name).unlink()
    _generate(mixed_store, out)
    assert _snapshot(out) == first


def test_rows_stored_before_the_cpu_was_recorded_are_counted_apart(mixed_store, tmp_path):
    store = tmp_path / "older.sqlite"
    shutil.copy(mixed_store, store)
    with sqlite3.connect(store) as db:  # one row as it was stored before 2026-12-07
        db.execute("UPDATE results SET versions = json_remove(versions, '$.cpu') WHERE id = 1")
    _generate(store, tmp_path / "out", "--no-plots")
    header = (tmp_path / "out" / "digits.md").read_text()
    assert f"| CPU             | {environment.processor()}; not recorded for 1 result(s)" in header


def test_numbers_are_the_store_rows_aggregated(mixed_store, tmp_path):
    _generate(mixed_store, tmp_path, "--no-plots")
    board = json.loads((tmp_path / "digits.json").read_text())
    rows = read_results(mixed_store)
    ok = rows[rows["status"] == "ok"]
    assert board["tasks"] == CLASSES
    assert board["provenance"]["seeds"] == SEEDS
    # the CPU the rows ran on is in the header, beside the device
    assert board["provenance"]["cpus"] == [environment.processor()]
    assert f"| CPU             | {environment.processor()}" in (tmp_path / "digits.md").read_text()
    by_key = {(r["detector"], r["scorer"]): r for r in board["rows"]}
    for (detector, scorer, task), group in ok.groupby(["detector", "scorer", "task"]):
        cell = by_key[(detector, scorer)]["tasks"][task]
        assert cell["n_ok"] == len(group)
        assert abs(cell["auroc_mean"] - group["auroc"].mean()) < 1e-6
        if len(group) > 1:
            assert abs(cell["auroc_std"] - group["auroc"].std(ddof=1)) < 1e-6
        else:
            assert cell["auroc_std"] is None  # one seed: no spread to report
    ranks = [r["avg_rank"] for r in board["rows"]]
    assert ranks == sorted(ranks)
    for row in board["rows"]:
        scored = [c["auroc_mean"] for c in row["tasks"].values() if c["auroc_mean"] is not None]
        if scored:
            assert abs(row["mean_auroc"] - sum(scored) / len(scored)) < 1e-6
    csv = pd.read_csv(tmp_path / "digits.csv", dtype={"task": str})
    assert len(csv) == len(board["rows"]) * len(CLASSES)


def test_failed_diverged_and_unrun_cells_say_so(mixed_store, tmp_path):
    _generate(mixed_store, tmp_path, "--no-plots")
    markdown = (tmp_path / "digits.md").read_text()
    for detector, status, error in (
        ("exploding", "failed", "ValueError: boom during fit"),
        ("diverging", "diverged", "loss became nan"),
    ):
        row = _table_row(markdown, detector)
        task_cells = _cells(row)[2 : 2 + len(CLASSES)]
        notes = {re.fullmatch(rf"{status}\[\^(\d+)\]", c).group(1) for c in task_cells}
        assert len(notes) == 1
        assert not re.search(r"\b0\.0+\b", row), "a failure must never read as a number"
        marker = f"[^{notes.pop()}]:"
        footnote = next(line for line in markdown.splitlines() if line.startswith(marker))
        assert status in footnote and error in footnote and detector in footnote
    partly_run = _cells(_table_row(markdown, "conv_ae"))
    assert partly_run[3 : 2 + len(CLASSES)] == ["not run"] * (len(CLASSES) - 1)
    assert partly_run[2 + len(CLASSES)].endswith(f"(1/{len(CLASSES)} tasks)")
    board = json.loads((tmp_path / "digits.json").read_text())
    exploding = next(r for r in board["rows"] if r["detector"] == "exploding")
    assert exploding["status"] == "failed" and exploding["mean_auroc"] is None
    assert all(len(c["errors"]) == len(SEEDS) for c in exploding["tasks"].values())


def test_suite_is_recorded_with_results_but_not_in_the_config_hash(tmp_path):
    suite = tmp_path / "tiny.toml"
    suite.write_text('[suite]\ndataset = "digits"\ndetectors = ["pca"]\nclasses = ["3"]\n')
    spec = load_suite(suite, ["pca"])
    spec.device = "cpu"
    [job] = plan_jobs(spec)
    assert job.suite == str(suite)
    assert job.row_keys() == replace(job, suite=None).row_keys()
    store = tmp_path / "s.sqlite"
    run_into(store, spec)
    assert list(read_results(store)["suite"]) == [str(suite)]
    _generate(store, tmp_path / "out", "--no-plots")
    assert f"`{suite}`" in (tmp_path / "out" / "digits.md").read_text()
    provenance = json.loads((tmp_path / "out" / "digits.json").read_text())["provenance"]
    assert provenance["suites"] == [str(suite)] and provenance["n_without_suite"] == 0


def _digits_board_with_reference(store, tmp_path, reference_toml: str) -> str:
    """The digits board (Markdown) generated into tmp_path/out with this reference.toml."""
    reference = tmp_path / "reference.toml"
    reference.write_text(reference_toml)
    _generate(store, tmp_path / "out", "--no-plots", "--reference", str(reference))
    return (tmp_path / "out" / "digits.md").read_text()


def test_published_rows_are_shown_apart_with_their_source(mixed_store, tmp_path):
    markdown = _digits_board_with_reference(
        mixed_store,
        tmp_path,
        '[[rows]]\nmethod = "Some Paper Method"\ndataset = "digits"\n'
        'source = "Someone et al. 2020, Table 9"\nread_from = "the paper itself"\n'
        'auroc_percent = { "0" = 91.0, "1" = 80.0, "2" = 70.0 }\n',
    )
    published = markdown.split("## Published results (external", 1)[1]
    assert "| Some Paper Method" in published and "0.910" in published and "0.800" in published
    assert "Someone et al. 2020, Table 9. Read from the paper itself." in published
    results_table = markdown.split("## Published results", 1)[0]
    assert "Some Paper Method" not in results_table  # never ranked among the harness's rows
    assert "Some Paper Method" in (tmp_path / "out" / "README.md").read_text()


def test_a_published_mean_is_over_the_boards_classes_with_the_papers_own_beside_it(
    mixed_store, tmp_path
):
    markdown = _digits_board_with_reference(
        mixed_store,
        tmp_path,
        '[[rows]]\nmethod = "Wider Paper"\ndataset = "digits"\nsource = "Table 1"\n'
        'read_from = "the paper itself"\n'
        'auroc_percent = { "0" = 91.0, "1" = 80.0, "2" = 70.0, "3" = 31.0 }\n',
    )
    published = markdown.split("## Published results", 1)[1]
    header, row = _table_row(published, "method"), _table_row(published, "Wider Paper")
    cells = dict(zip(_cells(header), _cells(row), strict=True))
    assert cells["mean AUROC"] == "0.803"  # 0, 1 and 2: the classes the board ran
    assert cells["mean, all published classes"] == "0.680"
    assert "3" not in cells


def test_a_board_in_a_subfolder_finds_the_reference_file_above_it(mixed_store, tmp_path):
    (tmp_path / "reference.toml").write_text(
        '[[rows]]\nmethod = "Parent Method"\ndataset = "digits"\nsource = "Table 1"\n'
        'read_from = "the paper itself"\nauroc_percent = { "0" = 91.0 }\n'
    )
    _generate(mixed_store, tmp_path / "boards" / "paper", "--no-plots")
    assert "| Parent Method" in (tmp_path / "boards" / "paper" / "digits.md").read_text()
    nearer = tmp_path / "boards" / "reference.toml"
    nearer.write_text((tmp_path / "reference.toml").read_text().replace("Parent", "Nearer"))
    _generate(mixed_store, tmp_path / "boards" / "paper", "--no-plots")
    markdown = (tmp_path / "boards" / "paper" / "digits.md").read_text()
    assert "| Nearer Method" in markdown and "Parent Method" not in markdown


def test_the_committed_reference_file_is_complete():
    rows = load_reference(ROOT / "leaderboards" / "reference.toml")
    assert {(r.method, r.dataset) for r in rows} >= {
        ("Deep SVDD (one-class)", "mnist"),
        ("Deep SVDD (one-class)", "cifar10"),
        ("GEOM", "cifar10"),
    }
    for row in rows:
        assert len(row.auroc) == 10 and all(0.0 < v <= 1.0 for v in row.auroc.values())
        assert row.source and row.read_from


def test_score_histograms_keep_their_legend_when_the_first_task_has_no_result(tmp_path):
    """The legend is taken from whichever task was drawn, not from the first axes (which a
    failed first task leaves empty: matplotlib then warns and draws no legend)."""
    scores = np.random.default_rng(0).normal(size=40)
    labels = np.arange(40) % 2
    path = tmp_path / "scores.png"
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        plots.score_histograms(["0", "1"], {"1": (scores, labels)}, "digits: a row", path)
    assert path.stat().st_size > 0
