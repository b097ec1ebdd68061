"""Throwaway detectors used to exercise the harness: one that raises, one that diverges."""

from __future__ import annotations

import sys

import torch
from torch import nn

from bench import hookimpl
from bench.detector import Detector
from bench.images import InputSpec
from bench.torch_detector import TorchDetector


class Exploding(Detector):
    name = "exploding"
    produces = ("score",)
    default_scorer = "native"
    input_spec = InputSpec()

    def fit(self, train):
        raise ValueError("boom during fit")


class Diverging(TorchDetector):
    """A model whose loss is NaN from the first step."""

    name = "diverging"
    produces = ("score",)
    default_scorer = "native"
    defaults = {"epochs": 2, "batch_size": 64, "lr": 1e-3}

    def build_model(self, input_shape):
        return nn.Linear(1, 1)

    def training_loss(self, model, x, y):
        return model(x.mean(dim=(1, 2, 3)).unsqueeze(1)).sum() * torch.tensor(float("nan"))

    def forward_outputs(self, model, x):
        return {"score": x.mean(dim=(1, 2, 3))}


class Exiting(Exploding):
    """Ends the process from inside fit, as a careless plugin's sys.exit() would."""

    name = "exiting"

    def fit(self, train):
        sys.exit(3)


class Interrupting(Exploding):
    """Stands in for Ctrl-C arriving while a detector trains."""

    name = "interrupting"

    def fit(self, train):
        raise KeyboardInterrupt


class BrokenPlugin:
    """Registered directly on the plugin manager in tests, like a third-party plugin."""

    @hookimpl
    def bench_register_detectors(self, register):
        register(Exploding)
        register(Diverging)
        register(Exiting)
        register(Interrupting)
