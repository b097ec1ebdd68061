"""What a board's runs were, in a reader's terms: the data protocol, the classes, the seeds
each detector ran, and every hyperparameter a row ran at other than its detector's default (a
suite pinning CPU-sized epochs must say so beside the numbers it produced).

The defaults come from the detectors installed where the board is built (the store records the
values a row ran with, not what the defaults were); a detector that is not installed is said to
have unknown defaults.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from bench.leaderboard.tables import Leaderboard, row_keys

Defaults = Mapping[str, Mapping[str, Any]]  # detector name -> its class's ``defaults``
FULL_PROTOCOL = "full protocol: no cap (every training image of the normal class, whole test set)"


def _value(value: Any) -> str:
    return json.dumps(value, sort_keys=True)


def data_protocol(lb: Leaderboard) -> str:
    caps = lb.provenance["data_caps"]
    return "; ".join(cap or FULL_PROTOCOL for cap in caps)


def classes(lb: Leaderboard) -> str:
    return f"{len(lb.tasks)} ({', '.join(lb.tasks)})"


def detectors(lb: Leaderboard) -> list[str]:
    """The board's detectors, in the order of their best row."""
    return list(dict.fromkeys(d for d, _ in row_keys(lb.summary)))


def seeds_per_detector(lb: Leaderboard) -> str:
    """The seeds every detector ran, or per detector where they differ."""
    seeds = {
        name: sorted(int(s) for s in lb.rows.loc[lb.rows["detector"] == name, "seed"].unique())
        for name in detectors(lb)
    }
    text = {name: ", ".join(str(s) for s in mine) for name, mine in seeds.items()}
    if len(set(text.values())) == 1:
        return f"{next(iter(text.values()))} (every detector)"
    return "; ".join(f"{name}: {seeds}" for name, seeds in text.items())


def pinned_settings(lb: Leaderboard, defaults: Defaults) -> dict[str, str]:
    """Per detector whose rows ran any hyperparameter off its default, those values, e.g.
    ``epochs=20 (default 150)``; several values of one key (rows of several configs) are
    listed together."""
    notes = {}
    for name in detectors(lb):
        configs = lb.rows.loc[lb.rows["detector"] == name, "config"]
        if name not in defaults:
            notes[name] = "defaults unknown (detector not installed where this board was built)"
            continue
        ran: dict[str, set[str]] = {}
        for config in configs:
            for key, value in config.get("hparams", {}).items():
                ran.setdefault(key, set()).add(_value(value))
        off = []
        for key in sorted(ran):
            default = _value(defaults[name][key]) if key in defaults[name] else None
            if ran[key] != {default}:
                known = f"default {default}" if default is not None else "not a setting now"
                off.append(f"{key}={', '.join(sorted(ran[key]))} ({known})")
        if off:
            notes[name] = ", ".join(off)
    return notes


def pinned_lines(lb: Leaderboard, defaults: Defaults) -> list[str]:
    notes = pinned_settings(lb, defaults)
    if not notes:
        return ["Every detector ran at its default hyperparameters.", ""]
    return [
        "Hyperparameters that differ from the detector's defaults (pinned by the suite or the "
        "command line; the numbers above are at these settings):",
        "",
        *(f"- {name}: {text}" for name, text in notes.items()),
        "",
    ]
