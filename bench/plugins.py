"""The plugin manager: loads plugins from the ``bench`` entry-point group.

Built-in plugins are ordinary entry points of the ``anomaly-bench`` distribution, so they load
exactly like third-party ones. ``BENCH_PLUGINS=a,b`` loads only the entry points named ``a`` and
``b`` (``BENCH_PLUGINS=`` loads none), which helps isolate a misbehaving plugin.
``BENCH_EXTRA_PLUGINS=pkg.mod,...`` also registers plugin modules by import path, like pytest's
``-p``: a plugin that is not installed as a distribution (a test double, a notebook's module)
is still visible everywhere the variable is, e.g. on Ray workers, which the Ray executor hands
both variables to.
"""

from __future__ import annotations

import importlib
import os
from functools import lru_cache
from importlib import metadata

import pluggy

from bench import hookspecs
from bench.errors import BenchError, SetupError
from bench.registry import KINDS, Registry

GROUP = "bench"
ENV_RESTRICT = "BENCH_PLUGINS"
ENV_EXTRA = "BENCH_EXTRA_PLUGINS"
HINT = f"uninstall or fix it, or set {ENV_RESTRICT} to load only the plugins you need"

Failures = dict[str, str]  # plugin name -> one-line reason it was left out


def _one_line(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {' '.join(str(exc).split())}"


def _fail(failures: Failures | None, plugin: str, message: str, exc: BaseException) -> None:
    """Raise, or (for ``bench plugins``, which must still list everything) note and go on."""
    if failures is None:
        raise SetupError(message) from exc
    failures[plugin] = message


def _entry_point_names() -> list[str]:
    restrict = os.environ.get(ENV_RESTRICT)
    if restrict is None:
        return sorted({ep.name for ep in metadata.entry_points(group=GROUP)})
    names = [n.strip() for n in restrict.split(",") if n.strip()]
    known = {ep.name for ep in metadata.entry_points(group=GROUP)}
    for name in names:
        if name not in known:
            raise SetupError(
                f"{ENV_RESTRICT} names {name!r} but no installed plugin has that entry point"
            )
    return names


def make_plugin_manager(failures: Failures | None = None) -> pluggy.PluginManager:
    """Load every plugin. One that fails to import (with any exception: a SyntaxError or a
    RuntimeError as much as an ImportError) or does not fit the hook specifications is an
    error naming it; with ``failures`` it is recorded there and left out instead."""
    pm = pluggy.PluginManager(GROUP)
    pm.add_hookspecs(hookspecs)
    for name in _entry_point_names():  # one at a time, so a failure can be named
        try:
            pm.load_setuptools_entrypoints(GROUP, name=name)
        except Exception as exc:
            (ep, *_) = metadata.entry_points(group=GROUP, name=name)
            message = f"plugin {name!r} ({ep.value}) failed to load: {_one_line(exc)}; {HINT}"
            _fail(failures, name, message, exc)
    for module_name in filter(None, (n.strip() for n in os.environ.get(ENV_EXTRA, "").split(","))):
        try:
            module = importlib.import_module(module_name)
            if not pm.is_registered(module):
                pm.register(module, name=module_name)
        except Exception as exc:
            message = f"{ENV_EXTRA} names {module_name!r}, which failed to load: {_one_line(exc)}"
            _fail(failures, module_name, message, exc)
    while True:
        try:
            pm.check_pending()
            return pm
        except pluggy.PluginValidationError as exc:
            name = pm.get_name(exc.plugin) or repr(exc.plugin)
            _fail(failures, name, f"plugin {name!r}: {_one_line(exc)}; {HINT}", exc)
            pm.unregister(exc.plugin)


def build_registry(pm: pluggy.PluginManager, failures: Failures | None = None) -> Registry:
    """Call every registration hook one plugin at a time, so conflicts can name both sides.

    With ``failures``, conflicts are recorded in the registry and a hook that fails is noted
    in ``failures``, so ``bench plugins`` can show a broken setup instead of refusing to run.
    """
    registry = Registry(strict=failures is None)
    for kind in KINDS:
        hook = getattr(pm.hook, f"bench_register_{kind}")
        for impl in hook.get_hookimpls():
            try:
                impl.function(register=registry.register_for(kind, impl.plugin_name))
            except BenchError as exc:
                if failures is None:
                    raise
                failures[impl.plugin_name] = str(exc)
            except Exception as exc:
                message = (
                    f"plugin {impl.plugin_name!r}: bench_register_{kind} raised {_one_line(exc)}"
                )
                _fail(failures, impl.plugin_name, message, exc)
    return registry


@lru_cache(maxsize=1)
def plugin_manager() -> pluggy.PluginManager:
    return make_plugin_manager()


@lru_cache(maxsize=1)
def registry() -> Registry:
    return build_registry(plugin_manager())


def plugin_summaries(
    pm: pluggy.PluginManager, reg: Registry, failures: Failures | None = None
) -> list[dict[str, object]]:
    """One dict per plugin, loaded or not: name, distribution, version, module, what it
    registers, its conflicts with other plugins, and why it failed (``error``), if it did."""
    failures = failures or {}
    dists = {id(plugin): dist for plugin, dist in pm.list_plugin_distinfo()}
    rows = []
    for name, plugin in pm.list_name_plugin():
        dist: metadata.Distribution | None = dists.get(id(plugin))
        rows.append(
            {
                "name": name,
                "package": dist.metadata["Name"] if dist else None,
                "version": dist.version if dist else None,
                "module": getattr(plugin, "__name__", repr(plugin)),
                **reg.provided_by(name),
                "conflicts": reg.conflicts_of(name),
                "error": failures.get(name),
            }
        )
    loaded = {row["name"] for row in rows}
    for name in sorted(set(failures) - loaded):  # never loaded: say what it was
        ep = next(iter(metadata.entry_points(group=GROUP, name=name)), None)
        dist = ep.dist if ep is not None else None
        rows.append(
            {
                "name": name,
                "package": dist.metadata["Name"] if dist else None,
                "version": dist.version if dist else None,
                "module": ep.value if ep is not None else name,
                **{kind: [] for kind in KINDS},
                "conflicts": [],
                "error": failures[name],
            }
        )
    return sorted(rows, key=lambda row: str(row["name"]))
