"""``fcn_ae``: the fully connected autoencoder of the course's face anomaly-detection assignment.

The flattened image (12288 values at the course's 3 x 64 x 64, 64 for an 8 x 8 digit) goes
through Linear layers 1024-512-256-64 to a 10-d latent (the bottleneck that passed the course's
"medium" bar) and back through the mirror image, ReLU between layers and Tanh last for [-1, 1]
inputs. With no convolutions it has no notion of locality, which is what makes it a useful
contrast to ``conv_ae``; it takes any input size as it is. Default scorer: mean squared error of
the reconstruction.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from bench import hookimpl
from bench.constraints import COUNT, ListOf
from plugins.detectors.autoencoder import AutoencoderDetector


def _mlp(sizes: list[int], last: nn.Module) -> nn.Sequential:
    layers: list[nn.Module] = []
    for n_in, n_out in zip(sizes, sizes[1:], strict=False):
        layers += [nn.Linear(n_in, n_out), nn.ReLU()]
    layers[-1] = last
    return nn.Sequential(*layers)


class FCNAutoencoder(nn.Module):
    def __init__(self, input_shape: tuple[int, int, int], widths: list[int], latent: int) -> None:
        super().__init__()
        self.input_shape = input_shape
        sizes = [math.prod(input_shape), *widths, latent]
        # No activation on the latent: a ReLU there would waste code dimensions stuck at zero.
        self.encoder = _mlp(sizes, nn.Identity())
        self.decoder = _mlp(sizes[::-1], nn.Tanh())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.decoder(self.encoder(x.flatten(1))).reshape(x.shape[0], *self.input_shape)


class FCNAE(AutoencoderDetector):
    name = "fcn_ae"
    defaults = {
        # Epochs, the rule for every reference model: from epoch 7 on, the training loss (mean
        # over the 10 digits classes, seed 0) falls by under 5% of its value per epoch, averaged
        # over the next 5 epochs. One step per epoch on a digits class (120 images).
        "epochs": 7,
        "batch_size": 128,
        "lr": 1e-3,
        "widths": [1024, 512, 256, 64],
        "latent": 10,
    }
    hparam_constraints = {"widths": ListOf(COUNT), "latent": COUNT}

    def build_model(self, input_shape: tuple[int, int, int]) -> nn.Module:
        return FCNAutoencoder(
            input_shape, list(self.hparams["widths"]), int(self.hparams["latent"])
        )


@hookimpl
def bench_register_detectors(register):
    register(FCNAE)
