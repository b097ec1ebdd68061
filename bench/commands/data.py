"""``bench data``: which dataset files are present where, and fetching the official ones."""

from __future__ import annotations

import click
from rich.console import Console
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    TextColumn,
    TimeRemainingColumn,
    TransferSpeedColumn,
)
from rich.table import Table

from bench.commands.errors import friendly_errors
from bench.download import check_mirror, download_dataset
from bench.paths import resolve_data_dir
from bench.plugins import registry

DATA_DIR_HELP = "Where dataset files live (else $BENCH_DATA_DIR, else a per-user cache)."


@click.group("data")
def data_group() -> None:
    """Where dataset files live, and fetching the official ones."""


@data_group.command("list")
@click.option("--data-dir", help=DATA_DIR_HELP)
@friendly_errors
def list_command(data_dir: str | None) -> None:
    """For every dataset, the files it reads and whether they are present."""
    root = resolve_data_dir(data_dir)
    table = Table(title=f"datasets under {root}")
    for column in ("dataset", "reads", "found at", "to get it"):
        table.add_column(column, overflow="fold")
    reg = registry()
    for name in reg.names("datasets"):
        cls = reg.get("datasets", name)
        how = f"bench data download {name}" if cls.downloads else cls.description
        located = cls(root).locate()
        if not located:
            table.add_row(name, "nothing (built in)", "-", "-")
        for what, where in located.items():
            found = str(where) if where else "[red]missing[/red]"
            table.add_row(name, what, found, "-" if where else how)
    Console().print(table)


@data_group.command("download")
@click.argument("names", nargs=-1, required=True)
@click.option("--data-dir", help=DATA_DIR_HELP)
@click.option(
    "--mirror",
    metavar="URL",
    help="Fetch each file from URL/<filename> instead of its official address; the pinned SHA-256 still has to match.",
)
@friendly_errors
def download_command(names: tuple[str, ...], data_dir: str | None, mirror: str | None) -> None:
    """Download, verify and unpack the official files of datasets NAMES (e.g. mnist cifar10)
    into <data-dir>/<name>/; files already present and verified are kept."""
    if mirror is not None:
        check_mirror(mirror)  # before the progress display starts
    root = resolve_data_dir(data_dir)
    console = Console()
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        DownloadColumn(),
        TransferSpeedColumn(),
        TimeRemainingColumn(),
    )
    datasets = {name: registry().get("datasets", name) for name in names}  # typos first
    with Progress(*columns, console=console) as progress:
        for name, dataset in datasets.items():
            paths = download_dataset(dataset, root, mirror, progress)
            console.print(f"{name}: {len(paths)} file(s) verified in {root / name}", soft_wrap=True)
