"""Cases a probing pass found: each was a traceback or a silent loss for a user error."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from bench.cli import cli


@pytest.fixture
def one_store(tmp_path):
    store = tmp_path / "s.sqlite"
    args = ["run", "-d", "pca", "--classes", "0", "--store", str(store)]
    assert CliRunner().invoke(cli, args).exit_code == 0
    return store


def test_write_baseline_never_overwrites_a_store_or_a_directory(one_store, tmp_path):
    before = one_store.read_bytes()
    for target in (one_store, tmp_path):
        result = CliRunner().invoke(
            cli, ["compare", str(target), str(one_store), "--write-baseline"]
        )
        assert result.exit_code == 2 and result.output.count("\n") == 1, result.output
        assert "--write-baseline writes a results export" in result.output
    assert one_store.read_bytes() == before


def test_a_nan_tolerance_is_refused(one_store):
    result = CliRunner().invoke(
        cli, ["compare", str(one_store), str(one_store), "--metric-tolerance", "nan"]
    )
    assert result.exit_code == 2 and "not a finite number" in result.output


def test_a_json_that_is_not_utf8_is_one_line(tmp_path, one_store):
    bad = tmp_path / "bad.json"
    bad.write_bytes(b'{"rows": "\xff"}')
    for args in (["compare", str(bad), str(one_store)], ["history", str(bad)]):
        result = CliRunner().invoke(cli, args)
        assert result.exit_code == 2 and "is not UTF-8 text" in result.output
        assert result.output.count("\n") == 1


def test_history_refuses_an_unknown_metric_and_a_plot_it_cannot_write(one_store, tmp_path):
    result = CliRunner().invoke(cli, ["history", str(one_store), "--metric", "nosuch",
                                      "--plot", str(tmp_path / "h.png")])  # fmt: skip
    assert result.exit_code == 2 and "no row records metric 'nosuch'; recorded: auprc" in (
        result.output
    )
    result = CliRunner().invoke(cli, ["history", str(one_store), "--plot", str(tmp_path / "h.txt")])
    assert result.exit_code == 2 and "write a .png, .pdf, .svg file" in result.output
