"""``mnist``: the four official IDX files of MNIST (LeCun, Cortes & Burges), 28 x 28 grey digits.

Files are looked up in ``<data_dir>/mnist/`` and then ``<data_dir>``, gzip-compressed as
published or already decompressed. The IDX format is simple enough to parse with numpy: a
big-endian magic number (two zero bytes, a type code, the number of dimensions), one big-endian
uint32 per dimension, then the data.
"""

from __future__ import annotations

import gzip
import zlib
from pathlib import Path
from typing import ClassVar

import numpy as np
import torch

from bench import hookimpl
from bench.dataset import DataError, Dataset, Download, Splits

# Type code 0x08 (unsigned byte) and the number of dimensions: 3 for images, 1 for labels.
IMAGES_MAGIC, LABELS_MAGIC = 0x00000803, 0x00000801

# SHA-256 of the official gzip files as served by the CVDF mirror that TensorFlow Datasets uses
# (yann.lecun.com no longer serves them reliably). Source: tensorflow/datasets,
# tensorflow_datasets/url_checksums/mnist.txt (commit 31f1255e), which also pins these URLs and
# sizes (9912422, 28881, 1648877, 4542 bytes); the MD5s torchvision pins for the same files
# (f68b3c2d..., d53e105e..., 9fb629c4..., ec29112d...) describe the same bytes.
MIRROR = "https://storage.googleapis.com/cvdf-datasets/mnist/"
FILES = {
    "train-images-idx3-ubyte": "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609",
    "train-labels-idx1-ubyte": "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c",
    "t10k-images-idx3-ubyte": "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6",
    "t10k-labels-idx1-ubyte": "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6",
}


def read_idx(path: Path, magic: int) -> np.ndarray:
    """Parse one IDX file (gzip-compressed or not), checking its header against the data."""
    try:
        raw = gzip.decompress(path.read_bytes()) if path.suffix == ".gz" else path.read_bytes()
    except (OSError, EOFError, zlib.error) as exc:
        raise DataError(f"{path}: not a readable gzip file ({exc}); download it again") from None
    if len(raw) < 4:
        raise DataError(f"{path}: too short to be an IDX file ({len(raw)} bytes)")
    found = int.from_bytes(raw[:4], "big")
    if found != magic:
        raise DataError(
            f"{path}: magic number 0x{found:08x} is not that of an MNIST "
            f"{'image' if magic == IMAGES_MAGIC else 'label'} file (0x{magic:08x})"
        )
    ndim = magic & 0xFF
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise DataError(f"{path}: truncated inside its header ({len(raw)} bytes)")
    dims = tuple(int(d) for d in np.frombuffer(raw, ">u4", count=ndim, offset=4))
    declared = int(np.prod(dims))
    if len(raw) - header != declared:
        raise DataError(
            f"{path}: the header declares {dims} ({declared} bytes of data) but the file holds "
            f"{len(raw) - header} bytes; it is truncated or corrupt, download it again"
        )
    return np.frombuffer(raw, np.uint8, offset=header).reshape(dims).copy()  # copy: writable


class Mnist(Dataset):
    name = "mnist"
    description = "MNIST handwritten digits, 60000 train + 10000 test, 28x28 grey (official IDX)"
    downloads = tuple(
        Download(MIRROR + f"{stem}.gz", sha, f"{stem}.gz") for stem, sha in FILES.items()
    )
    class_names: ClassVar[tuple[str, ...]] = tuple(str(k) for k in range(10))  # before loading

    def locate(self) -> dict[str, Path | None]:
        return {f"{stem}[.gz]": self.find(f"{stem}.gz", stem) for stem in FILES}

    def _read(self, stem: str, magic: int) -> np.ndarray:
        path = self.find(f"{stem}.gz", stem)
        if path is None:
            raise self.not_found(
                f"MNIST file {stem}.gz",
                f"run `bench data download mnist --data-dir {self.data_dir}`",
            )
        return read_idx(path, magic)

    def _split(self, prefix: str) -> tuple[torch.Tensor, torch.Tensor]:
        images = self._read(f"{prefix}-images-idx3-ubyte", IMAGES_MAGIC)
        labels = self._read(f"{prefix}-labels-idx1-ubyte", LABELS_MAGIC)
        if len(images) != len(labels):
            raise DataError(
                f"MNIST {prefix}-images-idx3-ubyte holds {len(images)} images but "
                f"{prefix}-labels-idx1-ubyte holds {len(labels)} labels"
            )
        if labels.size and labels.max() > 9:
            raise DataError(f"MNIST {prefix}-labels-idx1-ubyte holds label {labels.max()} > 9")
        return torch.from_numpy(images[:, None]), torch.from_numpy(labels.astype(np.int64))

    def load(self) -> Splits:
        train_images, train_labels = self._split("train")
        test_images, test_labels = self._split("t10k")
        return Splits(train_images, train_labels, test_images, test_labels, list(self.class_names))


@hookimpl
def bench_register_datasets(register):
    register(Mnist)
