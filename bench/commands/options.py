"""Parsing shared by commands: comma lists and KEY=VALUE options."""

from __future__ import annotations

import math
import tomllib
from typing import Any

import click

from bench.errors import PlanError


def split_values(values: tuple[str, ...]) -> list[str]:
    return [part.strip() for value in values for part in value.split(",") if part.strip()]


def parse_literal(text: str) -> Any:
    """Parse a command-line value as TOML (numbers, booleans, lists), else keep the string."""
    try:
        return tomllib.loads(f"v = {text}")["v"]
    except tomllib.TOMLDecodeError:
        return text


def parse_pairs(values: tuple[str, ...], option: str) -> dict[str, Any]:
    pairs = {}
    for value in values:
        key, sep, raw = value.partition("=")
        if not sep or not key:
            raise PlanError(f"{option} expects KEY=VALUE, got {value!r}")
        pairs[key.strip()] = parse_literal(raw.strip())
    return pairs


class NonNegativeFloat(click.ParamType):
    """A finite number >= 0: NaN would pass a range check (every comparison with it is false)
    and silently turn a tolerance off."""

    name = "float"

    def convert(self, value: Any, param: Any, ctx: Any) -> float:
        try:
            number = float(value)
        except (TypeError, ValueError):
            self.fail(f"{value!r} is not a number", param, ctx)
        if not math.isfinite(number) or number < 0:
            self.fail(f"{value!r} is not a finite number >= 0", param, ctx)
        return number


NON_NEGATIVE = NonNegativeFloat()
