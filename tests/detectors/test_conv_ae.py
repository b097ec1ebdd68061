"""conv_ae: learns a digits class; the widths hyperparameter shapes the bottleneck."""

from __future__ import annotations

import torch

from bench.detector import RunContext
from plugins.detectors.conv_ae import ConvAE
from tests.detectors.digits_helpers import run_on_digits


def test_learns_a_digit_class():
    result = run_on_digits("conv_ae", task="1")
    assert result.metrics["auroc"] >= 0.85


def test_widths_set_the_bottleneck_and_output_matches_input():
    model = ConvAE(RunContext(hparams={"widths": [4, 8, 16]})).build_model((3, 64, 64))
    x = torch.rand(2, 3, 64, 64) * 2 - 1
    assert model.encoder(x).shape == (2, 16, 8, 8)
    reconstruction = model(x)
    assert reconstruction.shape == x.shape
    assert reconstruction.abs().max() <= 1.0


def test_a_fourth_width_asks_for_sizes_divisible_by_16():
    default, deeper = ConvAE(RunContext()), ConvAE(RunContext(hparams={"widths": [4, 8, 16, 32]}))
    assert default.input_spec.resolve((1, 8, 8)) == (1, 8, 8)
    assert deeper.input_spec.resolve((1, 8, 8)) == (1, 16, 16)
    model = deeper.build_model((1, 16, 16))
    x = torch.rand(2, 1, 16, 16) * 2 - 1
    assert model.encoder(x).shape == (2, 32, 1, 1) and model(x).shape == x.shape
