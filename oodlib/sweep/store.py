"""A sweep on disk: run folders, the manifest, run states from the folders, the lock, publishing.

See :mod:`oodlib.sweep` for the layout under ``<build>/sweeps/<name>/``.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import shutil
import socket
import uuid
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..params import ParameterError
from .plan import RunSpec, _canonical, code_version

if TYPE_CHECKING:
    from .execute import SweepResult

STATES = ("done", "failed", "pending")
MANIFEST = "sweep.json"
RUN_SPEC = "run.json"
ERROR_FILE = "error.json"
ATTEMPTS_LOG = "attempts.log"
ATTEMPTS_DIR = ".attempts"


class SweepConflictError(RuntimeError):
    """A run folder already holds a different run, or another sweep of the same name is running."""


def sweep_dir(build_dir: str | Path, name: str) -> Path:
    """``<build_dir>/sweeps/<name>``."""
    if not name or "/" in name or name.startswith("."):
        raise ParameterError(f"sweep name {name!r} must be a plain folder name")
    return Path(build_dir).resolve() / "sweeps" / name


def default_build_dir(notebook: str | Path) -> Path:
    """``<project root>/_build`` (the folder above ``notebook`` that holds ``_toc.yml``), else ``./_build``."""
    from ..records import project_root

    root = project_root(Path(notebook).resolve().parent)
    return (root or Path.cwd()) / "_build"


def _write_json(path: Path, payload: Any) -> None:
    """Write JSON through a temporary file and a rename, so a reader never sees half of it."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{uuid.uuid4().hex[:6]}.tmp")
    tmp.write_text(json.dumps(payload, indent=2, default=str) + "\n", encoding="utf-8")
    tmp.replace(path)


def prepare_run_dir(spec: RunSpec, folder: Path) -> Path:
    """Create ``<folder>/<run id>/`` with its ``run.json``; refuse a folder that holds another run.

    Raises:
        SweepConflictError: ``run.json`` there describes a different notebook, parameters or code.
    """
    run_dir = folder / spec.run_id
    run_dir.mkdir(parents=True, exist_ok=True)
    _check_run_dir(spec, run_dir)
    if not (run_dir / RUN_SPEC).is_file():
        _write_json(run_dir / RUN_SPEC, spec.describe())
    return run_dir


def _check_run_dir(spec: RunSpec, run_dir: Path) -> None:
    path = run_dir / RUN_SPEC
    if not path.is_file():
        return
    try:
        held = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as err:
        raise SweepConflictError(f"{path} is unreadable ({err}); move the folder away to re-run it") from None
    mine = json.loads(_canonical(spec.describe()))
    keys = ("run_id", "notebook_sha256", "parameters", "code")
    if any(held.get(k) != mine[k] for k in keys):
        raise SweepConflictError(f"{run_dir} holds a different run than {spec.run_id} "
                                 f"({path}); a sweep never overwrites another run")


def run_state(spec: RunSpec, folder: Path) -> dict[str, Any]:
    """``{"state": "done" | "failed" | "pending", "attempts": n, ["error": message]}`` read from disk.

    Done: the run folder holds a readable record. Failed: it holds ``error.json`` (and no record).
    """
    run_dir = folder / spec.run_id
    out: dict[str, Any] = {"attempts": count_attempts(run_dir)}
    record = run_dir / f"{spec.stem}.json"
    if record.is_file():
        with contextlib.suppress(OSError, json.JSONDecodeError):
            if "schema_version" in json.loads(record.read_text(encoding="utf-8")):
                return {"state": "done", **out}
    error = run_dir / ERROR_FILE
    if error.is_file():
        with contextlib.suppress(OSError, json.JSONDecodeError):
            return {"state": "failed", "error": json.loads(error.read_text(encoding="utf-8"))["error"], **out}
    return {"state": "pending", **out}


def count_attempts(run_dir: Path) -> int:
    """Attempts started for a run (lines ``start`` of its ``attempts.log``)."""
    log = run_dir / ATTEMPTS_LOG
    if not log.is_file():
        return 0
    return sum(1 for line in log.read_text(encoding="utf-8").splitlines() if line.startswith("start"))


def _log_attempt(run_dir: Path, event: str, detail: str = "") -> None:
    stamp = dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")
    with open(run_dir / ATTEMPTS_LOG, "a", encoding="utf-8") as f:
        f.write(f"{event}\t{stamp}\t{socket.gethostname()}\t{os.getpid()}\t{detail}\n")


def write_manifest(folder: Path, name: str, plan: Sequence[RunSpec], states: Mapping[str, Mapping[str, Any]],
                   extra: Mapping[str, Any] | None = None) -> Path:
    """Write ``<folder>/sweep.json``: the sweep and every run with its state (done / failed / pending)."""
    runs = []
    for spec in plan:
        st = dict(states.get(spec.run_id, {"state": "pending"}))
        runs.append({"run_id": spec.run_id, "seed": spec.seed, "group": spec.group, "parameters": spec.overrides,
                     "folder": spec.run_id, **st})
    counts = {s: sum(r["state"] == s for r in runs) for s in STATES}
    planned = {s.run_id for s in plan}
    others = sorted(p.name for p in folder.iterdir()
                    if p.is_dir() and (p / RUN_SPEC).is_file() and p.name not in planned)
    first = plan[0] if plan else None
    manifest = {
        "sweep": name, "notebook": first.notebook if first else "", "notebook_sha256": first.digest if first else "",
        "code": first.code if first else code_version(), "profile": first.profile if first else "",
        "updated": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "counts": counts, "runs": runs, "other_runs": others, **dict(extra or {}),
    }
    path = folder / MANIFEST
    _write_json(path, manifest)
    return path


def read_manifest(folder: str | Path) -> dict[str, Any]:
    """The manifest ``<folder>/sweep.json``."""
    return json.loads((Path(folder) / MANIFEST).read_text(encoding="utf-8"))


@contextlib.contextmanager
def sweep_lock(folder: Path) -> Iterator[None]:
    """Hold ``<folder>/.sweep.lock`` so that two invocations never drive the same sweep at once."""
    import fcntl

    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / ".sweep.lock", "a") as f:
        try:
            fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise SweepConflictError(f"another `oodlib sweep` is running the sweep in {folder}; wait for it "
                                     "or give this one another --name") from None
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


def _publish(attempt: Path, run_dir: Path, spec: RunSpec) -> None:
    """Move an attempt's files into the run folder, the record last (its arrival marks the run done)."""
    _check_run_dir(spec, run_dir)
    for name in (f"{spec.stem}.ipynb", f"{spec.stem}.scores.npz"):
        if (attempt / name).is_file():
            os.replace(attempt / name, run_dir / name)
    (run_dir / ERROR_FILE).unlink(missing_ok=True)
    os.replace(attempt / f"{spec.stem}.json", run_dir / f"{spec.stem}.json")


def _keep_failure(attempt: Path, run_dir: Path, spec: RunSpec, message: str) -> None:
    """Keep a failed attempt's executed notebook (it shows where) and its error in the run folder."""
    if (attempt / f"{spec.stem}.ipynb").is_file():
        os.replace(attempt / f"{spec.stem}.ipynb", run_dir / f"{spec.stem}.ipynb")
    _write_json(run_dir / ERROR_FILE, {"run_id": spec.run_id, "error": message})


def _clean_attempts(folder: Path, result: SweepResult) -> None:
    """Remove leftover attempt folders of runs that are done (e.g. from a worker killed mid-run)."""
    attempts = folder / ATTEMPTS_DIR
    if not attempts.is_dir():
        return
    done = {rid for rid, st in result.states.items() if st["state"] == "done"}
    for path in attempts.iterdir():
        if path.name.split("-", 1)[0] in done:
            shutil.rmtree(path, ignore_errors=True)
