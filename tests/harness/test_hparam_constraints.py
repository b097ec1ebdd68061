"""Declared hyperparameter constraints: every built-in's values are checked when the run is
planned (a probe had found 226 bad values that passed planning and failed in every job)."""

from __future__ import annotations

import math

import pytest

from bench.constraints import COUNT, Interval, ListOf, OneOf, check_constraints, describe
from bench.detector import Detector
from bench.plugins import registry


@pytest.mark.parametrize(
    "constraint, good, bad",
    [
        (COUNT, [1, 7], [0, -1, 1.0, True, "3", None, [1]]),
        (Interval(0, 1, closed="right"), [1, 0.5, 1e-9], [0, 1.5, math.nan, math.inf, False]),
        (Interval(0, 1, closed="left"), [0, 0.99], [1, -0.1]),
        (OneOf(("auto", None)), ["auto", None], ["Auto", 0, "", False]),
        (ListOf(COUNT), [[1], (4, 8)], [[], [0], [1.5], "12", 12, [True]]),
    ],
)
def test_constraints_accept_and_refuse(constraint, good, bad):
    assert all(constraint.accepts(v) for v in good)
    assert not any(constraint.accepts(v) for v in bad)


def test_the_message_names_the_key_every_allowed_kind_and_the_value():
    allowed = (OneOf(("auto",)), COUNT, Interval(0, 1, closed="right"))
    assert describe(allowed) == "'auto', an integer >= 1 or a finite number in (0, 1]"
    with pytest.raises(ValueError) as refused:
        check_constraints({"max_samples": -1}, {"max_samples": allowed})
    assert str(refused.value) == f"max_samples must be {describe(allowed)}, got -1"
    check_constraints({}, {"max_samples": allowed})  # an optional key left unset passes


def test_constraints_merge_over_the_parents_like_defaults():
    class Base(Detector):
        defaults = {"a": 1, "b": 2}
        hparam_constraints = {"a": COUNT, "b": COUNT}

    class Child(Base):
        defaults = {"c": "x"}
        hparam_constraints = {"b": Interval(0), "c": OneOf(("x", "y"))}

    assert Child.hparam_constraints == {"a": COUNT, "b": Interval(0), "c": OneOf(("x", "y"))}
    Child.check_hparams({"a": 1, "b": 0, "c": "y"})
    with pytest.raises(ValueError, match="a must be an integer >= 1, got 0"):
        Child.check_hparams({"a": 0, "b": 0, "c": "y"})


DETECTORS = sorted(registry().detectors)


@pytest.mark.parametrize("name", DETECTORS)
def test_every_hyperparameter_of_a_builtin_refuses_a_value_of_the_wrong_kind(name):
    # No built-in hyperparameter takes an arbitrary string: one that accepts this one is
    # unchecked, and a typo in it would fail (or silently change) every job.
    cls = registry().get("detectors", name)
    for key in cls.defaults:
        with pytest.raises(ValueError, match=key):
            cls.check_hparams({**cls.defaults, key: "not-a-value"})
