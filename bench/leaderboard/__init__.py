"""Leaderboards from the results store: tables, Markdown, plots and regression comparison.

Everything here reads the store (never the plugin registry), so a leaderboard can be rebuilt on a
machine that has none of the detectors installed, and the same store always gives the same files.
"""

from bench.errors import BenchError


class LeaderboardError(BenchError, RuntimeError):
    """A leaderboard input (store, JSON, reference file) cannot be used as asked."""
