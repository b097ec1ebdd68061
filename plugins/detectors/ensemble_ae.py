"""``ensemble_ae``: two encoders of one image, one decoder; a course face-anomaly variant.

A fully connected encoder (C*H*W-1024-256-64: 12288 inputs at the course's 3 x 64 x 64) sees the
image as a flat vector and a convolutional encoder (C-128-256-256-128, kernel 4, stride 2,
padding 1, then a Linear to 128) sees it as a grid; their latent codes are concatenated (192-d)
and decoded by ``resnet_ae``'s transposed-convolution decoder. The idea is an ensemble in the
encoder: the decoder can use whichever view reconstructs normal images better. Anomalies are
images it reconstructs badly (default scorer: mean squared error). Sizes must divide by 16.

``width`` multiplies every hidden width (not the latent sizes) as in ``blocks``; 1.0 is the
reference model, the default 0.25 keeps the embedded ``digits`` run at a few CPU seconds per job.
"""

from __future__ import annotations

from typing import Any, ClassVar

import torch
from torch import nn

from bench import hookimpl
from bench.constraints import POSITIVE, Allowed
from bench.images import InputSpec
from plugins.detectors.autoencoder import AutoencoderDetector
from plugins.detectors.blocks import DOWNSAMPLING, DROPOUT, ConvDecoder, scaled

FC_WIDTHS = (1024, 256)
FC_LATENT = 64
CONV_WIDTHS = (128, 256, 256, 128)  # as many stride-2 layers as the decoder has doublings
CONV_LATENT = 128


class FCEncoder(nn.Module):
    def __init__(self, input_shape: tuple[int, int, int], width: float, dropout: float) -> None:
        super().__init__()
        layers: list[nn.Module] = [nn.Flatten()]
        c_in = input_shape[0] * input_shape[1] * input_shape[2]
        for c_out in scaled(FC_WIDTHS, width):
            layers += [
                nn.Linear(c_in, c_out),
                nn.BatchNorm1d(c_out),
                nn.ReLU(inplace=True),
                nn.Dropout(dropout),
            ]
            c_in = c_out
        layers += [nn.Linear(c_in, FC_LATENT), nn.BatchNorm1d(FC_LATENT), nn.ReLU(inplace=True)]
        self.layers = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.layers(x)


class ConvEncoder(nn.Module):
    def __init__(self, input_shape: tuple[int, int, int], width: float) -> None:
        super().__init__()
        channels, height, wide = input_shape
        layers: list[nn.Module] = []
        c_in = channels
        for c_out in scaled(CONV_WIDTHS, width):
            layers += [
                nn.Conv2d(c_in, c_out, 4, stride=2, padding=1, bias=False),
                nn.BatchNorm2d(c_out),
                nn.ReLU(inplace=True),
            ]
            c_in = c_out
        scale = DOWNSAMPLING
        layers += [nn.Flatten(), nn.Linear(c_in * (height // scale) * (wide // scale), CONV_LATENT)]
        self.layers = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.layers(x)


class EnsembleAutoencoder(nn.Module):
    latent = FC_LATENT + CONV_LATENT

    def __init__(self, input_shape: tuple[int, int, int], width: float, dropout: float) -> None:
        super().__init__()
        self.fc_encoder = FCEncoder(input_shape, width, dropout)
        self.conv_encoder = ConvEncoder(input_shape, width)
        self.decoder = ConvDecoder(self.latent, input_shape, width)

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        return torch.cat([self.fc_encoder(x), self.conv_encoder(x)], dim=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.decoder(self.encode(x))


class EnsembleAE(AutoencoderDetector):
    name = "ensemble_ae"
    input_spec = InputSpec(value_range=(-1.0, 1.0), size_multiple=DOWNSAMPLING)
    defaults: ClassVar[dict[str, Any]] = {
        # Chosen on held-out normal images: trained on 80% of each digits class's training
        # images (10 classes x seeds 0-2), the mean reconstruction error on the other 20% was
        # 0.286 at 4 epochs, 0.062 at 8, 0.031 at 16, 0.020 at 32, 0.016 at 48, 0.015 at 64.
        # 32 keeps `bench run --all` inside a minute on 2 cores (1.3 s per digits class).
        "epochs": 32,
        "batch_size": 16,
        "lr": 1e-3,
        "width": 0.25,
        "dropout": 0.2,
    }
    hparam_constraints: ClassVar[dict[str, Allowed]] = {"width": POSITIVE, "dropout": DROPOUT}

    def build_model(self, input_shape: tuple[int, int, int]) -> nn.Module:
        return EnsembleAutoencoder(input_shape, self.hparams["width"], self.hparams["dropout"])


@hookimpl
def bench_register_detectors(register):
    register(EnsembleAE)
