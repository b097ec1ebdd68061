"""Run the authors' Deep SVDD code (github.com/lukasruff/Deep-SVDD-PyTorch) on one MNIST class, to
tell a gap between ``deep_svdd`` and the paper apart from a gap between the paper and that code.

Their code is not part of this project: clone it and pass its ``src`` folder. It is imported as
it is; only its data loading is replaced, because that needs torchvision, which this project
does not depend on.
The images come from this harness's MNIST loader (the official IDX files) and are preprocessed
with the code's own ``global_contrast_normalization``; the min-max bounds are computed from the
class's training images, which gives the bounds the code hard-codes (checked to 1e-6 on
classes 0-2). Settings are read from ``leaderboards/suites/mnist_paper.toml`` (the code's
README command, as the board's deep_svdd rows ran), so both sides train alike. Prints the code's
two test AUROCs: its autoencoder's (the DCAE baseline) and Deep SVDD's.

    python -m benchmarks.crosscheck_deep_svdd --code ~/Deep-SVDD-PyTorch/src --normal-class 5

5 to 10 minutes a class on one shared CPU core (291-683 s measured). Under today's torch the
code's scheduler, stepped before the optimiser, drops the learning rate one epoch earlier than
under its pinned 0.4.1.
"""

from __future__ import annotations

import argparse
import importlib.util
import logging
import random
import sys
import time
from pathlib import Path

import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset

from bench.loading import load_splits
from bench.paths import resolve_data_dir
from bench.suite import load_suite

SUITE = Path(__file__).resolve().parents[1] / "leaderboards" / "suites" / "mnist_paper.toml"


def _gcn(code: Path):
    # Their datasets package imports torchvision, so load the one module we need by path.
    path = code / "datasets" / "preprocessing.py"
    spec = importlib.util.spec_from_file_location("ruff2018_preprocessing", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.global_contrast_normalization


class _Images(Dataset):
    """(image, 0 normal / 1 anomaly, index) triples, as their datasets yield."""

    def __init__(self, images: torch.Tensor, anomalous: torch.Tensor) -> None:
        self.images, self.anomalous = images, anomalous

    def __len__(self) -> int:
        return len(self.images)

    def __getitem__(self, i: int):
        return self.images[i], self.anomalous[i], i


class _OneClassMNIST:
    """What their trainers need of a dataset: ``loaders()``."""

    def __init__(self, code: Path, data_dir: str, normal: int) -> None:
        gcn = _gcn(code)
        splits = load_splits("mnist", data_dir, {})

        def contrast_normalised(images: torch.Tensor) -> torch.Tensor:
            # ToTensor's [0, 1], then their per-image GCN (it works in place, one image at a time)
            return torch.stack([gcn(x.float() / 255, scale="l1") for x in images])

        train_labels = torch.as_tensor(np.asarray(splits.train_labels))
        train = contrast_normalised(splits.train_images[train_labels == normal])
        test = contrast_normalised(splits.test_images)
        low, high = train.min(), train.max()  # Normalize([min], [max - min])
        test_anomalous = (torch.as_tensor(np.asarray(splits.test_labels)) != normal).long()
        normal_only = torch.zeros(len(train), dtype=torch.long)
        self.train_set = _Images((train - low) / (high - low), normal_only)
        self.test_set = _Images((test - low) / (high - low), test_anomalous)

    def loaders(self, batch_size: int, shuffle_train: bool = True, shuffle_test: bool = False,
                num_workers: int = 0):  # fmt: skip
        return tuple(
            DataLoader(images, batch_size=batch_size, shuffle=shuffle, num_workers=num_workers)
            for images, shuffle in ((self.train_set, shuffle_train), (self.test_set, shuffle_test))
        )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.crosscheck_deep_svdd", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument(
        "--code", type=Path, required=True, help="the src folder of a Deep-SVDD-PyTorch clone"
    )
    parser.add_argument("--normal-class", type=int, required=True)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--data-dir", default=None, help="where the MNIST files live (else as bench run)"
    )
    args = parser.parse_args(argv)
    if not (args.code / "deepSVDD.py").is_file():
        parser.error(f"--code {args.code}: no deepSVDD.py there (pass the clone's src folder)")
    sys.path.insert(0, str(args.code))
    from deepSVDD import DeepSVDD  # their code

    torch.set_num_threads(1)
    random.seed(args.seed)  # the three seeds their main.py sets
    np.random.seed(args.seed)
    torch.manual_seed(args.seed)
    data = _OneClassMNIST(args.code, str(resolve_data_dir(args.data_dir)), args.normal_class)
    aucs = _AucLog()
    logging.getLogger().addHandler(aucs)  # their trainers log each test AUROC at INFO
    logging.getLogger().setLevel(logging.INFO)
    start = time.perf_counter()
    hp = load_suite(SUITE, ["deep_svdd"]).detector_hparams["deep_svdd"]
    model = DeepSVDD(hp["objective"], 0.1)  # nu: the detector's default, unused by one-class
    model.set_network("mnist_LeNet")
    for phase, prefix in ((model.pretrain, "pretrain_"), (model.train, "")):
        phase(data, "adam", lr=hp[f"{prefix}lr"], n_epochs=hp[f"{prefix}epochs"],
              lr_milestones=(hp[f"{prefix}lr_milestone"],), batch_size=hp["batch_size"],
              weight_decay=hp[f"{prefix}weight_decay"], device="cpu")  # fmt: skip
    model.test(data, device="cpu")
    dcae, svdd = aucs.values  # the autoencoder's test (in pretrain), then Deep SVDD's
    print(
        f"their code, MNIST class {args.normal_class}, seed {args.seed}: AUROC autoencoder "
        f"(DCAE) {dcae:.4f}, Deep SVDD {svdd:.4f} ({time.perf_counter() - start:.0f} s)"
    )


class _AucLog(logging.Handler):
    """Collects the AUROCs their trainers log as 'Test set AUC: 88.12%'."""

    def __init__(self) -> None:
        super().__init__()
        self.values: list[float] = []

    def emit(self, record: logging.LogRecord) -> None:
        message = record.getMessage()
        if message.startswith("Test set AUC:"):
            self.values.append(float(message.split(":")[1].strip(" %")) / 100)


if __name__ == "__main__":
    main()
