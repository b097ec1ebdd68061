"""``cifar10``: CIFAR-10 (Krizhevsky 2009), 50000 train + 10000 test 32 x 32 colour images.

Four layouts are read, looked up in ``<data_dir>/cifar10/`` and then ``<data_dir>``, the first
found wins:

- ``cifar-10-batches-py/`` (``data_batch_1`` .. ``data_batch_5``, ``test_batch``,
  ``batches.meta``), the official "python version" extracted;
- ``cifar-10-python.tar.gz``, the official archive itself, read without extracting it;
- ``train/<class>/*.png|jpg`` and ``test/<class>/...``, image folders named after the classes;
- ``cifar10-jpeg.tar.gz``, a tar.gz of those folders, read without extracting it.

Decoded image files are cached (see :mod:`plugins.datasets.cifar10_images`).

Class indices follow the official order in every layout.
"""

from __future__ import annotations

import io
import pickle
import tarfile
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any, ClassVar

import numpy as np
import torch

from bench import hookimpl
from bench.dataset import DataError, Dataset, Download, Splits
from plugins.datasets.cifar10_images import JPEG_ARCHIVE, read_image_archive, read_image_folders

CLASSES = (
    "airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck",
)  # fmt: skip
ARCHIVE = "cifar-10-python.tar.gz"
BATCHES = "cifar-10-batches-py"
TRAIN_BATCHES = tuple(f"data_batch_{i}" for i in range(1, 6))
TEST_BATCH = "test_batch"
META = "batches.meta"
PIXELS = 3 * 32 * 32

# SHA-256 of the official archive (170498071 bytes). Source: Keras, which pins it in
# tensorflow/tensorflow, tensorflow/python/keras/datasets/cifar10.py (`file_hash=`); its MD5
# c58f30108f718f92721af3b95e74349a is the one on the CIFAR page and in torchvision.
OFFICIAL = Download(
    "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz",
    "6d958be074577803d12ecdefd02955f39262c83c16fe9348329d7fe0b5c001ce",
    ARCHIVE,
    unpack_to=BATCHES,
)


class _ArrayUnpickler(pickle.Unpickler):
    """The batches are pickles, and unpickling can run any code a tampered file names; allow
    only what CIFAR batches hold (numpy arrays, and the bytes helper of protocol 2)."""

    ALLOWED = {
        ("numpy.core.multiarray", "_reconstruct"),
        ("numpy._core.multiarray", "_reconstruct"),
        ("numpy", "ndarray"),
        ("numpy", "dtype"),
        ("_codecs", "encode"),
    }

    def find_class(self, module: str, name: str) -> Any:
        if (module, name) not in self.ALLOWED:
            raise pickle.UnpicklingError(f"refusing to load {module}.{name}")
        return super().find_class(module, name)


def _unpickle(stream: IO[bytes], where: str) -> dict[bytes, Any]:
    try:
        content = _ArrayUnpickler(stream, encoding="bytes").load()
    except (pickle.UnpicklingError, EOFError, ValueError, TypeError, OSError) as exc:
        raise DataError(f"{where}: not a CIFAR-10 python pickle ({exc})") from None
    if not isinstance(content, dict):
        raise DataError(f"{where}: expected a pickled dict, found {type(content).__name__}")
    return content


def _batch(content: dict[bytes, Any], where: str) -> tuple[np.ndarray, np.ndarray]:
    data, labels = content.get(b"data"), content.get(b"labels")
    if not isinstance(data, np.ndarray) or data.dtype != np.uint8 or data.ndim != 2:
        raise DataError(f"{where}: b'data' must be a uint8 N x {PIXELS} array")
    if data.shape[1] != PIXELS:
        raise DataError(f"{where}: b'data' rows hold {data.shape[1]} values, not {PIXELS}")
    labels = np.asarray(labels if labels is not None else [], dtype=np.int64)
    if labels.shape != (len(data),):
        raise DataError(f"{where}: {len(data)} images but {labels.size} labels")
    if labels.size and not 0 <= labels.min() <= labels.max() < len(CLASSES):
        raise DataError(f"{where}: labels outside 0..{len(CLASSES) - 1}")
    return data.reshape(-1, 3, 32, 32), labels  # rows are R, G, B planes: already C x H x W


def _check_meta(content: dict[bytes, Any], where: str) -> None:
    names = tuple(
        n.decode() if isinstance(n, bytes) else str(n) for n in content.get(b"label_names", [])
    )
    if names != CLASSES:
        raise DataError(f"{where}: label names {names} differ from CIFAR-10's {CLASSES}")


def _splits(
    train: list[tuple[np.ndarray, np.ndarray]], test: tuple[np.ndarray, np.ndarray]
) -> Splits:
    return Splits(
        torch.from_numpy(np.concatenate([x for x, _ in train])),
        torch.from_numpy(np.concatenate([y for _, y in train])),
        torch.from_numpy(np.ascontiguousarray(test[0])),
        torch.from_numpy(test[1]),
        list(CLASSES),
    )


def _from_pickles(read: Callable[[str], dict | None], where: Callable[[str], str]) -> Splits:
    """The splits from the batch pickles, whichever container ``read`` takes them from."""

    def batch(name: str) -> tuple[np.ndarray, np.ndarray]:
        content = read(name)
        if content is None:
            raise DataError(f"{where(name)} is missing; the CIFAR-10 batches are incomplete")
        return _batch(content, where(name))

    meta = read(META)
    if meta is not None:
        _check_meta(meta, where(META))
    return _splits([batch(name) for name in TRAIN_BATCHES], batch(TEST_BATCH))


def read_batches_dir(folder: Path) -> Splits:
    def read(name: str) -> dict | None:
        if not (folder / name).is_file():
            return None
        with (folder / name).open("rb") as stream:
            return _unpickle(stream, str(folder / name))

    return _from_pickles(read, lambda name: str(folder / name))


def read_archive(path: Path) -> Splits:
    """Read the batches straight from the official archive, in one pass over the gzip stream."""
    wanted = (*TRAIN_BATCHES, TEST_BATCH, META)
    contents = {}
    try:
        with tarfile.open(path, "r:gz") as tar:
            for member in tar:
                folder, _, name = member.name.rpartition("/")
                stream = tar.extractfile(member) if folder == BATCHES and name in wanted else None
                if stream is not None:
                    contents[name] = stream.read()
    except (tarfile.TarError, EOFError, OSError, zlib.error) as exc:
        raise DataError(
            f"{path}: truncated or corrupt archive ({exc}); download it again"
        ) from None

    def read(name: str) -> dict | None:
        if name not in contents:
            return None
        return _unpickle(io.BytesIO(contents[name]), f"{path}:{BATCHES}/{name}")

    return _from_pickles(read, lambda name: f"{path}:{BATCHES}/{name}")


def _from_arrays(arrays: dict[str, np.ndarray]) -> Splits:
    return _splits(
        [(arrays["train_images"], arrays["train_labels"])],
        (arrays["test_images"], arrays["test_labels"]),
    )


LAYOUTS = f"{BATCHES}/, {ARCHIVE}, train/ + test/ image folders or {JPEG_ARCHIVE}"


class Cifar10(Dataset):
    name = "cifar10"
    description = "CIFAR-10, 50000 train + 10000 test, 32x32 RGB (python batches or image folders)"
    downloads = (OFFICIAL,)
    # Fixed and known before loading, so a planner can check --classes (names or the
    # literature's indices 0-9) without a minute of decoding first.
    class_names: ClassVar[tuple[str, ...]] = CLASSES

    def _source(self) -> Path | None:
        return self.find(BATCHES, ARCHIVE, "train", JPEG_ARCHIVE)

    def locate(self) -> dict[str, Path | None]:
        return {LAYOUTS: self._source()}

    def load(self) -> Splits:
        source = self._source()
        if source is None:
            raise self.not_found(
                f"CIFAR-10 ({LAYOUTS})",
                f"run `bench data download cifar10 --data-dir {self.data_dir}`",
            )
        if source.name == BATCHES:
            return read_batches_dir(source)
        if source.name == ARCHIVE:
            return read_archive(source)
        if source.name == JPEG_ARCHIVE:
            return _from_arrays(read_image_archive(source, CLASSES))
        return _from_arrays(read_image_folders(source.parent, CLASSES))


@hookimpl
def bench_register_datasets(register):
    register(Cifar10)
