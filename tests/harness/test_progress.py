"""What a log of ``bench run`` says while it runs: what it is about to do, and on every row
line how long it has run and about how long is left (a log has no live bar to show either)."""

from __future__ import annotations

import re

import pytest
from click.testing import CliRunner

from bench.cli import cli
from bench.progress import duration


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (0.4, "0 s"),
        (45, "45 s"),
        (89, "89 s"),
        (90, "2 min"),
        (600, "10 min"),
        (11_100, "3 h 05 min"),
    ],
)
def test_durations_read_at_a_glance(seconds, text):
    assert duration(seconds) == text


def _run(store, detectors="pca,knn", *args):
    grid = ("-d", detectors, "--classes", "0", "--workers", "1", "--store", str(store))
    return CliRunner().invoke(cli, ["run", *grid, *args])


def test_a_plain_log_says_what_it_will_run_and_how_long_is_left(tmp_path):
    store = tmp_path / "s.sqlite"
    result = _run(store)
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0] == f"2 job(s) to run, 2 result row(s); storing into {store}"
    first, last = (next(line for line in lines if line.startswith(f"[{n}/2]")) for n in (1, 2))
    assert re.search(r"; \d+ s in, about \d+ s left$", first), first
    assert re.search(r"; \d+ s in$", last), last  # nothing left to estimate


def test_a_resumed_run_says_how_much_was_already_stored(tmp_path):
    store = tmp_path / "s.sqlite"
    assert _run(store, "pca").exit_code == 0
    result = _run(store, "pca,knn", "--resume")
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[0] == (
        f"1 job(s) to run, 1 result row(s), 1 already stored (--resume); storing into {store}"
    )
