"""``digits``: scikit-learn's bundled 8 x 8 handwritten digits, the embedded default dataset.

It needs no download, so ``bench run --all`` works on a fresh machine. The 1797 images have no
official split; we use a stratified 2/3 : 1/3 split with a fixed seed so every user gets the same
tasks. Pixel values 0..16 are scaled to 0..255.
"""

from __future__ import annotations

import numpy as np
import torch
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

from bench import hookimpl
from bench.dataset import Dataset, Splits

SPLIT_SEED = 0


class Digits(Dataset):
    name = "digits"
    description = "scikit-learn's bundled 8x8 digits (embedded, no download)"

    def load(self) -> Splits:
        bunch = load_digits()
        images = np.round(bunch.images * (255.0 / 16.0)).astype(np.uint8)[:, None]
        x_train, x_test, y_train, y_test = train_test_split(
            images, bunch.target, test_size=1 / 3, stratify=bunch.target, random_state=SPLIT_SEED
        )
        return Splits(
            train_images=torch.from_numpy(x_train),
            train_labels=torch.from_numpy(y_train),
            test_images=torch.from_numpy(x_test),
            test_labels=torch.from_numpy(y_test),
            class_names=[str(k) for k in range(10)],
        )


@hookimpl
def bench_register_datasets(register):
    register(Digits)
