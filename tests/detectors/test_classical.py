"""Classical baselines (iforest, ocsvm, knn, pca): each learns a digits class, scores rise away
from the training data, plus each one's own knob."""

from __future__ import annotations

import pytest
import torch

from bench.plugins import registry
from tests.detectors.digits_helpers import fit_on_digits, run_on_digits, training_inputs

CLASSICAL = ["iforest", "ocsvm", "knn", "pca"]


def _scores(detector, x: torch.Tensor) -> torch.Tensor:
    scorer = registry().get("scorers", detector.default_scorer)
    return scorer(detector.outputs(x), x)


@pytest.mark.parametrize("name", CLASSICAL)
def test_learns_a_digit_class(name):
    result = run_on_digits(name, task="0")
    assert result.metrics["auroc"] >= 0.9


@pytest.mark.parametrize("name", CLASSICAL)
def test_noise_scores_above_every_training_image(name):
    detector = fit_on_digits(name)
    train = training_inputs(detector)
    noise = torch.rand((16, *train.shape[1:]), generator=torch.Generator().manual_seed(0))
    assert _scores(detector, noise).min() > _scores(detector, train).max()


def test_knn_with_one_neighbour_scores_training_images_zero():
    detector = fit_on_digits("knn", k=1)
    scores = _scores(detector, training_inputs(detector))
    assert torch.allclose(scores, torch.zeros_like(scores), atol=1e-4)


def test_ocsvm_fits_on_a_seeded_subset_of_max_samples():
    detector = fit_on_digits("ocsvm", max_samples=50)
    assert detector.svm.shape_fit_[0] == 50
    assert len(training_inputs(detector)) > 50
