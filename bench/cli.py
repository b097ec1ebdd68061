"""The ``bench`` command line. Each subcommand lives in its own module under bench/commands.

Subcommands are imported only when invoked: most of them import torch (about 4 s), which
``bench --help`` and ``bench --version`` do not need. To add a command, add a line to
``COMMANDS``: its name, where it is, and the one-line help ``bench --help`` shows.
"""

from __future__ import annotations

import importlib
import logging

import click

from bench import __version__

COMMANDS = {
    "run": ("bench.commands.run:run_command", "Train and score detectors"),
    "plugins": (
        "bench.commands.plugins:plugins_command",
        "List plugins, their package and version, and what they register",
    ),
    "leaderboard": (
        "bench.commands.leaderboard:leaderboard_command",
        "Write per-dataset leaderboards (Markdown, CSV, JSON, plots) and an index",
    ),
    "export": (
        "bench.commands.export:export_command",
        "Write a results store with every row but only the arrays the boards draw",
    ),
    "data": (
        "bench.commands.data:data_group",
        "Where dataset files live, and fetching the official ones",
    ),
    "compare": ("bench.commands.compare:compare_command", "Compare CURRENT against BASELINE"),
    "history": (
        "bench.commands.history:history_command",
        "Follow each detector's METRIC and training throughput over commits",
    ),
}


class LazyGroup(click.Group):
    """A group that imports a command's module only when that command runs."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *COMMANDS})

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name not in COMMANDS:
            return super().get_command(ctx, name)
        module, _, attr = COMMANDS[name][0].partition(":")
        return getattr(importlib.import_module(module), attr)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = [
            (
                name,
                COMMANDS[name][1] if name in COMMANDS else self.commands[name].get_short_help_str(),
            )
            for name in self.list_commands(ctx)
        ]
        with formatter.section("Commands"):
            formatter.write_dl(rows)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="bench")
@click.option(
    "-v",
    "--verbose",
    count=True,
    help="More log output (-vv for debug); errors keep their traceback.",
)
def cli(verbose: int) -> None:
    """anomaly-bench: train image anomaly detectors on the same data with fixed seeds,
    store every result, and compare them in leaderboards."""
    from rich.logging import RichHandler

    level = [logging.WARNING, logging.INFO, logging.DEBUG][min(verbose, 2)]
    logging.basicConfig(level=level, format="%(message)s", handlers=[RichHandler(show_path=False)])
