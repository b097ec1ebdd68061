"""The tests' real data can live anywhere: ``BENCH_TEST_DATA`` overrides ../shared/data."""

from __future__ import annotations

import os
import subprocess
import sys

from tests.conftest import ROOT


def test_bench_test_data_points_the_tests_elsewhere(tmp_path):
    code = "from tests.conftest import SHARED_DATA; print(SHARED_DATA)"
    env = {**os.environ, "BENCH_TEST_DATA": str(tmp_path)}
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == str(tmp_path)
