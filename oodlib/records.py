"""Results records: what one notebook run measured, as a JSON file.

Each notebook creates one :class:`RunRecord`, fills it while it runs and writes
it at the end to ``_build/records/<notebook stem>.json``. The schema is
``oodlib/schemas/record.schema.json`` (fields: notebook, parameters, seed,
data_source, metrics, claims, timings, versions, ...); the book's results page
and the determinism tests read these files.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import math
import os
import platform
import sys
import time
from collections.abc import Iterator, Mapping
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np

from .provenance import git_state

SCHEMA_VERSION = 1
VERDICTS = ("supported", "not supported", "inconclusive", "not run")
KEY_PACKAGES = ("numpy", "scipy", "scikit-learn", "torch", "torchaudio", "torchvision", "faiss-cpu", "pyod", "oodlib")


def project_root(start: str | Path | None = None) -> Path | None:
    """The nearest folder at or above ``start`` (default: cwd) that holds ``_toc.yml``."""
    here = Path(start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / "_toc.yml").is_file():
            return folder
    return None


def records_dir() -> Path:
    """Where records go: ``$OODLIB_RECORDS_DIR``, else ``<project root>/_build/records``."""
    env = os.environ.get("OODLIB_RECORDS_DIR")
    if env:
        return Path(env)
    root = project_root() or Path.cwd()
    return root / "_build" / "records"


def peak_rss_mb() -> float:
    """Peak resident memory of this process so far, in MiB (``ru_maxrss``; Linux reports KiB)."""
    import resource
    import sys

    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return rss / 1024**2 if sys.platform == "darwin" else rss / 1024


def compute_threads() -> int | None:
    """torch's intra-op thread count in this process (``$OMP_NUM_THREADS`` when torch is not loaded).

    Recorded because results depend on it: a CPU training's floating-point sums run in another
    order with another thread count, so the same seed gives other numbers (see the README).
    """
    torch = sys.modules.get("torch")
    if torch is not None:
        return int(torch.get_num_threads())
    value = os.environ.get("OMP_NUM_THREADS", "")
    return int(value) if value.isdigit() else None


def package_versions(names: tuple[str, ...] = KEY_PACKAGES) -> dict[str, str]:
    """Python's and the key packages' versions (``"not installed"`` when absent)."""
    out = {"python": platform.python_version()}
    for name in names:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = "not installed"
    return out


def _plain(value: Any) -> Any:
    """NumPy scalars/arrays and tuples to JSON-ready Python values; NaN is refused."""
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, np.ndarray):
        return _plain(value.tolist())
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueError(f"records hold finite numbers only, got {value}")
    return value


class RunRecord:
    """Collect a run's parameters, metrics, claims and timings; write them as JSON.

    Example::

        rec = RunRecord("00_tour", params, seed=params["seed"], data_source="synthetic")
        with rec.stage("train"):
            ...
        rec.add_metrics({"knn": {"auroc": 0.97}})
        rec.add_claim("kNN beats MSP", "supported", "AUROC 97.1 vs 88.0")
        rec.write()
    """

    def __init__(self, notebook: str, parameters: Mapping[str, Any], seed: int, data_source: str,
                 title: str = "", data_note: str = "") -> None:
        #: the build profile this run belongs to (``oodlib book`` sets ``$OODLIB_PROFILE``); a profile
        #: whose name ends in ``-smoke`` marks every verdict as a smoke test, never as evidence
        self.profile = os.environ.get("OODLIB_PROFILE", "")
        self.notebook = notebook
        self.title = title
        self.parameters = dict(parameters)
        self.seed = int(seed)
        self.data_source = data_source
        self.data_note = data_note
        self.metrics: dict[str, Any] = {}
        self.claims: list[dict[str, Any]] = []
        self.evidence: list[Any] = []  # oodlib.claims.Evidence sets, written to <notebook>.scores.npz
        self.unfit: list[str] = []  # reasons this run cannot judge its point-comparison claims
        self.stages: dict[str, float] = {}
        self.device = ""
        self._t0 = time.perf_counter()

    @contextlib.contextmanager
    def stage(self, name: str) -> Iterator[None]:
        """Time a block; repeated names add up. Wall-clock seconds."""
        t = time.perf_counter()
        try:
            yield
        finally:
            self.stages[name] = self.stages.get(name, 0.0) + time.perf_counter() - t

    def add_metrics(self, metrics: Mapping[str, Any], prefix: str | None = None) -> None:
        """Merge a (nested) mapping of numbers into ``metrics``, under ``prefix`` if given."""
        target = self.metrics.setdefault(prefix, {}) if prefix else self.metrics
        target.update(_plain(metrics))

    def add_table(self, prefix: str, table: Any) -> None:
        """Store a result table (a pandas DataFrame) under ``metrics[prefix]`` (see :func:`oodlib.tables.as_record`)."""
        from .tables import as_record

        self.add_metrics(as_record(table), prefix=prefix)

    def add_tables(self, tables: Mapping[str, Any]) -> None:
        """:meth:`add_table` for each ``{prefix: DataFrame}`` (a paper's ``record_tables``), in order."""
        for prefix, table in tables.items():
            self.add_table(prefix, table)

    def require_learned(self, model: str, accuracy: float, chance: float, min_above: float = 0.1) -> bool:
        """Mark the run unfit to judge claims when ``model``'s ID accuracy is within ``min_above`` of chance.

        Accuracies are fractions. Every later :meth:`add_claim` then records "inconclusive" with
        the reason (a model that did not learn says nothing about the methods built on it).
        Returns True when the model learned.
        """
        from .claims.checks import not_learned

        reason = not_learned(accuracy, chance, min_above)
        if reason:
            self.unfit.append(f"{model}: {reason}")
        return reason is None

    @property
    def smoke(self) -> bool:
        """True in a smoke-test profile (name ending in ``-smoke``): verdicts are not evidence."""
        return is_smoke_profile(self.profile)

    def add_claim(self, claim: str, verdict: str, evidence: str, data: str | None = None) -> None:
        """Record a claim judged by a point comparison in the notebook (no interval).

        ``data``: the data the claim was judged on (default: the record's ``data_source``); a
        claim judged on synthetic data inside a real-data run must say so here.
        Kept for the notebooks not yet moved to :mod:`oodlib.claims`; new code declares
        claims there and records them with :meth:`add_verdicts`.
        """
        if verdict not in VERDICTS:
            raise ValueError(f"verdict must be one of {VERDICTS}, got {verdict!r}")
        entry = {"claim": claim, "verdict": verdict, "evidence": evidence, "data": data or self.data_source}
        if self.unfit:  # see require_learned
            entry.update(verdict="inconclusive", reason="; ".join(self.unfit),
                         evidence=f"{evidence}; not judged: {'; '.join(self.unfit)}")
        self.claims.append(entry)

    def add_point_claims(self, claims: Any) -> None:
        """:meth:`add_claim` for each ``(claim, verdict, evidence)`` of a paper's point-comparison
        claims module."""
        for claim, verdict, evidence in claims:
            self.add_claim(claim, verdict, evidence)

    def add_verdicts(self, verdicts: Any) -> None:
        """Record judged claims (:class:`oodlib.claims.Verdict`: verdict, effect, interval, rule).

        A claim the run could not judge ("not run": its evidence was not produced) names the run's
        data source, so every claim in a record says which data it belongs to.
        """
        for v in verdicts:
            entry = _plain(v.to_record())
            if not entry.get("data"):
                entry["data"] = self.data_source
            self.claims.append(entry)

    def add_evidence(self, evidence: Any) -> None:
        """Keep per-sample evidence (:class:`oodlib.claims.Evidence`, one or a mapping/list of them)
        for the score file written beside the record."""
        items = evidence.values() if isinstance(evidence, Mapping) else evidence
        self.evidence.extend(items)

    def to_dict(self) -> dict[str, Any]:
        """The record as a JSON-ready dictionary (validated against the schema)."""
        out = {
            "schema_version": SCHEMA_VERSION,
            "notebook": self.notebook,
            "title": self.title,
            "parameters": _plain(self.parameters),
            "seed": self.seed,
            "data_source": self.data_source,
            "data_note": self.data_note,
            "metrics": self.metrics,
            "claims": [{**c, "smoke": True} if self.smoke else c for c in self.claims],
            **({"profile": self.profile} if self.profile else {}),
            **({"smoke": True} if self.smoke else {}),
            **({"scores_file": f"{self.notebook}.scores.npz"} if self.evidence else {}),
            "timings": {"total_s": time.perf_counter() - self._t0, "stages": dict(self.stages),
                        "peak_rss_mb": peak_rss_mb()},
            "versions": package_versions(),
            "code": git_state(),
            "threads": compute_threads(),
            "device": self.device,
            "created": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        }
        validate_record(out)
        return out

    def write(self, directory: str | Path | None = None) -> Path:
        """Write ``<directory>/<notebook>.json`` (default :func:`records_dir`); return its path.

        With evidence, ``<notebook>.scores.npz`` is written first, beside it. Both are
        written to a temporary file unique to this process and then renamed, so a
        reader never sees a half-written file.
        """
        folder = Path(directory) if directory is not None else records_dir()
        folder.mkdir(parents=True, exist_ok=True)
        if self.evidence:
            from .claims.evidence import save_evidence

            save_evidence(self.evidence, folder / f"{self.notebook}.scores.npz")
        path = folder / f"{self.notebook}.json"
        tmp = folder / f".{self.notebook}.{os.getpid()}.json.tmp"
        tmp.write_text(json.dumps(self.to_dict(), indent=2, sort_keys=False) + "\n", encoding="utf-8")
        tmp.replace(path)
        return path


def is_smoke_profile(profile: str) -> bool:
    """A profile whose name ends in ``-smoke`` (e.g. ``real-smoke``) runs smoke tests only."""
    return profile.endswith("-smoke")


def check_records(records: list[Mapping[str, Any]]) -> list[str]:
    """Problems that make records unfit for the scoreboard (empty list: all fine).

    Every claim names the data it was judged on; in a smoke record every claim is marked smoke.
    """
    problems = []
    for r in records:
        for c in r["claims"]:
            where = f"{r['notebook']} ({r['data_source']}): claim {c['claim']!r}"
            if not c.get("data"):
                problems.append(f"{where} does not say which data it was judged on")
            if r.get("smoke") and not c.get("smoke"):
                problems.append(f"{where} is in a smoke run but not marked smoke")
        if is_smoke_profile(r.get("profile", "")) and not r.get("smoke"):
            problems.append(f"{r['notebook']}: profile {r['profile']!r} is a smoke profile but the record is not marked smoke")
    return problems


def record_schema() -> dict[str, Any]:
    """The JSON schema of a results record."""
    return json.loads((Path(__file__).parent / "schemas" / "record.schema.json").read_text(encoding="utf-8"))


def validate_record(record: Mapping[str, Any]) -> None:
    """Raise ``jsonschema.ValidationError`` if ``record`` does not follow the schema."""
    import jsonschema

    jsonschema.validate(dict(record), record_schema())


def load_records(directory: str | Path | None = None) -> list[dict[str, Any]]:
    """All records in ``directory`` (default :func:`records_dir`), sorted by notebook name."""
    folder = Path(directory) if directory is not None else records_dir()
    out = []
    for path in sorted(folder.glob("*.json")):
        rec = json.loads(path.read_text(encoding="utf-8"))
        if "schema_version" in rec:
            validate_record(rec)
            out.append(rec)
    return out
