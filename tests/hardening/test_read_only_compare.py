"""`bench compare` reads a store on read-only media and changes nothing there."""

from __future__ import annotations

import shutil

from click.testing import CliRunner

from bench.cli import cli
from bench.runner import RunSpec
from tests.hardening.test_store_files import read_only_media, snapshot
from tests.leaderboard.conftest import run_into


def test_compare_reads_a_store_on_read_only_media(tmp_path):
    store = tmp_path / "bench.sqlite"
    run_into(store, RunSpec(detectors=["pca"], classes=["0", "1"], seeds=[0], device="cpu"))
    args = ["leaderboard", "--store", str(store), "--out", str(tmp_path / "lb"), "--no-plots"]
    assert CliRunner().invoke(cli, args).exit_code == 0
    media = tmp_path / "media"
    media.mkdir()
    shutil.copy(store, media / "bench.sqlite")
    before = snapshot(media)
    with read_only_media(media / "bench.sqlite", media):
        result = CliRunner().invoke(
            cli,
            ["compare", str(tmp_path / "lb" / "digits.json"), str(media / "bench.sqlite"),
             "--throughput-tolerance", "100"],
        )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "no regressions" in result.output
    assert snapshot(media) == before
