"""``python -m bench`` runs the CLI, for environments where the script is not on PATH."""

from bench.cli import cli

cli(prog_name="bench")
