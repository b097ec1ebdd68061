"""``hw8``: the face-image anomaly detection homework of Hung-yi Lee's Machine Learning course
(NTU, spring 2021/2022, HW8), a Kaggle in-class competition.

``trainingset.npy`` holds 100000 normal 64 x 64 RGB faces, ``testingset.npy`` 19636 unlabelled
test images (normal and anomalous); both are uint8 N x H x W x 3 and are looked up in
``<data_dir>/hw8/`` and then ``<data_dir>``. The test labels are not public, so AUROC is only
computed when ``--dataset-option labels=PATH`` gives them (.npy or .csv, one 0/1 per test
image, 1 = anomalous). Every scored row is written as the competition's submission CSV
(``ID,score``) to ``<store dir>/submissions/``, from this plugin's ``bench_report_result`` hook.
"""

from __future__ import annotations

import logging
import os
import uuid
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch

from bench import hookimpl
from bench.dataset import DataError, Dataset, Splits, from_numpy_nhwc
from bench.results import OK, JobResult

FILES = ("trainingset.npy", "testingset.npy")
SUBMISSIONS = "submissions"
log = logging.getLogger("bench.hw8")


def read_images(path: Path) -> np.ndarray:
    """Memory-mapped, so converting to N x C x H x W is the only copy of a 1.2 GB array."""
    try:
        array = np.load(path, mmap_mode="r", allow_pickle=False)
    except (OSError, ValueError, EOFError) as exc:
        raise DataError(f"{path}: not a readable .npy array ({exc})") from None
    if array.dtype != np.uint8 or array.ndim != 4 or array.shape[-1] != 3:
        raise DataError(
            f"{path}: expected uint8 images N x H x W x 3, got {array.dtype} {array.shape}"
        )
    return array


def read_labels(path: Path, count: int) -> np.ndarray:
    """0/1 per test image from a .npy array or a CSV (its last column; a header is skipped)."""
    try:
        if path.suffix == ".npy":
            labels = np.load(path, allow_pickle=False).reshape(-1)
        else:
            column = pd.read_csv(path, header=None).iloc[:, -1]
            if pd.to_numeric(column[:1], errors="coerce").isna().all():
                column = column[1:]  # a header row
            labels = pd.to_numeric(column).to_numpy()
    except (OSError, ValueError, EOFError, pd.errors.ParserError) as exc:
        raise DataError(f"labels {path}: not readable ({exc})") from None
    if not np.isin(labels, (0, 1)).all():
        raise DataError(f"labels {path}: values must be 0 (normal) or 1 (anomalous)")
    if len(labels) != count:
        raise DataError(f"labels {path} hold {len(labels)} entries but the test set {count} images")
    return labels.astype(np.int64)


class Hw8(Dataset):
    name = "hw8"
    description = "ML course HW8 faces: trainingset.npy + testingset.npy in <data_dir>/hw8/"
    one_class = False
    option_names = ("labels",)

    def locate(self) -> dict[str, Path | None]:
        found = {name: self.find(name) for name in FILES}
        if "labels" in self.options:
            path = self._labels_path()
            found[f"labels={path}"] = path if path.is_file() else None
        return found

    def _labels_path(self) -> Path:
        return Path(str(self.options["labels"])).expanduser()

    def _read(self, name: str) -> np.ndarray:
        path = self.find(name)
        if path is None:
            raise self.not_found(
                name,
                f"download {FILES[0]} and {FILES[1]} from the course's HW8 (Kaggle) page into "
                f"{self.data_dir / self.name}",
            )
        return read_images(path)

    def load(self) -> Splits:
        train, test = self._read(FILES[0]), self._read(FILES[1])
        labels = None
        if "labels" in self.options:
            labels = torch.from_numpy(read_labels(self._labels_path(), len(test)))
        return Splits(
            from_numpy_nhwc(train), None, from_numpy_nhwc(test), labels, ["normal", "anomalous"]
        )


def write_submission(scores: np.ndarray, out_dir: Path, stem: str) -> Path:
    """The Kaggle submission: header ``ID,score``, one row per test image in order, IDs from 0.
    Written to a temporary file and renamed, so no half-written CSV remains."""
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / f"{stem}.csv"
    frame = pd.DataFrame({"score": np.asarray(scores, np.float64)})
    tmp = out_dir / f".{stem}.{uuid.uuid4().hex}.part"
    try:
        frame.to_csv(tmp, index_label="ID")
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return path


@hookimpl
def bench_register_datasets(register):
    register(Hw8)


@hookimpl
def bench_report_result(result: JobResult, output_dir: Any) -> None:
    """Every scored hw8 row becomes a submission file; a ``max_test`` subsample's scores do not
    make a whole submission, so those rows are skipped."""
    if result.dataset != Hw8.name or result.status != OK or result.scores is None:
        return
    if result.config.get("max_test") is not None:
        log.info("hw8 %s: max_test set, no submission written", result.detector)
        return
    stem = f"hw8-{result.task}-{result.detector}-{result.scorer}-seed{result.seed}"
    path = write_submission(result.scores, Path(output_dir) / SUBMISSIONS, stem)
    log.info("hw8 %s: submission written to %s", result.detector, path)
