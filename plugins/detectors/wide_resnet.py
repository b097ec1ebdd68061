"""The wide ResNet (Zagoruyko & Komodakis 2016) that Golan & El-Yaniv 2018 classify with, built
as in their code (izikgo/AnomalyDetectionTransformations, ``models/wide_residual_network.py``).

WRN-``depth``-``width``: a 3x3 convolution to 16 channels, then three groups of
``(depth - 4) / 6`` pre-activation basic blocks with ``16 * width``, ``32 * width`` and
``64 * width`` channels (the last two halve the size), BatchNorm-ReLU, global average pooling
and a linear layer. Convolutions are bias-free with He-normal weights; BatchNorm momentum and
epsilon match their Keras settings (0.9 / 1e-5, i.e. torch's defaults).
"""

from __future__ import annotations

import torch
from torch import nn


def _conv(c_in: int, c_out: int, kernel: int, stride: int = 1) -> nn.Conv2d:
    conv = nn.Conv2d(c_in, c_out, kernel, stride=stride, padding=kernel // 2, bias=False)
    nn.init.kaiming_normal_(conv.weight, mode="fan_in", nonlinearity="relu")
    return conv


class BasicBlock(nn.Module):
    """BN-ReLU-conv twice; the shortcut is a 1x1 convolution of the activated input when the
    channel count changes, else the input itself."""

    def __init__(self, c_in: int, c_out: int, stride: int) -> None:
        super().__init__()
        self.pre = nn.Sequential(nn.BatchNorm2d(c_in), nn.ReLU())
        self.body = nn.Sequential(
            _conv(c_in, c_out, 3, stride), nn.BatchNorm2d(c_out), nn.ReLU(), _conv(c_out, c_out, 3)
        )
        self.shortcut = None if c_in == c_out else _conv(c_in, c_out, 1, stride)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        activated = self.pre(x)
        skip = x if self.shortcut is None else self.shortcut(activated)
        return self.body(activated) + skip


def check_depth(depth: int) -> None:
    """Three groups of two-convolution blocks plus four layers: other depths do not exist."""
    if (depth - 4) % 6 or depth < 10:
        raise ValueError(f"depth must be 6n + 4 with n >= 1 (10, 16, 22, ...), got {depth}")


class WideResNet(nn.Module):
    def __init__(self, channels: int, classes: int, depth: int, width: int) -> None:
        super().__init__()
        check_depth(depth)
        blocks = (depth - 4) // 6
        widths = [16, 16 * width, 32 * width, 64 * width]
        layers: list[nn.Module] = [_conv(channels, widths[0], 3)]
        for c_in, c_out, stride in zip(widths, widths[1:], (1, 2, 2), strict=False):
            layers.append(BasicBlock(c_in, c_out, stride))
            layers += [BasicBlock(c_out, c_out, 1) for _ in range(blocks - 1)]
        layers += [nn.BatchNorm2d(widths[-1]), nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten()]
        self.features = nn.Sequential(*layers)
        self.classifier = nn.Linear(widths[-1], classes)
        nn.init.zeros_(self.classifier.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.features(x))
