"""The dataset contract: read a dataset in its official format into uint8 image tensors."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import torch

from bench.errors import BenchError


class DataError(BenchError, RuntimeError):
    """Bad or missing data; the message is one line naming the file and what is wrong."""


@dataclass(frozen=True)
class Download:
    """One official file of a dataset, pinned by SHA-256 so a mirror or a flaky connection
    can never change the data. ``unpack_to`` names the folder an archive holds; ``bench data
    download`` extracts it when that folder is missing."""

    url: str
    sha256: str
    filename: str
    unpack_to: str | None = None


@dataclass
class Splits:
    """A dataset as the harness sees it.

    ``train_labels`` is None when every training image is normal (no class structure);
    ``test_labels`` holds class indices for one-class datasets, 0/1 (1 = anomalous) for
    single-task datasets, or None when the test set is unlabelled.
    """

    train_images: torch.Tensor
    train_labels: torch.Tensor | None
    test_images: torch.Tensor
    test_labels: torch.Tensor | None
    class_names: list[str]

    def validate(self, source: str) -> Splits:
        for split in ("train", "test"):
            images: torch.Tensor = getattr(self, f"{split}_images")
            labels: torch.Tensor | None = getattr(self, f"{split}_labels")
            if images.dtype != torch.uint8 or images.ndim != 4:
                raise DataError(
                    f"{source}: {split} images must be uint8 N x C x H x W, got {images.dtype} "
                    f"{tuple(images.shape)}"
                )
            if images.shape[0] == 0:
                raise DataError(f"{source}: the {split} split holds no images")
            if labels is not None and labels.shape != (images.shape[0],):
                raise DataError(
                    f"{source}: {split} has {images.shape[0]} images but labels of shape "
                    f"{tuple(labels.shape)}"
                )
        if self.train_images.shape[1:] != self.test_images.shape[1:]:
            raise DataError(
                f"{source}: train images are {tuple(self.train_images.shape[1:])} but test "
                f"images are {tuple(self.test_images.shape[1:])}"
            )
        return self


def from_numpy_nhwc(array: np.ndarray) -> torch.Tensor:
    """N x H x W x C (or N x H x W) uint8 array -> N x C x H x W tensor."""
    if array.ndim == 3:
        array = array[..., None]
    return torch.from_numpy(np.ascontiguousarray(array.transpose(0, 3, 1, 2)))


class Dataset:
    """Base class for datasets.

    ``name`` is the ``--dataset`` name. ``one_class`` datasets are split into one task per
    class ("class k is normal"); others form a single task named after the dataset.
    ``options`` are ``--dataset-option key=value`` pairs; ``option_names`` lists those a
    dataset accepts, so a typo fails before any data is read. ``downloads`` lists the official
    files ``bench data download`` fetches into ``<data_dir>/<name>/``; datasets without a
    public download leave it empty.
    """

    name: ClassVar[str]
    description: ClassVar[str] = ""
    one_class: ClassVar[bool] = True
    downloads: ClassVar[tuple[Download, ...]] = ()
    option_names: ClassVar[tuple[str, ...]] = ()

    def __init__(self, data_dir: Path, **options: Any) -> None:
        unknown = sorted(set(options) - set(self.option_names))
        if unknown:
            known = ", ".join(self.option_names) or "none"
            raise DataError(f"dataset {self.name!r} has no option(s) {unknown}; known: {known}")
        self.data_dir = Path(data_dir)
        self.options = options

    def load(self) -> Splits:
        raise NotImplementedError

    def find(self, *names: str) -> Path | None:
        """The first of ``names`` present in ``<data_dir>/<name>/`` (where ``bench data
        download`` puts files), else in ``data_dir`` itself (files the user put there)."""
        for folder in (self.data_dir / self.name, self.data_dir):
            for name in names:
                if (folder / name).exists():
                    return folder / name
        return None

    def not_found(self, what: str, remedy: str) -> DataError:
        """The error for a file :meth:`find` did not find: where it looked, how to get it."""
        return DataError(
            f"{what} not found in {self.data_dir / self.name} or {self.data_dir}; {remedy}"
        )

    def locate(self) -> dict[str, Path | None]:
        """What the dataset reads, each mapped to where it was found (None: missing); lets
        ``bench data list`` say what is present before a run needs it."""
        return {}
