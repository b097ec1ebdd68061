"""Ruff et al.'s preprocessing: GCN (l1) against hand-computed values, min-max bounds from the
normal class's training images only."""

from __future__ import annotations

import pytest
import torch

from bench.images import ImageBatches, InputSpec
from plugins.detectors.gcn import GCNMinMax, global_contrast_normalize
from tests.detectors.digits_helpers import digits_task, fit_on_digits, training_inputs


def test_gcn_centres_each_image_and_divides_by_its_mean_absolute_deviation():
    # Image 1: mean 2, centred [-2, -1, 0, 3], mean |.| 1.5. Image 2: mean 5, centred
    # [-5, -5, 5, 5], mean |.| 5. Each image is normalised on its own.
    x = torch.tensor([[[[0.0, 1.0], [2.0, 5.0]]], [[[0.0, 0.0], [10.0, 10.0]]]])
    expected = torch.tensor([[[[-4 / 3, -2 / 3], [0.0, 2.0]]], [[[-1.0, -1.0], [1.0, 1.0]]]])
    assert torch.allclose(global_contrast_normalize(x), expected)


def test_gcn_runs_over_all_channels_together_and_leaves_a_constant_image_at_zero():
    # Two channels [0, 2] and [4, 6]: one mean (3) and one scale (2) for the whole image.
    x = torch.tensor([[[[0.0, 2.0]], [[4.0, 6.0]]], [[[7.0, 7.0]], [[7.0, 7.0]]]])
    out = global_contrast_normalize(x)
    assert torch.allclose(out[0], torch.tensor([[[-1.5, -0.5]], [[0.5, 1.5]]]))
    assert torch.equal(out[1], torch.zeros(2, 1, 2))


def test_min_max_maps_the_training_bounds_to_zero_and_one():
    # GCN of [0, 1, 2, 5] is [-4/3, -2/3, 0, 2]; bounds [-4/3, 2] send it to [0, 0.2, 0.4, 1].
    x = torch.tensor([[[[0.0, 1.0], [2.0, 5.0]]]])
    scaled = GCNMinMax(low=-4 / 3, high=2.0)(x)
    assert torch.allclose(scaled, torch.tensor([[[[0.0, 0.2], [0.4, 1.0]]]]))


def test_fitted_bounds_are_the_extremes_of_the_normalised_training_images():
    images = torch.tensor([[[[0, 51], [102, 255]]], [[[0, 0], [255, 255]]]], dtype=torch.uint8)
    bounds = GCNMinMax.fit(ImageBatches(images, InputSpec()), batch_size=1)
    assert (bounds.low, bounds.high) == pytest.approx((-4 / 3, 2.0))


@pytest.mark.parametrize("detector", ["dcae", "deep_svdd"])
def test_detector_bounds_come_from_training_images_only(detector):
    fitted = fit_on_digits(
        detector, epochs=0, **({"pretrain_epochs": 0} if detector == "deep_svdd" else {})
    )
    train = global_contrast_normalize(training_inputs(fitted))
    assert (fitted.preprocess.low, fitted.preprocess.high) == (
        train.min().item(),
        train.max().item(),
    )
    # The test images (scored in the same call) would have moved them.
    test = ImageBatches(digits_task().test_images, fitted.input_spec).all()
    everything = global_contrast_normalize(torch.cat([training_inputs(fitted), test]))
    assert (everything.min().item(), everything.max().item()) != (
        train.min().item(),
        train.max().item(),
    )
