"""Like-for-like regression checks between two sets of results (``bench compare``).

Rows are matched on dataset, detector, scorer and task; an experiment is compared only when the
whole stored configuration and the environment it ran in (:data:`rows.ENVIRONMENT`) are equal on
both sides, and only on the seeds both sides ran. Anything else is *not comparable* with the
reason, never a regression. On the seeds compared, an experiment regresses when

* a seed that was ok failed or diverged;
* a registered metric got worse by more than its tolerance: a fixed one, or max(0.01, 2 x the
  baseline's std over seeds) so seed noise alone does not fail a check (direction from the
  metric's ``higher_is_better``);
* training throughput dropped by more than a percentage, checked only when the fit took at least
  a floor of seconds: shorter fits are timer and scheduler noise (measured; see the README).
"""

from __future__ import annotations

import json
import statistics
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field

from bench.leaderboard.comparable import (
    config_differences,
    environment_differences,
    seed_differences,
    seed_list,
)
from bench.leaderboard.rows import Row
from bench.results import OK

MIN_TOLERANCE = 0.01
STD_MULTIPLE = 2.0
# Fit times of the same job repeated 5 times on a loaded 2-core machine varied by up to 1.6x
# (fits of ~2 s) and by 6-51 % (CV) below 10 ms, with identical AUROCs: see the README.
DEFAULT_THROUGHPUT_TOLERANCE = 50.0  # percent
DEFAULT_MIN_FIT_SECONDS = 1.0

REGRESSED, IMPROVED, UNCHANGED = "regressed", "improved", "unchanged"
NOT_COMPARABLE, NOT_RUN, NEW = "not comparable", "not run", "new"
VERDICTS = (REGRESSED, IMPROVED, UNCHANGED, NOT_COMPARABLE, NOT_RUN, NEW)


@dataclass(frozen=True)
class Tolerances:
    metric: float | None = None  # fixed allowed change of every metric; None: from the std
    throughput: float = DEFAULT_THROUGHPUT_TOLERANCE
    min_fit_seconds: float = DEFAULT_MIN_FIT_SECONDS


@dataclass(frozen=True)
class Check:
    name: str  # "status", a metric's name or "throughput"
    baseline: str
    current: str
    change: str
    verdict: str  # REGRESSED, IMPROVED or UNCHANGED


@dataclass
class Outcome:
    """One baseline experiment (or one only the current side has) and what became of it."""

    dataset: str
    detector: str
    scorer: str
    task: str
    verdict: str
    reason: str = ""  # why not comparable / not run, or which seeds were compared
    checks: list[Check] = field(default_factory=list)

    def describe(self) -> str:
        return f"{self.dataset} {self.detector}/{self.scorer} task {self.task}"


def _config_key(row: Row) -> str:
    return "mixed" if row.config is None else json.dumps(row.config, sort_keys=True, default=str)


def _statuses(rows: list[Row]) -> dict[int, Row]:
    return {seed: row for row in rows for seed in row.seeds}


def _mean(rows: list[Row], seeds: set[int], of: Callable[[Row], float | None]) -> float | None:
    """Mean of ``of(row)`` over exactly ``seeds`` (None when some seed has no value)."""
    values: list[float] = []
    for row in rows:
        if row.status != OK or not set(row.seeds) & seeds:
            continue
        value = of(row)
        if value is None:
            return None
        values += [value] * len(row.seeds)
    return statistics.fmean(values) if len(values) == len(seeds) else None


def _spread(rows: list[Row], name: str) -> float:
    """The baseline's std of a metric over all its ok seeds: the noise a change must exceed."""
    pooled = [r.spread.get(name, 0.0) for r in rows if r.pooled and r.spread]
    if pooled:
        return pooled[0]
    values = [r.metrics[name] for r in rows if r.status == OK and name in r.metrics]
    return statistics.stdev(values) if len(values) > 1 else 0.0


def _verdict(worse: float, tolerance: float) -> str:
    return REGRESSED if worse > tolerance else IMPROVED if -worse > tolerance else UNCHANGED


def _metric_check(
    name: str, higher_is_better: bool, base: list[Row], cur: list[Row], seeds: set[int],
    tol: Tolerances,
) -> Check | None:  # fmt: skip
    def of(row: Row) -> float | None:
        return row.metrics.get(name)

    was, now = _mean(base, seeds, of), _mean(cur, seeds, of)
    if was is None or now is None:
        return None
    std = _spread(base, name)
    tolerance = tol.metric if tol.metric is not None else max(MIN_TOLERANCE, STD_MULTIPLE * std)
    change = now - was
    worse = -change if higher_is_better else change
    verdict = _verdict(worse, tolerance)
    shown = f"{was:.4f}" + (f"±{std:.4f}" if std else "")
    return Check(name, shown, f"{now:.4f}", f"{change:+.4f} (tol {tolerance:.4f})", verdict)


def _throughput_check(base: list[Row], cur: list[Row], seeds: set[int], tol: Tolerances) -> Check:
    def speed(row: Row) -> float | None:
        return row.train_images_per_s

    def fit(row: Row) -> float | None:
        return row.fit_seconds

    was, now = _mean(base, seeds, speed), _mean(cur, seeds, speed)
    fits = [f for f in (_mean(base, seeds, fit), _mean(cur, seeds, fit)) if f]
    if was is None or now is None or not was:
        return Check("throughput", "-", "-", "not recorded", UNCHANGED)
    shown = f"{was:,.0f}/s", f"{now:,.0f}/s"
    if max(fits, default=0.0) < tol.min_fit_seconds:
        detail = f"not timed: fit {max(fits, default=0.0):.3f} s < {tol.min_fit_seconds:g} s"
        return Check("throughput", *shown, detail, UNCHANGED)
    change = 100.0 * (now - was) / was
    verdict = _verdict(-change, tol.throughput)
    return Check("throughput", *shown, f"{change:+.1f}% (tol {tol.throughput:g}%)", verdict)


def _status_checks(base: dict[int, Row], cur: dict[int, Row], seeds: set[int]) -> list[Check]:
    checks = []
    for seed in sorted(seeds):
        was, now = base[seed], cur[seed]
        if (was.status == OK) == (now.status == OK):
            continue
        verdict = REGRESSED if was.status == OK else IMPROVED
        worse = now if verdict == REGRESSED else was
        detail = f"seed {seed} {worse.status}: {worse.error or ''}".strip()
        checks.append(Check("status", was.status, now.status, detail, verdict))
    return checks


def compare_experiment(
    base: list[Row], cur: list[Row], metrics: dict[str, bool], tol: Tolerances
) -> tuple[str, str, list[Check]]:
    """(verdict, reason, checks) for one experiment whose configurations are equal."""
    by_seed_base, by_seed_cur = _statuses(base), _statuses(cur)
    common = set(by_seed_base) & set(by_seed_cur)
    reasons = environment_differences(base, cur) + seed_differences(base, cur, common)
    if reasons:
        return NOT_COMPARABLE, "; ".join(reasons), []
    checks = _status_checks(by_seed_base, by_seed_cur, common)
    both_ok = {s for s in common if by_seed_base[s].status == OK and by_seed_cur[s].status == OK}
    if both_ok:
        for name, higher in metrics.items():
            check = _metric_check(name, higher, base, cur, both_ok, tol)
            if check is not None:
                checks.append(check)
        checks.append(_throughput_check(base, cur, both_ok, tol))
    verdicts = {c.verdict for c in checks}
    verdict = next((v for v in (REGRESSED, IMPROVED) if v in verdicts), UNCHANGED)
    return verdict, f"seeds {seed_list(common)}", checks


def _experiments(rows: list[Row]) -> dict[tuple[str, str, str, str], dict[str, list[Row]]]:
    """Rows by cell, then by configuration."""
    out: dict[tuple[str, str, str, str], dict[str, list[Row]]] = defaultdict(dict)
    for row in rows:
        out[row.cell].setdefault(_config_key(row), []).append(row)
    return out


def compare_rows(
    baseline: list[Row], current: list[Row], metrics: dict[str, bool], tol: Tolerances
) -> list[Outcome]:
    """One outcome per baseline experiment, then one ``new`` per cell only the current side has.
    ``metrics``: each registered metric's name and whether higher is better."""
    before, after = _experiments(baseline), _experiments(current)
    outcomes = []
    for cell in sorted(before):
        candidates = after.get(cell, {})
        for key, base in sorted(before[cell].items()):
            if not candidates:
                outcomes.append(Outcome(*cell, NOT_RUN, "no result on the current side"))
            elif key not in candidates:
                # a current configuration the baseline also has is compared with that one
                others = [rows for k, rows in candidates.items() if k not in before[cell]]
                if others:
                    reason = config_differences(base[0].config, others[0][0].config)
                    outcomes.append(Outcome(*cell, NOT_COMPARABLE, reason))
                else:
                    outcomes.append(Outcome(*cell, NOT_RUN, "not run with this configuration"))
            else:
                found = compare_experiment(base, candidates[key], metrics, tol)
                outcomes.append(Outcome(*cell, *found))
    for cell in sorted(set(after) - set(before)):
        outcomes.append(Outcome(*cell, NEW, "not in the baseline"))
    return outcomes


def summary(outcomes: list[Outcome]) -> dict[str, int]:
    counts = {v: sum(o.verdict == v for o in outcomes) for v in VERDICTS}
    return {"compared": counts[REGRESSED] + counts[IMPROVED] + counts[UNCHANGED], **counts}


def reasons_by_kind(outcomes: list[Outcome], verdict: str) -> dict[str, list[Outcome]]:
    """Outcomes of one verdict grouped by their reason, most frequent first."""
    groups: dict[str, list[Outcome]] = defaultdict(list)
    for o in outcomes:
        if o.verdict == verdict:
            groups[o.reason].append(o)
    return dict(sorted(groups.items(), key=lambda item: (-len(item[1]), item[0])))
