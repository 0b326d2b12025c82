"""`oodlib data fetch` end to end against a local HTTP server on 127.0.0.1.

Cases: success, resume after an interrupted transfer, a truncated file, a checksum
mismatch, a server error, no server at all, manual-only datasets, and a hand-made
folder that must never be deleted. Issue 16: user files are never deleted (case 4);
an upstream file that changes, a stale ``.part``, a corrupt cached archive, two
concurrent fetches, trust-on-first-use checksums and ``verify --deep`` (case 5).
"""

from __future__ import annotations

import hashlib
import http.server
import io
import json
import threading
import time
import zipfile
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import yaml

from oodlib import cli
from oodlib.data import fetch as fetch_mod
from oodlib.data.fetch import MARKER, ChecksumError, DownloadError, ManualDownloadRequired, fetch, verify


def _wav_bytes(i: int, n: int = 4000) -> bytes:
    buf = io.BytesIO()
    x = 0.3 * np.sin(np.arange(n) * 0.01 * (i + 1))
    sf.write(buf, x, 16000, format="WAV", subtype="PCM_16")
    return buf.getvalue()


def _archive(version: str = "") -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("toyset/README.txt", f"toy dataset{version}\n")
        for cls in ("a", "b"):
            for i in range(3):
                zf.writestr(f"toyset/{cls}/{i}.wav", _wav_bytes(i + (3 if cls == "b" else 0)))
    return buf.getvalue()


ARCHIVE = _archive()
ARCHIVE_V2 = _archive(" v2")  # the same layout; the upstream file after a change


class Server:
    """Serves files from a dict, with ETag / Last-Modified / If-Range / Content-Range like a real server.

    Modes per path: 'ok'; 'cut' (stops half-way once); 'error' (HTTP 500); 'novalidator' (no ETag
    or Last-Modified); 'norange' (ignores Range); 'wrongrange' (a 206 that starts 10 bytes early);
    'slow' (sends in 20 pieces, 20 ms apart; ``started`` is set when a transfer begins).
    """

    def __init__(self) -> None:
        self.files: dict[str, bytes] = {}
        self.modes: dict[str, str] = {}
        self.requests: list[tuple[str, str | None]] = []
        self.headers: list[dict[str, str]] = []
        self.started = threading.Event()
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args):  # keep test output clean
                pass

            def _validators(self, body: bytes, mode: str) -> dict[str, str]:
                if mode == "novalidator":
                    return {}
                tag = '"' + hashlib.sha256(body).hexdigest()[:16] + '"'
                return {"ETag": tag, "Last-Modified": "Mon, 01 Jan 2024 00:00:00 GMT"}

            def do_GET(self):
                rng = self.headers.get("Range")
                outer.requests.append((self.path, rng))
                outer.headers.append(dict(self.headers))
                body, mode = outer.files.get(self.path), outer.modes.get(self.path, "ok")
                if body is None:
                    self.send_error(404)
                    return
                if mode == "error":
                    self.send_error(500, "boom")
                    return
                validators = self._validators(body, mode)
                if_range = self.headers.get("If-Range")
                if mode == "norange" or (if_range is not None and if_range not in validators.values()):
                    rng = None  # RFC 9110: a failed If-Range means "send the whole file"
                start = int(rng.split("=")[1].split("-")[0]) if rng else 0
                if rng and start >= len(body):
                    self.send_response(416)
                    self.send_header("Content-Range", f"bytes */{len(body)}")
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                if rng and mode == "wrongrange":
                    start = max(0, start - 10)
                self.send_response(206 if rng else 200)
                if rng:
                    self.send_header("Content-Range", f"bytes {start}-{len(body) - 1}/{len(body)}")
                for k, v in validators.items():
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(body) - start))
                self.send_header("Accept-Ranges", "bytes")
                self.end_headers()
                if mode == "cut":
                    outer.modes[self.path] = "ok"  # only the first transfer breaks
                    self.wfile.write(body[start : start + (len(body) - start) // 2])
                    self.wfile.flush()
                    self.close_connection = True
                    return
                if mode == "slow":
                    outer.started.set()
                    step = max(1, (len(body) - start) // 20 + 1)
                    for i in range(start, len(body), step):
                        self.wfile.write(body[i : i + step])
                        self.wfile.flush()
                        time.sleep(0.02)
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
    monkeypatch.setenv("OODLIB_CACHE_DIR", str(tmp_path / "usercache"))  # trust-on-first-use records
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
    # a damaged earlier fetch is restored only when asked (--replace); see test_fetch_never_deletes_user_files
    with pytest.raises(DownloadError, match="--replace"):
        fetch("toyset")
    assert verify(fetch("toyset", replace=True).name).ok


def test_extract_refuses_path_traversal(tmp_path):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("../evil.txt", "x")
    archive = tmp_path / "evil.zip"
    archive.write_bytes(buf.getvalue())
    with pytest.raises(DownloadError, match="outside"):
        fetch_mod.extract(archive, tmp_path / "out")
    assert not (tmp_path / "evil.txt").exists()


# ---------------------------------------------------------------- issue 16, case 4: never delete user data


def _fetched_with_user_files(server, env) -> Path:
    mdir, _ = env
    write_manifest(mdir, server.url + "/toy.zip")
    path = fetch("toyset")
    (path / "my_labels.csv").write_text("mine")
    (path / "my_extra").mkdir()
    (path / "my_extra" / "notes.txt").write_text("mine too")
    (path / "a" / "0.wav").write_bytes(b"edited")  # one fetched file changed size
    return path


def test_fetch_never_deletes_user_files(server, env, capsys):
    path = _fetched_with_user_files(server, env)
    n = len(server.requests)
    with pytest.raises(DownloadError, match=r"(?is)a/0\.wav changed size.*nothing was changed.*--replace"):
        fetch("toyset")
    assert len(server.requests) == n  # refused before downloading anything
    assert (path / "my_labels.csv").read_text() == "mine" and (path / "my_extra" / "notes.txt").is_file()
    assert (path / "a" / "0.wav").read_bytes() == b"edited"  # not even the changed file is touched
    assert cli.main(["data", "fetch", "toyset"]) == 1
    assert "--replace" in capsys.readouterr().err


def test_fetch_replace_restores_fetched_files_and_keeps_user_files(server, env, capsys):
    path = _fetched_with_user_files(server, env)
    assert cli.main(["data", "fetch", "toyset", "--replace"]) == 0
    out = capsys.readouterr().out
    assert "restored 1" in out and "kept 2" in out
    assert (path / "my_labels.csv").read_text() == "mine"
    assert (path / "my_extra" / "notes.txt").read_text() == "mine too"
    assert (path / "a" / "0.wav").stat().st_size > 100
    assert verify("toyset", deep=True).ok


def test_replace_on_a_hand_made_folder_keeps_its_files(server, env):
    mdir, ddir = env
    write_manifest(mdir, server.url + "/toy.zip")
    mine = ddir / "toyset"
    (mine / "a").mkdir(parents=True)
    (mine / "notes.txt").write_text("mine")
    (mine / "a" / "labels.csv").write_text("mine too")
    fetch("toyset", replace=True)
    assert (mine / "notes.txt").read_text() == "mine" and (mine / "a" / "labels.csv").read_text() == "mine too"
    assert verify("toyset").ok


# ---------------------------------------------------------------- issue 16, case 5: verified downloads


def _cache(ddir: Path) -> Path:
    return ddir / ".downloads" / "toyset"


def test_first_download_records_a_checksum_beside_the_data_and_in_the_user_cache(server, env, tmp_path):
    mdir, ddir = env
    write_manifest(mdir, server.url + "/toy.zip")
    path = fetch("toyset")
    digest = hashlib.sha256(ARCHIVE).hexdigest()
    marker = json.loads((path / MARKER).read_text())
    assert marker["archives"]["toy.zip"]["sha256"] == digest
    assert set(marker["sha256"]) == set(marker["files"])  # every extracted file's hash, for verify --deep
    trusted = json.loads((tmp_path / "usercache" / "checksums" / "toyset.json").read_text())
    assert trusted["toy.zip"]["sha256"] == digest


def test_changed_upstream_file_is_refused_after_first_use(server, env, tmp_path):
    mdir, ddir = env
    write_manifest(mdir, server.url + "/toy.zip")
    fetch("toyset")
    import shutil

    shutil.rmtree(ddir)  # the user deletes data and cache; the user-cache record stays
    server.files["/toy.zip"] = ARCHIVE_V2
    record = tmp_path / "usercache" / "checksums" / "toyset.json"
    with pytest.raises(fetch_mod.ChecksumError, match=rf"(?s)toy\.zip.*first download.*{record}"):
        fetch("toyset")
    assert not (ddir / "toyset").exists()
    assert not (_cache(ddir) / "toy.zip").exists()  # the unverified download never gets the final name


def test_resume_after_upstream_change_restarts_instead_of_splicing(server, env):
    mdir, ddir = env
    write_manifest(mdir, server.url + "/toy.zip")
    server.modes["/toy.zip"] = "cut"
    with pytest.raises(DownloadError, match="incomplete download"):
        fetch("toyset")
    server.files["/toy.zip"] = ARCHIVE_V2  # upstream changed between the two attempts
    fetch("toyset")
    assert server.headers[-1].get("If-Range")  # the resume was conditional
    assert (_cache(ddir) / "toy.zip").read_bytes() == ARCHIVE_V2  # whole new file, not half of each
    assert (ddir / "toyset" / "README.txt").read_text() == "toy dataset v2\n"


def test_resume_without_validators_restarts_from_zero(server, env):
    mdir, ddir = env
    write_manifest(mdir, server.url + "/toy.zip")
    server.modes["/toy.zip"] = "cut"
    server.files["/toy.zip"] = ARCHIVE
    with pytest.raises(DownloadError):
        fetch("toyset")
    server.modes["/toy.zip"] = "novalidator"
    # the first transfer had validators; drop them from the .part's record to model a server without any
    meta = next(_cache(ddir).glob("toy.zip.part.json"))
    meta.write_text(json.dumps({**json.loads(meta.read_text()), "etag": None, "last_modified": None}))
    fetch("toyset")
    assert server.requests[-1][1] is None  # no Range: a resume that cannot be validated starts again
    assert (_cache(ddir) / "toy.zip").read_bytes() == ARCHIVE


def test_resume_with_a_wrong_content_range_restarts(server, env):
    mdir, ddir = env
    write_manifest(mdir, server.url + "/toy.zip")
    server.modes["/toy.zip"] = "cut"
    with pytest.raises(DownloadError):
        fetch("toyset")
    server.modes["/toy.zip"] = "wrongrange"
    fetch("toyset")
    assert (_cache(ddir) / "toy.zip").read_bytes() == ARCHIVE
    assert server.requests[-1][1] is None  # the bad 206 was dropped and the file fetched whole


@pytest.mark.parametrize("with_record", [True, False])
def test_stale_part_larger_than_the_file_is_not_renamed(server, env, with_record):
    mdir, ddir = env
    write_manifest(mdir, server.url + "/toy.zip")
    cache = _cache(ddir)
    cache.mkdir(parents=True)
    (cache / "toy.zip.part").write_bytes(ARCHIVE + b"stale tail" * 50)
    if with_record:  # the .part's record claims the current version, so a Range is sent and answered 416
        tag = '"' + hashlib.sha256(ARCHIVE).hexdigest()[:16] + '"'
        (cache / "toy.zip.part.json").write_text(json.dumps({"url": server.url + "/toy.zip", "etag": tag,
                                                               "last_modified": None, "total": None}))
    fetch("toyset")
    assert (cache / "toy.zip").read_bytes() == ARCHIVE
    assert not (cache / "toy.zip.part").exists()


def test_corrupt_cached_archive_names_the_file_to_delete(server, env):
    mdir, ddir = env
    write_manifest(mdir, server.url + "/toy.zip")
    cache = _cache(ddir)
    cache.mkdir(parents=True)
    (cache / "toy.zip").write_bytes(b"garbage, not an archive")  # e.g. a disk error or an old broken fetch
    with pytest.raises(DownloadError, match=rf"(?s){cache / 'toy.zip'}.*delete"):
        fetch("toyset")
    (cache / "toy.zip").unlink()
    path = fetch("toyset")  # after deleting it as told, fetch works
    import shutil

    shutil.rmtree(path)
    data = bytearray(ARCHIVE)
    data[100] ^= 0xFF
    (cache / "toy.zip").write_bytes(bytes(data))  # a flipped byte in the cached archive: the record catches it
    with pytest.raises(fetch_mod.ChecksumError, match=rf"(?s)cached.*{cache / 'toy.zip'}.*delete"):
        fetch("toyset")


def test_two_concurrent_fetches_do_not_corrupt_the_cache(server, env):
    mdir, ddir = env
    write_manifest(mdir, server.url + "/toy.zip")
    server.modes["/toy.zip"] = "slow"
    results: dict[str, object] = {}

    def first():
        try:
            results["first"] = fetch("toyset")
        except Exception as err:  # noqa: BLE001 - reported below
            results["first"] = err

    t = threading.Thread(target=first)
    t.start()
    assert server.started.wait(10)
    with pytest.raises(DownloadError, match=r"(?s)another.*fetch.*toyset.*\.lock"):
        fetch("toyset")
    t.join(30)
    assert not t.is_alive() and results["first"] == ddir / "toyset"
    assert (_cache(ddir) / "toy.zip").read_bytes() == ARCHIVE
    assert verify("toyset", deep=True).ok
    assert fetch("toyset") == ddir / "toyset"  # the lock is free again


def test_http_urls_of_the_shipped_manifests_are_https():
    from oodlib.data.manifests import list_manifests, load_manifest

    for name in list_manifests():
        for d in load_manifest(name).downloads:
            assert d.url.startswith("https://"), f"{name}: {d.url} is not https"


def test_verify_deep_hashes_and_decodes_every_file(server, env, capsys):
    mdir, ddir = env
    write_manifest(mdir, server.url + "/toy.zip")
    path = fetch("toyset")
    wav = path / "a" / "1.wav"
    data = bytearray(wav.read_bytes())
    data[-3] ^= 0x01  # one flipped bit in the samples: same size, still decodes
    wav.write_bytes(bytes(data))
    assert verify("toyset").ok  # sizes and counts cannot see it
    report = verify("toyset", deep=True)
    assert not report.ok and any("a/1.wav" in p and "sha256" in p for p in report.problems)
    assert cli.main(["data", "verify", "toyset", "--deep"]) == 1
    assert "a/1.wav" in capsys.readouterr().err


def test_verify_deep_decodes_hand_made_folders(env):
    mdir, ddir = env
    write_manifest(mdir, "", obtain="manual")
    mine = ddir / "toyset"
    for cls in ("a", "b"):
        (mine / cls).mkdir(parents=True)
        for i in range(3):
            (mine / cls / f"{i}.wav").write_bytes(b"" if (cls, i) == ("b", 2) else _wav_bytes(i))
    (mine / "README.txt").write_text("x")
    assert verify("toyset").ok  # a zero-byte WAV passes the counts
    report = verify("toyset", deep=True)
    assert not report.ok and any("b/2.wav" in p and "decode" in p for p in report.problems), report.problems


def test_manifest_paths_cannot_leave_the_data_folder(server, env, tmp_path):
    mdir, ddir = env
    write_manifest(mdir, server.url + "/toy.zip")
    data = yaml.safe_load((mdir / "toyset.yaml").read_text())
    data["downloads"][0]["filename"] = "../../escaped.zip"
    (mdir / "toyset.yaml").write_text(yaml.safe_dump(data))
    with pytest.raises(ValueError, match=r"filename.*'\.\./\.\./escaped\.zip'"):
        fetch("toyset")
    assert not list(tmp_path.rglob("escaped.zip*"))
