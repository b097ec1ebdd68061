"""The conformance kit catches detectors that break the contract."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from bench.detector import Detector
from bench.images import InputSpec
from bench.testing import check_detector


class MeanDistance(Detector):
    name = "mean_distance"
    produces = ("score",)
    default_scorer = "native"
    input_spec = InputSpec()

    def fit(self, train):
        self.mean = train.all().mean(dim=0)
        return self

    def outputs(self, x):
        return {"score": (x - self.mean).pow(2).mean(dim=(1, 2, 3))}


class Unseeded(MeanDistance):
    """Draws from an RNG the harness does not own."""

    def outputs(self, x):
        rng = np.random.default_rng()
        return {"score": torch.from_numpy(rng.random(len(x))).float()}


class WrongShape(MeanDistance):
    def outputs(self, x):
        return {"score": torch.zeros(len(x), 2)}


class PeeksAtLabels(MeanDistance):
    def fit(self, train):
        train.targets  # noqa: B018
        return super().fit(train)


class NoOutputs(MeanDistance):
    produces = ("score", "latent")


def test_a_well_behaved_detector_passes():
    check_detector(MeanDistance)


@pytest.mark.parametrize(
    "cls, message",
    [
        (Unseeded, "same seed must give identical scores"),
        (WrongShape, "scores"),
        (NoOutputs, "latent"),
    ],
)
def test_broken_detectors_fail_with_a_reason(cls, message):
    with pytest.raises((AssertionError, ValueError, KeyError), match=message):
        check_detector(cls)


def test_reading_training_labels_without_asking_is_refused():
    with pytest.raises(PermissionError, match="labelled anomalies"):
        check_detector(PeeksAtLabels)
