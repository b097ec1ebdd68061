"""User mistakes on the command line are one line, not a traceback."""

from __future__ import annotations

from click.testing import CliRunner

from bench.cli import cli


def _one_line_error(args: list[str]) -> str:
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 2, result.output
    assert isinstance(result.exception, SystemExit)  # a ClickException, not a traceback
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: "), result.output
    return lines[0]


def test_a_mirror_that_is_not_a_url(tmp_path):
    line = _one_line_error(
        ["data", "download", "mnist", "--data-dir", str(tmp_path), "--mirror", "not-a-url"]
    )
    assert "--mirror 'not-a-url' is not a URL" in line
    assert not (tmp_path / "mnist").exists() or not any((tmp_path / "mnist").iterdir())


def test_a_store_that_is_not_sqlite(tmp_path):
    store = tmp_path / "notes.sqlite"
    store.write_text("these are my notes, not a results store\n")
    line = _one_line_error(["leaderboard", "--store", str(store), "--out", str(tmp_path / "lb")])
    assert str(store) in line and "not a readable results store" in line
    assert store.read_text() == "these are my notes, not a results store\n"
