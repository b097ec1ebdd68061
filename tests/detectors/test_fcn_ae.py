"""fcn_ae: learns a digits class; the latent and hidden widths follow the hyperparameters."""

from __future__ import annotations

import torch
from torch import nn

from bench.detector import RunContext
from plugins.detectors.fcn_ae import FCNAE
from tests.detectors.digits_helpers import run_on_digits


def test_learns_a_digit_class():
    result = run_on_digits("fcn_ae", task="0")
    assert result.metrics["auroc"] >= 0.9


def test_latent_and_widths_follow_hyperparameters():
    ctx = RunContext(hparams={"widths": [40, 20], "latent": 3})
    model = FCNAE(ctx).build_model((3, 64, 64))
    widths = [m.out_features for m in model.modules() if isinstance(m, nn.Linear)]
    assert widths == [40, 20, 3, 20, 40, 3 * 64 * 64]
    x = torch.rand(5, 3, 64, 64) * 2 - 1
    assert model.encoder(x.flatten(1)).shape == (5, 3)
    reconstruction = model(x)
    assert reconstruction.shape == x.shape
    assert reconstruction.abs().max() <= 1.0  # Tanh output matches the [-1, 1] input range
