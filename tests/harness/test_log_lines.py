"""A line that names a path stays one line in a log, however long the path: rich wraps at the
80 columns it assumes off a terminal, and a path broken over two lines cannot be copied."""

from __future__ import annotations

from click.testing import CliRunner

from bench.cli import cli
from bench.runner import RunSpec
from tests.leaderboard.conftest import run_into


def test_export_and_leaderboard_name_each_path_on_one_line(tmp_path):
    deep = tmp_path / ("a_folder_name_long_enough_that_no_path_below_it_fits_in_80_columns" * 2)
    store = deep / "bench.sqlite"
    deep.mkdir()
    run_into(store, RunSpec(detectors=["pca"], classes=["0"], seeds=[0], device="cpu"))

    exported = CliRunner().invoke(cli, ["export", "--store", str(store), "--out", str(deep / "x")])
    assert exported.exit_code == 0, exported.output
    assert exported.output.startswith(f"wrote {deep / 'x'}: 1 result row(s)")
    assert len(exported.output.splitlines()) == 1

    args = ["leaderboard", "--store", str(store), "--out", str(deep / "lb"), "--no-plots"]
    board = CliRunner().invoke(cli, args)
    assert board.exit_code == 0, board.output
    lines = board.output.splitlines()
    assert f"wrote {deep / 'lb' / 'digits.md'}" in lines
    assert lines[-1] == f"{len(lines) - 1} file(s) from {store}"
