"""``bench run`` options generated from :class:`bench.experiment.Settings`, one per field, so
a new setting is a suite key and a command-line option without another line of code."""

from __future__ import annotations

import dataclasses
import typing
from collections.abc import Callable
from typing import Any

import click

from bench.experiment import Settings, hint_kinds

F = typing.TypeVar("F", bound=Callable[..., Any])
PREFIX = "setting_"  # keeps generated parameter names apart from the command's own


def _flag(f: dataclasses.Field) -> str:
    return f.metadata["flag"] or "--" + f.name.replace("_", "-")


def _option(f: dataclasses.Field, hint: Any) -> Callable[[F], F]:
    kinds = hint_kinds(hint)
    flag, help_text, dest = _flag(f), f.metadata["help"], PREFIX + f.name
    if bool in kinds:
        name = flag.removeprefix("--")
        return click.option(f"--{name}/--no-{name}", dest, default=None, help=help_text)
    kind = click.INT if int in kinds else click.FLOAT if float in kinds else click.STRING
    return click.option(flag, dest, type=kind, default=None, help=help_text)


def settings_options(fn: F) -> F:
    """Add every setting's option to a click command (values arrive as ``setting_<name>``)."""
    hints = typing.get_type_hints(Settings)
    for f in reversed(dataclasses.fields(Settings)):
        fn = _option(f, hints[f.name])(fn)
    return fn


def given_settings(opts: dict[str, Any]) -> dict[str, Any]:
    """The settings given on the command line (None: not given)."""
    return {
        name: opts[PREFIX + name] for name in Settings.names() if opts[PREFIX + name] is not None
    }
