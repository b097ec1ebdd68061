"""``bench run``'s exit status: 0 all ok, 1 some job failed (all rows stored), 2 a usage or
setup error before any training, 130 interrupted (what finished is stored, and it says so)."""

from __future__ import annotations

import pytest
import torch
from click.testing import CliRunner

from bench.cli import cli
from bench.plugins import plugin_manager
from bench.store import read_results
from tests.harness.plugin_helpers import BrokenPlugin


@pytest.fixture
def broken():
    plugin_manager().register(BrokenPlugin(), name="broken")


def _run(tmp_path, *args):
    store = tmp_path / "s.sqlite"
    # One job at a time in this process: the order is asserted, and `broken` is registered here.
    args = ("--workers", "1", *args)
    result = CliRunner().invoke(cli, ["run", "--classes", "0", "--store", str(store), *args])
    return result, store


def test_all_ok_exits_0(tmp_path):
    result, store = _run(tmp_path, "-d", "pca")
    assert result.exit_code == 0, result.output
    assert list(read_results(store)["status"]) == ["ok"]


def test_a_failed_job_exits_1_with_every_row_stored(tmp_path, broken):
    result, store = _run(tmp_path, "-d", "pca,exploding,knn")
    assert result.exit_code == 1, result.output
    assert list(read_results(store)["status"]) == ["ok", "failed", "ok"]
    assert "1 failed or diverged" in result.output
    # Not a terminal (a log, CI): one plain line per stored row, as it is stored.
    assert "[1/3] pca/mse digits:0 seed 0: ok auroc 1.0000" in result.output
    assert "[2/3] exploding/native digits:0 seed 0: failed: ValueError: boom" in result.output


def test_a_usage_error_exits_2_before_training(tmp_path):
    result, store = _run(tmp_path, "-d", "nosuch")
    assert result.exit_code == 2
    assert "unknown detector 'nosuch'" in result.output and not store.exists()


def test_ctrl_c_exits_130_saying_what_is_stored_and_how_to_continue(tmp_path, broken):
    result, store = _run(tmp_path, "-d", "pca,interrupting,knn")
    assert result.exit_code == 130
    assert "1 result row(s) of this run are stored" in result.output
    assert "--resume" in result.output
    assert list(read_results(store)["detector"]) == ["pca"]


def test_threads_sets_and_records_the_torch_thread_count(tmp_path):
    before = torch.get_num_threads()
    try:
        result, store = _run(tmp_path, "-d", "pca", "--threads", "1")
        assert result.exit_code == 0, result.output
        assert read_results(store)["versions"][0]["torch_threads"] == "1"
    finally:
        torch.set_num_threads(before)


@pytest.mark.parametrize("device", ["tpu", "mps", "cuda:x"])
def test_an_unknown_device_is_a_one_line_usage_error(tmp_path, device):
    result, store = _run(tmp_path, "-d", "pca", "--device", device)
    assert result.exit_code == 2, result.output
    assert len(result.output.strip().splitlines()) == 1 and "--device" in result.output
