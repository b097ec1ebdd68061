"""Whether two experiments' rows measured the same thing, and if not, why (``bench compare``).

Everything is compared generically: the stored configuration key by key (so a setting added
later, such as an input shape, is covered without a list here), the environment fields of
:data:`rows.ENVIRONMENT`, and the seeds each side ran.
"""

from __future__ import annotations

import json
from typing import Any

from bench.leaderboard.rows import ADDED_LATER, ENVIRONMENT, UNRECORDED, Row


def _flat(config: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in config.items():
        if isinstance(value, dict) and value:
            out.update(_flat(value, f"{prefix}{key}."))
        else:
            out[f"{prefix}{key}"] = value
    return out


def config_differences(before: dict[str, Any] | None, after: dict[str, Any] | None) -> str:
    """Every key whose value differs, generically (a setting added later is covered too)."""
    if before is None or after is None:
        side = "baseline" if before is None else "current"
        return f"the {side} row mixes several configurations"
    a, b = _flat(before), _flat(after)
    absent = "(absent)"
    diffs = [
        f"{k} {json.dumps(a.get(k, absent))} vs {json.dumps(b.get(k, absent))}"
        for k in sorted(set(a) | set(b))
        if a.get(k, absent) != b.get(k, absent)
    ]
    return "config differs: " + ", ".join(diffs)


def environment_differences(before: list[Row], after: list[Row]) -> list[str]:
    reasons = []
    for key, label in ENVIRONMENT.items():
        was = sorted({str(r.environment.get(key, UNRECORDED)) for r in before})
        now = sorted({str(r.environment.get(key, UNRECORDED)) for r in after})
        if key in ADDED_LATER and UNRECORDED in was + now:
            continue
        unclear = []
        for side, values in (("baseline", was), ("current", now)):
            if UNRECORDED in values:
                unclear.append(f"the {side} side records no {label}")
            elif len(values) > 1:
                unclear.append(f"the {side} side mixes {label}s {', '.join(values)}")
        if not unclear and was != now:
            unclear.append(f"{label} {was[0]} vs {now[0]}")
        reasons += unclear
    return reasons


def seed_list(values: set[int] | tuple[int, ...]) -> str:
    return ",".join(str(s) for s in sorted(values)) or "none"


def seed_differences(base: list[Row], cur: list[Row], common: set[int]) -> list[str]:
    """Why the seeds do not line up: none shared, or a pooled mean that cannot be split."""
    for side, rows, other in (("baseline", base, cur), ("current", cur, base)):
        for row in rows:
            if row.pooled and not row.seeds:
                return [f"the {side} leaderboard does not record its seeds"]
            if row.pooled and set(row.seeds) - common:
                ran = seed_list({s for r in other for s in r.seeds})
                return [
                    f"the {side} side is a mean over seeds {seed_list(row.seeds)} (a leaderboard "
                    f"JSON keeps no per-seed values), the other side ran seeds {ran}"
                ]
    if not common:
        ran = [seed_list({s for r in rows for s in r.seeds}) for rows in (base, cur)]
        return [f"no seed in common (seeds {ran[0]} vs {ran[1]})"]
    return []
