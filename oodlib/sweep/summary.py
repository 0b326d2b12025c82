"""A sweep's summary: metrics over runs (mean and t-interval), claims judged across the runs.

A notebook in :data:`CLAIMS_REGISTRY` has its claims re-judged on every done run's evidence
(multi-seed bootstrap); any other notebook's recorded verdicts are counted.
"""

from __future__ import annotations

import datetime as dt
import importlib
import json
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .plan import RunSpec
from .store import _write_json, run_state

@dataclass(frozen=True)
class Declared:
    """Where a notebook's declarations live, each as ``"module:name"``.

    ``config``: its configuration class; ``claims``: its claims function (config -> claims);
    ``paper_tables``: optionally, config -> ``{record table: the paper's table}`` (same rows and
    columns as the notebook's ``record.add_table`` tables), shown beside the sweep's means.
    """

    config: str
    claims: str
    paper_tables: str | None = None


#: notebook stem -> its declarations; these notebooks' claims are re-judged across the sweep's runs
#: (multi-seed bootstrap); any other notebook's recorded verdicts are counted instead
#: (:func:`count_legacy_claims`)
CLAIMS_REGISTRY: dict[str, Declared] = {
    "00_tour": Declared("oodlib.papers.tour.config:TourConfig", "oodlib.papers.tour.claims:claims"),
    "p1_audio_knn": Declared("oodlib.papers.p1_audio_knn.config:P1Config", "oodlib.papers.p1_audio_knn.claims:claims"),
    "p2_genrep": Declared("oodlib.papers.p2_genrep.config:P2Config", "oodlib.papers.p2_genrep.claims:claims"),
    "p3_av_ood": Declared("oodlib.papers.p3_av_ood.config:P3Config", "oodlib.papers.p3_av_ood.claims:claims",
                          "oodlib.papers.p3_av_ood.tables:paper_tables"),
    "p4_vae_auggan": Declared("oodlib.papers.p4_vae_auggan.config:P4Config", "oodlib.papers.p4_vae_auggan.claims:claims",
                              "oodlib.papers.p4_vae_auggan.tables:paper_tables"),
    "p5_dense_knn": Declared("oodlib.papers.p5_dense_knn.config:P5Config", "oodlib.papers.p5_dense_knn.claims:claims"),
}


def _resolve(target: str) -> Any:
    module, _, attr = target.partition(":")
    return getattr(importlib.import_module(module), attr)


def claims_for(stem: str) -> tuple[type, Callable[[Any], list]] | None:
    """``(configuration class, claims function)`` of a notebook in :data:`CLAIMS_REGISTRY`, else ``None``."""
    entry = CLAIMS_REGISTRY.get(stem)
    return None if entry is None else (_resolve(entry.config), _resolve(entry.claims))


def paper_metrics(stem: str, values: Mapping[str, Any]) -> dict[str, Any]:
    """The paper's published values of the notebook's record tables for these parameters
    (``{table: {row: {column: value}}}``, cells the paper leaves empty left out); ``{}`` if none."""
    from ..tables import as_record

    entry = CLAIMS_REGISTRY.get(stem)
    if entry is None or entry.paper_tables is None:
        return {}
    cfg = _resolve(entry.config).from_params(dict(values))
    return {name: as_record(df) for name, df in _resolve(entry.paper_tables)(cfg).items()}


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
    from ..claims import judge
    from ..records import _plain

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
    from ..claims import load_evidence

    run_dir = folder / spec.run_id
    record = json.loads((run_dir / f"{spec.stem}.json").read_text(encoding="utf-8"))
    scores = run_dir / f"{spec.stem}.scores.npz"
    return record, (load_evidence(scores) if scores.is_file() else None)


def summary_record(name: str, specs: Sequence[RunSpec], records: Sequence[Mapping[str, Any]],
                   evidence: Sequence[Mapping[str, Any] | None]) -> dict[str, Any]:
    """The sweep summary of one parameter group's done runs, in the results record schema."""
    from ..records import SCHEMA_VERSION, validate_record

    first, stem = records[0], specs[0].stem
    seeds = [s.seed for s in specs]
    common = {k: v for k, v in specs[0].values.items() if k != "seed"}
    smoke = any(r.get("smoke") for r in records)
    if claims_for(stem) is not None:
        claims = judge_runs(stem, specs[0].values, [e for e in evidence if e is not None], seed=seeds[0])
        sources = ", ".join(dict.fromkeys(r["data_source"] for r in records))
        claims = [{**c, "data": c.get("data") or sources} for c in claims]  # a claim no run judged names the runs' data
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
    published = paper_metrics(stem, specs[0].values)
    if published:
        out["paper_metrics"] = published
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
