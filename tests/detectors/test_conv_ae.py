"""conv_ae: learns a digits class; widths shape the bottleneck; value_range keeps MNIST training."""

from __future__ import annotations

import pytest
import torch

from bench.detector import RunContext
from bench.experiment import Experiment
from bench.images import ImageBatches
from bench.loading import load_splits
from bench.tasks import build_task
from bench.training import train
from plugins.detectors.conv_ae import ConvAE
from tests.detectors.digits_helpers import run_on_digits


def test_learns_a_digit_class():
    result = run_on_digits("conv_ae", task="1")
    assert result.metrics["auroc"] >= 0.85


def test_widths_set_the_bottleneck_and_output_matches_input():
    model = ConvAE(RunContext(hparams={"widths": [4, 8, 16]})).build_model((3, 64, 64))
    x = torch.rand(2, 3, 64, 64) * 2 - 1
    assert model.encoder(x).shape == (2, 16, 8, 8)
    reconstruction = model(x)
    assert reconstruction.shape == x.shape
    assert reconstruction.abs().max() <= 1.0


def test_a_fourth_width_asks_for_sizes_divisible_by_16():
    default, deeper = ConvAE(RunContext()), ConvAE(RunContext(hparams={"widths": [4, 8, 16, 32]}))
    assert default.input_spec.resolve((1, 8, 8)) == (1, 8, 8)
    assert deeper.input_spec.resolve((1, 8, 8)) == (1, 16, 16)
    model = deeper.build_model((1, 16, 16))
    x = torch.rand(2, 1, 16, 16) * 2 - 1
    assert model.encoder(x).shape == (2, 32, 1, 1) and model(x).shape == x.shape


def test_value_range_sets_the_input_range_and_must_fit_tanh():
    assert ConvAE(RunContext()).input_spec.value_range == (0.0, 1.0)
    course = ConvAE(RunContext(hparams={"value_range": [-1.0, 1.0]}))
    assert course.input_spec.value_range == (-1.0, 1.0)
    assert course.input_spec.size_multiple == 8
    for bad in ([0.0, 2.0], [1.0, 0.0], 0.5, [0.0], ["0", "1"]):
        with pytest.raises(ValueError, match="value_range must lie within Tanh's"):
            ConvAE.check_hparams({**ConvAE.defaults, "value_range": bad})


@pytest.mark.slow
def test_a_mostly_black_class_is_reconstructed_better_than_its_mean_image(mnist_dir):
    # MNIST digit 0 (5923 images, mostly black once padded): in the course's [-1, 1] the
    # network saturated to a constant -1 (training loss 2.4x the mean image's after 8 epochs).
    splits = load_splits("mnist", str(mnist_dir.parent), {})
    task = build_task(splits, "mnist", True, "0")
    experiment = Experiment("conv_ae", "mnist", "0", {"epochs": 2})
    detector = train(ConvAE, experiment, task, 0, torch.device("cpu")).detector
    x = ImageBatches(task.train_images, detector.input_spec).all()
    with torch.no_grad():
        error = (detector.outputs(x)["reconstruction"] - x).pow(2).mean()
    assert error < 0.5 * (x - x.mean(dim=0)).pow(2).mean()
