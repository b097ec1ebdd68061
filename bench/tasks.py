"""The one-class protocol (Ruff et al. 2018; Golan & El-Yaniv 2018).

Task "class k is normal": train on the training images of class k only; test on the whole test
split with label 1 for every other class. With a labelled-anomaly fraction (ADBench's
semi-supervised setting) a seeded sample of other-class *training* images joins the training set
with target 1; test images never do.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch

from bench.dataset import DataError, Splits

SUBSAMPLE_SEED = 0


@dataclass
class Task:
    name: str
    train_images: torch.Tensor
    train_targets: torch.Tensor | None  # 0/1, only with labelled anomalies
    test_images: torch.Tensor
    test_labels: np.ndarray | None  # 0/1, 1 = anomalous; None when unlabelled


def task_names(splits: Splits, dataset: str, one_class: bool) -> list[str]:
    return list(splits.class_names) if one_class else [dataset]


def resolve_task(requested: str, class_names: Sequence[str], dataset: str) -> str:
    """The class called ``requested``, or at index ``requested`` (the literature numbers
    CIFAR-10's classes 0-9): "4" and "deer" both give "deer". Names win over indices, so
    MNIST's "4" stays the digit 4. Datasets whose class names are fixed expose them as a
    ``class_names`` class attribute, so this can run before any data is loaded."""
    if requested in class_names:
        return requested
    if requested.isdecimal() and int(requested) < len(class_names):
        return class_names[int(requested)]
    raise DataError(
        f"{dataset} has no class {requested!r}; classes: {', '.join(class_names)} "
        f"(or their indices 0-{len(class_names) - 1})"
    )


def _subsample(n: int, limit: int | None, key: list[int]) -> np.ndarray | None:
    """Sorted indices of a fixed random subset of ``limit`` out of ``n`` (None: keep all).

    The subset depends only on ``key`` (never on the run's seed), so every detector and seed
    sees the same images and rows stay comparable.
    """
    if not limit or n <= limit:
        return None
    return np.sort(np.random.default_rng([SUBSAMPLE_SEED, *key]).choice(n, limit, replace=False))


def build_task(
    splits: Splits,
    dataset: str,
    one_class: bool,
    name: str,
    labelled_fraction: float = 0.0,
    seed: int = 0,
    max_train: int | None = None,
    max_test: int | None = None,
) -> Task:
    """The task called ``name``. ``max_train``/``max_test`` cap the normal training images and
    the test images with a fixed subsample, for reduced runs on small machines."""
    test_idx = _subsample(len(splits.test_images), max_test, [1])
    test_images = splits.test_images if test_idx is None else splits.test_images[test_idx]
    test_classes = splits.test_labels
    if test_classes is not None and test_idx is not None:
        test_classes = test_classes[test_idx]
    if not one_class:
        if name != dataset:
            raise DataError(
                f"dataset {dataset!r} has a single task named {dataset!r}, not {name!r}"
            )
        train_idx = _subsample(len(splits.train_images), max_train, [0])
        train_images = splits.train_images if train_idx is None else splits.train_images[train_idx]
        labels = None if test_classes is None else test_classes.numpy().astype(np.int8)
        return Task(name, train_images, None, test_images, labels)
    if name not in splits.class_names:
        raise DataError(
            f"{dataset} has no class {name!r}; classes: {', '.join(splits.class_names)}"
        )
    if splits.train_labels is None or test_classes is None:
        raise DataError(f"{dataset}: the one-class protocol needs train and test labels")
    k = splits.class_names.index(name)
    normal = splits.train_labels == k
    if not bool(normal.any()):
        raise DataError(f"{dataset}: class {name!r} has no training images")
    normal_idx = torch.nonzero(normal).squeeze(1)
    keep = _subsample(len(normal_idx), max_train, [0, k])
    if keep is not None:
        normal_idx = normal_idx[torch.from_numpy(keep)]
    train_images = splits.train_images[normal_idx]
    targets = None
    if labelled_fraction > 0:
        others = torch.nonzero(~normal).squeeze(1).numpy()
        rng = np.random.default_rng([seed, k])
        count = min(len(others), max(1, round(labelled_fraction * len(train_images))))
        picked = torch.from_numpy(np.sort(rng.choice(others, size=count, replace=False)))
        targets = torch.cat(
            [torch.zeros(len(train_images), dtype=torch.long), torch.ones(count, dtype=torch.long)]
        )
        train_images = torch.cat([train_images, splits.train_images[picked]])
    test_labels = (test_classes != k).numpy().astype(np.int8)
    return Task(name, train_images, targets, test_images, test_labels)
