"""The ``bench`` command line. Each subcommand lives in its own module under bench/commands."""

from __future__ import annotations

import logging

import click
from rich.logging import RichHandler

from bench import __version__
from bench.commands.compare import compare_command
from bench.commands.data import data_group
from bench.commands.history import history_command
from bench.commands.leaderboard import leaderboard_command
from bench.commands.perf import perf_command
from bench.commands.plugins import plugins_command
from bench.commands.run import run_command


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="bench")
@click.option("-v", "--verbose", count=True, help="More log output (-vv for debug).")
def cli(verbose: int) -> None:
    """anomaly-bench: train image anomaly detectors on the same data with fixed seeds,
    store every result, and compare them in leaderboards."""
    level = [logging.WARNING, logging.INFO, logging.DEBUG][min(verbose, 2)]
    logging.basicConfig(level=level, format="%(message)s", handlers=[RichHandler(show_path=False)])


cli.add_command(run_command)
cli.add_command(plugins_command)
cli.add_command(perf_command)
cli.add_command(leaderboard_command)
cli.add_command(data_group)
cli.add_command(compare_command)
cli.add_command(history_command)
