"""Every built-in detector passes the conformance kit (tiny data, one short epoch)."""

from __future__ import annotations

import pytest

from bench.plugins import registry
from bench.testing import check_detector

FAST = {"epochs": 1}


def _detectors():
    return registry().names("detectors")


@pytest.mark.parametrize("name", _detectors())
def test_builtin_detector_conforms(name):
    cls = registry().get("detectors", name)
    check_detector(cls, hparams={k: v for k, v in FAST.items() if k in cls.defaults})
