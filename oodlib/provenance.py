"""Where a result came from: the code's commit, and the command that reproduces a run.

Records carry :func:`git_state` (written by :class:`oodlib.records.RunRecord`); the book's pages
turn a record back into the ``oodlib run`` command that gives the same numbers
(:func:`reproduce_command`).
"""

from __future__ import annotations

import contextlib
import json
import shlex
import subprocess
from collections.abc import Mapping
from functools import lru_cache
from pathlib import Path
from typing import Any

_PACKAGE_DIR = Path(__file__).resolve().parent


def _git(*args: str) -> str | None:
    """``git -C <oodlib's folder> ARGS`` output, or ``None`` outside a checkout or without git."""
    with contextlib.suppress(OSError, subprocess.SubprocessError):
        done = subprocess.run(["git", "-C", str(_PACKAGE_DIR), *args], capture_output=True, text=True, timeout=10)
        if done.returncode == 0:
            return done.stdout
    return None


@lru_cache(maxsize=1)
def git_state() -> dict[str, Any]:
    """``{"commit": sha or None, "uncommitted_changes": bool or None}`` of the checkout oodlib runs from.

    ``uncommitted_changes`` counts edits to tracked files only (``git status --porcelain
    --untracked-files=no``): new untracked files, such as build outputs, do not make a run "dirty".
    Both are ``None`` when oodlib is not in a git checkout (an installed wheel).
    """
    head = _git("rev-parse", "HEAD")
    if not head or not head.strip():
        return {"commit": None, "uncommitted_changes": None}
    status = _git("status", "--porcelain", "--untracked-files=no")
    return {"commit": head.strip(), "uncommitted_changes": None if status is None else bool(status.strip())}


def _cli_value(value: Any) -> str:
    """``value`` as ``oodlib run -p NAME VALUE`` reads it back (plain text for strings, JSON otherwise)."""
    text = value if isinstance(value, str) else json.dumps(value)
    return shlex.quote(text)


def changed_parameters(record: Mapping[str, Any], notebook: str | Path) -> dict[str, Any]:
    """The record's parameters that differ from ``notebook``'s defaults, in the parameters cell's order."""
    from .params import notebook_parameters

    specs = notebook_parameters(notebook)
    values = record.get("parameters", {})
    return {name: values[name] for name, spec in specs.items() if name in values and values[name] != spec.default}


def reproduce_command(record: Mapping[str, Any], notebook: str | Path, shown_path: str | None = None) -> str:
    """The shell command that re-runs ``record``'s run: ``oodlib run NOTEBOOK -p NAME VALUE ...``.

    Every parameter that differs from the notebook's default is passed; a run on real data is
    prefixed with ``OODLIB_DATA_DIR=...`` unless it named its ``data_dir``, and a record that
    names its thread count with ``OMP_NUM_THREADS=n``: on the CPU the same seed gives the same
    numbers only with the same number of torch threads (summation order). ``shown_path``: the
    notebook's path as the reader types it (default ``notebooks/<file name>``).
    """
    notebook = Path(notebook)
    changed = changed_parameters(record, notebook)
    parts = ["oodlib", "run", shown_path or f"notebooks/{notebook.name}"]
    for name, value in changed.items():
        parts += ["-p", name, _cli_value(value)]
    real = record.get("data_source", "synthetic") != "synthetic"
    prefix = "OODLIB_DATA_DIR=/path/to/data " if real and not record.get("parameters", {}).get("data_dir") else ""
    if record.get("threads"):
        prefix = f"OMP_NUM_THREADS={int(record['threads'])} " + prefix
    return prefix + " ".join(parts)
