"""``bench export``: a store cut down to what the boards need, to commit beside them."""

from __future__ import annotations

from pathlib import Path

import click
from rich.console import Console

from bench.commands.errors import friendly_errors
from bench.leaderboard.trim import trim_store
from bench.store import DEFAULT_STORE


@click.command("export")
@click.option(
    "--store",
    default=str(DEFAULT_STORE),
    show_default=True,
    type=click.Path(dir_okay=False),
    help="SQLite results store to read.",
)
@click.option(
    "--out",
    required=True,
    type=click.Path(),
    help="Store file to write, e.g. leaderboards/results/mnist.sqlite (an existing store there "
    "is replaced; any other file is refused).",
)
@click.option(
    "--dataset",
    "datasets",
    multiple=True,
    help="Export this dataset's rows only (repeat for several). Default: every dataset.",
)
@friendly_errors
def export_command(store: str, out: str, datasets: tuple[str, ...]) -> None:
    """Write a results store with every row but only the arrays the boards draw.

    `bench leaderboard --store OUT` regenerates the same boards from it, byte for byte, and
    `bench compare` reads it like any store."""
    trimmed = trim_store(Path(store), Path(out), datasets)
    Console().print(
        f"wrote {out}: {trimmed.rows} result row(s), arrays of {trimmed.rows_with_arrays} of "
        f"them, {trimmed.bytes:,} bytes",
        soft_wrap=True,  # one line in a log, however long the path
    )
