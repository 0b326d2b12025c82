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
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import importlib
import itertools
import json
import math
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from .params import ParameterError, notebook_parameters, parse_cli_value, validate

STATES = ("done", "failed", "pending")
MANIFEST = "sweep.json"
RUN_SPEC = "run.json"
ERROR_FILE = "error.json"
ATTEMPTS_LOG = "attempts.log"
ATTEMPTS_DIR = ".attempts"
THREAD_VARIABLES = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS", "NUMEXPR_NUM_THREADS",
                    "VECLIB_MAXIMUM_THREADS")

#: notebook stem -> (configuration class, claims function), as "module:name"; these notebooks'
#: claims are re-judged across the sweep's runs (multi-seed bootstrap); any other notebook's
#: recorded verdicts are counted instead (:func:`count_legacy_claims`)
CLAIMS_REGISTRY: dict[str, tuple[str, str]] = {
    "00_tour": ("oodlib.papers.tour.config:TourConfig", "oodlib.papers.tour.claims:claims"),
    "p3_av_ood": ("oodlib.papers.p3_av_ood.config:P3Config", "oodlib.papers.p3_av_ood.claims:claims"),
}


class SweepConflictError(RuntimeError):
    """A run folder already holds a different run, or another sweep of the same name is running."""


# --------------------------------------------------------------------------------------- planning


def parse_seeds(text: str) -> list[int]:
    """``"0-4"`` -> ``[0, 1, 2, 3, 4]``; ``"0,2,5"`` -> ``[0, 2, 5]``; ``"0-2,7"`` mixes both.

    Raises :class:`ParameterError` for an empty list, a negative or descending range, or a repeat.
    """
    seeds: list[int] = []
    for part in str(text).replace(" ", "").split(","):
        if not part:
            raise ParameterError(f"--seeds {text!r}: empty item (use e.g. 0-4 or 0,2,5)")
        low, sep, high = part.partition("-")
        try:
            first, last = int(low), int(high) if sep else int(low)
        except ValueError:
            raise ParameterError(f"--seeds {text!r}: {part!r} is not a seed or a range a-b of seeds") from None
        if last < first:
            raise ParameterError(f"--seeds {text!r}: range {part!r} runs backwards")
        seeds.extend(range(first, last + 1))
    if len(set(seeds)) != len(seeds):
        raise ParameterError(f"--seeds {text!r} names a seed twice")
    return seeds


def load_grid(path: str | Path) -> dict[str, list[Any]]:
    """Read a grid file: a YAML mapping of parameter name to a list of values (a scalar = one value)."""
    try:
        loaded = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as err:
        raise ParameterError(f"cannot read grid file {path}: {err}") from err
    if not isinstance(loaded, dict) or not loaded:
        raise ParameterError(f"grid file {path} must hold a non-empty mapping of name: [values]")
    return {str(k): v if isinstance(v, list) else [v] for k, v in loaded.items()}


def expand_grid(grid: Mapping[str, Sequence[Any]] | None) -> list[dict[str, Any]]:
    """Every combination of the grid's values (the first name varies slowest); ``[{}]`` for no grid."""
    if not grid:
        return [{}]
    for name, values in grid.items():
        if not isinstance(values, (list, tuple)) or not values:
            raise ParameterError(f"grid parameter {name!r} needs a non-empty list of values, got {values!r}")
    names = list(grid)
    return [dict(zip(names, combo)) for combo in itertools.product(*(grid[n] for n in names))]


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), default=str)


def notebook_digest(notebook: str | Path) -> str:
    """SHA-256 of the notebook file's bytes."""
    return hashlib.sha256(Path(notebook).read_bytes()).hexdigest()


_CODE_VERSION: dict[str, Any] | None = None


def code_version() -> dict[str, Any]:
    """oodlib's version and, when oodlib sits in a git checkout, its commit (``None`` otherwise).

    Uncommitted edits do not change it: commit (or pass another ``--name``) to separate them.
    """
    global _CODE_VERSION
    if _CODE_VERSION is None:
        from . import __version__

        commit = None
        with contextlib.suppress(OSError, subprocess.SubprocessError):
            done = subprocess.run(["git", "-C", str(Path(__file__).resolve().parent), "rev-parse", "HEAD"],
                                  capture_output=True, text=True, timeout=10)
            if done.returncode == 0 and done.stdout.strip():
                commit = done.stdout.strip()
        _CODE_VERSION = {"oodlib": __version__, "git": commit}
    return dict(_CODE_VERSION)


def run_id(digest: str, values: Mapping[str, Any], code: Mapping[str, Any]) -> str:
    """The run's id: 12 hex digits of SHA-256 over notebook hash, parameter values and code version."""
    payload = _canonical({"notebook": digest, "parameters": dict(values), "code": dict(code)})
    return hashlib.sha256(payload.encode()).hexdigest()[:12]


@dataclass(frozen=True)
class RunSpec:
    """One planned run of a sweep.

    Attributes:
        run_id: see :func:`run_id`.
        notebook: absolute path of the notebook.
        overrides: the parameters passed to papermill (profile, ``-p``, grid point, seed).
        values: every parameter's value (defaults filled in): what the id hashes.
        seed: the run's seed.
        group: id of the run's parameters without the seed (runs of one group are judged together).
        digest: the notebook's SHA-256.
        code: :func:`code_version` when planned.
        profile: the build profile (passed to the record; ``-smoke`` marks verdicts as smoke).
    """

    run_id: str
    notebook: str
    overrides: dict[str, Any]
    values: dict[str, Any]
    seed: int
    group: str
    digest: str
    code: dict[str, Any]
    profile: str = ""

    @property
    def stem(self) -> str:
        """The notebook's stem (names its record and score file)."""
        return Path(self.notebook).stem

    def describe(self) -> dict[str, Any]:
        """What ``run.json`` holds (everything the id is made of, plus the overrides)."""
        return {"run_id": self.run_id, "notebook": self.notebook, "notebook_sha256": self.digest,
                "parameters": self.values, "overrides": self.overrides, "seed": self.seed,
                "code": self.code, "profile": self.profile}


def profile_overrides(notebook: Path, profile: str) -> dict[str, Any]:
    """The parameters ``notebooks/profiles.yaml`` gives ``notebook`` in ``profile`` (``{}`` for none)."""
    if not profile:
        return {}
    from .book import profile_parameters
    from .records import project_root

    root = project_root(notebook.parent) or notebook.resolve().parent.parent
    return dict(profile_parameters(root, profile).get(notebook.stem) or {})


def _grid_value(spec: Any, value: Any) -> Any:
    """YAML 1.1 reads ``1e-3`` as text: read it as a number for a ``float`` parameter."""
    if isinstance(value, str) and spec is not None and "float" in spec.annotation:
        return parse_cli_value(spec, value)
    return value


def _point_overrides(base: Mapping[str, Any], point: Mapping[str, Any], seeds: Sequence[int] | None) -> list[dict]:
    clash = sorted(set(base) & set(point))
    if clash:
        raise ParameterError(f"parameters {clash} are set both with -p and in the grid; set each in one place")
    if seeds is None:
        return [{**base, **point}]
    if "seed" in point or "seed" in base:
        raise ParameterError("give the seeds either with --seeds or as a parameter 'seed', not both")
    return [{**base, **point, "seed": s} for s in seeds]


def plan_sweep(notebook: str | Path, seeds: Sequence[int] | None = None, parameters: Mapping[str, Any] | None = None,
               grid: Mapping[str, Sequence[Any]] | None = None, profile: str = "") -> list[RunSpec]:
    """Every run of the sweep, each validated (names, types, ranges) before anything runs.

    A run's overrides are the profile's parameters, then ``parameters`` (``-p``), then the grid
    point, then the seed. Duplicates (same id) are kept once.

    Raises:
        oodlib.params.ParameterError: the first bad run's problem, naming the parameter.
        FileNotFoundError: the notebook does not exist.
    """
    from .runner import check_config

    nb = Path(notebook).resolve()
    if not nb.is_file():
        raise FileNotFoundError(f"notebook {notebook} does not exist")
    specs = notebook_parameters(nb)
    defaults = {n: s.default for n, s in specs.items()}
    base = {**profile_overrides(nb, profile), **dict(parameters or {})}
    if seeds is not None and "seed" not in specs:
        raise ParameterError(f"{nb.name} has no 'seed' parameter, so --seeds cannot vary it")
    digest, code = notebook_digest(nb), code_version()
    plan: dict[str, RunSpec] = {}
    for point in expand_grid(grid):
        point = {k: _grid_value(specs.get(k), v) for k, v in point.items()}
        for overrides in _point_overrides(base, point, seeds):
            checked = validate(specs, overrides, where=nb.name)
            values = {**defaults, **checked}
            check_config(nb, values)
            rid = run_id(digest, values, code)
            rest = {k: v for k, v in values.items() if k != "seed"}
            group = hashlib.sha256(_canonical(rest).encode()).hexdigest()[:8]
            plan.setdefault(rid, RunSpec(rid, str(nb), checked, values, int(values.get("seed", 0)), group,
                                         digest, code, profile))
    return list(plan.values())


# ------------------------------------------------------------------------------------ run folders


def sweep_dir(build_dir: str | Path, name: str) -> Path:
    """``<build_dir>/sweeps/<name>``."""
    if not name or "/" in name or name.startswith("."):
        raise ParameterError(f"sweep name {name!r} must be a plain folder name")
    return Path(build_dir).resolve() / "sweeps" / name


def default_build_dir(notebook: str | Path) -> Path:
    """``<project root>/_build`` (the folder above ``notebook`` that holds ``_toc.yml``), else ``./_build``."""
    from .records import project_root

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


# ------------------------------------------------------------------------------------ worker side


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
    old = {k: os.environ.get(k) for k in THREAD_VARIABLES}
    os.environ.update({k: str(int(threads)) for k in THREAD_VARIABLES})
    try:
        yield
    finally:
        for k, v in old.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def notebook_error(err: BaseException) -> str:
    """One line: the notebook's own error (``ValueError: bad clip (cell 7)``) or the exception's."""
    if type(err).__name__ == "PapermillExecutionError":
        first = str(getattr(err, "evalue", "")).strip().splitlines()[:1]
        return f"{getattr(err, 'ename', 'Error')}: {first[0] if first else ''} (cell {getattr(err, 'exec_count', '?')})"
    text = str(err).strip().splitlines()
    return f"{type(err).__name__}: {text[0] if text else ''}"


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
    from .runner import run_notebook

    spec, run_dir = task.spec, Path(task.run_dir)
    attempt = run_dir.parent / ATTEMPTS_DIR / f"{spec.run_id}-{os.getpid()}-{uuid.uuid4().hex[:8]}"
    attempt.mkdir(parents=True)
    _log_attempt(run_dir, "start")
    t0, started = time.perf_counter(), time.time()
    info = {"run_id": spec.run_id, "worker_pid": os.getpid(), "host": socket.gethostname(), "started": started}
    try:
        with thread_env(task.threads):
            run_notebook(spec.notebook, spec.overrides, output_dir=attempt, records_dir=attempt, profile=spec.profile)
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


# ------------------------------------------------------------------------------------ client side


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


def _import_config(notebook: str) -> bool:
    """Import the notebook's configuration class (and so its paper package) in this process."""
    from .runner import notebook_config_class

    return notebook_config_class(Path(notebook)) is not None


def warm_up_workers(client: Any, notebook: str | Path) -> None:
    """Import the notebook's paper package on every worker now (``oodlib.runner.check_config``
    needs it), so that the first run on each worker does not carry that cost."""
    client.run(_import_config, str(Path(notebook).resolve()))


@contextlib.contextmanager
def _client(scheduler: str | None, n_workers: int, threads: int, retries: int,
            notebook: str) -> Iterator[tuple[Any, float]]:
    """A Dask client on ``scheduler`` or on a new, warmed-up embedded cluster; yields (client, start seconds)."""
    from distributed import Client

    t0 = time.perf_counter()
    cluster = None if scheduler else local_cluster(n_workers, threads, retries)
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

    from .progress import progress

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


def _clean_attempts(folder: Path, result: SweepResult) -> None:
    """Remove leftover attempt folders of runs that are done (e.g. from a worker killed mid-run)."""
    attempts = folder / ATTEMPTS_DIR
    if not attempts.is_dir():
        return
    done = {rid for rid, st in result.states.items() if st["state"] == "done"}
    for path in attempts.iterdir():
        if path.name.split("-", 1)[0] in done:
            shutil.rmtree(path, ignore_errors=True)


# ------------------------------------------------------------------------------------ aggregation


def _resolve(target: str) -> Any:
    module, _, attr = target.partition(":")
    return getattr(importlib.import_module(module), attr)


def claims_for(stem: str) -> tuple[type, Callable[[Any], list]] | None:
    """``(configuration class, claims function)`` of a notebook in :data:`CLAIMS_REGISTRY`, else ``None``."""
    entry = CLAIMS_REGISTRY.get(stem)
    return None if entry is None else (_resolve(entry[0]), _resolve(entry[1]))


def mean_interval(values: Sequence[float], level: float = 0.95) -> dict[str, Any]:
    """Mean over runs with a Student-t ``level`` interval (``low``/``high`` omitted for one run)."""
    from scipy import stats

    x = [float(v) for v in values]
    n = len(x)
    mean = math.fsum(x) / n
    out: dict[str, Any] = {"mean": mean, "n_runs": n}
    if n >= 2:
        sd = math.sqrt(math.fsum((v - mean) ** 2 for v in x) / (n - 1))
        half = float(stats.t.ppf(0.5 + level / 2, n - 1)) * sd / math.sqrt(n)
        out.update(sd=sd, low=mean - half, high=mean + half)
    return out


def _is_number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


def aggregate_metrics(runs: Sequence[Mapping[str, Any]], level: float = 0.95) -> dict[str, Any]:
    """Per-metric mean and ``level`` interval over runs, keeping the nesting of the records' metrics.

    A number becomes ``{"mean", "n_runs", "sd", "low", "high"}``; a list of numbers of one length
    becomes the same with lists; a value that is equal in every run (text, a flag) is kept as is;
    anything else is left out.
    """
    keys = list(dict.fromkeys(k for r in runs for k in r))
    out: dict[str, Any] = {}
    for key in keys:
        vals = [r[key] for r in runs if key in r]
        if all(isinstance(v, Mapping) for v in vals):
            sub = aggregate_metrics(vals, level)
            if sub:
                out[key] = sub
        elif all(_is_number(v) for v in vals):
            out[key] = mean_interval(vals, level)
        elif all(isinstance(v, list) and v and all(_is_number(x) for x in v) for v in vals) \
                and len({len(v) for v in vals}) == 1:
            cols = [mean_interval(col, level) for col in zip(*vals)]
            out[key] = {k: [c[k] for c in cols] for k in cols[0]}
        elif all(v == vals[0] for v in vals):
            out[key] = vals[0]
    return out


def judge_runs(stem: str, values: Mapping[str, Any], evidence: Sequence[Mapping[str, Any]], seed: int) -> list[dict]:
    """Judge every declared claim of ``stem`` on the runs' evidence (multi-seed bootstrap): record entries."""
    from .claims import judge
    from .records import _plain

    config_cls, claims_fn = claims_for(stem)
    cfg = config_cls.from_params(dict(values))
    return [_plain(judge(c, list(evidence), seed=seed).to_record()) for c in claims_fn(cfg)]


def count_legacy_claims(records: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Combine the recorded verdicts of a notebook without declarations by counting them.

    Unanimous among the runs that judged it -> that verdict; split -> inconclusive; judged by no
    run -> not run. The evidence text says that the verdicts were counted, not re-judged.
    """
    order: dict[str, list[Mapping[str, Any]]] = {}
    for rec in records:
        for c in rec.get("claims", []):
            order.setdefault(c.get("id") or c["claim"], []).append(c)
    out = []
    for entries in order.values():
        judged = [c["verdict"] for c in entries if c["verdict"] != "not run"]
        counts = {v: judged.count(v) for v in dict.fromkeys(judged)}
        verdict = "not run" if not judged else judged[0] if len(counts) == 1 else "inconclusive"
        tally = ", ".join(f"{v} {n}" for v, n in counts.items()) or "no run judged it"
        first = entries[0]
        entry = {"claim": first["claim"], "verdict": verdict,
                 "evidence": f"verdicts counted over {len(entries)} runs ({tally}); this notebook's claims have no "
                             "declaration to re-judge across seeds, so there is no multi-seed interval",
                 "data": ", ".join(sorted({c.get("data", "") for c in entries if c.get("data")})) or "unknown"}
        for key in ("id", "source"):
            if key in first:
                entry[key] = first[key]
        if judged:
            entry["n_seeds"] = len(judged)
        if any(c.get("smoke") for c in entries):
            entry["smoke"] = True
        out.append(entry)
    return out


def _load_run(spec: RunSpec, folder: Path) -> tuple[dict[str, Any], dict[str, Any] | None]:
    """A done run's record and (when its score file exists) its evidence."""
    from .claims import load_evidence

    run_dir = folder / spec.run_id
    record = json.loads((run_dir / f"{spec.stem}.json").read_text(encoding="utf-8"))
    scores = run_dir / f"{spec.stem}.scores.npz"
    return record, (load_evidence(scores) if scores.is_file() else None)


def summary_record(name: str, specs: Sequence[RunSpec], records: Sequence[Mapping[str, Any]],
                   evidence: Sequence[Mapping[str, Any] | None]) -> dict[str, Any]:
    """The sweep summary of one parameter group's done runs, in the results record schema."""
    from .records import SCHEMA_VERSION, validate_record

    first, stem = records[0], specs[0].stem
    seeds = [s.seed for s in specs]
    common = {k: v for k, v in specs[0].values.items() if k != "seed"}
    smoke = any(r.get("smoke") for r in records)
    if claims_for(stem) is not None:
        claims = judge_runs(stem, specs[0].values, [e for e in evidence if e is not None], seed=seeds[0])
        if smoke:
            claims = [{**c, "smoke": True} for c in claims]
    else:
        claims = count_legacy_claims(records)
    stages: dict[str, float] = {}
    for r in records:
        for k, v in r["timings"].get("stages", {}).items():
            stages[k] = stages.get(k, 0.0) + float(v)
    out: dict[str, Any] = {
        "schema_version": SCHEMA_VERSION, "notebook": first["notebook"],
        "title": f"{first.get('title') or stem} (sweep {name}: {len(specs)} seeds)",
        "parameters": {**common, "seeds": seeds}, "seed": seeds[0],
        "data_source": ", ".join(dict.fromkeys(r["data_source"] for r in records)),
        "data_note": (f"Sweep {name!r}: summary of {len(specs)} runs (seeds {', '.join(map(str, seeds))}; run ids "
                      f"{', '.join(s.run_id for s in specs)}). Metrics are means with 95% t-intervals over runs. "
                      + (first.get("data_note") or "")).strip(),
        "metrics": aggregate_metrics([r["metrics"] for r in records]),
        "claims": claims,
        "timings": {"total_s": sum(float(r["timings"]["total_s"]) for r in records), "stages": stages,
                    "peak_rss_mb": max(float(r["timings"].get("peak_rss_mb", 0.0)) for r in records)},
        "versions": dict(first["versions"]),
        "device": ", ".join(dict.fromkeys(r.get("device", "") for r in records if r.get("device"))),
        "created": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
    }
    if first.get("profile"):
        out["profile"] = first["profile"]
    if smoke:
        out["smoke"] = True
    validate_record(out)
    return out


def summarize_sweep(folder: Path, plan: Sequence[RunSpec], name: str) -> list[Path]:
    """Write one summary record per parameter group with done runs to ``<folder>/records/``.

    One group: ``records/<stem>.json``; several (a grid): ``records/<stem>.<group>.json``.
    """
    groups: dict[str, list[RunSpec]] = {}
    for spec in plan:
        groups.setdefault(spec.group, []).append(spec)
    out_dir = folder / "records"
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for group, specs in groups.items():
        done = [s for s in specs if run_state(s, folder)["state"] == "done"]
        target = out_dir / (f"{specs[0].stem}.json" if len(groups) == 1 else f"{specs[0].stem}.{group}.json")
        if not done:
            target.unlink(missing_ok=True)
            continue
        loaded = [_load_run(s, folder) for s in done]
        record = summary_record(name, done, [r for r, _ in loaded], [e for _, e in loaded])
        _write_json(target, record)
        written.append(target)
    return written


# ------------------------------------------------------------------------------------- benchmark


def _timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    t = time.perf_counter()
    out = fn()
    return time.perf_counter() - t, out


def _cli_seconds(argv: Sequence[str], threads: int, cwd: Path) -> float:
    """Wall time of ``python -m oodlib.cli ARGV`` in a fresh process (it must succeed)."""
    env = {**os.environ, **{k: str(threads) for k in THREAD_VARIABLES}, "OODLIB_PROGRESS": "0"}
    t = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "oodlib.cli", *argv], cwd=cwd, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"oodlib {' '.join(argv)} failed:\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}")
    return time.perf_counter() - t


def _worker_busy(result: SweepResult) -> float:
    """Notebook seconds of the busiest worker of a sweep."""
    per_worker: dict[Any, float] = {}
    for info in result.tasks.values():
        key = (info["host"], info["worker_pid"])
        per_worker[key] = per_worker.get(key, 0.0) + info["run_s"]
    return max(per_worker.values())


def benchmark_sweep(notebook: str | Path = "notebooks/00_tour.ipynb", n_runs: int = 4, workers: int = 2,
                    parameters: Mapping[str, Any] | None = None, out: str | Path | None = None,
                    quiet: bool = True) -> dict[str, Any]:
    """Time ``n_runs`` runs (seeds 0..n-1) on ``workers`` local Dask workers vs one after another.

    * **sequential**: plain :func:`~oodlib.runner.run_notebook` calls in this process, each with
      all cores as torch/BLAS threads, after one untimed warm-up run (disk cache, imports);
    * **dask (cold)**: :func:`run_sweep` on a new embedded cluster (its start and the workers'
      imports included) - what ``oodlib sweep`` costs from scratch;
    * **dask (warm)**: the same on an already running cluster (``--scheduler``), workers warmed up;
    * **overhead per run**: one run on the warm cluster minus one plain run with the same thread
      count (1), i.e. what the Dask path adds to each run; and, from scratch, ``oodlib sweep`` of
      one run (one worker) minus ``oodlib run``, each in a fresh process.

    Writes the JSON to ``out`` (default ``<build>/records/sweep_benchmark.json``) and returns it.
    """
    from distributed import Client

    from .records import package_versions
    from .runner import run_notebook

    params = dict(parameters if parameters is not None else {"epochs": 5, "n_per_class": 50})
    nb, cores = Path(notebook).resolve(), available_cores()
    out = Path(out) if out else default_build_dir(nb) / "records" / "sweep_benchmark.json"
    seeds = list(range(n_runs))

    def plain(folder: str, seed: int, threads: int) -> float:
        with thread_env(threads):
            return _timed(lambda: run_notebook(nb, {**params, "seed": seed}, output_dir=folder, records_dir=folder))[0]

    with tempfile.TemporaryDirectory(prefix="oodlib-sweep-bench-") as tmp:
        plain(f"{tmp}/warm", 0, cores)
        seq = [plain(f"{tmp}/seq{s}", s, cores) for s in seeds]
        cold_s, cold = _timed(lambda: run_sweep(nb, seeds, params, name="cold", workers=workers,
                                                build_dir=f"{tmp}/cold", summarize=False, quiet=quiet))
        cluster = local_cluster(workers, threads_per_worker(workers, cores), retries=2)
        try:
            with Client(cluster) as client:
                warm_up_workers(client, nb)
                address = cluster.scheduler_address
                warm_s, warm = _timed(lambda: run_sweep(nb, seeds, params, name="warm", scheduler=address,
                                                        build_dir=f"{tmp}/warm-dask", summarize=False, quiet=quiet))
                one_dask_s, _ = _timed(lambda: run_sweep(nb, [n_runs], params, name="one", scheduler=address,
                                                         build_dir=f"{tmp}/one", summarize=False, quiet=quiet))
        finally:
            cluster.close()
        one_plain_s = plain(f"{tmp}/one-plain", n_runs, 1)
        p_args = [a for k, v in params.items() for a in ("-p", k, json.dumps(v))]
        cli_run_s = _cli_seconds(["run", str(nb), *p_args, "-p", "seed", str(n_runs + 1), "--output-dir", f"{tmp}/cli",
                                  "--records-dir", f"{tmp}/cli"], cores, nb.parent)
        cli_sweep_s = _cli_seconds(["sweep", str(nb), *p_args, "--seeds", str(n_runs + 1), "--workers", "1",
                                    "--build-dir", f"{tmp}/cli-sweep"], cores, nb.parent)
    for swept in (cold, warm):
        if swept.counts["done"] != n_runs:
            raise RuntimeError(f"benchmark sweep finished {swept.counts['done']} of {n_runs} runs: {swept.states}")
    seq_total = sum(seq)

    def dask_entry(total: float, swept: SweepResult) -> dict[str, Any]:
        return {"total_s": total, "cluster_start_s": swept.timings.get("cluster_start_s"),
                "runs_s": [swept.tasks[s.run_id]["run_s"] for s in swept.plan],
                "task_bookkeeping_s": [swept.tasks[s.run_id]["task_s"] - swept.tasks[s.run_id]["run_s"]
                                       for s in swept.plan],
                "busiest_worker_notebook_s": _worker_busy(swept),
                "speedup": seq_total / total, "efficiency": seq_total / total / workers}

    result = {
        "notebook": str(notebook), "parameters": params, "n_runs": n_runs, "workers": workers, "cores": cores,
        "threads_per_worker": threads_per_worker(workers, cores),
        "sequential": {"threads": cores, "runs_s": seq, "total_s": seq_total},
        "dask_cold": dask_entry(cold_s, cold), "dask_warm": dask_entry(warm_s, warm),
        "speedup": seq_total / cold_s, "efficiency": seq_total / cold_s / workers,
        "speedup_warm": seq_total / warm_s, "efficiency_warm": seq_total / warm_s / workers,
        "overhead_per_run_s": one_dask_s - one_plain_s,
        "single_run": {"plain_1_thread_s": one_plain_s, "warm_cluster_sweep_s": one_dask_s,
                       "oodlib_run_cli_s": cli_run_s, "oodlib_sweep_cli_s": cli_sweep_s,
                       "cli_overhead_s": cli_sweep_s - cli_run_s},
        "targets": {"speedup": 1.7, "overhead_per_run_s": 5.0},
        "meets_targets": {"speedup": seq_total / cold_s >= 1.7, "speedup_warm": seq_total / warm_s >= 1.7,
                          "overhead_per_run_s": one_dask_s - one_plain_s < 5.0},
        "load_average": list(os.getloadavg()),
        "versions": package_versions(("dask", "distributed", "torch", "papermill", "oodlib")),
        "created": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
    }
    out.parent.mkdir(parents=True, exist_ok=True)
    _write_json(out, result)
    return result


def format_benchmark(result: Mapping[str, Any]) -> str:
    """The benchmark in a few lines."""
    seq, cold, warm, one = result["sequential"], result["dask_cold"], result["dask_warm"], result["single_run"]
    return (f"{result['n_runs']} runs of {Path(result['notebook']).name}: sequential {seq['total_s']:.1f} s "
            f"({seq['threads']} threads each)\n"
            f"Dask, {result['workers']} workers x {result['threads_per_worker']} thread(s), new cluster: "
            f"{cold['total_s']:.1f} s (start {cold['cluster_start_s']:.1f} s) -> speedup {cold['speedup']:.2f}x, "
            f"efficiency {100 * cold['efficiency']:.0f}%\n"
            f"Dask, running cluster: {warm['total_s']:.1f} s -> speedup {warm['speedup']:.2f}x, "
            f"efficiency {100 * warm['efficiency']:.0f}% (target >= 1.7x)\n"
            f"overhead per run {result['overhead_per_run_s']:+.1f} s (one run on the cluster vs plain, 1 thread; "
            f"target < 5 s); from scratch: oodlib sweep {one['oodlib_sweep_cli_s']:.1f} s vs oodlib run "
            f"{one['oodlib_run_cli_s']:.1f} s ({one['cli_overhead_s']:+.1f} s)")


__all__ = [
    "CLAIMS_REGISTRY", "RunSpec", "RunTask", "STATES", "SweepConflictError", "SweepResult", "aggregate_metrics",
    "benchmark_sweep", "claims_for", "code_version", "count_legacy_claims", "execute_run", "expand_grid",
    "format_benchmark", "judge_runs", "load_grid", "local_cluster", "mean_interval", "notebook_digest",
    "parse_seeds", "plan_sweep", "prepare_run_dir", "read_manifest", "run_id", "run_state", "run_sweep",
    "summarize_sweep", "summary_record", "thread_env", "threads_per_worker", "write_manifest",
]
