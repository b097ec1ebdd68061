"""The one-class protocol (Ruff et al. 2018; Golan & El-Yaniv 2018).

Task "class k is normal": train on the training images of class k only; test on the whole test
split with label 1 for every other class. With a labelled-anomaly fraction (ADBench's
semi-supervised setting) a seeded sample of other-class *training* images joins the training set
with target 1; test images never do.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from bench.dataset import DataError, Splits


@dataclass
class Task:
    name: str
    train_images: torch.Tensor
    train_targets: torch.Tensor | None  # 0/1, only with labelled anomalies
    test_images: torch.Tensor
    test_labels: np.ndarray | None  # 0/1, 1 = anomalous; None when unlabelled
    labelled_fraction: float = 0.0


def task_names(splits: Splits, dataset: str, one_class: bool) -> list[str]:
    return list(splits.class_names) if one_class else [dataset]


def build_task(
    splits: Splits,
    dataset: str,
    one_class: bool,
    name: str,
    labelled_fraction: float = 0.0,
    seed: int = 0,
) -> Task:
    if not one_class:
        if name != dataset:
            raise DataError(
                f"dataset {dataset!r} has a single task named {dataset!r}, not {name!r}"
            )
        labels = None if splits.test_labels is None else splits.test_labels.numpy().astype(np.int8)
        return Task(name, splits.train_images, None, splits.test_images, labels)
    if name not in splits.class_names:
        raise DataError(
            f"{dataset} has no class {name!r}; classes: {', '.join(splits.class_names)}"
        )
    if splits.train_labels is None or splits.test_labels is None:
        raise DataError(f"{dataset}: the one-class protocol needs train and test labels")
    k = splits.class_names.index(name)
    normal = splits.train_labels == k
    if not bool(normal.any()):
        raise DataError(f"{dataset}: class {name!r} has no training images")
    train_images = splits.train_images[normal]
    targets = None
    if labelled_fraction > 0:
        others = torch.nonzero(~normal).squeeze(1).numpy()
        rng = np.random.default_rng([seed, k])
        count = min(len(others), max(1, round(labelled_fraction * len(train_images))))
        picked = torch.from_numpy(np.sort(rng.choice(others, size=count, replace=False)))
        train_images = torch.cat([train_images, splits.train_images[picked]])
        targets = torch.cat(
            [torch.zeros(int(normal.sum()), dtype=torch.long), torch.ones(count, dtype=torch.long)]
        )
    test_labels = (splits.test_labels != k).numpy().astype(np.int8)
    return Task(name, train_images, targets, splits.test_images, test_labels, labelled_fraction)
