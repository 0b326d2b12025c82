"""`oodlib data fetch` end to end against a local HTTP server on 127.0.0.1.

Cases: success, resume after an interrupted transfer, a truncated file, a checksum
mismatch, a server error, no server at all, manual-only datasets, and a hand-made
folder that must never be deleted.
"""

from __future__ import annotations

import hashlib
import http.server
import io
import threading
import zipfile
from pathlib import Path

import pytest
import yaml

from oodlib import cli
from oodlib.data import fetch as fetch_mod
from oodlib.data.fetch import MARKER, ChecksumError, DownloadError, ManualDownloadRequired, fetch, verify


def _archive() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("toyset/README.txt", "toy dataset\n")
        for cls in ("a", "b"):
            for i in range(3):
                zf.writestr(f"toyset/{cls}/{i}.wav", bytes(range(256)) * 40 + bytes([i]))
    return buf.getvalue()


ARCHIVE = _archive()


class Server:
    """Serves files from a dict; modes per path: 'ok', 'cut' (stops half-way once), 'error'."""

    def __init__(self) -> None:
        self.files: dict[str, bytes] = {}
        self.modes: dict[str, str] = {}
        self.requests: list[tuple[str, str | None]] = []
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args):  # keep test output clean
                pass

            def do_GET(self):
                rng = self.headers.get("Range")
                outer.requests.append((self.path, rng))
                body, mode = outer.files.get(self.path), outer.modes.get(self.path, "ok")
                if body is None:
                    self.send_error(404)
                    return
                if mode == "error":
                    self.send_error(500, "boom")
                    return
                start = int(rng.split("=")[1].split("-")[0]) if rng else 0
                self.send_response(206 if rng else 200)
                self.send_header("Content-Length", str(len(body) - start))
                self.send_header("Accept-Ranges", "bytes")
                self.end_headers()
                if mode == "cut":
                    outer.modes[self.path] = "ok"  # only the first transfer breaks
                    self.wfile.write(body[start : start + (len(body) - start) // 2])
                    self.wfile.flush()
                    self.close_connection = True
                    return
                self.wfile.write(body[start:])

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self) -> "Server":
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def server():
    with Server() as s:
        s.files["/toy.zip"] = ARCHIVE
        yield s


@pytest.fixture
def env(tmp_path, monkeypatch):
    mdir, ddir = tmp_path / "manifests", tmp_path / "data"
    mdir.mkdir()
    monkeypatch.setenv("OODLIB_MANIFESTS_DIR", str(mdir))
    monkeypatch.setenv("OODLIB_DATA_DIR", str(ddir))
    monkeypatch.setenv("OODLIB_PROGRESS", "0")
    return mdir, ddir


def write_manifest(mdir: Path, url: str, sha256: str | None = None, obtain: str = "download", name: str = "toyset") -> None:
    data = {
        "name": name, "title": "Toy set", "kind": "dataset", "papers": ["P1"], "homepage": "http://127.0.0.1/",
        "license": "CC0", "citation": "none", "size": "tiny", "local_names": [name], "obtain": obtain,
        "manual_steps": "Ask a friend for the toy set.",
        "layout": {"files": ["README.txt"], "dirs": ["a", "b"], "counts": {"*/*.wav": {"min": 6, "max": 6}}},
        "usage": "tests",
    }
    if obtain == "download":
        data["downloads"] = [{"url": url, "filename": "toy.zip", "sha256": sha256, "strip_components": 1}]
    (mdir / f"{name}.yaml").write_text(yaml.safe_dump(data))


def test_success_then_idempotent(server, env):
    mdir, ddir = env
    write_manifest(mdir, server.url + "/toy.zip", hashlib.sha256(ARCHIVE).hexdigest())
    path = fetch("toyset")
    assert path == ddir / "toyset" and (path / MARKER).is_file()
    assert sorted(p.name for p in path.glob("*/*.wav")) == ["0.wav", "0.wav", "1.wav", "1.wav", "2.wav", "2.wav"]
    report = verify("toyset")
    assert report.ok and report.complete_marker and report.counts == {"*/*.wav": 6}
    n = len(server.requests)
    assert fetch("toyset") == path and len(server.requests) == n  # nothing downloaded again
    assert not list(ddir.glob(".toyset-*"))  # no temporary folders left


def test_resume_after_interruption(server, env):
    mdir, ddir = env
    write_manifest(mdir, server.url + "/toy.zip", hashlib.sha256(ARCHIVE).hexdigest())
    server.modes["/toy.zip"] = "cut"
    with pytest.raises(DownloadError, match="incomplete download"):
        fetch("toyset")
    part = ddir / ".downloads" / "toyset" / "toy.zip.part"
    assert part.is_file() and 0 < part.stat().st_size < len(ARCHIVE)
    assert not (ddir / "toyset").exists()  # nothing that looks complete
    fetch("toyset")
    assert server.requests[-1][1] == f"bytes={len(ARCHIVE) // 2}-"  # resumed with a Range request
    assert verify("toyset").ok


def test_checksum_mismatch_deletes_the_download(server, env):
    mdir, ddir = env
    write_manifest(mdir, server.url + "/toy.zip", "0" * 64)
    with pytest.raises(ChecksumError, match="sha256 mismatch"):
        fetch("toyset")
    assert not (ddir / "toyset").exists()
    assert not list((ddir / ".downloads" / "toyset").glob("toy.zip*"))


def test_truncated_file_never_looks_complete(server, env):
    mdir, ddir = env
    server.files["/toy.zip"] = ARCHIVE[: len(ARCHIVE) // 3]  # server sends a short, well-framed file
    write_manifest(mdir, server.url + "/toy.zip", hashlib.sha256(ARCHIVE).hexdigest())
    with pytest.raises(ChecksumError):
        fetch("toyset")
    write_manifest(mdir, server.url + "/toy.zip", None)  # without a checksum, extraction must fail
    with pytest.raises(DownloadError, match="neither a zip nor a tar"):
        fetch("toyset")
    assert not (ddir / "toyset").exists()


def test_layout_mismatch_is_refused(server, env):
    mdir, ddir = env
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("toyset/README.txt", "x")
    server.files["/toy.zip"] = buf.getvalue()
    write_manifest(mdir, server.url + "/toy.zip")
    with pytest.raises(DownloadError, match="expected layout.*missing folder a/"):
        fetch("toyset")
    assert not (ddir / "toyset").exists()


def test_server_error_and_offline_give_manual_steps(server, env):
    mdir, _ = env
    server.modes["/toy.zip"] = "error"
    write_manifest(mdir, server.url + "/toy.zip")
    with pytest.raises(DownloadError, match=r"HTTP 500(.|\n)*Ask a friend"):
        fetch("toyset")
    write_manifest(mdir, "http://127.0.0.1:9/toy.zip")  # discard port: nothing listens
    with pytest.raises(DownloadError, match=r"cannot connect(.|\n)*Ask a friend"):
        fetch("toyset")


def test_manual_dataset_and_cli_messages(env, capsys):
    mdir, _ = env
    write_manifest(mdir, "", obtain="manual")
    with pytest.raises(ManualDownloadRequired, match="Ask a friend"):
        fetch("toyset")
    assert cli.main(["data", "fetch", "toyset"]) == 1
    assert "Ask a friend" in capsys.readouterr().err
    assert cli.main(["data", "verify", "toyset"]) == 1
    assert "does not exist" in capsys.readouterr().err


def test_hand_made_folder_is_left_alone(server, env):
    mdir, ddir = env
    write_manifest(mdir, server.url + "/toy.zip")
    mine = ddir / "toyset"
    mine.mkdir(parents=True)
    (mine / "notes.txt").write_text("mine")
    with pytest.raises(DownloadError, match="left alone"):
        fetch("toyset")
    assert (mine / "notes.txt").read_text() == "mine"


def test_verify_detects_changes_after_fetch(server, env):
    mdir, ddir = env
    write_manifest(mdir, server.url + "/toy.zip")
    path = fetch("toyset")
    (path / "a" / "0.wav").write_bytes(b"short")
    report = verify("toyset")
    assert not report.ok and any("changed size" in p for p in report.problems)
    # a damaged earlier fetch is replaced by a new one
    assert verify(fetch("toyset").name).ok


def test_extract_refuses_path_traversal(tmp_path):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("../evil.txt", "x")
    archive = tmp_path / "evil.zip"
    archive.write_bytes(buf.getvalue())
    with pytest.raises(DownloadError, match="outside"):
        fetch_mod.extract(archive, tmp_path / "out")
    assert not (tmp_path / "evil.txt").exists()
