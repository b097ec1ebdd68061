"""ensemble_ae: learns a digits class; the two encoders' codes concatenate to 192 dimensions."""

from __future__ import annotations

import torch
from torch import nn

from bench.detector import RunContext
from plugins.detectors.ensemble_ae import EnsembleAE
from tests.detectors.digits_helpers import run_on_digits


def test_learns_a_digit_class():
    result = run_on_digits("ensemble_ae", task="0")
    assert result.metrics["auroc"] >= 0.9


def test_reference_width_concatenates_a_64d_fc_and_a_128d_conv_code():
    model = EnsembleAE(RunContext(hparams={"width": 1.0})).build_model((3, 64, 64)).eval()
    fc = [m.out_features for m in model.fc_encoder.modules() if isinstance(m, nn.Linear)]
    assert fc == [1024, 256, 64]
    assert model.fc_encoder.layers[1].in_features == 3 * 64 * 64
    conv = [m.out_channels for m in model.conv_encoder.modules() if isinstance(m, nn.Conv2d)]
    assert conv == [128, 256, 256, 128]
    x = torch.rand(2, 3, 64, 64) * 2 - 1
    assert model.fc_encoder(x).shape == (2, 64)
    assert model.conv_encoder(x).shape == (2, 128)
    assert model.encode(x).shape == (2, 192)
    assert model.decoder.layers[0].in_features == 192
    assert model(x).shape == x.shape
