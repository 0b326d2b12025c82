"""Dask clusters for a sweep: cores and threads per worker, the embedded LocalCluster, the client."""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from .worker import THREAD_VARIABLES


def available_cores() -> int:
    """CPU cores this process may use."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def threads_per_worker(n_workers: int, cores: int | None = None) -> int:
    """torch/BLAS threads per worker so that workers x threads fills the cores (at least 1)."""
    return max(1, (cores or available_cores()) // max(1, n_workers))


def local_cluster(n_workers: int, threads: int, retries: int) -> Any:
    """An embedded :class:`~distributed.LocalCluster`: ``n_workers`` process workers, one task each.

    Each worker (and the notebook kernels it starts) gets ``threads`` torch/BLAS threads through
    its environment; a worker killed mid-run is restarted by its nanny and its run goes to
    another worker, at most ``retries`` times (the scheduler's ``allowed_failures``).
    """
    from distributed import LocalCluster

    return LocalCluster(n_workers=n_workers, threads_per_worker=1, processes=True, dashboard_address=":0",
                        env={k: str(threads) for k in THREAD_VARIABLES}, scheduler_kwargs={"allowed_failures": retries},
                        silence_logs=40)


def _scheduler_has_bokeh() -> bool:
    import importlib.util

    return importlib.util.find_spec("bokeh") is not None


def dashboard_address(client: Any) -> str | None:
    """The Dask dashboard's address when the scheduler serves one (its HTTP server runs the
    dashboard pages only where bokeh is installed)."""
    with contextlib.suppress(Exception):
        if "dashboard" in client.scheduler_info().get("services", {}) and client.run_on_scheduler(_scheduler_has_bokeh):
            return str(client.dashboard_link)
    return None


def _import_runner(notebook: str) -> bool:
    """Import what a run needs in the worker process (papermill, the Jupyter client, the runner), and
    read the notebook's parameters cell, so that a worker which cannot see the notebook fails here."""
    import importlib

    from ..params import notebook_parameters

    for module in ("papermill.engines", "nbclient.client", "jupyter_client.manager"):
        importlib.import_module(module)

    return bool(notebook_parameters(Path(notebook)))


def warm_up_workers(client: Any, notebook: str | Path) -> None:
    """Import the run path (papermill, the Jupyter client) on every worker now, so that the first run
    on each worker does not carry that cost. Workers never import the paper's package: the sweep's
    plan checked each run's configuration on the client, and the kernel checks it again."""
    client.run(_import_runner, str(Path(notebook).resolve()))


@contextlib.contextmanager
def _client(scheduler: str | None, n_workers: int, threads: int, retries: int,
            notebook: str) -> Iterator[tuple[Any, float]]:
    """A Dask client on ``scheduler`` or on a new, warmed-up embedded cluster; yields (client, start seconds)."""
    from distributed import Client

    from . import local_cluster as new_cluster  # through the package: a patch of oodlib.sweep.local_cluster applies

    t0 = time.perf_counter()
    cluster = None if scheduler else new_cluster(n_workers, threads, retries)
    client = Client(scheduler) if scheduler else Client(cluster)
    try:
        if cluster is not None:
            warm_up_workers(client, notebook)
        yield client, time.perf_counter() - t0
    finally:
        with contextlib.suppress(Exception):
            client.close()
        if cluster is not None:
            with contextlib.suppress(Exception):
                cluster.close()
