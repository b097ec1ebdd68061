"""The shared contract of the plain autoencoders (``fcn_ae``, ``conv_ae``, ``resnet_ae``,
``ensemble_ae``): a network trained to reproduce its input with mean squared error, whose
reconstruction is the output every reconstruction scorer reads. Registers nothing."""

from __future__ import annotations

from typing import ClassVar

import torch
import torch.nn.functional as F
from torch import nn

from bench.images import InputSpec
from bench.torch_detector import TorchDetector


class AutoencoderDetector(TorchDetector):
    """Subclasses only build the network; images it reconstructs badly are anomalous."""

    produces: ClassVar[tuple[str, ...]] = ("reconstruction",)
    default_scorer = "mse"
    # The dataset's own channels and size (the course's 3 x 64 x 64 only when forced), in
    # [-1, 1] to match the Tanh output; subclasses add what their strides need.
    input_spec = InputSpec(value_range=(-1.0, 1.0))

    def training_loss(self, model: nn.Module, x: torch.Tensor, y: torch.Tensor | None):
        return F.mse_loss(model(x), x)

    def forward_outputs(self, model: nn.Module, x: torch.Tensor) -> dict[str, torch.Tensor]:
        return {"reconstruction": model(x)}
