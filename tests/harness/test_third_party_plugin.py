"""A third-party plugin package, built and installed for real, is picked up by the CLI."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

BENCH = [sys.executable, "-m", "bench"]

PLUGIN_MODULE = '''
"""A user's detector (mean brightness distance from the training mean) and metric."""
import numpy as np
import torch
from bench import hookimpl
from bench.detector import Detector
from bench.images import InputSpec
from bench.metrics import Metric


class Brightness(Detector):
    name = "brightness"
    produces = ("score",)
    default_scorer = "native"
    input_spec = InputSpec(value_range=(0.0, 1.0))
    defaults = {"power": 2}

    def fit(self, train):
        self.mean = train.all().mean()
        return self

    def outputs(self, x):
        return {"score": (x.mean(dim=(1, 2, 3)) - self.mean).abs() ** self.hparams["power"]}


def median_gap(labels, scores):
    """How far the anomalies' median score lies above the normal images' median."""
    return float(np.median(scores[labels == 1]) - np.median(scores[labels == 0]))


@hookimpl
def bench_register_detectors(register):
    register(Brightness)


@hookimpl
def bench_register_metrics(register):
    register(Metric("median_gap", median_gap))
'''


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    src = tmp_path_factory.mktemp("bench_brightness")
    (src / "bench_brightness.py").write_text(PLUGIN_MODULE)
    (src / "pyproject.toml").write_text(
        textwrap.dedent(
            """
            [build-system]
            requires = ["setuptools"]
            build-backend = "setuptools.build_meta"

            [project]
            name = "bench-brightness"
            version = "1.2.3"

            [project.entry-points.bench]
            brightness = "bench_brightness"

            [tool.setuptools]
            py-modules = ["bench_brightness"]
            """
        )
    )
    target = tmp_path_factory.mktemp("site")
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--no-build-isolation",
         "--no-index", "--target", str(target), str(src)],
        check=True,
    )  # fmt: skip
    return target


def _bench(args, site, tmp_path, **env):
    environ = {**os.environ, "PYTHONPATH": str(site), **env}
    return subprocess.run(
        BENCH + args, cwd=tmp_path, env=environ, capture_output=True, text=True, timeout=300
    )


def test_plugins_lists_the_installed_package(site, tmp_path):
    out = _bench(["plugins", "--json"], site, tmp_path)
    assert out.returncode == 0, out.stderr
    rows = {row["name"]: row for row in json.loads(out.stdout)}
    assert rows["brightness"]["package"] == "bench-brightness"
    assert rows["brightness"]["version"] == "1.2.3"
    assert rows["brightness"]["detectors"] == ["brightness"]
    assert rows["pca"]["package"] == "anomaly-bench"  # built-ins come through the same group


def test_run_uses_the_plugin(site, tmp_path):
    out = _bench(
        ["run", "-d", "brightness", "--classes", "0,1", "--set", "power=1", "--store", "s.sqlite"],
        site,
        tmp_path,
    )
    assert out.returncode == 0, out.stderr + out.stdout
    from bench.store import read_results

    frame = read_results(tmp_path / "s.sqlite")
    assert list(frame["status"]) == ["ok", "ok"]
    assert (frame["detector"] == "brightness").all()
    assert all(c["hparams"] == {"power": 1} for c in frame["config"])


def test_bench_plugins_env_filters_it_out(site, tmp_path):
    out = _bench(["plugins", "--json"], site, tmp_path, BENCH_PLUGINS="scorers,metrics,digits,pca")
    assert out.returncode == 0, out.stderr
    names = {row["name"] for row in json.loads(out.stdout)}
    assert names == {"scorers", "metrics", "digits", "pca"}
    refused = _bench(["run", "-d", "brightness"], site, tmp_path, BENCH_PLUGINS="scorers,digits")
    assert refused.returncode != 0
    assert "unknown detector 'brightness'" in refused.stderr


def test_bench_plugins_naming_a_missing_plugin_is_an_error(site, tmp_path):
    out = _bench(["plugins"], site, tmp_path, BENCH_PLUGINS="scorers,nonexistent")
    assert out.returncode != 0
    assert "'nonexistent'" in out.stderr


def test_a_plugin_metric_is_stored_and_becomes_a_leaderboard_column(site, tmp_path):
    run = ["run", "-d", "brightness,pca", "--classes", "0,1", "--store", "s.sqlite"]
    assert _bench(run, site, tmp_path).returncode == 0
    out = _bench(
        ["leaderboard", "--store", "s.sqlite", "--out", "lb", "--no-plots"], site, tmp_path
    )
    assert out.returncode == 0, out.stderr
    header = next(
        line
        for line in (tmp_path / "lb" / "digits.md").read_text().splitlines()
        if line.startswith("| detector")
    )
    assert "MEDIAN_GAP" in header and "mean AUROC" in header
    board = json.loads((tmp_path / "lb" / "digits.json").read_text())
    assert {"name": "median_gap", "higher_is_better": True} in board["metrics"]
    assert all(row["mean_median_gap"] is not None for row in board["rows"])
    assert all(task["median_gap_mean"] is not None for task in board["rows"][0]["tasks"].values())
