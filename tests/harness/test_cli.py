"""The ``bench`` command line, as a user drives it."""

from __future__ import annotations

from click.testing import CliRunner

from bench.cli import cli
from bench.store import read_results


def _invoke(*args, cwd=None):
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def test_incompatible_scorer_is_a_one_line_error(tmp_path):
    result = _invoke("run", "-d", "pca", "--scorer", "elbo", "--store", str(tmp_path / "s.sqlite"))
    assert result.exit_code != 0
    assert "Error: scorer 'elbo' needs outputs" in result.output
    assert "Traceback" not in result.output
    assert not (tmp_path / "s.sqlite").exists()  # refused before anything ran


def test_bad_set_syntax_is_reported():
    result = _invoke("run", "-d", "pca", "--set", "oops")
    assert result.exit_code != 0 and "--set expects KEY=VALUE" in result.output


def test_suite_file_pins_the_run(tmp_path):
    suite = tmp_path / "mini.toml"
    suite.write_text(
        '[suite]\ndataset = "digits"\ndetectors = ["pca"]\nclasses = [1, 7]\nseeds = [0, 1]\n'
        "[detectors.pca]\nn_components = 5\n"
    )
    store = tmp_path / "s.sqlite"
    result = _invoke("run", "--suite", str(suite), "--store", str(store))
    assert result.exit_code == 0, result.output
    frame = read_results(store)
    assert sorted(zip(frame["task"], frame["seed"], strict=True)) == [
        ("1", 0), ("1", 1), ("7", 0), ("7", 1)
    ]  # fmt: skip
    assert {c["hparams"]["n_components"] for c in frame["config"]} == {5}


def test_cli_flags_override_the_suite(tmp_path):
    suite = tmp_path / "mini.toml"
    suite.write_text('[suite]\ndetectors = ["pca"]\nclasses = [1, 7]\n')
    store = tmp_path / "s.sqlite"
    result = _invoke("run", "--suite", str(suite), "--classes", "4", "--store", str(store))
    assert result.exit_code == 0, result.output
    assert read_results(store)["task"].tolist() == ["4"]


def test_unknown_suite_key_is_refused(tmp_path):
    suite = tmp_path / "bad.toml"
    suite.write_text('[suite]\ndetector = ["pca"]\n')
    result = _invoke("run", "--suite", str(suite))
    assert result.exit_code != 0 and "unknown [suite] key(s) ['detector']" in result.output


def test_overriding_a_suite_is_recorded_with_the_results(tmp_path):
    suite = tmp_path / "mini.toml"
    suite.write_text('[suite]\ndetectors = ["pca"]\nclasses = [1]\nseeds = [0, 1]\n')
    store = tmp_path / "s.sqlite"
    for seeds in ("1", "4"):  # a part of the suite's grid, then a seed it does not pin
        run = _invoke("run", "--suite", str(suite), "--seeds", seeds, "--store", str(store))
        assert run.exit_code == 0, run.output
    assert read_results(store)["suite"].tolist() == [
        str(suite), f"{suite} (with command-line overrides)"
    ]  # fmt: skip


def test_only_user_errors_become_one_line_messages():
    import click
    import pytest

    from bench.commands.errors import friendly_errors
    from bench.dataset import DataError

    @friendly_errors
    def bad_input():
        raise DataError("x.npy: expected uint8")

    @friendly_errors
    def bug():
        raise RuntimeError("shape mismatch")

    with pytest.raises(click.ClickException, match="x.npy: expected uint8"):
        bad_input()
    with pytest.raises(RuntimeError, match="shape mismatch"):  # a bug keeps its traceback
        bug()


def test_missing_store_is_a_one_line_error(tmp_path):
    result = _invoke(
        "leaderboard", "--store", str(tmp_path / "nope.sqlite"), "--out", str(tmp_path)
    )
    assert result.exit_code != 0
    assert "no results store at" in result.output and "Traceback" not in result.output
