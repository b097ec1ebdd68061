"""A cache of decoded images for datasets stored as many small compressed files. Not a plugin.

Decoding CIFAR-10's 60000 JPEGs takes about a minute on every run; reading the decoded arrays
back takes about a second. A cache entry is keyed by a SHA-256 of the source's bytes (a file's
size and mtime are not enough: a copy keeps both, an edit in place may keep the size), of the
Pillow version that decoded it (another libjpeg may decode other pixels) and of this format.
So a stale entry is never found, and one that cannot be read back in full (zip CRCs cover every
byte) is decoded again and rewritten. Entries are written to a temporary name and renamed, so
a run killed mid-write leaves no half entry; a cache that cannot be written only costs time.

Entries live in ``$BENCH_CACHE_DIR``, else in the per-user cache directory (``decoded/``).
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import uuid
import zipfile
from collections.abc import Callable, Iterable
from pathlib import Path

import numpy as np
import PIL
import platformdirs

log = logging.getLogger("bench.datasets.cache")

ENV_CACHE_DIR = "BENCH_CACHE_DIR"
FORMAT = 1
CHUNK = 1 << 20


def cache_dir() -> Path:
    explicit = os.environ.get(ENV_CACHE_DIR)
    if explicit:
        return Path(explicit).expanduser()
    return Path(platformdirs.user_cache_dir("anomaly-bench")) / "decoded"


def digest_files(root: Path, paths: Iterable[Path]) -> str:
    """SHA-256 over each file's path below ``root``, size and bytes, in the order given."""
    digest = hashlib.sha256()
    for path in paths:
        data = path.read_bytes()
        digest.update(f"{path.relative_to(root).as_posix()}\0{len(data)}\0".encode())
        digest.update(data)
    return digest.hexdigest()


def digest_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        while chunk := stream.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _read(path: Path, key: str, names: tuple[str, ...]) -> dict[str, np.ndarray] | None:
    if not path.is_file():
        return None
    try:
        with np.load(path, allow_pickle=False) as entry:
            if str(entry["key"]) != key or set(entry.files) != {"key", *names}:
                raise ValueError("it holds other arrays than expected")
            return {name: entry[name] for name in names}
    except (OSError, ValueError, EOFError, KeyError, zipfile.BadZipFile) as exc:
        log.warning("ignoring the unreadable cache entry %s (%s); decoding again", path, exc)
        return None


def _write(path: Path, arrays: dict[str, np.ndarray]) -> None:
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with tmp.open("xb") as stream:
            np.savez(stream, **arrays)
        os.replace(tmp, path)
    except OSError as exc:
        log.warning(
            "could not write the cache entry %s (%s); the next load decodes again", path, exc
        )
    finally:
        with contextlib.suppress(OSError):  # e.g. the folder could not be made
            tmp.unlink(missing_ok=True)


def cached(
    name: str,
    source_digest: str,
    names: tuple[str, ...],
    build: Callable[[], dict[str, np.ndarray]],
) -> dict[str, np.ndarray]:
    """The arrays ``build()`` returns for the source whose digest is given, from the cache
    when a readable entry for exactly that source exists, else built and cached."""
    key = hashlib.sha256(f"{FORMAT}|Pillow {PIL.__version__}|{source_digest}".encode()).hexdigest()
    path = cache_dir() / f"{name}-{key[:32]}.npz"
    arrays = _read(path, key, names)
    if arrays is not None:
        log.info("%s: decoded images read from the cache %s", name, path)
        return arrays
    arrays = build()
    _write(path, {**arrays, "key": np.array(key)})
    return arrays
