"""resnet_ae: learns a digits class; the residual encoder and decoder have the reference shapes."""

from __future__ import annotations

import torch
from torch import nn

from bench.detector import RunContext
from plugins.detectors.blocks import ResBlock, ResNetFeatures
from plugins.detectors.resnet_ae import ResNetAE
from tests.detectors.digits_helpers import run_on_digits


def test_learns_a_digit_class():
    result = run_on_digits("resnet_ae", task="1")
    assert result.metrics["auroc"] >= 0.85


def test_reference_width_encodes_64_pixels_to_4_and_a_64d_latent():
    model = ResNetAE(RunContext(hparams={"width": 1.0})).build_model((3, 64, 64)).eval()
    x = torch.rand(2, 3, 64, 64) * 2 - 1
    assert model.encoder.features(x).shape == (2, 64, 4, 4)
    assert model.encoder(x).shape == (2, 64)
    transposed = [m for m in model.decoder.modules() if isinstance(m, nn.ConvTranspose2d)]
    assert [m.out_channels for m in transposed] == [128, 128, 128, 3]
    reconstruction = model(x)
    assert reconstruction.shape == x.shape
    assert reconstruction.abs().max() <= 1.0


def test_stages_hold_2_1_1_1_blocks_with_projection_shortcuts_only_where_shapes_change():
    features = ResNetFeatures(3, width=1.0)
    blocks = [m for m in features.modules() if isinstance(m, ResBlock)]
    assert len(blocks) == 5
    projected = [not isinstance(b.shortcut, nn.Identity) for b in blocks]
    # 32 -> 64 (stride 2), 64 -> 64, 64 -> 128 (s2), 128 -> 128 (s2), 128 -> 64 (s2)
    assert projected == [True, False, True, True, True]


def test_fully_connected_bottleneck_follows_the_last_feature_map():
    # MNIST padded to 32 x 32: the 64-channel map is 2 x 2, so 256 features feed the latent.
    model = ResNetAE(RunContext(hparams={"width": 1.0})).build_model((1, 32, 32)).eval()
    to_latent = [m for m in model.encoder.head if isinstance(m, nn.Linear)]
    from_latent = [m for m in model.decoder.layers if isinstance(m, nn.Linear)]
    assert [(m.in_features, m.out_features) for m in to_latent] == [(64 * 2 * 2, 64)]
    assert [(m.in_features, m.out_features) for m in from_latent] == [(64, 64 * 2 * 2)]
    x = torch.rand(2, 1, 32, 32) * 2 - 1
    assert model.encoder.features(x).shape == (2, 64, 2, 2)
    assert model(x).shape == x.shape
