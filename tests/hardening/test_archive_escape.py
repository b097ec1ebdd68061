"""Dataset archives cannot write outside their folder, whatever the Python version: the
CVE-2025-4517 symlink chain (as CPython's ``test_realpath_limit_attack`` builds it) and any
link at all are refused with one line naming the archive and the member."""

from __future__ import annotations

import hashlib
import io
import os
import tarfile
from pathlib import Path

import pytest

from bench.dataset import DataError, Download
from bench.download import fetch

STEPS = "abcdefghijklmnop"  # 16 step symlinks, as in CPython's test


def _add(
    tar: tarfile.TarFile,
    name: str,
    *,
    kind: bytes = tarfile.REGTYPE,
    link: str = "",
    data: bytes = b"",
) -> None:
    info = tarfile.TarInfo(name)
    info.type, info.linkname = kind, link
    if kind == tarfile.DIRTYPE:
        info.mode = 0o777
    info.size = len(data) if kind == tarfile.REGTYPE else 0
    tar.addfile(info, io.BytesIO(data) if kind == tarfile.REGTYPE else None)


def realpath_limit_archive(path: Path, target_dir: Path) -> Path:
    """Directories whose names are long enough that the unexpanded path fits in PATH_MAX but
    the expanded one does not, so ``os.path.realpath`` stops expanding and tarfile's filter
    (before 3.11.13/3.12.11/3.13.4) judges the last links by their unexpanded text."""
    max_path = os.pathconf(target_dir, "PC_PATH_MAX")
    staging_len = len(str(target_dir)) + len("/.unpack-xxxxxxxx") + 1
    component = "d" * min(240, (max_path - staging_len) // (len(STEPS) + 1))
    with tarfile.open(path, "w:gz") as tar:
        _add(tar, "pkg/", kind=tarfile.DIRTYPE)
        _add(tar, "pkg/ok.txt", data=b"ok")
        prefix = ""
        for step in STEPS:
            _add(tar, prefix + component, kind=tarfile.DIRTYPE)
            _add(tar, prefix + step, kind=tarfile.SYMTYPE, link=component)
            prefix += component + "/"
        link = "/".join(STEPS) + "/" + "l" * 254
        _add(tar, link, kind=tarfile.SYMTYPE, link="/".join([".."] * len(STEPS)))
        _add(tar, "escape", kind=tarfile.SYMTYPE, link=link + "/../..")
        _add(tar, "escape/PWNED", data=b"pwned")
    return path


def _download(archive: Path) -> Download:
    digest = hashlib.sha256(archive.read_bytes()).hexdigest()
    return Download(archive.as_uri(), digest, "pkg.tar.gz", unpack_to="pkg")


def test_cve_2025_4517_chain_is_refused_and_writes_nothing_outside(tmp_path):
    target = tmp_path / "deep" / "data"
    target.mkdir(parents=True)
    archive = realpath_limit_archive(tmp_path / "evil.tar.gz", target)
    with pytest.raises(DataError) as caught:
        fetch(_download(archive), target)
    message = str(caught.value)
    assert "\n" not in message and str(target / "pkg.tar.gz") in message
    assert "member 'a' is a symbolic link" in message
    assert not any(p.name == "PWNED" for p in tmp_path.rglob("*"))
    assert not (target / "pkg").exists()
    assert sorted(p.name for p in target.iterdir()) == ["pkg.tar.gz"]  # no staging left


@pytest.mark.parametrize(
    ("kind", "word"), [(tarfile.SYMTYPE, "symbolic"), (tarfile.LNKTYPE, "hard")]
)
def test_any_link_is_refused_even_pointing_inside(tmp_path, kind, word):
    archive = tmp_path / "pkg.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        _add(tar, "pkg/ok.txt", data=b"ok")
        link = "ok.txt" if kind == tarfile.SYMTYPE else "pkg/ok.txt"  # tar's conventions
        _add(tar, "pkg/alias.txt", kind=kind, link=link)
    target = tmp_path / "data"
    with pytest.raises(DataError, match=rf"member 'pkg/alias.txt' is a {word} link"):
        fetch(_download(archive), target)
    assert not (target / "pkg").exists()


def test_resolved_destinations_are_checked_even_if_a_link_got_through(tmp_path, monkeypatch):
    """The second line of defence alone: with the member check disabled, the chain's links are
    extracted, and the file meant for outside is still refused by its resolved destination."""
    monkeypatch.setattr("bench.download.check_member", lambda member, archive: None)
    target = tmp_path / "deep" / "data"
    target.mkdir(parents=True)
    archive = realpath_limit_archive(tmp_path / "evil.tar.gz", target)
    with pytest.raises(DataError, match=r"member 'escape/PWNED' would be written outside"):
        fetch(_download(archive), target)
    assert not any(p.name == "PWNED" for p in tmp_path.rglob("*"))
