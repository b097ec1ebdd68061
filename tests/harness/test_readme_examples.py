"""The README's plugin examples run as written: each code block that defines a detector is
executed and the detector passes the conformance kit."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from bench.testing import check_detector

README = Path(__file__).resolve().parents[2] / "README.md"
BLOCKS = re.findall(r"```python\n(.*?)```", README.read_text(encoding="utf-8"), re.S)


def _detector(name: str) -> type:
    block = next(b for b in BLOCKS if f"class {name}(" in b)
    namespace: dict = {}
    exec(compile(block, f"README:{name}", "exec"), namespace)  # the user's copy-paste, verbatim
    return namespace[name]


@pytest.mark.parametrize(
    "name, hparams",
    [("Brightness", {}), ("TinyAE", {"epochs": 1, "batch_size": 8, "hidden": 4})],
)
def test_readme_detector_example_conforms(name, hparams):
    check_detector(_detector(name), hparams=hparams)
