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
from bench.errors import SetupError
from bench.registry import KINDS, Registry

GROUP = "bench"
ENV_RESTRICT = "BENCH_PLUGINS"
ENV_EXTRA = "BENCH_EXTRA_PLUGINS"


def make_plugin_manager() -> pluggy.PluginManager:
    pm = pluggy.PluginManager(GROUP)
    pm.add_hookspecs(hookspecs)
    restrict = os.environ.get(ENV_RESTRICT)
    if restrict is None:
        pm.load_setuptools_entrypoints(GROUP)
    else:
        for name in filter(None, (n.strip() for n in restrict.split(","))):
            if not pm.load_setuptools_entrypoints(GROUP, name=name):
                raise SetupError(
                    f"{ENV_RESTRICT} names {name!r} but no installed plugin has that entry point"
                )
    for module_name in filter(None, (n.strip() for n in os.environ.get(ENV_EXTRA, "").split(","))):
        try:
            module = importlib.import_module(module_name)
        except ImportError as exc:
            raise SetupError(f"{ENV_EXTRA} names {module_name!r}: {exc}") from exc
        if not pm.is_registered(module):
            pm.register(module, name=module_name)
    pm.check_pending()
    return pm


def build_registry(pm: pluggy.PluginManager) -> Registry:
    """Call every registration hook one plugin at a time, so conflicts can name both sides."""
    registry = Registry()
    for kind in KINDS:
        hook = getattr(pm.hook, f"bench_register_{kind}")
        for impl in hook.get_hookimpls():
            impl.function(register=registry.register_for(kind, impl.plugin_name))
    return registry


@lru_cache(maxsize=1)
def plugin_manager() -> pluggy.PluginManager:
    return make_plugin_manager()


@lru_cache(maxsize=1)
def registry() -> Registry:
    return build_registry(plugin_manager())


def plugin_summaries(pm: pluggy.PluginManager, reg: Registry) -> list[dict[str, object]]:
    """One dict per loaded plugin: name, distribution, version, module and what it registers."""
    dists = {id(plugin): dist for plugin, dist in pm.list_plugin_distinfo()}
    rows = []
    for name, plugin in sorted(pm.list_name_plugin(), key=lambda item: item[0]):
        dist: metadata.Distribution | None = dists.get(id(plugin))
        rows.append(
            {
                "name": name,
                "package": dist.metadata["Name"] if dist else None,
                "version": dist.version if dist else None,
                "module": getattr(plugin, "__name__", repr(plugin)),
                **reg.provided_by(name),
            }
        )
    return rows
