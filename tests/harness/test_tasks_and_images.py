"""The one-class protocol and the on-device image conversion."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from bench.dataset import DataError, Splits
from bench.errors import BenchError
from bench.images import ImageBatches, InputShapeError, InputSpec
from bench.tasks import build_task
from plugins.datasets.digits import Digits


@pytest.fixture(scope="module")
def digits() -> Splits:
    return Digits(".").load().validate("digits")


def test_one_class_task_trains_on_one_class_and_tests_on_everything(digits):
    task = build_task(digits, "digits", True, "3")
    train_idx = (digits.train_labels == 3).nonzero().squeeze(1)
    assert torch.equal(task.train_images, digits.train_images[train_idx])
    assert task.train_targets is None
    assert len(task.test_images) == len(digits.test_images)
    np.testing.assert_array_equal(task.test_labels, (digits.test_labels != 3).numpy())


def test_labelled_anomalies_come_from_other_training_classes_only(digits):
    task = build_task(digits, "digits", True, "3", labelled_fraction=0.1, seed=7)
    normal = int((digits.train_labels == 3).sum())
    anomalies = task.train_images[normal:]
    assert len(anomalies) == round(0.1 * normal)
    assert task.train_targets.tolist() == [0] * normal + [1] * len(anomalies)
    # Each labelled anomaly is a training image of another class, never a test image.
    train_flat = digits.train_images.flatten(1)
    for image in anomalies.flatten(1):
        match = (train_flat == image).all(dim=1).nonzero().squeeze(1)
        assert len(match) and (digits.train_labels[match] != 3).all()
    again = build_task(digits, "digits", True, "3", labelled_fraction=0.1, seed=7)
    assert torch.equal(again.train_images, task.train_images)


def test_unknown_or_empty_class_is_a_data_error(digits):
    with pytest.raises(DataError, match="no class '12'"):
        build_task(digits, "digits", True, "12")
    empty = Splits(digits.train_images, digits.train_labels.clamp(max=8), digits.test_images,
                   digits.test_labels, digits.class_names)  # fmt: skip
    with pytest.raises(DataError, match="class '9' has no training images"):
        build_task(empty, "digits", True, "9")


def test_splits_validation_refuses_bad_shapes_and_counts(digits):
    with pytest.raises(DataError, match="uint8"):
        Splits(digits.train_images.float(), None, digits.test_images, None, []).validate("x")
    with pytest.raises(DataError, match="labels of shape"):
        Splits(digits.train_images, digits.train_labels[:-1], digits.test_images, None,
               []).validate("x")  # fmt: skip


def test_input_spec_replicates_resizes_and_scales():
    images = torch.tensor([[[[0, 255], [255, 0]]]], dtype=torch.uint8)
    x = InputSpec(channels=3, size=4, value_range=(-1.0, 1.0)).convert(images)
    assert x.shape == (1, 3, 4, 4) and x.dtype == torch.float32
    assert x.min() >= -1.0 and x.max() <= 1.0
    assert torch.equal(x[:, 0], x[:, 2])
    assert InputSpec().convert(images).max() == 1.0


def _random(n: int, c: int, h: int, w: int) -> torch.Tensor:
    return torch.randint(0, 256, (n, c, h, w), dtype=torch.uint8,
                         generator=torch.Generator().manual_seed(0))  # fmt: skip


@pytest.mark.parametrize("raw", [(1, 8, 8), (3, 32, 32), (3, 64, 64)])
def test_a_fixed_spec_still_gets_exactly_its_shape(raw):
    spec = InputSpec(channels=1, size=32)
    images = _random(3, *raw)
    assert spec.resolve(raw) == (1, 32, 32)
    batches = ImageBatches(images, spec)
    assert batches.shape == (1, 32, 32)
    x = batches.all()
    assert x.shape == (3, 1, 32, 32)
    # Exactly the old conversion: channel mean, then a bilinear resize (none when already 32).
    grey = (images.float() / 255.0).mean(dim=1, keepdim=True)
    expected = F.interpolate(grey, size=(32, 32), mode="bilinear", align_corners=False)
    torch.testing.assert_close(x, expected if raw[1] != 32 else grey, rtol=0, atol=1e-6)
    with pytest.raises(InputShapeError, match="32 x 32 images only"):
        spec.resolve(raw, size=64)
    with pytest.raises(InputShapeError, match="1 channels, not 3"):
        spec.resolve(raw, channels=3)


def test_policy_keeps_native_channels_and_pads_to_the_size_multiple():
    spec = InputSpec(value_range=(-1.0, 1.0), size_multiple=16)
    mnist, digits, faces = _random(2, 1, 28, 28), _random(2, 1, 8, 8), _random(2, 3, 64, 64)
    assert spec.resolve((1, 28, 28)) == (1, 32, 32)
    assert spec.resolve((1, 8, 8)) == (1, 16, 16)
    assert spec.resolve((3, 64, 64)) == (3, 64, 64)
    for images, pad in ((mnist, 2), (digits, 4)):
        x = spec.convert(images)
        side = images.shape[-1]
        inside = x[:, :, pad : pad + side, pad : pad + side]
        torch.testing.assert_close(inside, images.float() / 127.5 - 1.0, rtol=0, atol=1e-6)
        border = torch.ones_like(x, dtype=torch.bool)
        border[:, :, pad : pad + side, pad : pad + side] = False
        assert (x[border] == -1.0).all(), "zero (black) padding, centred"
    torch.testing.assert_close(spec.convert(faces), faces.float() / 127.5 - 1.0, rtol=0, atol=1e-6)
    # Asking for the policy's own shape is the policy (the shape alone decides the pixels).
    assert torch.equal(spec.convert(mnist, (1, 32, 32)), spec.convert(mnist))
    assert torch.equal(ImageBatches(mnist, spec, shape=[1, 32, 32]).all(), spec.convert(mnist))
    assert spec.resolve((3, 20, 40)) == (3, 32, 48)  # each side on its own
    assert spec.convert(_random(1, 3, 20, 40)).shape == (1, 3, 32, 48)


def test_policy_resizes_below_the_minimum_then_pads():
    spec = InputSpec(min_size=12, size_multiple=8)
    images = _random(2, 1, 8, 8)
    assert spec.resolve((1, 8, 8)) == (1, 16, 16)
    x = spec.convert(images)
    resized = F.interpolate(images.float() / 255.0, size=(12, 12), mode="bilinear",
                            align_corners=False)  # fmt: skip
    torch.testing.assert_close(x[:, :, 2:14, 2:14], resized, rtol=0, atol=1e-6)
    assert x[:, :, :2].abs().max() == 0 and x[:, :, 14:].abs().max() == 0


def test_a_forced_shape_is_the_old_fixed_conversion_bit_for_bit():
    flexible = InputSpec(value_range=(-1.0, 1.0), size_multiple=16)
    course = InputSpec(channels=3, size=64, value_range=(-1.0, 1.0))  # what models declared
    for images in (_random(4, 1, 8, 8), _random(4, 1, 28, 28), _random(4, 3, 32, 32)):
        raw = tuple(images.shape[1:])
        shape = flexible.resolve(raw, size=64, channels=3)
        assert shape == (3, 64, 64)
        assert torch.equal(flexible.convert(images, shape), course.convert(images))
        batches = ImageBatches(images, flexible, shape=shape)
        assert batches.shape == shape
        assert torch.equal(next(batches.batches(4)), course.convert(images))


def test_forced_shapes_a_detector_cannot_take_are_one_line_errors():
    spec = InputSpec(size_multiple=16)
    with pytest.raises(InputShapeError, match="28 is not a multiple of 16"):
        spec.resolve((1, 28, 28), size=28)
    with pytest.raises(InputShapeError, match="below this detector's 32"):
        InputSpec(min_size=32).resolve((1, 8, 8), size=16)
    with pytest.raises(InputShapeError, match="cannot turn 3 channels into 2"):
        spec.resolve((3, 32, 32), channels=2)
    assert issubclass(InputShapeError, BenchError)


def test_batches_cover_every_image_once_in_a_seeded_order():
    images = torch.arange(10, dtype=torch.uint8).reshape(10, 1, 1, 1)
    first = ImageBatches(images, InputSpec(value_range=(0.0, 255.0)), seed=3)
    order = torch.cat(list(first.batches(4, shuffle=True))).flatten()
    assert sorted(order.tolist()) == list(range(10))
    again = ImageBatches(images, InputSpec(value_range=(0.0, 255.0)), seed=3)
    assert torch.equal(torch.cat(list(again.batches(4, shuffle=True))).flatten(), order)
    with pytest.raises(PermissionError):
        first.targets  # noqa: B018


def test_reduced_runs_use_one_fixed_subsample_for_every_seed(digits):
    full = build_task(digits, "digits", True, "5")
    a = build_task(digits, "digits", True, "5", seed=0, max_train=50, max_test=200)
    b = build_task(digits, "digits", True, "5", seed=9, max_train=50, max_test=200)
    assert len(a.train_images) == 50 and len(a.test_images) == 200 and len(a.test_labels) == 200
    assert torch.equal(a.train_images, b.train_images) and torch.equal(a.test_images, b.test_images)
    # Still only normal images in training, still both classes in the test subset.
    full_flat = full.train_images.flatten(1)
    assert all((full_flat == img).all(dim=1).any() for img in a.train_images.flatten(1))
    assert set(a.test_labels.tolist()) == {0, 1}
    # A cap larger than the data changes nothing.
    same = build_task(digits, "digits", True, "5", max_train=10_000, max_test=10_000)
    assert torch.equal(same.train_images, full.train_images)
