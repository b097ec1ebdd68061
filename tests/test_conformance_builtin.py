"""Every built-in detector passes every conformance check, at hyperparameters small enough for
the whole file to take well under a minute on one core."""

from __future__ import annotations

from typing import Any

from bench.detector import Detector
from bench.plugins import registry
from bench.testing import parametrize_with_checks

SHARED = {"epochs": 1, "batch_size": 8, "pretrain_epochs": 1}  # for every detector with the key
# Smaller networks where the defaults would dominate: fcn_ae 26.5M -> 0.8M parameters, the
# ResNet-based ones at half width 0.13-3.5M -> 0.04-1.7M (each is fitted ~13 times here).
OWN: dict[str, dict[str, Any]] = {
    "fcn_ae": {"widths": [32], "latent": 4},
    "resnet_ae": {"width": 0.125},
    "aux_decoder": {"width": 0.125},
    "ensemble_ae": {"width": 0.125},
    "ae_classifier": {"width": 0.125},
    "iforest": {"n_estimators": 10},
}


def kit_hparams(cls: type[Detector]) -> dict[str, Any]:
    return {**{k: v for k, v in SHARED.items() if k in cls.defaults}, **OWN.get(cls.name, {})}


BUILTINS = [registry().get("detectors", name) for name in registry().names("detectors")]


@parametrize_with_checks(BUILTINS, hparams=kit_hparams)
def test_builtin_detector(detector_cls, check):
    check(detector_cls)
