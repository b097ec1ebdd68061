"""``bench plugins``: what is installed and what each plugin registers.

It lists everything even when the setup is broken (a plugin that fails to import, two plugins
registering one name), marking each problem, because it is the command that diagnoses them;
it then exits 1 so a script notices. Names are never cut: each goes on a line of its own.
"""

from __future__ import annotations

import json
from typing import Any

import click
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from bench.commands.errors import friendly_errors
from bench.plugins import Failures, build_registry, make_plugin_manager, plugin_summaries
from bench.registry import KINDS, Conflict


def _provides(row: dict[str, Any], conflicts: list[Conflict]) -> str:
    clashing = {(c.kind, c.name) for c in conflicts if row["name"] in c.plugins}
    lines = [
        f"{kind[:-1]} {name}" + (" [red](conflict)[/red]" if (kind, name) in clashing else "")
        for kind in KINDS
        for name in row[kind]
    ]
    if row["error"]:
        lines.append("[red]not loaded (see below)[/red]")
    return "\n".join(lines) or "-"


@click.command("plugins")
@click.option(
    "--json",
    "as_json",
    is_flag=True,
    help="Print JSON (a list, one object per plugin) instead of a table.",
)
@friendly_errors
def plugins_command(as_json: bool) -> None:
    """List plugins, their package and version, and what they register; mark conflicts and
    plugins that failed to load (exit 1 if there are any)."""
    failures: Failures = {}
    pm = make_plugin_manager(failures)
    reg = build_registry(pm, failures)
    rows: list[dict[str, Any]] = plugin_summaries(pm, reg, failures)
    if as_json:
        click.echo(json.dumps(rows, indent=2))
    else:
        table = Table(title="bench plugins")
        for column in ("plugin", "package", "version"):
            table.add_column(column, no_wrap=True)
        table.add_column("provides", overflow="fold")
        for row in rows:
            table.add_row(
                escape(str(row["name"])),
                escape(str(row["package"] or "-")),
                escape(str(row["version"] or "-")),
                _provides(row, reg.conflicts),
            )
        Console().print(table)
    problems = [f"conflict: {c}" for c in reg.conflicts]
    problems += [f"not loaded: {message}" for message in failures.values()]
    for problem in problems:
        click.echo(problem, err=True)
    if problems:
        click.echo(
            f"{len(problems)} problem(s); `bench run` refuses to start until fixed", err=True
        )
        raise SystemExit(1)
