"""What ``dcae`` and ``deep_svdd`` share from Ruff et al. 2018's code: preprocessing fitted on the
training images, Adam with one tenfold learning-rate drop, and settings chosen by input shape.

The harness's loop has no learning-rate schedule, so the drop is applied from the per-epoch
report (after epoch ``lr_milestone``, as ``MultiStepLR(milestones=[lr_milestone], gamma=0.1)``).
A hyperparameter left at ``None`` takes the authors' value for the input shape, or for a shape
they did not run (e.g. digits' 1 x 8 x 8, fed as 1 x 12 x 12) our ``OTHER_SHAPES`` value, so a
suite or ``--set`` can still pin any of them.
"""

from __future__ import annotations

import dataclasses
from typing import Any, ClassVar

import torch
from torch import nn

from bench.constraints import COUNT, Allowed, OneOf
from bench.images import ImageBatches, InputSpec
from bench.torch_detector import TorchDetector
from plugins.detectors.dictionary_init import dictionary_filters
from plugins.detectors.gcn import GCNMinMax
from plugins.detectors.lenet import MIN_SIDE, NETWORKS, LeNetEncoder

LAYERS_WITH_WEIGHTS = (nn.Conv2d, nn.ConvTranspose2d, nn.Linear)
# Key of the settings for every shape without its own entry.
OTHER_SHAPES = "other"
Settings = dict[tuple[int, int, int] | str, dict[str, Any]]


class RuffRecipe(TorchDetector):
    """Base of the two detectors; registers nothing."""

    # The dataset's own channels and size: the authors' networks are sized for raw MNIST and
    # CIFAR-10. Smaller images are enlarged to MIN_SIDE, where the representation is no longer
    # rank-deficient (lenet.min_side: digits 8 x 8 -> 12 x 12). GCN makes the value range
    # irrelevant; [0, 1] is what ToTensor gave them.
    input_spec = InputSpec(value_range=(0.0, 1.0), min_size=MIN_SIDE)
    # Per input shape, the values of hyperparameters whose default is None.
    shape_settings: ClassVar[Settings] = {}
    # "pytorch": the network of the authors' PyTorch code; "theano": as their Theano code built
    # it for the paper's experiments (lenet.py), first-layer filters from a dictionary learned
    # on the training images (dictionary_init.py), weight decay on weights only.
    defaults: ClassVar[dict[str, Any]] = {"network": "pytorch"}
    hparam_constraints: ClassVar[dict[str, Allowed]] = {
        "network": OneOf(NETWORKS),
        "lr_milestone": COUNT,  # both subclasses declare it
    }
    # Added after the digits, MNIST and CIFAR-10 boards' rows were stored; they keep their hashes.
    hparams_unrecorded_at_default = frozenset({"network"})
    decays_norm_scale: ClassVar[bool] = False  # with network "theano", see parameter_groups

    @classmethod
    def check_hparams(cls, hparams: dict[str, Any]) -> None:
        # A None is the value for the input shape, known only at fit: check every shape's
        # values in its place, so the recipe's own numbers are checked too.
        for values in cls.shape_settings.values() or [{}]:
            super().check_hparams(
                {**hparams, **{k: v for k, v in values.items() if hparams.get(k) is None}}
            )

    def fit(self, train: ImageBatches) -> RuffRecipe:
        shape = tuple(train.shape)
        settings = self.shape_settings.get(shape, self.shape_settings.get(OTHER_SHAPES, {}))
        for key, value in settings.items():
            if self.hparams.get(key) is None:
                self.hparams[key] = value
        self.preprocess = GCNMinMax.fit(train, int(self.hparams["batch_size"]))
        self._train = train
        report = self.ctx.on_epoch

        def drop_lr_then_report(epoch: int, total: int, loss: float) -> None:
            # bench perf's course loop builds its own optimizer (no make_optimizer, so no
            # schedule); it times a few epochs, far from any milestone.
            scheduler = getattr(self, "_scheduler", None)
            if scheduler is not None:
                scheduler.step()
            report(epoch, total, loss)

        self.ctx = dataclasses.replace(self.ctx, on_epoch=drop_lr_then_report)
        return super().fit(train)

    def make_optimizer(self, model: nn.Module) -> torch.optim.Optimizer:
        optimizer = super().make_optimizer(model)
        milestone = int(self.hparams["lr_milestone"])
        self._scheduler = torch.optim.lr_scheduler.MultiStepLR(optimizer, [milestone], gamma=0.1)
        return optimizer

    def init_first_layer(self, encoder: LeNetEncoder) -> None:
        """The Theano code's dictionary initialisation of the first convolution (in place)."""
        if self.hparams["network"] != "theano":
            return
        conv = encoder.features[0]
        images = self.preprocess(self._train.all())
        filters = dictionary_filters(images, conv.out_channels, conv.kernel_size[0])
        with torch.no_grad():
            conv.weight.copy_(filters.to(conv.weight.device))

    def parameter_groups(self, model: nn.Module) -> Any:
        if self.hparams["network"] != "theano":
            return super().parameter_groups(model)
        # Theano's penalty covers the weights of convolutions and linear maps; Lasagne's
        # autoencoder penalty also BatchNorm's scale (``regularizable``), Deep SVDD's does not.
        layers = (*LAYERS_WITH_WEIGHTS, nn.BatchNorm1d, nn.BatchNorm2d)
        kinds = layers if self.decays_norm_scale else LAYERS_WITH_WEIGHTS
        weights = [
            m.weight for m in model.modules() if isinstance(m, kinds) and m.weight is not None
        ]
        rest = [p for p in model.parameters() if all(p is not w for w in weights)]
        return [{"params": weights}, {"params": rest, "weight_decay": 0.0}]
