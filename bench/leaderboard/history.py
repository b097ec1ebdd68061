"""Results over commits (``bench history``) and the commit at which a step change began.

A *series* is one dataset, detector and scorer in one environment (device, the CPU where rows
record it, thread count): a change of machine is not a change of code, so it starts another
series. Its point at a commit is
the mean of a metric, and of training images/s, over the (task, seed) runs that every commit of
the series ran, so a commit that ran fewer classes does not move the line. Throughput counts only
where fits took at least ``min_fit_seconds`` (shorter ones are timer noise, as in bench compare).

Step rule (a simple form of asv's step detection): commit *i* starts a step when every point from
*i* to the end lies beyond a threshold from the mean of the points before *i*, all on the same
side; the earliest such *i* is reported. The threshold is max(tolerance, 3 x noise), where noise is
the larger of the pooled std of the two segments and the spread over seeds within commits. A dip
that recovers is not a step; pure noise stays inside 3 std (99.7 % of points for Gaussian noise).
A step at the latest commit alone is *provisional*: the next commit confirms or clears it.
"""

from __future__ import annotations

import math
import statistics
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field

from bench.leaderboard.rows import UNRECORDED, Row
from bench.results import OK

STEP_STD_MULTIPLE = 3.0
UNKNOWN_COMMIT = "unknown"


@dataclass(frozen=True)
class Point:
    commit: str
    started_at: str | None
    value: float | None  # mean of the metric over the series' common runs
    throughput: float | None  # mean training images/s over the same runs


@dataclass(frozen=True)
class Step:
    commit: str
    before: float  # mean of the points before the step
    after: float  # mean of the points from the step on
    provisional: bool  # only the latest commit is past the threshold so far


@dataclass
class Series:
    dataset: str
    detector: str
    scorer: str
    environment: str
    points: list[Point] = field(default_factory=list)
    metric_step: Step | None = None
    throughput_step: Step | None = None

    def describe(self) -> str:
        return f"{self.dataset} {self.detector}/{self.scorer} ({self.environment})"


def _pooled_std(segments: list[list[float]]) -> float:
    dof = sum(len(s) - 1 for s in segments if len(s) > 1)
    if not dof:
        return 0.0
    squares = sum((len(s) - 1) * statistics.variance(s) for s in segments if len(s) > 1)
    return math.sqrt(squares / dof)


def find_step(
    values: list[float], tolerance: Callable[[float], float], noise: float = 0.0
) -> int | None:
    """Index of the point where a persistent step began, or None (rule: module docstring).
    ``tolerance(level)`` is the smallest change that counts, given the level before the step."""
    for i in range(1, len(values)):
        before, after = values[:i], values[i:]
        level = statistics.fmean(before)
        spread = max(noise, _pooled_std([before, after]))
        threshold = max(tolerance(level), STEP_STD_MULTIPLE * spread)
        offsets = [v - level for v in after]
        if all(o > threshold for o in offsets) or all(o < -threshold for o in offsets):
            return i
    return None


def _environment(row: Row) -> str:
    env = row.environment
    cpu = env.get("cpu", UNRECORDED)
    on = "" if cpu == UNRECORDED else f", CPU: {cpu}"  # rows stored before it was: one series
    threads = env.get("torch_threads")
    return f"{env.get('device_name')} ({env.get('device')}){on}, torch threads: {threads}"


def _seed_noise(rows_by_commit: dict[str, list[Row]], metric: str) -> float:
    """Pooled std over seeds of each commit's per-seed mean (0 with one seed per commit)."""
    spreads = []
    for rows in rows_by_commit.values():
        per_seed: dict[int, list[float]] = defaultdict(list)
        for row in rows:
            if row.status == OK and not row.pooled and metric in row.metrics:
                per_seed[row.seeds[0]].append(row.metrics[metric])
        spreads.append([statistics.fmean(v) for v in per_seed.values()])
    return _pooled_std(spreads)


def _mean(values: list[float | None]) -> float | None:
    known = [v for v in values if v is not None]
    return statistics.fmean(known) if known else None


def _step(points: list[Point], values: list[float | None], tol, noise: float) -> Step | None:
    known = [(p, v) for p, v in zip(points, values, strict=True) if v is not None]
    index = find_step([v for _, v in known], tol, noise)
    if index is None:
        return None
    before = statistics.fmean(v for _, v in known[:index])
    after = statistics.fmean(v for _, v in known[index:])
    return Step(known[index][0].commit, before, after, index == len(known) - 1)


def _series(
    key: tuple[str, str, str, str], rows: list[Row], metric: str, tolerance: float,
    throughput_tolerance: float, min_fit_seconds: float,
) -> Series:  # fmt: skip
    by_commit: dict[str, list[Row]] = defaultdict(list)
    for row in rows:
        by_commit[row.git_commit or UNKNOWN_COMMIT].append(row)
    # The latest row of each (task, seeds) run per commit; only runs every commit has count.
    runs = {
        commit: {(r.task, r.seeds): r for r in sorted(rs, key=lambda r: r.started_at or "")}
        for commit, rs in by_commit.items()
    }
    common = sorted(set.intersection(*(set(r) for r in runs.values())))
    series = Series(*key)
    for commit in sorted(runs, key=lambda c: min(r.started_at or "" for r in by_commit[c])):
        ok = [runs[commit][run] for run in common if runs[commit][run].status == OK]
        started = min((r.started_at for r in by_commit[commit] if r.started_at), default=None)
        value = _mean([r.metrics.get(metric) for r in ok])
        series.points.append(
            Point(commit, started, value, _mean([r.train_images_per_s for r in ok]))
        )
    noise = _seed_noise(by_commit, metric)
    values = [p.value for p in series.points]
    series.metric_step = _step(series.points, values, lambda _: tolerance, noise)
    speeds = [p.throughput for p in series.points]
    relative = throughput_tolerance / 100.0
    series.throughput_step = _step(series.points, speeds, lambda level: abs(level) * relative, 0.0)
    return series


def build_history(
    rows: list[Row], metric: str, tolerance: float, throughput_tolerance: float,
    min_fit_seconds: float,
) -> list[Series]:  # fmt: skip
    """Every series in ``rows`` with its points in commit order and any step flagged
    (``tolerance``: of the metric; ``throughput_tolerance``: percent of the level before)."""
    groups: dict[tuple[str, str, str, str], list[Row]] = defaultdict(list)
    for row in rows:
        groups[(row.dataset, row.detector, row.scorer, _environment(row))].append(row)
    return [
        _series(key, group, metric, tolerance, throughput_tolerance, min_fit_seconds)
        for key, group in sorted(groups.items())
    ]
