"""Reproduction tables (a published row beside the harness row it names) and the header's
protocol, seeds and off-default hyperparameters."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from bench.cli import cli
from bench.plugins import registry
from tests.leaderboard.test_leaderboard import _cells, _generate, _table_row

REFERENCE = """
[[rows]]
method = "Paper PCA"
dataset = "digits"
source = "Someone et al. 2020, Table 9"
read_from = "the paper itself"
reproduces = "pca/mse"
auroc_percent = { "0" = 99.0, "1" = 80.0, "2" = 70.0, "3" = 60.0 }
auroc_std_percent = { "0" = 2.0, "1" = 1.0 }

[[rows]]
method = "Paper Elsewhere"
dataset = "digits"
source = "Other et al. 2021, Table 2"
read_from = "the paper itself"
reproduces = "knn/native"
auroc_percent = { "0" = 95.0 }
"""


@pytest.fixture
def reproduced(mixed_store, tmp_path):
    reference = tmp_path / "reference.toml"
    reference.write_text(REFERENCE)
    out = tmp_path / "out"
    _generate(mixed_store, out, "--no-plots", "--reference", str(reference))
    board = json.loads((out / "digits.json").read_text())
    pca = next(r for r in board["rows"] if r["detector"] == "pca")
    return (out / "digits.md").read_text(), pca, out


def test_each_class_ours_beside_the_paper(reproduced):
    markdown, pca, _ = reproduced
    table = markdown.split("### Paper PCA vs pca/mse", 1)[1].split("###", 1)[0]
    assert "Someone et al. 2020, Table 9." in table
    paper = {"0": (0.99, 0.02), "1": (0.80, 0.01), "2": (0.70, None)}
    for task, (value, std) in paper.items():
        cell = pca["tasks"][task]
        row = _cells(_table_row(table, task))
        assert row[1] == f"{cell['auroc_mean']:.3f} ± {cell['auroc_std']:.3f}"
        assert row[2] == str(cell["n_ok"]) == "2"
        assert row[3] == f"{value:.3f}" + (f" ± {std:.3f}" if std else "")
        assert row[4] == f"{cell['auroc_mean'] - value:+.3f}"
        if std is None:
            assert row[5:7] == ["", "no std published"]
        else:
            stds = (cell["auroc_mean"] - value) / std
            assert row[5] == f"{stds:+.2f}"
            assert row[6] == ("yes" if abs(stds) <= 2 else "no")
    assert _cells(_table_row(table, "3"))[1:3] == ["not run", "0"]  # the board ran 0-2
    mean = _cells(_table_row(table, "mean of 3 classes"))
    ours = sum(pca["tasks"][t]["auroc_mean"] for t in paper) / 3
    assert mean[1].startswith(f"{ours:.3f} ± ") and mean[2] == "2"
    assert mean[3] == f"{(0.99 + 0.80 + 0.70) / 3:.3f}"
    results = markdown.split("## Published results", 1)[0]
    assert "Paper PCA" not in results  # never ranked


def test_a_row_not_on_the_board_says_so_and_the_index_links_the_tables(reproduced):
    markdown, _, out = reproduced
    assert "knn/native has no row on this board (not run)." in markdown
    index = (out / "README.md").read_text()
    ours = markdown.split("### Paper PCA", 1)[1].split("| mean of 3 classes |", 1)[1].split()[0]
    assert f"[Paper PCA](digits.md#paper-pca-vs-pcamse): ours {ours} vs paper 0.830" in index
    assert "[Paper Elsewhere](digits.md#paper-elsewhere-vs-knnnative): not run" in index


def test_a_malformed_reproduces_key_is_one_line(mixed_store, tmp_path):
    reference = tmp_path / "reference.toml"
    reference.write_text(REFERENCE.replace('"pca/mse"', '"pca"'))
    args = ["leaderboard", "--store", str(mixed_store), "--out", str(tmp_path), "--no-plots",
            "--reference", str(reference)]  # fmt: skip
    result = CliRunner().invoke(cli, args)
    assert result.exit_code != 0 and "reproduces = 'pca' is not 'detector/scorer'" in (
        result.output
    )
    assert result.output.strip().count("\n") == 0


def test_the_header_states_protocol_seeds_and_settings_off_the_defaults(mixed_store, tmp_path):
    _generate(mixed_store, tmp_path, "--no-plots")
    markdown = (tmp_path / "digits.md").read_text()
    header = markdown.split("## AUROC per normal class", 1)[0]
    assert "| data            | full protocol: no cap" in header
    assert "| classes         | 3 (0, 1, 2)" in header
    # conv_ae ran seed 0 only, the others 0 and 1: listed per detector
    assert "pca: 0, 1" in header and "conv_ae: 0" in header
    defaults = registry().get("detectors", "conv_ae").defaults
    assert (
        f"- conv_ae: epochs=1 (default {defaults['epochs']}), widths=[4, 8, 8] "
        f"(default {json.dumps(defaults['widths'])})"
    ) in header
    assert "- pca:" not in header  # ran at its defaults
    # the test plugin's detectors are not installed when the board is built
    assert "- exploding: defaults unknown (detector not installed" in header
