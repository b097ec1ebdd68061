"""What values a hyperparameter may take, declared next to its default and checked by the planner.

A detector lists them in ``hparam_constraints`` (in the manner of scikit-learn's parameter
constraints), so ``--set geom.width=0`` is a one-line error before any training instead of a
failed row for every job: a probe of the built-ins found 226 bad values that passed planning
and failed only inside ``fit``, and 120 more that trained on nonsense (a negative width or
dropout, ``True`` as a layer size).

A key maps to one constraint, or to a tuple of them when several kinds of value are allowed
(``("auto", an integer >= 1, a fraction)``). ``bool`` is never a number here, although Python
lets ``True`` stand for 1.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal, Protocol


class Constraint(Protocol):
    def accepts(self, value: Any) -> bool: ...
    def __str__(self) -> str: ...  # completes "must be ...", e.g. "an integer >= 1"


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


@dataclass(frozen=True)
class Interval:
    """A finite number (an integer with ``integer=True``) from ``low`` to ``high``; ``closed``
    says which ends belong to the interval, as in scikit-learn's ``Interval``."""

    low: float | None = None
    high: float | None = None
    closed: Literal["both", "left", "right", "neither"] = "both"
    integer: bool = False

    def accepts(self, value: Any) -> bool:
        if not _is_number(value) or not math.isfinite(value):
            return False
        if self.integer and not isinstance(value, int):
            return False
        if self.low is not None:
            if value < self.low or (value == self.low and self.closed in ("right", "neither")):
                return False
        if self.high is not None:
            if value > self.high or (value == self.high and self.closed in ("left", "neither")):
                return False
        return True

    def __str__(self) -> str:
        kind = "an integer" if self.integer else "a finite number"
        left, right = self.closed in ("both", "left"), self.closed in ("both", "right")
        if self.low is not None and self.high is not None:
            opening, closing = "[" if left else "(", "]" if right else ")"
            return f"{kind} in {opening}{self.low:g}, {self.high:g}{closing}"
        if self.low is not None:
            return f"{kind} {'>=' if left else '>'} {self.low:g}"
        if self.high is not None:
            return f"{kind} {'<=' if right else '<'} {self.high:g}"
        return kind


@dataclass(frozen=True)
class OneOf:
    """One of a few fixed values (strings, or ``None`` for "decided elsewhere")."""

    options: tuple[Any, ...]

    def accepts(self, value: Any) -> bool:
        # Equality alone would let True pass for 1 and 1.0 for 1.
        return any(type(value) is type(o) and value == o for o in self.options)

    def __str__(self) -> str:
        return " or ".join("None" if o is None else repr(o) for o in self.options)


@dataclass(frozen=True)
class ListOf:
    """A non-empty list (or tuple) whose every item meets ``item``, e.g. layer widths."""

    item: Interval

    def accepts(self, value: Any) -> bool:
        items = isinstance(value, list | tuple) and bool(value)
        return items and all(map(self.item.accepts, value))

    def __str__(self) -> str:
        plural = str(self.item).replace("an integer", "integers")
        return "a non-empty list of " + plural.replace("a finite number", "finite numbers")


Allowed = Constraint | tuple[Constraint, ...]


def _kinds(allowed: Allowed) -> tuple[Constraint, ...]:
    return allowed if isinstance(allowed, tuple) else (allowed,)


def describe(allowed: Allowed) -> str:
    kinds = [str(c) for c in _kinds(allowed)]
    return kinds[0] if len(kinds) == 1 else ", ".join(kinds[:-1]) + " or " + kinds[-1]


def check_constraints(hparams: Mapping[str, Any], constraints: Mapping[str, Allowed]) -> None:
    """Raise ``ValueError`` for the first value its constraint refuses (keys not in ``hparams``
    are optional ones left unset, and pass)."""
    for key, allowed in constraints.items():
        if key not in hparams:
            continue
        value = hparams[key]
        if not any(c.accepts(value) for c in _kinds(allowed)):
            raise ValueError(f"{key} must be {describe(allowed)}, got {value!r}")


# The kinds most hyperparameters are: a count (epochs, a layer size), a rate or scale that must
# be positive (a learning rate, a width multiplier), a weight that may be zero (weight decay), a
# fraction of the training images (sklearn's nu, max_samples).
COUNT = Interval(1, integer=True)
POSITIVE = Interval(0, closed="neither")
NON_NEGATIVE = Interval(0)
FRACTION = Interval(0, 1, closed="right")
