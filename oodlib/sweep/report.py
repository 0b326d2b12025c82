"""A sweep summary's metrics as a results-page table: mean and 95% interval over runs, the paper beside."""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping
from typing import Any


def is_sweep_summary(record: Mapping[str, Any]) -> bool:
    """True for a sweep summary record (:func:`oodlib.sweep.summary.summary_record`): it lists its seeds."""
    return isinstance(record.get("parameters"), Mapping) and "seeds" in record["parameters"]


def _is_interval(node: Any) -> bool:
    return isinstance(node, Mapping) and "mean" in node and "n_runs" in node and not isinstance(node["mean"], list)


def metric_rows(metrics: Mapping[str, Any], path: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], Mapping[str, Any]]]:
    """``(path, {"mean", "n_runs", "sd"?, "low"?, "high"?})`` for every scalar metric of a summary, in order.

    Per-position list metrics (curves) and values equal in every run (text, flags) are not rows.
    """
    for key, node in metrics.items():
        if _is_interval(node):
            yield (*path, str(key)), node
        elif isinstance(node, Mapping) and "mean" not in node:
            yield from metric_rows(node, (*path, str(key)))


def _lookup(tree: Mapping[str, Any], path: tuple[str, ...]) -> float | None:
    node: Any = tree
    for key in path:
        if not isinstance(node, Mapping) or key not in node:
            return None
        node = node[key]
    return float(node) if isinstance(node, (int, float)) and not isinstance(node, bool) else None


def _num(x: float | None, decimals: int = 2) -> str:
    return "-" if x is None or not math.isfinite(x) else f"{x:.{decimals}f}"


def metrics_table(record: Mapping[str, Any]) -> str:
    """A markdown table of a sweep summary: metric, the paper's value, mean, 95% interval, sd, runs.

    The paper column is filled where the summary carries ``paper_metrics`` for that cell (same
    table, row and column names); a row of ours that is not the paper's stays "-".
    """
    paper = record.get("paper_metrics") or {}
    lines = ["| metric | paper | mean over runs | 95% interval | sd | runs |", "|---|---|---|---|---|---|"]
    for path, agg in metric_rows(record.get("metrics", {})):
        interval = f"[{_num(agg['low'])}, {_num(agg['high'])}]" if "low" in agg else "-"
        lines.append(f"| {' / '.join(path)} | {_num(_lookup(paper, path))} | {_num(agg['mean'])} | {interval} | "
                     f"{_num(agg.get('sd'))} | {agg['n_runs']} |")
    return "\n".join(lines) + "\n"


def sweeps_markdown(records: list[Mapping[str, Any]]) -> str:
    """The results page's sweep section: one metrics table per sweep summary ("" when there is none)."""
    sweeps = [r for r in records if is_sweep_summary(r)]
    if not sweeps:
        return ""
    parts = ["## Sweeps: metrics over seeds", "",
             "Each table summarises one sweep (`oodlib sweep`): every metric of its runs as the mean over runs "
             "with a 95% Student-t interval, the runs' standard deviation and their number. *paper* is the "
             "published value of the same table cell for these parameters (for P3, the cell of the same dataset), "
             "measured on the paper's data: beside a sweep on other data it is context, not a target. With few "
             "runs the t-interval is wide and is not clipped to a metric's range (a percentage's interval can "
             "reach below 0). The claims of each sweep, judged over all its seeds with a two-level bootstrap "
             "(seeds, then test samples), are in the scoreboard below (`n_seeds`).", ""]
    for r in sorted(sweeps, key=lambda r: (r["notebook"], r.get("title", ""))):
        params = ", ".join(f"{k}={v}" for k, v in r["parameters"].items() if k != "seeds")
        parts += [f"### {r.get('title') or r['notebook']}", "",
                  f"Data: {r['data_source']}; seeds {', '.join(map(str, r['parameters']['seeds']))}; "
                  f"parameters: {params or 'the notebook defaults'}; record: {r.get('_build', 'this build')}.", "",
                  metrics_table(r)]
    return "\n".join(parts) + "\n"
