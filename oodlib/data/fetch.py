"""Resumable, checksum-verified downloads and safe extraction (``oodlib data fetch``).

Guarantees:

* a download is written to ``<file>.part`` and renamed only after its size and
  checksums are confirmed, so a partial or unverified file never has the final name;
* an interrupted download resumes only when the resume can be validated: the
  ``Range`` request carries ``If-Range`` (the first response's strong ETag or
  Last-Modified) and the answer's ``Content-Range`` must start where the ``.part``
  ends; otherwise the file is fetched again from zero (never spliced from two
  versions, and a stale ``.part`` is never renamed);
* checksums: the manifest's ``sha256``/``md5`` when published, and trust on first
  use otherwise: the first complete download's sha256 is recorded beside the data
  (in the completion marker) and in the user's cache
  (``$OODLIB_CACHE_DIR``/``~/.cache/oodlib``, ``checksums/<name>.json``), and every
  later download or cached archive must match it;
* one fetch per dataset at a time (an ``fcntl`` lock, ``.downloads/<name>.lock``);
* archives are extracted into a temporary folder beside the target, members that
  would land outside it are refused, the layout is verified, a completion marker
  (``.oodlib-complete.json``, with every file's size and sha256) is written, and
  only then is the folder renamed into place;
* fetch never deletes what it did not create: a dataset folder that differs from
  the manifest is reported and left alone; ``replace=True`` (``--replace``)
  restores the archive's files and keeps every other file;
* without network access the error says so and gives the manual steps.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import re
import shutil
import tarfile
import tempfile
import time
import urllib.error
import urllib.request
import zipfile
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

import platformdirs

from ..progress import progress
from .manifests import Download, Manifest, load_manifest
from .paths import check_dataset_name, inside, resolve_data_dir

MARKER = ".oodlib-complete.json"
CHUNK = 1 << 20
MAX_ATTEMPTS = 3  # requests per download in one fetch: a resume, and restarts when it cannot be validated


class DownloadError(RuntimeError):
    """A download failed (network, server error or incomplete transfer)."""


class ChecksumError(DownloadError):
    """A downloaded file's checksum differs from the manifest's or the one recorded at first download."""


class FetchConflict(DownloadError):
    """The dataset folder differs from the manifest; nothing was changed (``replace=True`` restores it)."""


class FetchBusy(DownloadError):
    """Another fetch of the same dataset holds its lock."""


class ManualDownloadRequired(RuntimeError):
    """The dataset cannot be fetched automatically; the message holds the manual steps."""


@dataclass
class VerifyReport:
    """Result of :func:`verify`: ``ok`` and the problems found (empty when ok); ``notes`` say what was not checked."""

    name: str
    path: Path
    ok: bool
    problems: list[str] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)
    complete_marker: bool = False
    notes: list[str] = field(default_factory=list)


# ------------------------------------------------------------------ checksums and trust on first use


def file_digest(path: Path, algorithm: str) -> str:
    """Hex digest of a file (``"sha256"`` or ``"md5"``), read in 1 MiB chunks."""
    h = hashlib.new(algorithm)
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(CHUNK), b""):
            h.update(block)
    return h.hexdigest()


def trust_record_path(name: str) -> Path:
    """The user-cache record of dataset ``name``'s first-download checksums."""
    base = os.environ.get("OODLIB_CACHE_DIR") or platformdirs.user_cache_dir("oodlib")
    return Path(base) / "checksums" / f"{check_dataset_name(name)}.json"


def _read_json(path: Path) -> dict[str, Any]:
    """A JSON object from ``path``; ``{}`` when absent; ``DownloadError`` naming it when unreadable."""
    if not path.is_file():
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as err:
        raise DownloadError(f"cannot read {path} ({err}); delete it and run fetch again") from err
    if not isinstance(data, dict):
        raise DownloadError(f"{path} does not hold a JSON object; delete it and run fetch again")
    return data


def _write_json(path: Path, data: dict[str, Any]) -> None:
    """Write ``data`` atomically (a per-process temporary file, then ``os.replace``)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}-", suffix=".tmp")
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        json.dump(data, f, indent=1, sort_keys=True)
    os.replace(tmp, path)


def trusted_checksums(name: str, target: Path) -> dict[str, tuple[str, list[Path]]]:
    """filename -> (sha256 of its first download, the record files that hold it).

    The user-cache record wins over the marker beside the data when the two disagree.
    """
    found: dict[str, tuple[str, list[Path]]] = {}
    marker = target / MARKER
    for where, archives in ((marker, _read_json(marker).get("archives", {})),
                            (trust_record_path(name), _read_json(trust_record_path(name)))):
        for filename, entry in archives.items():
            if not (isinstance(entry, dict) and entry.get("sha256")):
                continue
            same = filename in found and found[filename][0] == entry["sha256"]
            found[filename] = (entry["sha256"], [*found[filename][1], where] if same else [where])
    return found


def _record_trust(name: str, archives: dict[str, dict[str, str]]) -> None:
    """Add first-download checksums to the user-cache record (entries already there are kept)."""
    path = trust_record_path(name)
    record = _read_json(path)
    if all(f in record for f in archives):
        return
    _write_json(path, {**archives, **record})


def _check_digests(path: Path, item: Download, trusted: tuple[str, list[Path]] | None, cached: bool) -> str:
    """Check ``path`` against the manifest's checksums and the trusted one; return its sha256.

    A mismatching fresh download is deleted; a mismatching cached archive is named for the user to
    delete (fetch keeps files it is not sure it should remove).
    """
    sha256 = file_digest(path, "sha256")
    expected = [("sha256", item.sha256, "the manifest"), ("md5", item.md5, "the manifest")]
    records = " and ".join(str(p) for p in trusted[1]) if trusted else ""
    if trusted:
        expected.append(("sha256", trusted[0], f"its first download (recorded in {records})"))
    for algorithm, want, source in expected:
        if not want:
            continue
        got = sha256 if algorithm == "sha256" else file_digest(path, algorithm)
        if got == want:
            continue
        if cached:
            fix = f"the cached archive {path} is corrupt or from another version: delete {path} and run fetch again"
        else:
            _discard(path)
            fix = "the download was deleted; run fetch again"
        if source != "the manifest":
            fix += f". If the upstream file really changed, delete {records} to trust the new one"
        raise ChecksumError(f"{item.filename}: {algorithm} mismatch with {source} (expected {want}, got {got}); {fix}")
    return sha256


# ------------------------------------------------------------------ downloads


def _part_record(part: Path) -> Path:
    return part.with_name(part.name + ".json")


def _validator(record: dict[str, Any]) -> str | None:
    """The ``If-Range`` value for a resume: a strong ETag, else Last-Modified, else ``None``."""
    etag = record.get("etag")
    if etag and not etag.startswith("W/"):
        return etag
    return record.get("last_modified") or None


def _content_range(header: str | None) -> tuple[int, int | None] | None:
    """(first byte, total or None) of a ``Content-Range: bytes a-b/total`` header; ``None`` if malformed."""
    m = re.fullmatch(r"\s*bytes\s+(\d+)-(\d+)/(\d+|\*)\s*", header or "")
    return (int(m.group(1)), None if m.group(3) == "*" else int(m.group(3))) if m else None


def _open(url: str, headers: dict[str, str], timeout: float) -> Any | None:
    """The response to a GET of ``url``; ``None`` for HTTP 416 (range not satisfiable)."""
    try:
        return urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=timeout)
    except urllib.error.HTTPError as err:
        if err.code == 416 and "Range" in headers:
            return None
        raise DownloadError(f"{url}: server answered HTTP {err.code} {err.reason}") from err
    except (urllib.error.URLError, OSError) as err:
        raise DownloadError(f"{url}: cannot connect ({getattr(err, 'reason', err)}); are you offline?") from err


def _discard(part: Path) -> None:
    part.unlink(missing_ok=True)
    _part_record(part).unlink(missing_ok=True)


def _resume_point(item: Download, part: Path) -> tuple[int, dict[str, str]]:
    """Bytes of ``part`` to keep and the request headers; a ``.part`` that cannot be validated is discarded."""
    have = part.stat().st_size if part.is_file() else 0
    try:
        record = _read_json(_part_record(part)) if have else {}
    except DownloadError:  # an unreadable record validates nothing
        record = {}
    validator = _validator(record) if record.get("url") == item.url else None
    if not have or validator is None:
        _discard(part)
        return 0, {}
    return have, {"Range": f"bytes={have}-", "If-Range": validator}


class _Restart(Exception):
    """A 206 answer that does not continue the ``.part``: discard it and download from zero."""


def _transfer(item: Download, part: Path, have: int, response: Any) -> int | None:
    """Write ``response`` to ``part`` (appending at ``have``, or from zero); return the expected total size.

    Raises :class:`_Restart` when a 206 answer does not continue the ``.part``.
    """
    status = getattr(response, "status", 200)
    if have and status == 206:
        span = _content_range(response.headers.get("Content-Range"))
        record = _read_json(_part_record(part))
        if span is None or span[0] != have or (record.get("total") and span[1] not in (None, record["total"])):
            raise _Restart
        total = span[1]
    else:  # 200: the whole file (If-Range failed, or the server ignores Range)
        have = 0
        length = response.headers.get("Content-Length")
        total = int(length) if length is not None else None
    _write_json(_part_record(part), {"url": item.url, "etag": response.headers.get("ETag"),
                                     "last_modified": response.headers.get("Last-Modified"), "total": total})
    with open(part, "ab" if have else "wb") as out:
        try:
            for block in progress(iter(lambda: response.read(CHUNK), b""), desc=item.filename):
                out.write(block)
        except (OSError, urllib.error.URLError) as err:
            raise DownloadError(f"{item.url}: transfer broke off ({err}); run fetch again to resume") from err
    return total


def download_file(item: Download, folder: Path, timeout: float = 60.0,
                  trusted: tuple[str, list[Path]] | None = None) -> tuple[Path, str]:
    """Download ``item`` into ``folder`` (resuming a validated ``.part``), verify it; return (path, sha256).

    ``trusted`` is the (sha256, record files) of its first download, if any. A cached final file
    is checked the same way and returned without a download.
    """
    folder.mkdir(parents=True, exist_ok=True)
    final = inside(folder, item.filename, "filename", single=True)
    part = final.with_name(final.name + ".part")
    if final.is_file():
        return final, _check_digests(final, item, trusted, cached=True)
    for _ in range(MAX_ATTEMPTS):
        have, headers = _resume_point(item, part)
        response = _open(item.url, headers, timeout)
        if response is None:  # 416: the .part is not a prefix of the current file
            _discard(part)
            continue
        try:
            with response:
                total = _transfer(item, part, have, response)
        except _Restart:
            _discard(part)
            continue
        size = part.stat().st_size
        if total is not None and size != total:
            raise DownloadError(f"{item.url}: incomplete download ({size} of {total} bytes); run fetch again to resume")
        break
    else:
        raise DownloadError(f"{item.url}: no consistent download after {MAX_ATTEMPTS} attempts; run fetch again")
    sha256 = _check_digests(part, item, trusted, cached=False)
    part.replace(final)
    _part_record(part).unlink(missing_ok=True)
    return final, sha256


# ------------------------------------------------------------------ one fetch per dataset


@contextlib.contextmanager
def dataset_lock(root: Path, name: str, timeout: float = 0.0) -> Iterator[Path]:
    """Hold ``<root>/.downloads/<name>.lock`` (``fcntl.flock``); ``FetchBusy`` after ``timeout`` seconds."""
    lock = root / ".downloads" / f"{check_dataset_name(name)}.lock"
    lock.parent.mkdir(parents=True, exist_ok=True)
    deadline = time.monotonic() + timeout
    with open(lock, "a+") as f:
        while True:
            try:
                fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    f.seek(0)
                    holder = f.read().strip() or "unknown"
                    raise FetchBusy(
                        f"another `oodlib data fetch {name}` is running (process {holder} holds {lock}); "
                        "wait for it to finish, then run fetch again"
                    ) from None
                time.sleep(0.1)
        try:
            f.seek(0)
            f.truncate()
            f.write(str(os.getpid()))
            f.flush()
            yield lock
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


# ------------------------------------------------------------------ extraction


def _check_member(name: str, archive: Path) -> None:
    """Refuse an absolute member name or one with ``..`` (it would be written outside the folder)."""
    parts = PurePosixPath(name.replace("\\", "/")).parts
    if name.startswith(("/", "\\")) or re.match(r"^[A-Za-z]:", name) or ".." in parts:
        raise DownloadError(
            f"{archive}: member {name!r} would be written outside the extraction folder; refusing to extract "
            "(the archive is malformed or malicious; delete it)"
        )


def _corrupt(archive: Path, detail: object) -> DownloadError:
    return DownloadError(f"{archive}: {detail}; the cached download is corrupt or not what the manifest expects: "
                         f"delete {archive} and run fetch again")


def _unpack(archive: Path, staging: Path) -> None:
    """Extract a zip or tar archive into ``staging``, refusing members that would leave it."""
    try:
        if zipfile.is_zipfile(archive):
            with zipfile.ZipFile(archive) as zf:
                for name in zf.namelist():
                    _check_member(name, archive)
                zf.extractall(staging)
        elif tarfile.is_tarfile(archive):
            with tarfile.open(archive) as tf:
                for member in tf.getmembers():
                    _check_member(member.name, archive)
                tf.extractall(staging, filter="data")
        else:
            raise _corrupt(archive, "neither a zip nor a tar archive")
    except tarfile.FilterError as err:
        member = getattr(getattr(err, "tarinfo", None), "name", "?")
        raise DownloadError(f"{archive}: member {member!r} refused ({err}); it would be written or link outside "
                            "the extraction folder (the archive is malformed or malicious; delete it)") from None
    except (zipfile.BadZipFile, tarfile.TarError, EOFError, zlib.error) as err:
        raise _corrupt(archive, f"cannot extract ({err})") from None


def extract(archive: Path, dest: Path, strip_components: int = 0) -> None:
    """Extract a zip or tar archive into ``dest``, refusing members that escape it."""
    dest.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(dir=dest.parent, prefix=".extract-"))
    try:
        _unpack(archive, staging)
        root = staging
        for _ in range(strip_components):
            children = [c for c in root.iterdir()]
            if len(children) != 1 or not children[0].is_dir():
                raise DownloadError(f"{archive.name}: cannot strip a leading folder, found {len(children)} entries")
            root = children[0]
        for child in root.iterdir():
            shutil.move(str(child), str(dest / child.name))
    finally:
        shutil.rmtree(staging, ignore_errors=True)


# ------------------------------------------------------------------ layout and verification


def _file_listing(folder: Path) -> dict[str, int]:
    return {str(p.relative_to(folder)): p.stat().st_size for p in sorted(folder.rglob("*")) if p.is_file() and p.name != MARKER}


def check_layout(manifest: Manifest, folder: Path) -> tuple[list[str], dict[str, int]]:
    """Problems with ``folder``'s layout against the manifest, and the file counts per pattern."""
    layout = manifest.layout
    problems = [f"missing file {f}" for f in layout.get("files", []) if not (folder / f).is_file()]
    problems += [f"missing folder {d}/" for d in layout.get("dirs", []) if not (folder / d).is_dir()]
    counts: dict[str, int] = {}
    for pattern, bounds in layout.get("counts", {}).items():
        n = sum(1 for p in folder.glob(pattern) if p.is_file())
        counts[pattern] = n
        lo, hi = bounds.get("min"), bounds.get("max")
        if lo is not None and n < lo:
            problems.append(f"{pattern}: {n} files, expected at least {lo}")
        if hi is not None and n > hi:
            problems.append(f"{pattern}: {n} files, expected at most {hi}")
    return problems, counts


def _deep_problems(folder: Path, recorded: dict[str, str]) -> list[str]:
    """Hash every file recorded at fetch and decode every audio file (``verify --deep``)."""
    from .audio import AUDIO_EXTENSIONS, decode

    problems = []
    files = [p for p in sorted(folder.rglob("*")) if p.is_file() and p.name != MARKER]
    for path in progress(files, desc=f"verify {folder.name}"):
        rel = str(path.relative_to(folder))
        if rel in recorded and file_digest(path, "sha256") != recorded[rel]:
            problems.append(f"file {rel}: sha256 changed since fetch")
        if path.suffix.lower() in AUDIO_EXTENSIONS:
            try:
                decode(path)
            except (ValueError, OSError) as err:
                problems.append(f"file {rel}: cannot decode ({err})")
    return problems


def verify(name: str, data_dir: str | Path | None = None, deep: bool = False) -> VerifyReport:
    """Check a local copy of dataset ``name``: layout, file counts, and (after fetch) every file's size.

    ``deep=True`` also hashes every file against the sha256 recorded at fetch and decodes every
    audio file (soundfile, with :func:`oodlib.data.audio.decode`'s checks).
    """
    from .paths import dataset_dir

    manifest = load_manifest(name)
    folder = dataset_dir(name, data_dir, must_exist=False)
    if not folder.is_dir():
        return VerifyReport(name, folder, False, [f"folder {folder} does not exist"])
    problems, counts = check_layout(manifest, folder)
    marker = folder / MARKER
    try:
        record = _read_json(marker)
    except DownloadError as err:
        record, problems = {}, [*problems, str(err)]
    recorded = record.get("files", {})
    now = _file_listing(folder)
    problems += [f"file {f} is missing since fetch" for f in recorded if f not in now]
    problems += [f"file {f} changed size since fetch" for f, s in recorded.items() if f in now and now[f] != s]
    notes = []
    if deep:
        hashes = record.get("sha256", {})
        problems += _deep_problems(folder, hashes)
        if not hashes:
            notes.append("no checksums were recorded at fetch (a folder made by hand or by an older oodlib): "
                         "audio files were decoded, no file was hashed")
    return VerifyReport(name, folder, not problems, problems, counts, marker.is_file(), notes)


def manual_steps_message(manifest: Manifest) -> str:
    """How to obtain a dataset by hand, for error messages and ``oodlib data info``."""
    steps = manifest.manual_steps or "Download the files listed below and unpack them."
    names = " or ".join(manifest.local_names)
    urls = "".join(f"\n  {d.url}" for d in manifest.downloads)
    return f"{manifest.title}: {steps.strip()}{urls}\nPlace it at <data dir>/{names} (see `oodlib data where {manifest.name}`)."


# ------------------------------------------------------------------ installing into the data folder


def _conflict(name: str, target: Path, report: VerifyReport) -> FetchConflict:
    more = len(report.problems) - 5
    shown = "; ".join(report.problems[:5]) + (f"; and {more} more" if more > 0 else "")
    if report.complete_marker:
        return FetchConflict(
            f"{target} differs from what fetch made: {shown}. Nothing was changed. To restore the fetched files run "
            f"`oodlib data fetch {name} --replace` (files that are not in the archive, such as your own, are kept), "
            "or move the folder away and fetch again"
        )
    return FetchConflict(
        f"{target} exists but fails verification ({shown}); it was not made by fetch, so it is left alone (nothing "
        f"was changed): move or delete it and fetch again, or run `oodlib data fetch {name} --replace` to add the "
        "archive's files to it (files of the same name are overwritten, all others kept)"
    )


def _merge(tmp: Path, target: Path, hashes: dict[str, str]) -> tuple[list[str], list[str]]:
    """Move the archive's files from ``tmp`` into ``target``; return (restored, kept) relative names.

    Files of ``target`` that are not in the archive are kept; identical files are left untouched.
    """
    restored = []
    for rel, digest in hashes.items():
        src, dest = tmp / rel, target / rel
        if dest.is_file() and file_digest(dest, "sha256") == digest:
            continue
        if dest.exists() and not dest.is_file():
            raise DownloadError(f"cannot restore {dest}: something that is not a file is in the way; "
                                "move it and fetch again")
        dest.parent.mkdir(parents=True, exist_ok=True)
        os.replace(src, dest)
        restored.append(rel)
    kept = [rel for rel in _file_listing(target) if rel not in hashes]
    return restored, kept


def _summary(name: str, restored: list[str], kept: list[str], problems: list[str]) -> str:
    def files(n: int) -> str:
        return f"{n} file" + ("" if n == 1 else "s")

    text = f"{name}: restored {files(len(restored))} from the archive; kept {files(len(kept))} that are not in it"
    if kept:
        text += " (" + ", ".join(kept[:5]) + (", ..." if len(kept) > 5 else "") + ")"
    if problems:
        text += f"; the folder still fails its layout check because of those files: {'; '.join(problems[:5])}"
    return text


def _unpack_all(manifest: Manifest, files: list[Path], tmp: Path) -> None:
    """Extract or copy every download into ``tmp`` and check the layout there."""
    for item, path in zip(manifest.downloads, files):
        dest = inside(tmp, item.subdir, "subdir") if item.subdir else tmp
        if item.extract:
            extract(path, dest, item.strip_components)
        else:
            dest.mkdir(parents=True, exist_ok=True)
            shutil.copy2(path, dest / item.filename)
    problems, _ = check_layout(manifest, tmp)
    if problems:
        raise DownloadError(
            f"{manifest.name}: the downloaded files do not have the expected layout: {'; '.join(problems)}"
        )


def _download_all(manifest: Manifest, root: Path, target: Path,
                  timeout: float) -> tuple[list[Path], dict[str, dict[str, str]]]:
    """Download (or reuse from the cache) every file; return the paths and {filename: {sha256, url}}."""
    cache = root / ".downloads" / manifest.name
    trusted = trusted_checksums(manifest.name, target)
    files, archives = [], {}
    try:
        for item in manifest.downloads:
            path, sha256 = download_file(item, cache, timeout=timeout, trusted=trusted.get(item.filename))
            files.append(path)
            archives[item.filename] = {"sha256": sha256, "url": item.url}
    except DownloadError as err:
        raise type(err)(f"{err}\n\nTo get it by hand instead:\n{manual_steps_message(manifest)}") from err
    return files, archives


def fetch(name: str, data_dir: str | Path | None = None, timeout: float = 60.0, replace: bool = False,
          lock_timeout: float = 0.0, notify: Callable[[str], None] | None = None) -> Path:
    """Download, verify and extract dataset ``name`` into the data directory; return its folder.

    A folder that already verifies is returned at once. A folder that fails verification is never
    changed (:class:`FetchConflict` says how it differs) unless ``replace``: then the archive's
    files are restored into it and every other file is kept (``notify`` gets a summary). A
    manual-only dataset raises :class:`ManualDownloadRequired` with the steps; a network failure
    raises :class:`DownloadError` whose message includes them; a concurrent fetch of the same
    dataset raises :class:`FetchBusy` (after waiting ``lock_timeout`` seconds).
    """
    manifest = load_manifest(name)
    if manifest.obtain == "manual":
        raise ManualDownloadRequired(manual_steps_message(manifest))
    root = resolve_data_dir(data_dir)
    target = inside(root, manifest.local_names[0], "local_names[0]", single=True)
    with dataset_lock(root, manifest.name, lock_timeout):
        if target.exists() and not target.is_dir():
            raise FetchConflict(f"{target} exists and is not a folder; nothing was changed: "
                                "move it away and fetch again")
        if target.is_dir():
            report = verify(name, root)
            if report.ok:
                return target
            if not replace:
                raise _conflict(name, target, report)
        files, archives = _download_all(manifest, root, target, timeout)
        tmp = Path(tempfile.mkdtemp(dir=root, prefix=f".{target.name}-"))
        try:
            _unpack_all(manifest, files, tmp)
            listing = _file_listing(tmp)
            hashes = {rel: file_digest(tmp / rel, "sha256") for rel in listing}
            marker = {"name": name, "files": listing, "sha256": hashes, "archives": archives}
            if target.exists():
                restored, kept = _merge(tmp, target, hashes)
                _write_json(target / MARKER, marker)
                if notify:
                    notify(_summary(name, restored, kept, check_layout(manifest, target)[0]))
            else:
                _write_json(tmp / MARKER, marker)
                tmp.replace(target)
            _record_trust(name, archives)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
    return target
