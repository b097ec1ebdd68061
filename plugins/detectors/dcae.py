"""``dcae``: the deep convolutional autoencoder baseline of Ruff et al. 2018 (Table 1, "DCAE").

It is the network Deep SVDD pretrains (``plugins/detectors/lenet.py``), trained on its own and
scored by reconstruction error, on the same GCN + min-max preprocessed images
(``plugins/detectors/gcn.py``). The loss is the authors': squared error summed over pixels,
averaged over the batch (a mean over pixels would weaken Adam's weight decay relative to it).

Defaults are the authors' code (README commands of lukasruff/Deep-SVDD-PyTorch): Adam, lr 1e-4
dropped tenfold after ``lr_milestone`` epochs, batch 200; by input shape, MNIST 150 epochs
(drop after 50) with weight decay 5e-4, CIFAR-10 350 epochs (drop after 250) with weight decay
5e-7. Where the paper's text differs (its two-phase schedule, as we recall it), the code is
followed.
For a CPU-sized run lower ``--epochs`` (the drop then never happens unless ``lr_milestone`` is
lowered too).

The harness's ``mse`` scorer compares ``reconstruction`` with the detector's [0, 1] input, but
the error that ranks images is the one in the preprocessed space. So ``reconstruction`` is the
input plus that error, ``x + (decoded - preprocessed(x))``: ``mse`` then gives exactly the mean
preprocessed squared error, and the plotted image still reads as the input and what it misses.
"""

from __future__ import annotations

from typing import Any, ClassVar

import torch
from torch import nn

from bench import hookimpl
from plugins.detectors.lenet import CIFAR10_SHAPE, MNIST_SHAPE, lenet_autoencoder
from plugins.detectors.ruff2018 import RuffRecipe, Settings

AUTOENCODER_SETTINGS: Settings = {
    MNIST_SHAPE: {"epochs": 150, "lr_milestone": 50, "weight_decay": 5e-4},
    CIFAR10_SHAPE: {"epochs": 350, "lr_milestone": 250, "weight_decay": 5e-7},
}


class DCAE(RuffRecipe):
    name = "dcae"
    produces = ("reconstruction",)
    default_scorer = "mse"
    shape_settings = AUTOENCODER_SETTINGS
    defaults: ClassVar[dict[str, Any]] = {
        "epochs": None,  # by input shape: 150 (MNIST), 350 (CIFAR-10)
        "batch_size": 200,
        "lr": 1e-4,
        "lr_milestone": None,  # by input shape: 50 (MNIST), 250 (CIFAR-10)
        "weight_decay": None,  # by input shape: 5e-4 (MNIST), 5e-7 (CIFAR-10)
    }

    def build_model(self, input_shape: tuple[int, int, int]) -> nn.Module:
        return lenet_autoencoder(input_shape)

    def training_loss(self, model: nn.Module, x: torch.Tensor, y: torch.Tensor | None):
        z = self.preprocess(x)
        return (model(z) - z).pow(2).flatten(1).sum(dim=1).mean()

    def forward_outputs(self, model: nn.Module, x: torch.Tensor) -> dict[str, torch.Tensor]:
        z = self.preprocess(x)
        return {"reconstruction": x + (model(z) - z)}


@hookimpl
def bench_register_detectors(register):
    register(DCAE)
