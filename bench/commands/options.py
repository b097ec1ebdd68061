"""Parsing shared by commands: comma lists and KEY=VALUE options."""

from __future__ import annotations

import tomllib
from typing import Any

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
