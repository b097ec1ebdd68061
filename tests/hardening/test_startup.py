"""``bench --help`` and ``bench --version`` start without importing torch (4 s of the 4.5 s
they took); commands are imported when they run."""

from __future__ import annotations

import subprocess
import sys

import click
import pytest
from click.testing import CliRunner

from bench.cli import COMMANDS, cli

NO_TORCH = "assert 'torch' not in sys.modules, sorted(m for m in sys.modules if 'torch' in m)[:5]"


@pytest.mark.parametrize("args", [[], ["--help"], ["--version"]], ids=["import", "help", "version"])
def test_start_up_does_not_import_torch(args):
    code = (
        "import sys\nfrom click.testing import CliRunner\nfrom bench.cli import cli\n"
        f"result = CliRunner().invoke(cli, {args!r}) if {args!r} else None\n"
        "assert result is None or result.exit_code == 0, result.output\n" + NO_TORCH
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_help_shows_every_command_with_the_start_of_its_own_help():
    out = CliRunner().invoke(cli, ["--help"]).output
    ctx = click.Context(cli)
    for name, (_, short) in COMMANDS.items():
        command = cli.get_command(ctx, name)
        assert command is not None and command.name == name
        first_paragraph = " ".join((command.help or "").split("\n\n")[0].split())
        assert first_paragraph.startswith(short), name  # the listing cannot drift from it
        assert name in out and short.split()[0] in out


def test_a_command_added_the_usual_way_is_listed_too():
    extra = click.Command("extra", help="An extra command.", callback=lambda: None)
    cli.add_command(extra)
    try:
        out = CliRunner().invoke(cli, ["--help"]).output
        assert "extra" in out and "An extra command." in out
        assert CliRunner().invoke(cli, ["extra"]).exit_code == 0
    finally:
        cli.commands.pop("extra")


@pytest.mark.benchmark
def test_start_up_time(benchmark):
    """`bench --version` in a fresh interpreter; run with -m benchmark --benchmark-enable."""
    benchmark(subprocess.run, [sys.executable, "-m", "bench", "--version"], check=True)
