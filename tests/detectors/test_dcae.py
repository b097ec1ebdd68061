"""dcae: learns a digits class at its default settings; its reconstruction makes the mse
scorer give the squared error in the preprocessed space, as the authors score it."""

from __future__ import annotations

import torch

from bench.testing import check_detector
from plugins.detectors.dcae import DCAE
from plugins.scorers import mse
from tests.detectors.digits_helpers import fit_on_digits, run_on_digits, training_inputs


def test_conforms():
    check_detector(DCAE, hparams={"epochs": 1})


def test_learns_a_digit_class_at_its_default_settings():
    result = run_on_digits("dcae", task="0")
    assert result.metrics["auroc"] >= 0.95  # 1.000


def test_mse_scores_the_error_in_the_preprocessed_space():
    detector = fit_on_digits("dcae", epochs=2)
    x = training_inputs(detector)[:6]
    with torch.no_grad():
        z = detector.preprocess(x)
        expected = (detector.model.eval()(z) - z).pow(2).flatten(1).mean(dim=1)
        scores = mse(detector.outputs(x), x)
    assert torch.allclose(scores, expected, rtol=1e-4, atol=1e-7)
    assert detector.hparams["epochs"] == 2 and detector.hparams["lr_milestone"] == 60
