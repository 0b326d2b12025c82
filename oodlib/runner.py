"""Execute a notebook with validated parameters (what ``oodlib run`` does)."""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from .params import notebook_parameters, validate
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


def run_notebook(
    notebook: str | Path,
    parameters: Mapping[str, Any] | None = None,
    output_dir: str | Path = "_build/notebooks",
    records_dir: str | Path = "_build/records",
    kernel_name: str = "python3",
    log_output: bool = False,
) -> Path:
    """Validate ``parameters`` against the notebook's parameters cell, run it with papermill.

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
    if not notebook.is_file():
        raise FileNotFoundError(f"notebook {notebook} does not exist")
    specs = notebook_parameters(notebook)
    checked = validate(specs, dict(parameters or {}), where=notebook.name)
    output_dir, records_dir = Path(output_dir).resolve(), Path(records_dir).resolve()
    output_dir.mkdir(parents=True, exist_ok=True)
    record_path = records_dir / f"{notebook.stem}.json"
    record_path.unlink(missing_ok=True)  # a stale record must never pass for this run's
    out = output_dir / notebook.name
    with _env(OODLIB_RECORDS_DIR=str(records_dir), PYTHONHASHSEED="0"):
        pm.execute_notebook(
            str(notebook), str(out), parameters=checked, cwd=str(notebook.parent.resolve()),
            kernel_name=kernel_name, progress_bar=False, log_output=log_output,
        )
    if not record_path.is_file():
        raise RuntimeError(f"{notebook.name} ran but wrote no results record at {record_path}")
    validate_record(json.loads(record_path.read_text(encoding="utf-8")))
    return out
