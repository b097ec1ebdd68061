"""The committed boards regenerate from the committed result files (README, "Leaderboards"): a
board whose export was not committed, or went stale, fails here instead of in a user's clone.

Text files are compared byte for byte; plots by name only, since their bytes follow the
installed matplotlib's rendering."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.leaderboard.build import build_leaderboards

ROOT = Path(__file__).resolve().parents[2]
REFERENCE = ROOT / "leaderboards" / "reference.toml"


@pytest.mark.slow
@pytest.mark.parametrize(
    "board_dir", ["leaderboards", "leaderboards/paper", "leaderboards/paper_theano"]
)
def test_committed_boards_regenerate_from_the_committed_exports(tmp_path, board_dir):
    committed = ROOT / board_dir
    written = build_leaderboards([committed / "results"], tmp_path, REFERENCE)
    assert {p.name for p in written} >= {"README.md"} and len(written) > 1
    for path in written:
        assert path.read_text() == (committed / path.name).read_text(), path.name
    plots = {p.relative_to(tmp_path) for p in (tmp_path / "plots").rglob("*.png")}
    assert plots and plots <= {p.relative_to(committed) for p in committed.glob("plots/**/*.png")}
