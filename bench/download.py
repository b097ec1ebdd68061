"""Fetch a dataset's official files: pinned SHA-256, atomic writes, safe archive extraction.

Nothing half-written is ever left under its final name: a download goes to a temporary file
that is renamed only once its size and checksum are right, and an archive is extracted into a
temporary folder that is renamed into place. Running it again is cheap: a present file whose
checksum matches is kept, and an archive whose folder exists is not extracted again.
"""

from __future__ import annotations

import hashlib
import http.client
import logging
import os
import posixpath
import shutil
import tarfile
import tempfile
import urllib.error
import urllib.parse
import urllib.request
import uuid
import zlib
from pathlib import Path

from rich.progress import Progress

from bench.dataset import DataError, Dataset, Download

log = logging.getLogger("bench.download")
CHUNK = 1 << 20
TIMEOUT_S = 60


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        while chunk := stream.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def download_dataset(
    dataset: type[Dataset],
    data_dir: Path,
    mirror: str | None = None,
    progress: Progress | None = None,
) -> list[Path]:
    """Fetch every official file of a dataset class into ``<data_dir>/<name>/``."""
    if not dataset.downloads:
        raise DataError(f"dataset {dataset.name!r} has no public download ({dataset.description})")
    return [fetch(item, data_dir / dataset.name, mirror, progress) for item in dataset.downloads]


def fetch(
    item: Download, target_dir: Path, mirror: str | None = None, progress: Progress | None = None
) -> Path:
    """Make ``target_dir/item.filename`` the verified file, downloading it only when needed.

    ``mirror`` replaces the official address by ``<mirror>/<filename>``; the pinned checksum
    still decides, so a mirror can be faster but never different.
    """
    if mirror is not None:
        check_mirror(mirror)
    try:
        target_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise DataError(f"cannot create {target_dir}: {exc.strerror}") from None
    path = target_dir / item.filename
    if path.is_file() and sha256_of(path) == item.sha256:
        log.info("%s is present and verified", path)
    else:
        url = f"{mirror.rstrip('/')}/{item.filename}" if mirror else item.url
        _download(url, path, item.sha256, progress)
    if item.unpack_to and not (target_dir / item.unpack_to).exists():
        unpack(path, target_dir, item.unpack_to)
    return path


def check_mirror(mirror: str) -> None:
    parts = urllib.parse.urlsplit(mirror)
    if parts.scheme not in ("http", "https", "file") or (
        parts.scheme != "file" and not parts.netloc
    ):
        raise DataError(
            f"--mirror {mirror!r} is not a URL; give one like https://host/path (http, https or "
            "file)"
        )


def _download(url: str, path: Path, sha256: str, progress: Progress | None) -> None:
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex}.part")  # not mkstemp: keep umask
    try:
        digest, received = hashlib.sha256(), 0
        with tmp.open("xb") as out, urllib.request.urlopen(url, timeout=TIMEOUT_S) as resp:
            length = resp.headers.get("Content-Length")
            expected = int(length) if length else None
            task = progress.add_task(path.name, total=expected) if progress else None
            while chunk := resp.read(CHUNK):
                out.write(chunk)
                digest.update(chunk)
                received += len(chunk)
                if progress is not None and task is not None:
                    progress.update(task, advance=len(chunk))
        if expected is not None and received != expected:
            raise DataError(
                f"download of {url} was interrupted: {received} of {expected} bytes arrived; "
                "nothing was kept, run the command again"
            )
        if digest.hexdigest() != sha256:
            raise DataError(
                f"checksum mismatch for {url}: SHA-256 {digest.hexdigest()}, expected {sha256}; "
                "the file is corrupt or not the official one, nothing was kept"
            )
        os.replace(tmp, path)
    except http.client.IncompleteRead as exc:
        raise DataError(
            f"download of {url} was interrupted after {len(exc.partial)} bytes; nothing was kept"
        ) from None
    except (urllib.error.URLError, http.client.HTTPException, OSError) as exc:
        detail = exc if isinstance(exc, urllib.error.HTTPError) else getattr(exc, "reason", exc)
        raise DataError(f"could not download {url}: {detail}") from None
    finally:
        tmp.unlink(missing_ok=True)


def check_member(member: tarfile.TarInfo, archive: Path) -> None:
    """Refuse anything that could write outside the extraction folder, whatever tarfile's own
    filter would do: absolute or ``..`` paths, devices, and every link.

    Links are refused outright rather than checked, because a link's meaning depends on the
    links extracted before it: CVE-2025-4517 chains 16 symlinks so that a path which looks
    inside the folder resolves outside it, and got past ``filter="data"`` up to Python 3.11.12.
    The official archives hold no links, so refusing them costs nothing.
    """
    name = member.name
    if posixpath.isabs(name) or ".." in name.split("/"):
        raise DataError(f"{archive}: member {name!r} would be written outside the target folder")
    if member.issym() or member.islnk():
        kind = "symbolic" if member.issym() else "hard"
        raise DataError(
            f"{archive}: member {name!r} is a {kind} link (to {member.linkname!r}); dataset "
            "archives must hold only files and folders"
        )
    if not (member.isfile() or member.isdir()):
        raise DataError(f"{archive}: member {name!r} is a device or pipe, not a file")


def _check_destination(member: tarfile.TarInfo, staging: Path, archive: Path) -> None:
    """The member's folder, with every link on the way resolved, is inside ``staging``: a
    second line of defence that holds even if a link got there some other way.

    The folder is resolved strictly: the CVE-2025-4517 chain grows the expanded path past
    PATH_MAX (4096), where a lenient ``realpath`` stops expanding and answers with the
    unexpanded, harmless-looking text; a strict one fails, and so the member is refused.
    """
    root = os.path.realpath(staging, strict=True)
    destination = os.path.join(root, member.name)
    folder = os.path.dirname(destination)
    while not os.path.lexists(folder):  # tar creates missing folders: check what exists
        folder = os.path.dirname(folder)
    try:
        resolved = os.path.realpath(folder, strict=True)
    except OSError as exc:
        resolved = f"an unresolvable path ({exc.strerror})"
    if os.path.islink(destination) or not (resolved == root or resolved.startswith(root + os.sep)):
        raise DataError(
            f"{archive}: member {member.name!r} would be written outside the target folder "
            f"(through {resolved})"
        )


def unpack(archive: Path, target_dir: Path, folder: str) -> Path:
    """Extract the archive's ``folder`` into ``target_dir``, all or nothing."""
    staging = Path(tempfile.mkdtemp(dir=target_dir, prefix=".unpack-"))
    try:
        with tarfile.open(archive) as tar:
            members = tar.getmembers()
            for member in members:
                check_member(member, archive)
            for member in members:  # one at a time: each destination is checked as it lands
                _check_destination(member, staging, archive)
                tar.extract(member, staging, filter="data")
        if not (staging / folder).is_dir():
            raise DataError(f"{archive} holds no folder {folder}/")
        os.replace(staging / folder, target_dir / folder)
    except tarfile.FilterError as exc:  # our checks above should have caught it first
        raise DataError(f"{archive}: unsafe member refused ({exc})") from None
    except (tarfile.TarError, EOFError, OSError, zlib.error) as exc:
        raise DataError(f"{archive}: truncated or corrupt archive ({exc})") from None
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return target_dir / folder
