"""Broken plugins are named in one line (``-v`` keeps the traceback), ``bench plugins`` still
lists everything and marks what is wrong, and its table never cuts a name at 80 columns."""

from __future__ import annotations

import importlib
import json
import sys
import textwrap
from pathlib import Path

import pytest
from click.testing import CliRunner

from bench import hookimpl, plugins
from bench.cli import cli
from bench.errors import SetupError
from bench.registry import RegistrationError


@pytest.fixture
def site(tmp_path, monkeypatch):
    """A folder on sys.path where :func:`install` puts plugin distributions (a module and a
    dist-info with its ``bench`` entry point), found by importlib.metadata like pip-installed
    ones."""
    folder = tmp_path / "site"
    folder.mkdir()
    monkeypatch.syspath_prepend(str(folder))
    yield folder
    for name in [m for m in sys.modules if m.startswith("hardening_plugin_")]:
        del sys.modules[name]
    importlib.invalidate_caches()


def install(site: Path, name: str, source: str) -> str:
    module = f"hardening_plugin_{name}"
    (site / f"{module}.py").write_text(textwrap.dedent(source))
    info = site / f"{module}-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {module}\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text(f"[bench]\n{name} = {module}\n")
    importlib.invalidate_caches()
    return module


RAISES = "raise RuntimeError('licence server unreachable')\n"
SYNTAX = "def broken(:\n"
IMPOSTOR = """
from bench import hookimpl
from bench.detector import Detector


class Impostor(Detector):
    name = "pca"


@hookimpl
def bench_register_detectors(register):
    register(Impostor)
"""


@pytest.mark.parametrize(
    ("source", "reason"),
    [(RAISES, "RuntimeError: licence server unreachable"), (SYNTAX, "SyntaxError")],
    ids=["RuntimeError", "SyntaxError"],
)
def test_a_plugin_failing_at_import_is_one_line_naming_it(site, source, reason):
    module = install(site, "flaky", source)
    with pytest.raises(SetupError) as caught:
        plugins.make_plugin_manager()
    message = str(caught.value)
    assert "\n" not in message
    assert f"plugin 'flaky' ({module}) failed to load: {reason}" in message
    result = CliRunner().invoke(cli, ["run", "-d", "pca"])
    assert result.exit_code == 2 and "plugin 'flaky'" in result.output
    assert len(result.output.strip().splitlines()) == 1 and "Traceback" not in result.output


def test_verbose_keeps_the_traceback(site):
    install(site, "flaky", RAISES)
    result = CliRunner().invoke(cli, ["-v", "run", "-d", "pca"])
    assert result.exit_code == 1
    assert isinstance(result.exception, SetupError)  # raised through, with its traceback
    assert isinstance(result.exception.__cause__, RuntimeError)


class _Registers:
    def __init__(self, kind: str, obj: object) -> None:
        self.kind, self.obj = kind, obj

    @hookimpl
    def bench_register_detectors(self, register):
        if self.kind == "detectors":
            register(self.obj)

    @hookimpl
    def bench_register_metrics(self, register):
        if self.kind == "metrics":
            register(self.obj)


class NotADetector:
    name = "plain"

    def fit(self, images):
        return self


@pytest.mark.parametrize(
    ("kind", "obj", "needs"),
    [
        ("detectors", NotADetector, "a Detector subclass"),
        ("detectors", NotADetector(), "a Detector subclass"),
        ("metrics", lambda labels, scores: 0.5, "a Metric"),
    ],
    ids=["class", "instance", "metric-function"],
)
def test_registering_the_wrong_kind_of_thing_names_the_plugin(kind, obj, needs):
    plugins.plugin_manager().register(_Registers(kind, obj), name="sloppy")
    with pytest.raises(RegistrationError) as caught:
        plugins.build_registry(plugins.plugin_manager())
    assert "plugin 'sloppy' registered" in str(caught.value)
    assert f"in {kind}, which needs {needs}" in str(caught.value)


def test_a_registration_hook_that_raises_names_the_plugin():
    class Exploding:
        @hookimpl
        def bench_register_scorers(self, register):
            raise ValueError("no scorers today")

    plugins.plugin_manager().register(Exploding(), name="exploding")
    with pytest.raises(SetupError, match=r"plugin 'exploding': bench_register_scorers raised Val"):
        plugins.build_registry(plugins.plugin_manager())


def test_bench_plugins_lists_everything_and_marks_conflicts_and_failures(site):
    install(site, "impostor", IMPOSTOR)
    install(site, "flaky", RAISES)
    result = CliRunner().invoke(cli, ["plugins"], env={"COLUMNS": "80"})
    assert result.exit_code == 1  # problems: a script notices
    out = result.output
    assert out.count("(conflict)") == 2 and "detector knn" in out
    (line,) = [line for line in out.splitlines() if line.startswith("conflict: ")]
    assert "detector 'pca' is registered by both plugin" in line  # either may load first
    assert "'pca'" in line.split("both")[1] and "'impostor'" in line
    assert "not loaded: plugin 'flaky' (hardening_plugin_flaky) failed to load: Runtime" in out
    rows = {
        row["name"]: row
        for row in json.loads(CliRunner().invoke(cli, ["plugins", "--json"]).stdout)
    }
    assert rows["impostor"]["detectors"] == ["pca"]
    assert rows["impostor"]["conflicts"] == ["detector 'pca' is also registered by plugin 'pca'"]
    assert rows["pca"]["conflicts"] == ["detector 'pca' is also registered by plugin 'impostor'"]
    assert "RuntimeError: licence server unreachable" in rows["flaky"]["error"]
    assert rows["flaky"]["package"] == "hardening_plugin_flaky"
    assert rows["knn"]["error"] is None and rows["knn"]["detectors"] == ["knn"]
    # and a run refuses the conflict in one line
    run = CliRunner().invoke(cli, ["run", "-d", "knn"])
    assert run.exit_code == 2 and len(run.output.strip().splitlines()) == 1


def test_bench_plugins_never_cuts_a_name_at_80_columns():
    result = CliRunner().invoke(cli, ["plugins"], env={"COLUMNS": "80"})
    assert result.exit_code == 0, result.output
    assert "…" not in result.output
    assert max(len(line) for line in result.output.splitlines()) <= 80
    words = set(result.output.replace("│", " ").split())
    reg = plugins.registry()
    for kind in ("detectors", "scorers", "datasets", "metrics"):
        for name in reg.names(kind):
            assert name in words, name
    for name, _ in plugins.plugin_manager().list_name_plugin():
        assert name in words, name
