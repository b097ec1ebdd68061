"""Building blocks shared by the ResNet-style detectors (not a plugin: registers nothing).

``resnet_ae``, ``aux_decoder``, ``ensemble_ae`` and ``ae_classifier`` all use the residual
encoder and the transposed-convolution decoder of the course's reference ResNet autoencoder;
keeping them here means a fix reaches every detector, which then differ only in what they add.

Every channel count is the reference one times a width multiplier (as in MobileNet, Howard et
al. 2017): ``width = 1`` is the reference model, smaller values keep its shape but make it
cheaper (the reference autoencoder costs ~1.2 GFLOP per image forward at 64 x 64).

The blocks take any input size divisible by :data:`DOWNSAMPLING`: the fully connected layers
are sized from the last feature map, so at 3 x 64 x 64 they are the course's and elsewhere the
same layer pattern follows from the input.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from bench.constraints import Interval

# The reference ResNet autoencoder, written for 3 x 64 x 64 inputs.
STEM = 32
STAGE_WIDTHS = (64, 128, 128, 64)
STAGE_BLOCKS = (2, 1, 1, 1)
DECODER_WIDTHS = (64, 128, 128, 128)  # then 3: "64-128-128-128-3"
# Four stride-2 stages down, four doublings back up: sizes must divide by 2 ** 4.
DOWNSAMPLING = 2 ** len(STAGE_WIDTHS)
# nn.Dropout's p: 1 would zero every activation.
DROPOUT = Interval(0, 1, closed="left")


def scaled(channels: Sequence[int], width: float) -> list[int]:
    """Channel counts times the width multiplier, at least one each."""
    return [max(1, round(c * width)) for c in channels]


class ResBlock(nn.Module):
    """The basic residual block of He et al. (2016): two 3x3 convolutions with batch norm.

    The shortcut is the identity unless the stride or the channel count changes, when a 1x1
    convolution with batch norm matches the shapes (their "option B").
    """

    def __init__(self, c_in: int, c_out: int, stride: int = 1) -> None:
        super().__init__()
        self.body = nn.Sequential(
            nn.Conv2d(c_in, c_out, 3, stride=stride, padding=1, bias=False),
            nn.BatchNorm2d(c_out),
            nn.ReLU(inplace=True),
            nn.Conv2d(c_out, c_out, 3, padding=1, bias=False),
            nn.BatchNorm2d(c_out),
        )
        self.shortcut: nn.Module = nn.Identity()
        if stride != 1 or c_in != c_out:
            self.shortcut = nn.Sequential(
                nn.Conv2d(c_in, c_out, 1, stride=stride, bias=False), nn.BatchNorm2d(c_out)
            )
        self.relu = nn.ReLU(inplace=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.relu(self.body(x) + self.shortcut(x))


class ResNetFeatures(nn.Module):
    """3x3 stem + BN + ReLU, then one stride-2 stage of residual blocks per stage width.

    Four stages take an H x W image to an H/16 x W/16 map (4 x 4 at 64 x 64) with
    ``out_channels`` channels.
    """

    def __init__(self, in_channels: int, width: float) -> None:
        super().__init__()
        stem = scaled([STEM], width)[0]
        layers: list[nn.Module] = [
            nn.Conv2d(in_channels, stem, 3, padding=1, bias=False),
            nn.BatchNorm2d(stem),
            nn.ReLU(inplace=True),
        ]
        c_in = stem
        for c_out, count in zip(scaled(STAGE_WIDTHS, width), STAGE_BLOCKS, strict=True):
            layers.append(ResBlock(c_in, c_out, stride=2))
            layers += [ResBlock(c_out, c_out) for _ in range(count - 1)]
            c_in = c_out
        self.layers = nn.Sequential(*layers)
        self.out_channels = c_in
        self.downsampling = DOWNSAMPLING

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.layers(x)


class ResNetEncoder(nn.Module):
    """Residual features, flattened, dropout, then a Linear + BN + ReLU latent code."""

    def __init__(
        self, input_shape: tuple[int, int, int], latent: int, width: float, dropout: float
    ) -> None:
        super().__init__()
        channels, height, wide = input_shape
        self.features = ResNetFeatures(channels, width)
        scale = self.features.downsampling
        flat = self.features.out_channels * (height // scale) * (wide // scale)
        self.head = nn.Sequential(
            nn.Flatten(),
            nn.Dropout(dropout),
            nn.Linear(flat, latent),
            nn.BatchNorm1d(latent),
            nn.ReLU(inplace=True),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x))


class ConvDecoder(nn.Module):
    """Latent -> Linear + BN + ReLU onto a seed map -> ConvTranspose2d stack -> Tanh.

    Each transposed convolution (kernel 4, stride 2, padding 1) doubles the size, so the seed
    map (``DECODER_WIDTHS[0]`` channels) is H/16 x W/16 (4 x 4 for 64 x 64 outputs); Tanh
    matches inputs in [-1, 1].
    """

    def __init__(self, latent: int, output_shape: tuple[int, int, int], width: float) -> None:
        super().__init__()
        channels, height, wide = output_shape
        widths = scaled(DECODER_WIDTHS, width)
        scale = 2 ** len(widths)
        seed_shape = (widths[0], height // scale, wide // scale)
        seed = seed_shape[0] * seed_shape[1] * seed_shape[2]
        layers: list[nn.Module] = [
            nn.Linear(latent, seed),
            nn.BatchNorm1d(seed),
            nn.ReLU(inplace=True),
            nn.Unflatten(1, seed_shape),
        ]
        for c_in, c_out in zip(widths, widths[1:], strict=False):
            layers += [
                nn.ConvTranspose2d(c_in, c_out, 4, stride=2, padding=1, bias=False),
                nn.BatchNorm2d(c_out),
                nn.ReLU(inplace=True),
            ]
        layers += [nn.ConvTranspose2d(widths[-1], channels, 4, stride=2, padding=1), nn.Tanh()]
        self.layers = nn.Sequential(*layers)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.layers(z)
