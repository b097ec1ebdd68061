"""``aux_decoder``: ``resnet_ae`` with a second, auxiliary decoder reading the same latent code.

One of the course's face anomaly-detection variants: both decoders (the same architecture,
different initialisations) are trained on the shared ResNet latent with the sum of their mean
squared errors, so the encoder must keep what either decoder needs.

How the score combines the two reconstructions: ``reconstruction`` is their pixel-wise mean, and
the usual scorers (mse, l1, max_error) apply to it. For decoder outputs ``a`` and ``b``,

    mse((a + b) / 2, x) = (mse(a, x) + mse(b, x)) / 2 - mse(a, b) / 4,

so scoring the averaged reconstruction is the mean of the two errors minus a quarter of the
decoders' disagreement: the mean of the errors would add disagreement to the score, the average
removes it, as an ensemble's prediction does. We chose the average because it keeps a single
reconstruction that every reconstruction scorer and the example plots use, and because the
disagreement term did not matter here: on the 10 ``digits`` classes with the defaults the two
combinations scored a mean AUROC of 0.965 each, against 0.951 and 0.965 for the decoders alone.
``reconstruction_aux`` exposes the auxiliary decoder alone.
"""

from __future__ import annotations

from typing import Any, ClassVar

import torch
import torch.nn.functional as F
from torch import nn

from bench import hookimpl
from plugins.detectors.blocks import ConvDecoder
from plugins.detectors.resnet_ae import ResNetAE, ResNetAutoencoder


class TwinDecoderAutoencoder(ResNetAutoencoder):
    """``resnet_ae``'s network with a second decoder reading the same latent."""

    def __init__(
        self, input_shape: tuple[int, int, int], latent: int, width: float, dropout: float
    ) -> None:
        super().__init__(input_shape, latent, width, dropout)
        self.aux_decoder = ConvDecoder(latent, input_shape, width)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        z = self.encoder(x)
        return self.decoder(z), self.aux_decoder(z)


class AuxDecoderAE(ResNetAE):
    name = "aux_decoder"
    produces: ClassVar[tuple[str, ...]] = ("reconstruction", "reconstruction_aux")
    # From epoch 9 on, the training loss (mean over the 10 digits classes) falls by under 5% of
    # its value per epoch over the next 5.
    defaults: ClassVar[dict[str, Any]] = {**ResNetAE.defaults, "epochs": 9}

    def build_model(self, input_shape: tuple[int, int, int]) -> nn.Module:
        h = self.hparams
        return TwinDecoderAutoencoder(input_shape, h["latent"], h["width"], h["dropout"])

    def training_loss(self, model, x, y):
        main, aux = model(x)
        return F.mse_loss(main, x) + F.mse_loss(aux, x)

    def forward_outputs(self, model, x):
        main, aux = model(x)
        return {"reconstruction": (main + aux) / 2, "reconstruction_aux": aux}


@hookimpl
def bench_register_detectors(register):
    register(AuxDecoderAE)
