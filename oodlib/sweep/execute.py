"""The client side of a sweep: submit the pending runs to Dask, record each result, summarise.

:func:`run_sweep` is what ``oodlib sweep`` calls; see :mod:`oodlib.sweep` for the layout on disk.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .cluster import _client, available_cores, dashboard_address, threads_per_worker
from .plan import RunSpec, plan_sweep
from .store import (ERROR_FILE, MANIFEST, STATES, _clean_attempts, _write_json, default_build_dir,
                    prepare_run_dir, run_state, sweep_dir, sweep_lock, write_manifest)
from .summary import summarize_sweep
from .worker import RunTask, execute_run, notebook_error


@dataclass
class SweepResult:
    """What :func:`run_sweep` did.

    ``executed``: run ids run by this invocation; ``skipped``: already done before it;
    ``states``: run id -> state mapping (as in the manifest); ``tasks``: run id -> what
    :func:`execute_run` returned; ``timings``: ``cluster_start_s``, ``runs_s``, ``summary_s``, ``total_s``.
    """

    name: str
    folder: Path
    plan: list[RunSpec]
    states: dict[str, dict[str, Any]]
    executed: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    summaries: list[Path] = field(default_factory=list)
    tasks: dict[str, dict[str, Any]] = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)
    interrupted: bool = False

    @property
    def counts(self) -> dict[str, int]:
        """Runs per state."""
        return {s: sum(v["state"] == s for v in self.states.values()) for s in STATES}

    @property
    def manifest(self) -> Path:
        """Path of ``sweep.json``."""
        return self.folder / MANIFEST


def _say(quiet: bool, text: str) -> None:
    if not quiet:
        print(f"[oodlib sweep] {text}", flush=True)


def _task_failure(future: Any) -> str:
    """The error of a future that Dask gave up on (retries spent, or its workers kept dying)."""
    err = future.exception()
    if type(err).__name__ == "KilledWorker":
        return f"KilledWorker: every worker that ran it died (limit reached): {err}"
    return notebook_error(err)


def _submit_and_wait(client: Any, tasks: Sequence[RunTask], retries: int, on_result: Callable[[str, dict], None],
                     quiet: bool) -> None:
    """Submit ``tasks`` keeping no more in flight than the cluster has threads; report each result.

    Holding the rest back on the client means a worker only ever holds the run it executes, so a
    worker that dies takes down (and counts a failure against) that run alone.
    """
    from distributed import as_completed

    from ..progress import progress

    queue, futures = list(tasks), {}
    finished = as_completed()

    def top_up() -> None:
        capacity = max(1, sum(client.nthreads().values()))
        in_flight = sum(not f.done() for f in futures)
        while queue and in_flight < capacity:
            task = queue.pop(0)
            fut = client.submit(execute_run, task, key=f"oodlib-run-{task.spec.run_id}", retries=retries, pure=False)
            futures[fut] = task
            finished.add(fut)
            in_flight += 1

    top_up()
    try:
        for fut in finished if quiet else progress(finished, desc="sweep runs", total=len(tasks), unit="run"):
            rid = futures[fut].spec.run_id
            if fut.status == "finished":
                on_result(rid, fut.result())
            else:
                on_result(rid, {"state": "failed", "error": _task_failure(fut)})
            top_up()
    finally:
        client.cancel(list(futures))


def run_sweep(notebook: str | Path, seeds: Sequence[int] | None = None, parameters: Mapping[str, Any] | None = None,
              grid: Mapping[str, Sequence[Any]] | None = None, profile: str = "", name: str | None = None,
              scheduler: str | None = None, workers: int | None = None, retries: int = 2,
              build_dir: str | Path | None = None, summarize: bool = True, quiet: bool = False) -> SweepResult:
    """Plan, validate, run (on Dask) and summarise a sweep; see the module docstring for the layout.

    Args:
        notebook: the notebook to run.
        seeds: one run per seed (``None``: the notebook's seed, a sweep of one per grid point).
        parameters: fixed overrides (``-p``); grid: name -> values, every combination is run.
        profile: a profile of ``notebooks/profiles.yaml`` whose parameters come first.
        name: the sweep's folder name (default: the notebook's stem).
        scheduler: address of an existing Dask scheduler (default: an embedded LocalCluster).
        workers: processes of the embedded cluster (default: the cores); each gets cores // workers threads.
        retries: how often a run is retried when its worker dies or it fails for a reason of its own
            environment (a cell error is never retried).
        build_dir: default ``<project root>/_build``.
        summarize: judge the claims across the done runs and write ``records/``.

    Raises:
        oodlib.params.ParameterError: a bad parameter in any run (before anything is submitted).
        SweepConflictError: a run folder holds another run, or the sweep is running elsewhere.
    """
    t_start = time.perf_counter()
    plan = plan_sweep(notebook, seeds, parameters, grid, profile)
    name = name or Path(notebook).stem
    folder = sweep_dir(build_dir or default_build_dir(notebook), name)
    with sweep_lock(folder):
        for spec in plan:
            prepare_run_dir(spec, folder)
        states = {s.run_id: run_state(s, folder) for s in plan}
        result = SweepResult(name, folder, plan, states)
        result.skipped = [s.run_id for s in plan if states[s.run_id]["state"] == "done"]
        pending = [s for s in plan if states[s.run_id]["state"] != "done"]
        extra = {"retries": retries, "scheduler": scheduler or "embedded LocalCluster"}
        write_manifest(folder, name, plan, states, extra)
        _say(quiet, f"{name}: {len(plan)} runs, {len(result.skipped)} already done, {len(pending)} to run ({folder})")
        if pending:
            _execute_pending(result, pending, scheduler, workers, retries, extra, quiet)
        _clean_attempts(folder, result)
        if summarize and not result.interrupted:
            t = time.perf_counter()
            result.summaries = summarize_sweep(folder, plan, name)
            result.timings["summary_s"] = time.perf_counter() - t
            write_manifest(folder, name, plan, states, {**extra, "summaries": [str(p.relative_to(folder))
                                                                                for p in result.summaries]})
    result.timings["total_s"] = time.perf_counter() - t_start
    c = result.counts
    _say(quiet, f"{name}: {c['done']} done, {c['failed']} failed, {c['pending']} pending; manifest {result.manifest}")
    return result


def _execute_pending(result: SweepResult, pending: list[RunSpec], scheduler: str | None, workers: int | None,
                     retries: int, extra: dict[str, Any], quiet: bool) -> None:
    """Submit the pending runs and record each result in the manifest as it arrives."""
    folder, states = result.folder, result.states
    n_workers = min(workers or available_cores(), len(pending))
    threads = threads_per_worker(n_workers)
    if not scheduler:
        extra.update(workers=n_workers, threads_per_worker=threads)

    def on_result(rid: str, info: dict[str, Any]) -> None:
        result.tasks[rid] = info
        spec = next(s for s in pending if s.run_id == rid)
        if info["state"] == "failed" and "worker_pid" not in info:  # Dask gave up: no worker wrote it
            _write_json(folder / rid / ERROR_FILE, {"run_id": rid, "error": info["error"]})
        states[rid] = run_state(spec, folder)
        if info["state"] == "done" and states[rid]["state"] != "done":
            info = {**info, "state": "failed", "error": f"the worker on {info['host']} finished, but {folder / rid} "
                    "holds no record here: the workers must share this machine's file system"}
            _write_json(folder / rid / ERROR_FILE, {"run_id": rid, "error": info["error"]})
            states[rid] = run_state(spec, folder)
        result.executed.append(rid)
        write_manifest(folder, result.name, result.plan, states, extra)
        if info["state"] == "failed":
            _say(quiet, f"run {rid} (seed {spec.seed}) failed: {info['error']}")

    t0 = time.perf_counter()
    try:
        with _client(scheduler, n_workers, threads, retries, pending[0].notebook) as (client, start_s):
            result.timings["cluster_start_s"] = start_s
            where = scheduler or f"embedded LocalCluster, {n_workers} workers x {threads} thread(s)"
            link = dashboard_address(client)
            _say(quiet, f"running on {where}" + (f"; dashboard {link}" if link else ""))
            tasks = [RunTask(s, str(folder / s.run_id), None if scheduler else threads) for s in pending]
            _submit_and_wait(client, tasks, retries, on_result, quiet)
    except KeyboardInterrupt:
        result.interrupted = True
        for s in pending:
            states[s.run_id] = run_state(s, folder)
        write_manifest(folder, result.name, result.plan, states, extra)
        c = result.counts
        _say(quiet, f"interrupted: {c['done']} done, {c['pending'] + c['failed']} not done; "
                    "run the same command again to resume")
    finally:
        result.timings["runs_s"] = time.perf_counter() - t0
