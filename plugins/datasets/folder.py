"""``folder``: your own images, in a layout like anomalib's Folder dataset.

    <data_dir>/train/           normal training images      (option normal_dir)
    <data_dir>/test/normal/     normal test images          (option test_dir: the folder that
    <data_dir>/test/abnormal/   anomalous test images        holds normal/ and abnormal/)

Images are PNG, JPEG or BMP files directly in each folder, read in name order; relative option
paths are resolved against ``data_dir``. ``mode=RGB`` (default) or ``mode=L`` converts every
image to colour or grey. All images must share one size unless ``size=N`` resizes them to
N x N (bilinear), so a stray odd-sized file is reported rather than silently distorted.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from bench import hookimpl
from bench.dataset import DataError, Dataset, Splits, from_numpy_nhwc
from plugins.datasets.image_files import SizeMismatchError, decode_images, list_images

MODES = ("RGB", "L")


class Folder(Dataset):
    name = "folder"
    description = "your images: <data_dir>/train/ (normal), test/normal/, test/abnormal/"
    one_class = False
    option_names = ("normal_dir", "test_dir", "size", "mode")

    def _dir(self, option: str, default: str) -> Path:
        return self.data_dir / Path(str(self.options.get(option, default))).expanduser()

    def _folders(self) -> dict[str, Path]:
        test = self._dir("test_dir", "test")
        return {
            "train": self._dir("normal_dir", "train"),
            "test normal": test / "normal",
            "test abnormal": test / "abnormal",
        }

    def locate(self) -> dict[str, Path | None]:
        return {f"{role} images": p if p.is_dir() else None for role, p in self._folders().items()}

    def _settings(self) -> tuple[str, tuple[int, int] | None]:
        mode = self.options.get("mode", "RGB")
        if mode not in MODES:
            raise DataError(f"folder: mode must be one of {', '.join(MODES)}, not {mode!r}")
        size = self.options.get("size")
        if size is None:
            return mode, None
        if not isinstance(size, int) or isinstance(size, bool) or size < 1:
            raise DataError(f"folder: size must be a positive integer (pixels), not {size!r}")
        return mode, (size, size)

    def load(self) -> Splits:
        mode, size = self._settings()
        paths = {}
        for role, folder in self._folders().items():
            if not folder.is_dir():
                raise DataError(
                    f"folder: {role} images expected in {folder}, which does not exist "
                    "(see `bench data list` for the layout)"
                )
            paths[role] = list_images(folder)
            if not paths[role]:
                raise DataError(f"folder: {folder} holds no images (png, jpg, jpeg, bmp)")
        test_paths = paths["test normal"] + paths["test abnormal"]
        try:
            images = decode_images(paths["train"] + test_paths, mode, size)
        except SizeMismatchError as exc:
            raise DataError(f"{exc}; pass --dataset-option size=N to resize them all") from None
        n_train = len(paths["train"])
        labels = np.repeat([0, 1], [len(paths["test normal"]), len(paths["test abnormal"])])
        return Splits(
            from_numpy_nhwc(images[:n_train]),
            None,
            from_numpy_nhwc(images[n_train:]),
            torch.from_numpy(labels),
            ["normal", "abnormal"],
        )


@hookimpl
def bench_register_datasets(register):
    register(Folder)
