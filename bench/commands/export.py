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
    "stores",
    multiple=True,
    default=[str(DEFAULT_STORE)],
    show_default=True,
    type=click.Path(dir_okay=False),
    help="SQLite results store to read. Repeat to merge several, as if each store's rows had "
    "been stored after the one before's: a later store's row of a job (configuration and "
    "seed) replaces an earlier store's.",
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
def export_command(stores: tuple[str, ...], out: str, datasets: tuple[str, ...]) -> None:
    """Write a results store with every row but only the arrays the boards draw.

    `bench leaderboard --store OUT` regenerates the same boards from it, byte for byte, and
    `bench compare` reads it like any store."""
    trimmed = trim_store([Path(s) for s in stores], Path(out), datasets)
    replaced = f" ({trimmed.replaced} replaced by a later store's)" if len(stores) > 1 else ""
    Console().print(
        f"wrote {out}: {trimmed.rows} result row(s){replaced}, arrays of "
        f"{trimmed.rows_with_arrays} of them, {trimmed.bytes:,} bytes",
        soft_wrap=True,  # one line in a log, however long the path
    )
