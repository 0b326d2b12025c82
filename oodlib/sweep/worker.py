"""The worker side of a sweep: one attempt of one run (:func:`execute_run`, what Dask runs)."""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .plan import RunSpec
from .store import ATTEMPTS_DIR, _keep_failure, _log_attempt, _publish

THREAD_VARIABLES = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS", "NUMEXPR_NUM_THREADS",
                    "VECLIB_MAXIMUM_THREADS")


@dataclass(frozen=True)
class RunTask:
    """What a worker needs for one attempt: the run, its folder, and its torch/BLAS thread count."""

    spec: RunSpec
    run_dir: str
    threads: int | None = None


@contextlib.contextmanager
def thread_env(threads: int | None) -> Iterator[None]:
    """Set ``OMP_NUM_THREADS`` and the BLAS thread variables to ``threads`` (``None``: leave them).

    The notebook's kernel is a child of the worker and inherits them, so torch's intra-op pool and
    BLAS use ``threads`` threads.
    """
    if threads is None:
        yield
        return
    from ..runner import _env

    with _env(**{k: str(int(threads)) for k in THREAD_VARIABLES}):
        yield


def notebook_error(err: BaseException) -> str:
    """One line: the notebook's own error (``ValueError: bad clip (cell 7)``) or the exception's."""
    if type(err).__name__ == "PapermillExecutionError":
        first = str(getattr(err, "evalue", "")).strip().splitlines()[:1]
        return f"{getattr(err, 'ename', 'Error')}: {first[0] if first else ''} (cell {getattr(err, 'exec_count', '?')})"
    text = str(err).strip().splitlines()
    return f"{type(err).__name__}: {text[0] if text else ''}"


#: failures that belong to the run itself (its notebook, parameters or record), never retried
_RUN_FAILURES = ("PapermillExecutionError", "ParameterError", "FileNotFoundError", "SweepConflictError",
                 "ValidationError")


def _is_run_failure(err: BaseException) -> bool:
    """True for an error the run itself caused (retrying would fail the same way)."""
    return type(err).__name__ in _RUN_FAILURES or "wrote no results record" in str(err)


def execute_run(task: RunTask) -> dict[str, Any]:
    """Run one attempt of a run (on a worker); return ``{"state": "done" | "failed", ...}``.

    The notebook runs in a fresh folder under ``<sweep>/.attempts/`` and its files move into the
    run folder only on success. A failure of the run itself (a cell raised, a bad parameter) is
    returned as ``"failed"`` with the notebook's message, so Dask does not retry it; anything else
    (the kernel died, the disk filled up) is raised, and Dask retries it (``retries=``).
    """
    from ..runner import run_notebook

    spec, run_dir = task.spec, Path(task.run_dir)
    attempt = run_dir.parent / ATTEMPTS_DIR / f"{spec.run_id}-{os.getpid()}-{uuid.uuid4().hex[:8]}"
    attempt.mkdir(parents=True)
    _log_attempt(run_dir, "start")
    t0, started = time.perf_counter(), time.time()
    info = {"run_id": spec.run_id, "worker_pid": os.getpid(), "host": socket.gethostname(), "started": started}
    try:
        with thread_env(task.threads):
            # plan_sweep checked this run's configuration before submitting it: checking it again here
            # would import torch into the worker (~3 s on its first run) for nothing
            run_notebook(spec.notebook, spec.overrides, output_dir=attempt, records_dir=attempt, profile=spec.profile,
                         config_checked=True)
        run_s = time.perf_counter() - t0
        _publish(attempt, run_dir, spec)
    except Exception as err:
        if not _is_run_failure(err):
            _log_attempt(run_dir, "error", notebook_error(err))
            raise
        message = notebook_error(err)
        _keep_failure(attempt, run_dir, spec, message)
        _log_attempt(run_dir, "failed", message)
        return {**info, "state": "failed", "error": message, "run_s": time.perf_counter() - t0,
                "task_s": time.perf_counter() - t0, "finished": time.time()}
    finally:
        shutil.rmtree(attempt, ignore_errors=True)
    _log_attempt(run_dir, "done")
    return {**info, "state": "done", "run_s": run_s, "task_s": time.perf_counter() - t0, "finished": time.time()}
