"""Leaderboards from the results store: tables, Markdown, plots and regression comparison.

Everything here reads the store; building a board also asks the installed plugins for their
metrics' directions and their detectors' defaults (for the note on settings off the defaults,
which says "defaults unknown" for a detector not installed). The same store and plugins always
give the same files.
"""

from bench.errors import BenchError


class LeaderboardError(BenchError, RuntimeError):
    """A leaderboard input (store, JSON, reference file) cannot be used as asked."""
