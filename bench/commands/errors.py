"""Turn the harness's expected errors into one-line CLI messages instead of tracebacks."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

import click

from bench.errors import BenchError

F = TypeVar("F", bound=Callable[..., Any])
EXIT_USAGE = 2  # a usage or setup error: nothing was trained (click's own usage errors exit 2)


class OneLineError(click.ClickException):
    """A :class:`~bench.errors.BenchError` as the CLI prints it: one line, exit status 2."""

    exit_code = EXIT_USAGE


def _verbosity() -> int:
    ctx = click.get_current_context(silent=True)
    return int(ctx.find_root().params.get("verbose") or 0) if ctx else 0


def friendly_errors(fn: F) -> F:
    """Print a :class:`~bench.errors.BenchError` as one line, or with its traceback under
    ``bench -v``; any other exception is a bug and always keeps its traceback."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except BenchError as exc:
            if _verbosity():
                raise
            raise OneLineError(str(exc)) from exc

    return wrapper  # type: ignore[return-value]
