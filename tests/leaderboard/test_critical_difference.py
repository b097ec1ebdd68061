"""The critical-difference section: Friedman over classes and Nemenyi post-hoc on the ranks the
board shows, a deterministic diagram, and one sentence when there are too few rows or classes."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys

import pandas as pd
from scikit_posthocs import posthoc_nemenyi_friedman
from scipy.stats import friedmanchisquare

from bench.runner import RunSpec
from tests.leaderboard.conftest import CLASSES, run_into
from tests.leaderboard.test_leaderboard import _cells, _generate, _table_row


def _section(markdown: str) -> str:
    return markdown.split("## Critical-difference diagram", 1)[1].split("\n## ", 1)[0]


def test_friedman_and_ranks_are_those_of_the_board(mixed_store, tmp_path):
    _generate(mixed_store, tmp_path)
    markdown = (tmp_path / "digits.md").read_text()
    section = _section(markdown)
    assert "![critical-difference diagram](plots/digits/cd.png)" in section
    assert (tmp_path / "plots" / "digits" / "cd.png").stat().st_size > 0
    cells = pd.read_csv(tmp_path / "digits.csv", dtype={"task": str})
    cells["label"] = cells["detector"] + "/" + cells["scorer"]
    ranks = cells.pivot(index="task", columns="label", values="rank")
    assert list(ranks.index) == CLASSES and ranks.notna().all().all()  # failures ranked, last
    expected = friedmanchisquare(*ranks.T.to_numpy())
    match = re.search(r"χ² = ([\d.]+) with (\d+) degrees of freedom, p = ([\d.e-]+?)\. ", section)
    assert match, section
    assert float(match.group(1)) == round(expected.statistic, 2)
    assert int(match.group(2)) == ranks.shape[1] - 1
    assert abs(float(match.group(3)) - expected.pvalue) <= 0.006 * expected.pvalue  # 3 digits
    board = {f"{r['detector']}/{r['scorer']}": r for r in json.loads(
        (tmp_path / "digits.json").read_text())["rows"]}  # fmt: skip
    pvalues = posthoc_nemenyi_friedman(ranks)
    for label, row in board.items():
        shown = _cells(_table_row(section, label))
        assert float(shown[1]) == round(row["avg_rank"], 2) == round(ranks[label].mean(), 2)
        differs = {other for other in board if pvalues.loc[label, other] < 0.05}
        assert set(shown[2].split(", ")) == (differs or {"none"})
    assert "(scikit-posthocs `posthoc_nemenyi_friedman`)" in section
    index = (tmp_path / "README.md").read_text()
    assert (
        "[diagram](plots/digits/cd.png), [ranks](digits.md#critical-difference-diagram), "
        f"Friedman p = {match.group(3)}"
    ) in index


def test_too_few_rows_or_classes_give_one_sentence_and_no_diagram(tmp_path):
    cases = {
        "rows": RunSpec(detectors=["pca", "knn"], classes=CLASSES[:2], device="cpu"),
        "classes": RunSpec(detectors=["pca", "knn", "iforest"], classes=["0"], device="cpu"),
    }
    for name, spec in cases.items():
        store, out = tmp_path / f"{name}.sqlite", tmp_path / name
        run_into(store, spec)
        _generate(store, out)
        section = _section((out / "digits.md").read_text()).strip()
        assert section.startswith("No critical-difference diagram: it needs at least 3 rows")
        assert section.count("\n") == 0  # one sentence
        assert not (out / "plots" / "digits" / "cd.png").exists()
        assert "[none](digits.md#critical-difference-diagram)" in (out / "README.md").read_text()


DRAW = """
import sys
from pathlib import Path
import numpy as np, pandas as pd
from scikit_posthocs import posthoc_nemenyi_friedman
from bench.leaderboard.plots import cd_diagram, colours
rng = np.random.default_rng(0)
names = [f"detector_{i}/scorer" for i in range(12)]
ranks = pd.DataFrame(rng.normal(size=(10, 12)) + np.arange(12) * 0.4, columns=names).rank(axis=1)
mean = ranks.mean().sort_values(kind="stable")
cd_diagram(mean, posthoc_nemenyi_friedman(ranks), 0.05, "t", Path(sys.argv[1]), colours(names))
"""


def test_the_diagram_does_not_depend_on_the_hash_seed(tmp_path):
    """scikit-posthocs keeps each bar's rows in a set; with row names as keys its drawing
    order followed Python's per-process hash seed."""
    images = []
    for seed in ("1", "2", "3", "4"):
        path = tmp_path / f"cd{seed}.png"
        env = {**os.environ, "PYTHONHASHSEED": seed}
        subprocess.run([sys.executable, "-c", DRAW, str(path)], env=env, check=True)
        images.append(path.read_bytes())
    assert all(image == images[0] for image in images)
