"""`bench run --all` twice with the same seed gives identical AUROC values (every detector)."""

from __future__ import annotations

import subprocess
import sys

import pytest

from bench.store import read_results


@pytest.mark.slow
def test_run_all_twice_gives_identical_aurocs(tmp_path):
    frames = []
    for name in ("first", "second"):
        store = tmp_path / f"{name}.sqlite"
        args = ["run", "--all", "--classes", "0,7", "--store", str(store)]
        out = subprocess.run(
            [sys.executable, "-m", "bench", *args], capture_output=True, text=True, timeout=1800
        )
        assert out.returncode == 0, out.stderr
        frames.append(read_results(store).set_index(["detector", "scorer", "task", "seed"]))
    first, second = frames
    assert (first["status"] == "ok").all(), first.loc[first["status"] != "ok", "error"]
    assert len(first) == 2 * len(set(first.index.get_level_values("detector")))
    assert first["auroc"].sort_index().equals(second["auroc"].sort_index())
