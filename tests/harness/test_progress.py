"""What a log of ``bench run`` says while it runs: what it is about to do, and on every row
line how long it has run and about how long is left (a log has no live bar to show either)."""

from __future__ import annotations

import io
import re
from datetime import UTC, datetime, timedelta

import pytest
from click.testing import CliRunner
from rich.console import Console

from bench.cli import cli
from bench.progress import RunProgress, duration
from bench.results import JobResult
from bench.runner import RunSpec, plan_jobs


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (0.4, "0 s"),
        (45, "45 s"),
        (89, "89 s"),
        (90, "2 min"),
        (600, "10 min"),
        (11_100, "3 h 05 min"),
    ],
)
def test_durations_read_at_a_glance(seconds, text):
    assert duration(seconds) == text


def _run(store, detectors="pca,knn", *args):
    grid = ("-d", detectors, "--classes", "0", "--workers", "1", "--store", str(store))
    return CliRunner().invoke(cli, ["run", *grid, *args])


def test_a_plain_log_says_what_it_will_run_and_how_long_is_left(tmp_path):
    store = tmp_path / "s.sqlite"
    result = _run(store)
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0] == f"2 job(s) to run, 2 result row(s); storing into {store}"
    first, last = (next(line for line in lines if line.startswith(f"[{n}/2]")) for n in (1, 2))
    assert re.search(r"; \d+ s in, about \d+ s left$", first), first
    assert re.search(r"; \d+ s in$", last), last  # nothing left to estimate


def test_a_resumed_run_says_how_much_was_already_stored(tmp_path):
    store = tmp_path / "s.sqlite"
    assert _run(store, "pca").exit_code == 0
    result = _run(store, "pca,knn", "--resume")
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[0] == (
        f"1 job(s) to run, 1 result row(s), 1 already stored (--resume); storing into {store}"
    )


def _ten_minute_row(seed: int, scorer: str = "distance") -> JobResult:
    start = datetime(2026, 12, 3, 12, 0, tzinfo=UTC)
    return JobResult(
        "deep_svdd",
        scorer,
        "mnist",
        "5",
        seed,
        "hash",
        {},
        metrics={"auroc": 0.9},
        started_at=start.isoformat(),
        finished_at=(start + timedelta(minutes=10)).isoformat(),
    )


def _time_left(concurrency: int, rows_per_job: float, total: int, rows: list[JobResult]):
    log = io.StringIO()
    with RunProgress(total, Console(file=log), concurrency, rows_per_job) as progress:
        for row in rows:
            progress.job_done(row)
    return [line.rpartition("about ")[2] for line in log.getvalue().splitlines()]


def test_parallel_workers_rows_arriving_in_bursts_give_a_steady_estimate():
    # Two workers, 35 ten-minute jobs: after 2 rows 33 jobs are left, 17 rounds of two; the
    # rate of rows so far would say 3 h 34 min after row 3 and 2 h 37 min after row 4.
    left = _time_left(2, 1.0, 35, [_ten_minute_row(seed) for seed in range(4)])
    assert left == ["2 h 50 min left", "2 h 50 min left", "2 h 40 min left", "2 h 40 min left"]


def test_the_estimate_counts_jobs_not_rows():
    # One worker, three jobs of two scorers each: 5 rows left are 3 jobs, 4 rows 2 jobs.
    rows = [_ten_minute_row(0, "mse"), _ten_minute_row(0, "l1")]
    assert _time_left(1, 2.0, 6, rows) == ["30 min left", "20 min left"]


def test_a_terminal_bar_shows_the_same_estimate():
    # rich's own remaining time looks at the last 30 s of progress: between rows minutes
    # apart it had nothing to go on and showed -:--:--
    screen = io.StringIO()
    console = Console(file=screen, force_terminal=True, width=160)
    with RunProgress(35, console, 2) as progress:
        progress.job_done(_ten_minute_row(0))
    assert "about 2 h 50 min left" in screen.getvalue()


def test_with_workers_the_terminal_epochs_bar_names_its_job(tmp_path):
    # two jobs train at once and the one bar follows whichever reported last
    jobs = plan_jobs(RunSpec(detectors=["fcn_ae"], classes=["0", "1"], data_dir=str(tmp_path)))
    screen = io.StringIO()
    console = Console(file=screen, force_terminal=True, width=200)
    with RunProgress(2, console, 2) as progress:
        for job in jobs:
            progress.job_started(job)
        progress.epoch(jobs[1], 4, 10, 0.5)
    assert "fcn_ae/mse digits:1 seed 0, loss 0.5" in screen.getvalue()
