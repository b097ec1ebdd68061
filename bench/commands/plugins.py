"""``bench plugins``: what is installed and what each plugin registers."""

from __future__ import annotations

import json

import click
from rich.console import Console
from rich.table import Table

from bench.commands.errors import friendly_errors
from bench.plugins import plugin_manager, plugin_summaries, registry
from bench.registry import KINDS


@click.command("plugins")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
@friendly_errors
def plugins_command(as_json: bool) -> None:
    """List loaded plugins, their package and version, and what they register."""
    rows = plugin_summaries(plugin_manager(), registry())
    if as_json:
        click.echo(json.dumps(rows, indent=2))
        return
    table = Table(title="bench plugins")
    for column in ("plugin", "package", "version", *KINDS):
        table.add_column(column)
    for row in rows:
        table.add_row(
            str(row["name"]),
            str(row["package"] or "-"),
            str(row["version"] or "-"),
            *(", ".join(row[kind]) or "-" for kind in KINDS),  # type: ignore[arg-type]
        )
    Console().print(table)
