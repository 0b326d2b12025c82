"""Sweeps: one notebook over seeds and a parameter grid, run as Dask tasks, judged as one.

``oodlib sweep NOTEBOOK --seeds 0-4 [-p NAME VALUE]... [--grid grid.yaml]`` plans one run per
grid point and seed, validates every run's parameters before anything is submitted, runs each
as a task (:func:`execute_run`, i.e. :func:`oodlib.runner.run_notebook`) on Dask distributed
(an embedded :class:`~distributed.LocalCluster` of one-thread process workers, or an existing
cluster via ``scheduler="tcp://host:8786"``) and then judges every claim of the notebook across
the runs (:func:`summarize_sweep`). Layout under ``<build>/sweeps/<name>/``::

    sweep.json                     the manifest: every run with its state (done / failed / pending)
    <run id>/run.json              what the run is: notebook hash, parameters, code version
    <run id>/<stem>.ipynb          the executed notebook (also kept for a failed run)
    <run id>/<stem>.json           the run's results record; its presence means "done"
    <run id>/<stem>.scores.npz     the run's score file (per-sample evidence)
    <run id>/error.json            a failed run: the notebook's error message
    <run id>/attempts.log          one line per attempt (start / done / failed, host, pid)
    .attempts/                     work folders of running attempts (a finished run's are removed)
    records/<stem>.json            the sweep summary, a normal results record (n_seeds per claim)

The run id is a short hash of the notebook's content, the run's parameter values and the code
version (oodlib's version and git commit), so a second invocation skips the runs that are done
(resume after a crash or a Ctrl-C) and a different run never lands in the same folder. An
attempt runs in its own folder under ``.attempts/`` and moves its files into the run folder only
when it succeeded (the record last), so a worker killed mid-run leaves nothing half-written.

Workers must see the same file system as the client (one machine, or a shared file system on a
cluster) and have oodlib installed.

Modules: :mod:`.plan` (seeds, grids, run ids, :class:`RunSpec`, :func:`plan_sweep`), :mod:`.store`
(run folders, manifest, states, lock, publishing an attempt), :mod:`.worker` (:func:`execute_run`,
the task Dask runs), :mod:`.cluster` (LocalCluster and client), :mod:`.execute` (:func:`run_sweep`),
:mod:`.summary` (metrics and claims across runs) and :mod:`.bench` (``--benchmark``). Every public
name is importable from ``oodlib.sweep`` itself.
"""

from .bench import benchmark_sweep, format_benchmark
from .cluster import available_cores, dashboard_address, local_cluster, threads_per_worker, warm_up_workers
from .execute import SweepResult, run_sweep
from .plan import (RunSpec, code_version, expand_grid, load_grid, notebook_digest, parse_seeds, plan_sweep,
                   profile_overrides, run_id)
from .store import (ATTEMPTS_DIR, ATTEMPTS_LOG, ERROR_FILE, MANIFEST, RUN_SPEC, STATES, SweepConflictError,
                    count_attempts, default_build_dir, prepare_run_dir, read_manifest, run_state, sweep_dir,
                    sweep_lock, write_manifest)
from .summary import (CLAIMS_REGISTRY, Declared, aggregate_metrics, claims_for, count_legacy_claims, judge_runs,
                      mean_interval, paper_metrics, summarize_sweep, summary_record)
from .worker import THREAD_VARIABLES, RunTask, execute_run, notebook_error, thread_env

__all__ = [
    "CLAIMS_REGISTRY", "Declared", "RunSpec", "RunTask", "STATES", "SweepConflictError", "SweepResult", "aggregate_metrics",
    "benchmark_sweep", "claims_for", "code_version", "count_legacy_claims", "execute_run", "expand_grid",
    "format_benchmark", "judge_runs", "load_grid", "local_cluster", "mean_interval", "notebook_digest",
    "paper_metrics", "parse_seeds", "plan_sweep", "prepare_run_dir", "read_manifest", "run_id", "run_state", "run_sweep",
    "summarize_sweep", "summary_record", "thread_env", "threads_per_worker", "write_manifest",
]
