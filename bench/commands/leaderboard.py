"""``bench leaderboard``: regenerate the leaderboards directory from the results store."""

from __future__ import annotations

from pathlib import Path

import click
from rich.console import Console

from bench.commands.errors import friendly_errors
from bench.leaderboard.build import build_leaderboards
from bench.store import DEFAULT_STORE

REFERENCE_FILE = "reference.toml"


def default_reference(out_dir: Path) -> Path | None:
    """The nearest reference file in OUT or a folder above it, so that boards kept in a subfolder
    (leaderboards/paper/) regenerate with the published rows of leaderboards/reference.toml, as
    their header's plain ``--store STORE --out DIR`` promises."""
    folder = out_dir.resolve()
    for candidate in (f / REFERENCE_FILE for f in (folder, *folder.parents)):
        if candidate.is_file():
            return candidate
    return None


@click.command("leaderboard")
@click.option(
    "--store",
    "stores",
    multiple=True,
    default=[str(DEFAULT_STORE)],
    show_default=True,
    type=click.Path(),
    help="SQLite results store to read, or a folder of them (every *.sqlite in it, e.g. the "
    "exports in leaderboards/results); repeat for several. Each dataset must be in one store.",
)
@click.option(
    "--out",
    default="leaderboards",
    show_default=True,
    type=click.Path(file_okay=False),
    help="Directory to (re)write: <dataset>.md/.csv/.json, plots/, README.md.",
)
@click.option(
    "--reference",
    type=click.Path(dir_okay=False, exists=True),
    help=f"Published reference rows (TOML). Default: the nearest {REFERENCE_FILE} in OUT or a "
    "folder above it, if any.",
)
@click.option(
    "--no-plots", is_flag=True, help="Tables only (faster): no figures are drawn or linked."
)
@friendly_errors
def leaderboard_command(
    stores: tuple[str, ...], out: str, reference: str | None, no_plots: bool
) -> None:
    """Write per-dataset leaderboards (Markdown, CSV, JSON, plots) and an index from the store.

    The same store always gives byte-identical Markdown, CSV, JSON and PNG files."""
    out_dir = Path(out)
    reference_path = Path(reference) if reference else default_reference(out_dir)
    paths = [Path(s) for s in stores]
    written = build_leaderboards(paths, out_dir, reference_path, with_plots=not no_plots)
    console = Console()
    for path in written:  # soft_wrap: a path broken over two lines cannot be copied from a log
        console.print(f"wrote {path}", soft_wrap=True)
    source = ", ".join(stores)
    console.print(
        f"{len(written)} file(s) from {source}" + ("" if no_plots else ", plus plots"),
        soft_wrap=True,
    )
