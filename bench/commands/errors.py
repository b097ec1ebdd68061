"""Turn the harness's expected errors into one-line CLI messages instead of tracebacks."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

import click

from bench.dataset import DataError
from bench.registry import PluginConflictError, UnknownNameError
from bench.runner import PlanError
from bench.store import StoreError

F = TypeVar("F", bound=Callable[..., Any])
EXPECTED = (
    DataError, PlanError, StoreError, PluginConflictError, UnknownNameError, FileNotFoundError,
    RuntimeError,
)  # fmt: skip


def friendly_errors(fn: F) -> F:
    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except EXPECTED as exc:
            raise click.ClickException(str(exc)) from exc

    return wrapper  # type: ignore[return-value]
