"""A run killed with SIGKILL keeps every finished job; --resume completes it without duplicates."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time

BENCH = [sys.executable, "-m", "bench"]
# One job at a time, each long enough to land between two polls: at 3 epochs a digits job fits
# in 0.03 s and a many-core CI machine finished all 10 in parallel before the first poll. At 100
# epochs one job takes about 1 s on 2 cores, 20x the 0.05 s poll.
ARGS = ["run", "-d", "conv_ae", "--epochs", "100", "--workers", "1", "--store", "s.sqlite"]
POLL_S = 0.05


def _rows(path) -> int:
    if not path.exists():
        return 0
    try:
        with sqlite3.connect(path) as conn:
            return conn.execute("SELECT COUNT(*) FROM results").fetchone()[0]
    except sqlite3.OperationalError:  # schema not created yet
        return 0


def test_sigkill_then_resume(tmp_path):
    store = tmp_path / "s.sqlite"
    proc = subprocess.Popen(
        BENCH + ARGS, cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    deadline = time.monotonic() + 240
    while _rows(store) < 2 and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(POLL_S)
    assert proc.poll() is None, "the run finished before it could be killed"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    killed_with = _rows(store)
    assert 2 <= killed_with < 10

    out = subprocess.run(
        BENCH + ARGS + ["--resume"], cwd=tmp_path, capture_output=True, text=True, timeout=600
    )
    assert out.returncode == 0, out.stderr
    said = " ".join(out.stdout.split())
    assert f"{10 - killed_with} result row(s) stored, {killed_with} skipped" in said
    with sqlite3.connect(store) as conn:
        rows = conn.execute("SELECT task, seed, status FROM results ORDER BY task").fetchall()
    assert sorted(task for task, _, _ in rows) == [str(k) for k in range(10)]
    assert {status for _, _, status in rows} == {"ok"}


def test_sigterm_says_what_is_stored_and_exits_130(tmp_path):
    store = tmp_path / "s.sqlite"
    proc = subprocess.Popen(
        BENCH + ARGS, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    deadline = time.monotonic() + 300
    while _rows(store) < 1 and time.monotonic() < deadline:
        time.sleep(POLL_S)
    proc.send_signal(signal.SIGTERM)
    out, _ = proc.communicate(timeout=120)
    assert proc.returncode == 130
    assert "result row(s) of this run are stored" in " ".join(out.split())
    assert _rows(store) >= 1
