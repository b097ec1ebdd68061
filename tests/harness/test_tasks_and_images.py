"""The one-class protocol and the on-device image conversion."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from bench.dataset import DataError, Splits
from bench.images import ImageBatches, InputSpec
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
