"""What the loaded plugins provide, indexed by name, remembering which plugin provided each."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from bench.errors import BenchError

KINDS = ("detectors", "scorers", "datasets", "metrics")


class PluginConflictError(BenchError, RuntimeError):
    """Two plugins registered the same name for the same kind of thing."""


class UnknownNameError(BenchError, KeyError):
    """A name asked for on the command line or in a suite that no plugin registered."""

    def __str__(self) -> str:  # KeyError quotes its message; we want it plain
        return str(self.args[0])


@dataclass
class Entry:
    name: str
    obj: Any
    plugin: str


@dataclass
class Registry:
    detectors: dict[str, Entry] = field(default_factory=dict)
    scorers: dict[str, Entry] = field(default_factory=dict)
    datasets: dict[str, Entry] = field(default_factory=dict)
    metrics: dict[str, Entry] = field(default_factory=dict)

    def register_for(self, kind: str, plugin: str) -> Callable[[Any], None]:
        """The ``register`` callable handed to one plugin's registration hook."""
        table: dict[str, Entry] = getattr(self, kind)

        def register(obj: Any) -> None:
            name = getattr(obj, "name", None)
            if not isinstance(name, str) or not name:
                raise TypeError(f"plugin {plugin!r} registered {obj!r} in {kind} without a name")
            if name in table:
                raise PluginConflictError(
                    f"{kind[:-1]} {name!r} is registered by both plugin "
                    f"{table[name].plugin!r} and plugin {plugin!r}"
                )
            table[name] = Entry(name, obj, plugin)

        return register

    def get(self, kind: str, name: str) -> Any:
        table: dict[str, Entry] = getattr(self, kind)
        if name not in table:
            known = ", ".join(sorted(table)) or "none"
            raise UnknownNameError(f"unknown {kind[:-1]} {name!r}; registered: {known}")
        return table[name].obj

    def names(self, kind: str) -> list[str]:
        return sorted(getattr(self, kind))

    def provided_by(self, plugin: str) -> dict[str, list[str]]:
        return {
            kind: sorted(e.name for e in getattr(self, kind).values() if e.plugin == plugin)
            for kind in KINDS
        }
