"""What the loaded plugins provide, indexed by name, remembering which plugin provided each."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from bench.dataset import Dataset
from bench.detector import Detector
from bench.errors import BenchError
from bench.metrics import Metric
from bench.scorer import Scorer

KINDS = ("detectors", "scorers", "datasets", "metrics")
# What each kind must be: a subclass (detectors, datasets are instantiated per job) or an
# instance (scorers, metrics are plain values).
_EXPECTED: dict[str, tuple[type, bool]] = {
    "detectors": (Detector, True),
    "scorers": (Scorer, False),
    "datasets": (Dataset, True),
    "metrics": (Metric, False),
}


class PluginConflictError(BenchError, RuntimeError):
    """Two plugins registered the same name for the same kind of thing."""


class RegistrationError(BenchError, TypeError):
    """A plugin registered something that is not what its kind requires; caught when it
    registers, where the plugin can be named, rather than as an AttributeError mid-run."""


class UnknownNameError(BenchError, KeyError):
    """A name asked for on the command line or in a suite that no plugin registered."""

    def __str__(self) -> str:  # KeyError quotes its message; we want it plain
        return str(self.args[0])


@dataclass
class Entry:
    name: str
    obj: Any
    plugin: str


@dataclass(frozen=True)
class Conflict:
    kind: str
    name: str
    plugins: tuple[str, str]  # (kept, refused)

    def __str__(self) -> str:
        first, second = self.plugins
        return (
            f"{self.kind[:-1]} {self.name!r} is registered by both plugin {first!r} and "
            f"plugin {second!r}"
        )


def _describe(obj: Any) -> str:
    if isinstance(obj, type):
        return f"class {obj.__module__}.{obj.__qualname__}"
    return f"a {type(obj).__name__} object"


def check_kind(kind: str, obj: Any, plugin: str) -> None:
    base, as_class = _EXPECTED[kind]
    ok = isinstance(obj, type) and issubclass(obj, base) if as_class else isinstance(obj, base)
    if not ok:
        what = f"a {base.__name__} subclass" if as_class else f"a {base.__name__}"
        raise RegistrationError(
            f"plugin {plugin!r} registered {_describe(obj)} in {kind}, which needs {what}"
        )


@dataclass
class Registry:
    """``strict=False`` (for ``bench plugins``, which must list a broken setup) keeps the first
    of two same-named registrations and records the clash in ``conflicts`` instead of raising."""

    detectors: dict[str, Entry] = field(default_factory=dict)
    scorers: dict[str, Entry] = field(default_factory=dict)
    datasets: dict[str, Entry] = field(default_factory=dict)
    metrics: dict[str, Entry] = field(default_factory=dict)
    strict: bool = True
    conflicts: list[Conflict] = field(default_factory=list)

    def register_for(self, kind: str, plugin: str) -> Callable[[Any], None]:
        """The ``register`` callable handed to one plugin's registration hook."""
        table: dict[str, Entry] = getattr(self, kind)

        def register(obj: Any) -> None:
            check_kind(kind, obj, plugin)
            name = getattr(obj, "name", None)
            if not isinstance(name, str) or not name:
                raise RegistrationError(
                    f"plugin {plugin!r} registered {_describe(obj)} in {kind} without a name"
                )
            if name in table:
                conflict = Conflict(kind, name, (table[name].plugin, plugin))
                if self.strict:
                    raise PluginConflictError(str(conflict))
                self.conflicts.append(conflict)
                return
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
        """What ``plugin`` registered, per kind, including names refused for a conflict."""
        return {
            kind: sorted(
                {e.name for e in getattr(self, kind).values() if e.plugin == plugin}
                | {c.name for c in self.conflicts if c.kind == kind and plugin in c.plugins}
            )
            for kind in KINDS
        }

    def conflicts_of(self, plugin: str) -> list[str]:
        return [
            f"{c.kind[:-1]} {c.name!r} is also registered by plugin "
            f"{c.plugins[1] if c.plugins[0] == plugin else c.plugins[0]!r}"
            for c in self.conflicts
            if plugin in c.plugins
        ]
