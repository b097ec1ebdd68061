"""deep_svdd: learns a digits class; the paper's guards against the trivial solution (no bias
terms, no BatchNorm shift, centre kept away from zero) hold; the centre is the eps-adjusted mean
of the initial representations."""

from __future__ import annotations

import torch
from torch import nn

from plugins.detectors.deep_svdd import LeNetAutoencoder, LeNetEncoder
from tests.detectors.digits_helpers import fit_on_digits, run_on_digits, training_inputs

UNTRAINED = {"epochs": 0, "pretrain_epochs": 0}


def test_learns_a_digit_class():
    result = run_on_digits("deep_svdd", task="0")
    assert result.metrics["auroc"] >= 0.9


def test_no_bias_terms_or_batchnorm_shift_anywhere():
    encoder = LeNetEncoder((3, 32, 32), [8, 4], 16)
    for model in (encoder, LeNetAutoencoder(encoder, 3)):
        assert not [name for name, _ in model.named_parameters() if "bias" in name]
        norms = [m for m in model.modules() if isinstance(m, nn.BatchNorm2d)]
        assert norms and not any(m.affine for m in norms)


def test_trained_center_has_no_near_zero_coordinates():
    detector = fit_on_digits("deep_svdd", epochs=2, pretrain_epochs=2)
    assert not [name for name, _ in detector.model.named_parameters() if "bias" in name]
    assert detector.center.shape == (32,)
    assert (detector.center.abs() >= detector.hparams["eps"]).all()


def test_center_is_the_mean_initial_representation():
    # Untrained, the model is still the initial network; a tiny eps leaves the mean as it is.
    detector = fit_on_digits("deep_svdd", eps=1e-9, **UNTRAINED)
    with torch.no_grad():
        mean = detector.model.eval()(training_inputs(detector)).mean(dim=0)
    assert torch.allclose(detector.center, mean, rtol=1e-5, atol=1e-9)


def test_eps_pushes_coordinates_away_from_zero_keeping_their_sign():
    detector = fit_on_digits("deep_svdd", eps=1e3, **UNTRAINED)
    with torch.no_grad():
        mean = detector.model.eval()(training_inputs(detector)).mean(dim=0)
    expected = torch.where(mean < 0, -1e3, 1e3)
    assert torch.equal(detector.center, expected)
