"""vae: learns a digits class under its own and the mse scorer; the KL term is trained and
weighted by ``kl_weight``; scoring is deterministic (it decodes the posterior mean)."""

from __future__ import annotations

import pytest
import torch

from plugins.detectors.vae import kl_to_standard_normal
from tests.detectors.digits_helpers import fit_on_digits, run_on_digits, training_inputs

SHORT = {"epochs": 5}


@pytest.mark.parametrize("scorer", ["elbo", "mse"])
def test_learns_a_digit_class(scorer):
    result = run_on_digits("vae", task="1", scorer=scorer)
    assert result.metrics["auroc"] >= 0.85


def _mean_kl(kl_weight: float) -> float:
    detector = fit_on_digits("vae", kl_weight=kl_weight, **SHORT)
    out = detector.outputs(training_inputs(detector))
    return kl_to_standard_normal(out["mu"], out["logvar"]).mean().item()


def test_kl_weight_pulls_the_posterior_towards_the_prior():
    weak, strong = _mean_kl(0.01), _mean_kl(1.0)
    assert strong > 0
    assert strong < weak


def test_scoring_decodes_the_posterior_mean():
    detector = fit_on_digits("vae", **SHORT)
    x = training_inputs(detector)[:8]
    first, second = detector.outputs(x), detector.outputs(x)
    for name in detector.produces:
        assert torch.equal(first[name], second[name])
    with torch.no_grad():
        decoded_mean = detector.model.decoder(first["mu"])
        sampled, _, _ = detector.model(x)
    assert torch.allclose(first["reconstruction"], decoded_mean)
    assert not torch.allclose(first["reconstruction"], sampled)
