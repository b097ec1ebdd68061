"""CIFAR-10 as image files: ``train|test/<class>/*.jpg|png`` folders, or one ``.tar.gz`` of
those folders (``cifar10-jpeg.tar.gz``, read without extracting it). Not a plugin.

Decoding the 60000 JPEGs costs about a minute, so the decoded arrays are cached
(:mod:`plugins.datasets.array_cache`), keyed by the archive's SHA-256 or by every image file's
path and bytes: the second load of the same files takes seconds.
"""

from __future__ import annotations

import tarfile
import zlib
from collections.abc import Sequence
from pathlib import Path, PurePosixPath

import numpy as np

from bench.dataset import DataError
from plugins.datasets.array_cache import cached, digest_file, digest_files
from plugins.datasets.image_files import SUFFIXES, Source, decode_images, list_images

JPEG_ARCHIVE = "cifar10-jpeg.tar.gz"
SPLITS = ("train", "test")
ARRAYS = tuple(f"{split}_{what}" for split in SPLITS for what in ("images", "labels"))

Found = dict[str, dict[str, list[Source]]]  # split -> class folder -> its images, by name


def _ordered(found: Found, classes: Sequence[str], where: str) -> dict[str, list[Source]]:
    """Each split's images in class order then name order; refuses a wrong set of classes."""
    ordered = {}
    for split in SPLITS:
        folders = found.get(split)
        if folders is None:
            raise DataError(
                f"{where}{split}/ is missing; the image-folder layout needs train/ and test/"
            )
        if set(folders) != set(classes):
            raise DataError(
                f"{where}{split}: class folders missing {sorted(set(classes) - set(folders))}, "
                f"unexpected {sorted(set(folders) - set(classes))}; CIFAR-10 needs exactly "
                f"{', '.join(classes)}"
            )
        for name in classes:
            if not folders[name]:
                raise DataError(f"{where}{split}/{name} holds no images (png, jpg, jpeg, bmp)")
        ordered[split] = [source for name in classes for source in folders[name]]
    return ordered


def _decode(found: Found, classes: Sequence[str], where: str) -> dict[str, np.ndarray]:
    ordered = _ordered(found, classes, where)
    arrays = {}
    for split in SPLITS:
        images = decode_images(ordered[split], "RGB").transpose(0, 3, 1, 2)
        arrays[f"{split}_images"] = np.ascontiguousarray(images)
        arrays[f"{split}_labels"] = np.repeat(
            np.arange(len(classes)), [len(found[split][name]) for name in classes]
        )
    return arrays


def read_image_folders(root: Path, classes: Sequence[str]) -> dict[str, np.ndarray]:
    found: Found = {
        split: {p.name: list_images(p) for p in (root / split).iterdir() if p.is_dir()}
        for split in SPLITS
        if (root / split).is_dir()
    }
    ordered = _ordered(found, classes, f"{root}/")  # checked before hashing 60000 files
    digest = digest_files(root, [p for split in SPLITS for p in ordered[split]])  # type: ignore[misc]
    return cached("cifar10", digest, ARRAYS, lambda: _decode(found, classes, f"{root}/"))


def read_image_archive(path: Path, classes: Sequence[str]) -> dict[str, np.ndarray]:
    def members() -> Found:
        found: Found = {}
        try:
            with tarfile.open(path) as tar:
                for member in tar:
                    parts = PurePosixPath(member.name).parts
                    if member.isfile() and len(parts) == 3 and parts[0] in SPLITS:
                        if PurePosixPath(parts[2]).suffix.lower() in SUFFIXES:
                            stream = tar.extractfile(member)
                            data = stream.read() if stream is not None else b""
                            found.setdefault(parts[0], {}).setdefault(parts[1], []).append(
                                (f"{path}:{member.name}", data)
                            )
        except (tarfile.TarError, EOFError, OSError, zlib.error) as exc:
            raise DataError(f"{path}: truncated or corrupt archive ({exc})") from None
        for folders in found.values():
            for images in folders.values():
                images.sort(key=lambda source: source[0])  # type: ignore[index]
        return found

    return cached(
        "cifar10", digest_file(path), ARRAYS, lambda: _decode(members(), classes, f"{path}:")
    )
