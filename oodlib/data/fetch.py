"""Resumable, checksum-verified downloads and atomic extraction (``oodlib data fetch``).

Guarantees:

* a download is written to ``<file>.part`` and renamed only after its size and
  checksum are confirmed, so a partial file never has the final name;
* an interrupted download resumes with an HTTP ``Range`` request;
* archives are extracted into a temporary folder beside the target, the layout
  is verified, a completion marker (``.oodlib-complete.json``, with every
  file's size) is written last, and only then is the folder renamed into place;
* without network access the error says so and gives the manual steps.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import tarfile
import tempfile
import urllib.error
import urllib.request
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

from ..progress import progress
from .manifests import Download, Manifest, load_manifest
from .paths import resolve_data_dir

MARKER = ".oodlib-complete.json"
CHUNK = 1 << 20


class DownloadError(RuntimeError):
    """A download failed (network, server error or incomplete transfer)."""


class ChecksumError(DownloadError):
    """A downloaded file's checksum differs from the manifest's."""


class ManualDownloadRequired(RuntimeError):
    """The dataset cannot be fetched automatically; the message holds the manual steps."""


@dataclass
class VerifyReport:
    """Result of :func:`verify`: ``ok`` and the problems found (empty when ok)."""

    name: str
    path: Path
    ok: bool
    problems: list[str] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)
    complete_marker: bool = False


def file_digest(path: Path, algorithm: str) -> str:
    """Hex digest of a file (``"sha256"`` or ``"md5"``), read in 1 MiB chunks."""
    h = hashlib.new(algorithm)
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(CHUNK), b""):
            h.update(block)
    return h.hexdigest()


def _check_digest(path: Path, item: Download) -> None:
    for algorithm in ("sha256", "md5"):
        expected = getattr(item, algorithm)
        if expected:
            got = file_digest(path, algorithm)
            if got != expected:
                path.unlink(missing_ok=True)
                raise ChecksumError(
                    f"{item.filename}: {algorithm} mismatch (expected {expected}, got {got}); "
                    "the corrupt download was deleted, run fetch again"
                )


def download_file(item: Download, folder: Path, timeout: float = 60.0) -> Path:
    """Download ``item`` into ``folder``; resume a ``.part`` file; verify; return the final path."""
    folder.mkdir(parents=True, exist_ok=True)
    final, part = folder / item.filename, folder / (item.filename + ".part")
    if final.is_file():
        _check_digest(final, item)
        return final
    have = part.stat().st_size if part.is_file() else 0
    request = urllib.request.Request(item.url, headers={"Range": f"bytes={have}-"} if have else {})
    try:
        response = urllib.request.urlopen(request, timeout=timeout)
    except urllib.error.HTTPError as err:
        if err.code == 416 and have:  # nothing left to fetch: the .part may already be whole
            response = None
        else:
            raise DownloadError(f"{item.url}: server answered HTTP {err.code} {err.reason}") from err
    except (urllib.error.URLError, OSError) as err:
        raise DownloadError(f"{item.url}: cannot connect ({getattr(err, 'reason', err)}); are you offline?") from err
    if response is not None:
        with response:
            status = getattr(response, "status", 200)
            if have and status != 206:  # the server ignored the Range header: start again
                have = 0
            length = response.headers.get("Content-Length")
            expected_total = have + int(length) if length is not None else None
            with open(part, "ab" if have else "wb") as out:
                try:
                    for block in progress(iter(lambda: response.read(CHUNK), b""), desc=item.filename):
                        out.write(block)
                except (OSError, urllib.error.URLError) as err:
                    raise DownloadError(f"{item.url}: transfer broke off ({err}); run fetch again to resume") from err
        size = part.stat().st_size
        if expected_total is not None and size != expected_total:
            raise DownloadError(
                f"{item.url}: incomplete download ({size} of {expected_total} bytes); run fetch again to resume"
            )
    _check_digest(part, item)
    part.replace(final)
    return final


def _safe_members_zip(zf: zipfile.ZipFile, dest: Path) -> None:
    for name in zf.namelist():
        if not (dest / name).resolve().is_relative_to(dest.resolve()):
            raise DownloadError(f"archive member {name!r} would be written outside {dest}; refusing to extract")


def extract(archive: Path, dest: Path, strip_components: int = 0) -> None:
    """Extract a zip or tar archive into ``dest``, refusing members that escape it."""
    dest.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(dir=dest.parent, prefix=".extract-"))
    try:
        if zipfile.is_zipfile(archive):
            with zipfile.ZipFile(archive) as zf:
                _safe_members_zip(zf, staging)
                zf.extractall(staging)
        elif tarfile.is_tarfile(archive):
            with tarfile.open(archive) as tf:
                tf.extractall(staging, filter="data")
        else:
            raise DownloadError(f"{archive.name} is neither a zip nor a tar archive")
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


def verify(name: str, data_dir: str | Path | None = None) -> VerifyReport:
    """Check a local copy of dataset ``name``: layout, file counts, and (after fetch) every file's size."""
    from .paths import dataset_dir

    manifest = load_manifest(name)
    folder = dataset_dir(name, data_dir, must_exist=False)
    if not folder.is_dir():
        return VerifyReport(name, folder, False, [f"folder {folder} does not exist"])
    problems, counts = check_layout(manifest, folder)
    marker = folder / MARKER
    if marker.is_file():
        recorded = json.loads(marker.read_text(encoding="utf-8"))["files"]
        now = _file_listing(folder)
        problems += [f"file {f} is missing since fetch" for f in recorded if f not in now]
        problems += [f"file {f} changed size since fetch" for f, s in recorded.items() if f in now and now[f] != s]
    return VerifyReport(name, folder, not problems, problems, counts, marker.is_file())


def manual_steps_message(manifest: Manifest) -> str:
    """How to obtain a dataset by hand, for error messages and ``oodlib data info``."""
    steps = manifest.manual_steps or "Download the files listed below and unpack them."
    names = " or ".join(manifest.local_names)
    urls = "".join(f"\n  {d.url}" for d in manifest.downloads)
    return f"{manifest.title}: {steps.strip()}{urls}\nPlace it at <data dir>/{names} (see `oodlib data where {manifest.name}`)."


def fetch(name: str, data_dir: str | Path | None = None, timeout: float = 60.0) -> Path:
    """Download, verify and extract dataset ``name`` into the data directory; return its folder.

    A folder that already verifies is returned at once; a damaged earlier fetch
    is replaced; a failing folder that fetch did not make is left alone (error). A
    manual-only dataset raises :class:`ManualDownloadRequired` with the steps;
    a network failure raises :class:`DownloadError` whose message includes them.
    """
    manifest = load_manifest(name)
    root = resolve_data_dir(data_dir)
    target = root / manifest.local_names[0]
    if manifest.obtain == "manual":
        raise ManualDownloadRequired(manual_steps_message(manifest))
    if target.is_dir():
        report = verify(name, root)
        if report.ok:
            return target
        if not report.complete_marker:  # a copy made by hand: never delete it
            raise DownloadError(
                f"{target} exists but fails verification ({'; '.join(report.problems[:5])}); "
                "it was not made by fetch, so it is left alone: move or delete it, then fetch again"
            )
    cache = root / ".downloads" / name
    try:
        files = [download_file(item, cache, timeout=timeout) for item in manifest.downloads]
    except DownloadError as err:
        raise type(err)(f"{err}\n\nTo get it by hand instead:\n{manual_steps_message(manifest)}") from err
    root.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=root, prefix=f".{manifest.local_names[0]}-"))
    try:
        for item, path in zip(manifest.downloads, files):
            dest = tmp / item.subdir if item.subdir else tmp
            if item.extract:
                extract(path, dest, item.strip_components)
            else:
                dest.mkdir(parents=True, exist_ok=True)
                shutil.copy2(path, dest / item.filename)
        problems, _ = check_layout(manifest, tmp)
        if problems:
            raise DownloadError(f"{name}: the downloaded files do not have the expected layout: {'; '.join(problems)}")
        (tmp / MARKER).write_text(json.dumps({"name": name, "files": _file_listing(tmp)}, indent=1), encoding="utf-8")
        if target.exists():
            shutil.rmtree(target)
        tmp.replace(target)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return target
