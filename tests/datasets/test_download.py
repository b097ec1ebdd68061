"""``bench.download`` and ``bench data`` against a local HTTP server: verified downloads,
checksum mismatches, interrupted transfers, unsafe archives, idempotency."""

from __future__ import annotations

import hashlib
import io
import tarfile
import threading
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from click.testing import CliRunner

from bench.cli import cli
from bench.dataset import DataError, Download
from bench.download import fetch
from bench.plugins import registry

PAYLOAD = bytes(range(256)) * 400


class _Handler(SimpleHTTPRequestHandler):
    """Serves the test folder; ``/short/NAME`` announces NAME's full size, sends half, hangs up."""

    requests: list[str] = []

    def do_GET(self):
        type(self).requests.append(self.path)
        if self.path.startswith("/short/"):
            data = (Path(self.directory) / self.path.removeprefix("/short/")).read_bytes()
            self.send_response(200)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data[: len(data) // 2])
            self.close_connection = True
            return
        super().do_GET()

    def log_message(self, *args):
        pass


@pytest.fixture
def server(tmp_path):
    """(base URL, served folder, list of requested paths)."""
    served = tmp_path / "served"
    served.mkdir()
    _Handler.requests = []
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), lambda *a: _Handler(*a, directory=str(served)))
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}", served, _Handler.requests
    httpd.shutdown()
    httpd.server_close()


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.startswith("."))


def tar_gz(members: list[tarfile.TarInfo], contents: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for info in members:
            data = contents.get(info.name)
            if data is not None:
                info.size = len(data)
            tar.addfile(info, io.BytesIO(data) if data is not None else None)
    return buffer.getvalue()


def file_member(name: str) -> tarfile.TarInfo:
    return tarfile.TarInfo(name)


def link_member(name: str, target: str, kind: bytes = tarfile.SYMTYPE) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type, info.linkname = kind, target
    return info


def test_download_verifies_and_is_idempotent(server, tmp_path):
    base, served, requests = server
    (served / "a.bin").write_bytes(PAYLOAD)
    item = Download(f"{base}/a.bin", sha256(PAYLOAD), "a.bin")
    target = tmp_path / "data"
    path = fetch(item, target)
    assert path.read_bytes() == PAYLOAD and leftovers(target) == []
    fetch(item, target)
    assert requests == ["/a.bin"]  # present and verified: not fetched again
    path.write_bytes(b"damaged")
    fetch(item, target)
    assert path.read_bytes() == PAYLOAD and len(requests) == 2  # damaged: fetched again


def test_mirror_replaces_the_official_address(server, tmp_path):
    base, served, requests = server
    (served / "a.bin").write_bytes(PAYLOAD)
    item = Download("https://unreachable.invalid/a.bin", sha256(PAYLOAD), "a.bin")
    assert fetch(item, tmp_path, mirror=base + "/").read_bytes() == PAYLOAD
    assert requests == ["/a.bin"]


def test_checksum_mismatch_keeps_nothing(server, tmp_path):
    base, served, _ = server
    (served / "a.bin").write_bytes(PAYLOAD)
    item = Download(f"{base}/a.bin", sha256(b"something else"), "a.bin")
    with pytest.raises(DataError, match=r"checksum mismatch for .*/a.bin"):
        fetch(item, tmp_path / "data")
    assert list((tmp_path / "data").iterdir()) == []


def test_interrupted_transfer_keeps_nothing(server, tmp_path):
    base, served, _ = server
    (served / "a.bin").write_bytes(PAYLOAD)
    item = Download(f"{base}/short/a.bin", sha256(PAYLOAD), "a.bin")
    with pytest.raises(DataError, match=rf"interrupted.* {len(PAYLOAD) // 2} "):
        fetch(item, tmp_path / "data")
    assert list((tmp_path / "data").iterdir()) == []


def test_http_error_is_one_line(server, tmp_path):
    base, _, _ = server
    with pytest.raises(DataError, match=r"could not download .*/missing.bin: HTTP Error 404"):
        fetch(Download(f"{base}/missing.bin", "0" * 64, "missing.bin"), tmp_path)


def test_archive_is_unpacked_once(server, tmp_path):
    base, served, _ = server
    archive = tar_gz(
        [file_member("pkg/one.txt"), file_member("pkg/sub/two.txt")],
        {"pkg/one.txt": b"1", "pkg/sub/two.txt": b"2"},
    )
    (served / "pkg.tar.gz").write_bytes(archive)
    item = Download(f"{base}/pkg.tar.gz", sha256(archive), "pkg.tar.gz", unpack_to="pkg")
    fetch(item, tmp_path)
    assert (tmp_path / "pkg" / "sub" / "two.txt").read_bytes() == b"2"
    (tmp_path / "pkg" / "one.txt").write_bytes(b"edited")
    fetch(item, tmp_path)
    assert (tmp_path / "pkg" / "one.txt").read_bytes() == b"edited"  # not extracted again
    assert leftovers(tmp_path) == []


@pytest.mark.parametrize(
    "member",
    [
        file_member("../evil.txt"),
        file_member("pkg/../../evil.txt"),
        file_member("/tmp/evil.txt"),
        link_member("pkg/link", "../../evil.txt"),
        link_member("pkg/link", "/etc/passwd"),
        link_member("pkg/hard", "../evil.txt", tarfile.LNKTYPE),
    ],
    ids=["dotdot", "nested-dotdot", "absolute", "symlink-out", "symlink-absolute", "hardlink-out"],
)
def test_unsafe_archive_member_is_refused(server, tmp_path, member):
    base, served, _ = server
    contents = {"pkg/ok.txt": b"ok"}
    if member.isfile():
        contents[member.name] = b"evil"
    archive = tar_gz([file_member("pkg/ok.txt"), member], contents)
    (served / "pkg.tar.gz").write_bytes(archive)
    item = Download(f"{base}/pkg.tar.gz", sha256(archive), "pkg.tar.gz", unpack_to="pkg")
    target = tmp_path / "deep" / "data"
    with pytest.raises(DataError, match=rf"member {member.name!r}"):
        fetch(item, target)
    assert not (target / "pkg").exists() and leftovers(target) == []
    assert not any(p.name == "evil.txt" for p in tmp_path.rglob("*"))


def test_truncated_archive_is_reported(server, tmp_path):
    base, served, _ = server
    archive = tar_gz([file_member("pkg/big.bin")], {"pkg/big.bin": PAYLOAD * 10})
    truncated = archive[: len(archive) // 2]
    (served / "pkg.tar.gz").write_bytes(truncated)
    item = Download(f"{base}/pkg.tar.gz", sha256(truncated), "pkg.tar.gz", unpack_to="pkg")
    with pytest.raises(DataError, match=r"pkg.tar.gz: truncated or corrupt archive"):
        fetch(item, tmp_path)
    assert not (tmp_path / "pkg").exists() and leftovers(tmp_path) == []


def test_cli_download_refuses_files_that_are_not_the_official_ones(server, tmp_path):
    base, served, _ = server
    for name in ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"):
        (served / name).write_bytes(b"not mnist")
    result = CliRunner().invoke(
        cli, ["data", "download", "mnist", "--data-dir", str(tmp_path), "--mirror", base]
    )
    assert result.exit_code == 2
    assert "checksum mismatch" in result.output and "train-images-idx3-ubyte.gz" in result.output
    assert list((tmp_path / "mnist").iterdir()) == []


def test_cli_download_refuses_datasets_without_download(tmp_path):
    result = CliRunner().invoke(cli, ["data", "download", "hw8", "--data-dir", str(tmp_path)])
    assert result.exit_code == 2 and "has no public download" in result.output


def test_cli_list_shows_found_and_missing(mnist_dir):
    args = ["data", "list", "--data-dir", str(mnist_dir.parent)]
    result = CliRunner().invoke(cli, args, env={"COLUMNS": "300"})
    assert result.exit_code == 0, result.output
    lines = [line for line in result.output.splitlines() if "mnist" in line or "hw8" in line]
    assert any("train-images-idx3-ubyte" in line and str(mnist_dir) in line for line in lines)
    assert any("trainingset.npy" in line and "missing" in line for line in lines)


def test_cli_download_names_its_folder_on_one_line(server, tmp_path, monkeypatch):
    """Into a folder too long for 80 columns, the closing line names the whole folder on one
    line, so it can be copied from a log."""
    base, served, _ = server
    (served / "a.bin").write_bytes(PAYLOAD)
    mnist = registry().get("datasets", "mnist")
    monkeypatch.setattr(mnist, "downloads", (Download(f"{base}/a.bin", sha256(PAYLOAD), "a.bin"),))
    deep = tmp_path / ("a_folder_name_long_enough_that_no_path_below_it_fits_in_80_columns" * 2)
    result = CliRunner().invoke(cli, ["data", "download", "mnist", "--data-dir", str(deep)])
    assert result.exit_code == 0, result.output
    assert f"mnist: 1 file(s) verified in {deep / 'mnist'}" in result.output.splitlines()
