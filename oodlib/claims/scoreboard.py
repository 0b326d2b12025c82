"""The claims scoreboard: every paper claim x every data source that was run, from records.

It reads results records only (``_build/records/*.json`` of any build), so it is right
for the default build, the real-data build or a user's own runs. Claims judged by
:mod:`oodlib.claims` show effect and interval; claims still decided by a point
comparison in a notebook say so.
"""

from __future__ import annotations

from dataclasses import dataclass

from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd

from .claim import VERDICTS, Verdict

def verdict_table(verdicts: Sequence[Verdict]) -> pd.DataFrame:
    """A notebook-ready table of judged claims: verdict, effect with interval, margin, paper."""
    rows = []
    for v in verdicts:
        iv, c = v.interval, v.claim
        rows.append({
            "claim": c.statement, "verdict": v.verdict, "effect": c.label,
            "estimate": "-" if iv is None else f"{iv.point:+.2f}",
            "interval": "-" if iv is None or not iv.defined else f"[{iv.low:+.2f}, {iv.high:+.2f}]",
            "rule": f"{'>' if c.direction == 'greater' else '<' if c.direction == 'less' else '±'} {c.margin:g} {c.units}",
            "paper": "-" if c.paper_effect is None else f"{c.paper_effect:+.2f}",
            "note": v.reason,
        })
    return pd.DataFrame(rows)


@dataclass(frozen=True)
class VerdictCounts:
    """How many of a run's verdicts are of each kind (for a notebook's summary sentence)."""

    supported: int
    not_supported: int
    inconclusive: int
    not_run: int

    @property
    def total(self) -> int:
        return self.supported + self.not_supported + self.inconclusive + self.not_run


def verdict_counts(verdicts: Sequence[Verdict]) -> VerdictCounts:
    """:class:`VerdictCounts` of ``verdicts``."""
    kinds = [v.verdict for v in verdicts]
    return VerdictCounts(*(kinds.count(k) for k in ("supported", "not supported", "inconclusive", "not run")))


def show_verdicts(verdicts: Sequence[Verdict]) -> Any:
    """:func:`verdict_table` for a notebook: full claim texts (no truncation), left-aligned, no index."""
    styles = [{"selector": "td, th", "props": "text-align: left; padding: 0.15em 0.6em; vertical-align: top"}]
    return verdict_table(verdicts).style.hide(axis="index").set_table_styles(styles)


def cell(claim: Mapping[str, Any]) -> str:
    """One scoreboard cell: the verdict, then effect and interval (or why there is none).

    A smoke-test verdict is prefixed "smoke:" (it exercised the code path, it is not evidence); a
    claim judged on other data than its record's column says which.
    """
    text = ("smoke: " if claim.get("smoke") else "") + f"**{claim['verdict']}**"
    if claim.get("interval"):
        lo, hi = claim["interval"]
        seeds = claim.get("n_seeds", 1)
        text += f" {claim['effect']:+.2f} [{lo:+.2f}, {hi:+.2f}]" + (f" ({seeds} seeds)" if seeds > 1 else "")
    elif claim.get("reason"):
        text += f" ({claim['reason']})"
    elif "interval" not in claim:
        text += " (point comparison, no interval)"
    if claim.get("data") and claim.get("_column") and claim["data"] != claim["_column"]:
        text += f" (judged on {claim['data']})"
    return text


def rule_text(claim: Mapping[str, Any]) -> str:
    """A recorded claim's rule, e.g. ``"> 1 AUROC points"``; ``"-"`` for a claim without a margin."""
    if "margin" not in claim:
        return "-"
    sign = {"greater": ">", "less": "<", "within": "±"}[claim["direction"]]
    return f"{sign} {claim['margin']:g} {claim.get('units', '')}".strip()


def column(record: Mapping[str, Any]) -> str:
    """The scoreboard column of a record: its data source, marked when it is a smoke test."""
    return record["data_source"] + (" (smoke)" if record.get("smoke") else "")


def _latest(records: Sequence[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """One record per (notebook, data source): the most recently created."""
    best: dict[tuple[str, str], Mapping[str, Any]] = {}
    for r in records:
        key = (r["notebook"], column(r))
        if key not in best or r.get("created", "") > best[key].get("created", ""):
            best[key] = r
    return list(best.values())


def scoreboard(records: Sequence[Mapping[str, Any]]) -> dict[str, pd.DataFrame]:
    """Per notebook, a table: one row per claim, one column per data source, plus the paper's value."""
    out: dict[str, pd.DataFrame] = {}
    for nb in sorted({r["notebook"] for r in records}):
        rows: dict[str, dict[str, str]] = {}
        for r in sorted((r for r in _latest(records) if r["notebook"] == nb), key=column):
            for c in r["claims"]:
                key = c.get("id", c["claim"])
                row = rows.setdefault(key, {"claim": c["claim"]})
                row[column(r)] = cell({**c, "_column": r["data_source"]})
                if "paper_effect" in c:
                    row["paper"] = f"{c['paper_effect']:+.2f} {c.get('units', '')}".strip()
                if "margin" in c:
                    row["rule"] = rule_text(c)
        if rows:
            out[nb] = pd.DataFrame(list(rows.values())).fillna("-")
    return out


def tally(records: Sequence[Mapping[str, Any]]) -> pd.DataFrame:
    """Verdict counts per (notebook, data source)."""
    rows = []
    for r in _latest(records):
        counts = {v: sum(c["verdict"] == v for c in r["claims"]) for v in VERDICTS}
        with_ci = sum(bool(c.get("interval")) for c in r["claims"])
        rows.append({"notebook": r["notebook"], "data": column(r), **counts, "with interval": with_ci,
                     "claims": len(r["claims"])})
    cols = ["notebook", "data", *VERDICTS, "with interval", "claims"]
    return pd.DataFrame(rows, columns=cols).sort_values(["notebook", "data"]).reset_index(drop=True)


def _markdown(df: pd.DataFrame) -> str:
    cols = list(df.columns)
    lines = ["| " + " | ".join(map(str, cols)) + " |", "|" + "---|" * len(cols)]
    for _, row in df.iterrows():
        lines.append("| " + " | ".join(str(row[c]).replace("|", "\\|").replace("\n", " ") for c in cols) + " |")
    return "\n".join(lines)


def scoreboard_markdown(records: Sequence[Mapping[str, Any]]) -> str:
    """The results page's scoreboard: the tally, then one table per notebook."""
    if not records:
        return "No records were found: run `make book` to produce them.\n"
    parts = ["## Scoreboard", "",
             "Each cell: the verdict, then the effect and its 95% bootstrap interval in the claim's units. "
             "The rule column is the margin fixed before the run; *paper* is the paper's own value of the "
             "same effect where it reports one.", "", _markdown(tally(records)), ""]
    titles = {r["notebook"]: r.get("title") or r["notebook"] for r in records}
    for nb, df in scoreboard(records).items():
        parts += [f"### {titles[nb]}", "", _markdown(df), ""]
    return "\n".join(parts)
