"""Execute a notebook with validated parameters (what ``oodlib run`` does)."""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from .params import ParameterError, notebook_parameters, validate
from .records import validate_record


@contextlib.contextmanager
def _env(**values: str) -> Iterator[None]:
    old = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for k, v in old.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def notebook_config_class(notebook: Path) -> type | None:
    """The configuration class a notebook names in its metadata (``{"oodlib": {"config": "module:Class"}}``)."""
    import importlib

    meta = json.loads(notebook.read_text(encoding="utf-8")).get("metadata", {}).get("oodlib", {})
    target = meta.get("config")
    if not target:
        return None
    module, _, name = target.partition(":")
    return getattr(importlib.import_module(module), name)


def check_config(notebook: Path, values: Mapping[str, Any]) -> None:
    """Build the notebook's configuration from ``values``, so bad values fail before the kernel starts.

    Raises:
        oodlib.params.ParameterError: a value out of range or an impossible combination.
    """
    cls = notebook_config_class(notebook)
    if cls is None:
        return
    try:
        cls.from_params(values)
    except ParameterError as err:
        raise ParameterError(f"{notebook.name}: {err}") from None


class RunInProgressError(RuntimeError):
    """Another ``oodlib run`` of the same notebook is writing the same results record."""


@contextlib.contextmanager
def record_lock(records_dir: str | Path, notebook: str | Path) -> Iterator[Path]:
    """Hold ``<records_dir>/.<stem>.lock`` (``fcntl.flock``) for one run of ``notebook``.

    Raises :class:`RunInProgressError` at once, naming the record and the lock, when another
    process (or another call in this one) holds it. The lock goes with the process if it dies.
    """
    import fcntl

    records_dir, notebook = Path(records_dir).resolve(), Path(notebook)
    records_dir.mkdir(parents=True, exist_ok=True)
    lock = records_dir / f".{notebook.stem}.lock"
    with open(lock, "a") as f:
        try:
            fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise RunInProgressError(
                f"another `oodlib run` of {notebook.name} is writing {records_dir / (notebook.stem + '.json')} "
                f"(it holds {lock}); wait for it to finish, or give this run another --records-dir"
            ) from None
        try:
            yield lock
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


def check_parameters(notebook: str | Path, parameters: Mapping[str, Any] | None = None,
                     config: bool = True) -> dict[str, Any]:
    """Check ``parameters`` against ``notebook``'s parameters cell and its paper's config; return them typed.

    ``config=False`` checks names and types only, not the paper's configuration (which imports
    the paper's package, torch among it: ~3 s in a fresh process).

    Raises:
        FileNotFoundError: the notebook does not exist.
        oodlib.params.ParameterError: an unknown parameter name, a wrong type or a value its config rejects.
    """
    notebook = Path(notebook)
    if not notebook.is_file():
        raise FileNotFoundError(f"notebook {notebook} does not exist")
    specs = notebook_parameters(notebook)
    checked = validate(specs, dict(parameters or {}), where=notebook.name)
    if config:
        check_config(notebook, {**{n: s.default for n, s in specs.items()}, **checked})
    return checked


def run_notebook(
    notebook: str | Path,
    parameters: Mapping[str, Any] | None = None,
    output_dir: str | Path = "_build/notebooks",
    records_dir: str | Path = "_build/records",
    kernel_name: str = "python3",
    log_output: bool = False,
    profile: str = "",
    config_checked: bool = False,
) -> Path:
    """Validate ``parameters`` against the notebook's parameters cell, run it with papermill.

    ``profile``: the build profile the run belongs to, passed to the record as
    ``$OODLIB_PROFILE`` (a ``-smoke`` profile marks its verdicts as smoke tests).
    ``config_checked=True``: the caller has already checked the values against the paper's
    configuration (a sweep's plan does, once, before submitting), so this process need not import
    the paper's package; names and types are still checked here, and the notebook's first cell
    checks the configuration again in the kernel.

    The executed copy goes to ``output_dir/<name>.ipynb``; the notebook writes
    its results record to ``records_dir/<stem>.json`` (passed through
    ``$OODLIB_RECORDS_DIR``), which is checked against the record schema.

    Raises:
        oodlib.params.ParameterError: an unknown parameter name or a wrong type (before anything runs).
        FileNotFoundError: the notebook does not exist.
        papermill.PapermillExecutionError: a cell failed (the executed copy shows where).
    """
    import papermill as pm

    notebook = Path(notebook)
    checked = check_parameters(notebook, parameters, config=not config_checked)
    output_dir, records_dir = Path(output_dir).resolve(), Path(records_dir).resolve()
    record_path = records_dir / f"{notebook.stem}.json"
    out = output_dir / notebook.name
    with record_lock(records_dir, notebook):  # every check passed: only now is anything written
        output_dir.mkdir(parents=True, exist_ok=True)
        record_path.unlink(missing_ok=True)  # a stale record must never pass for this run's
        with _env(OODLIB_RECORDS_DIR=str(records_dir), PYTHONHASHSEED="0", OODLIB_PROFILE=profile):
            # shutdown_kernel="immediate": once the last cell has finished and its output is in, the
            # kernel is stopped at once instead of after its ~2 s graceful teardown
            pm.execute_notebook(
                str(notebook), str(out), parameters=checked, cwd=str(notebook.parent.resolve()),
                kernel_name=kernel_name, progress_bar=False, log_output=log_output, shutdown_kernel="immediate",
            )
    if not record_path.is_file():
        raise RuntimeError(f"{notebook.name} ran but wrote no results record at {record_path}")
    validate_record(json.loads(record_path.read_text(encoding="utf-8")))
    return out
