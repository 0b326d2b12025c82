"""What the book adds to each executed notebook page: provenance, downloads and the page's verdicts.

:func:`decorate_page` edits the staged copy of an executed notebook (never ``_build/notebooks``):

* under the title, a box made from that run's record: which data (a synthetic run says so in its
  first line), the command that reproduces the page, seed, commit, key package versions, device,
  wall time and peak memory, and download links;
* at the bottom, the page's claims with their verdicts and intervals.

:func:`write_downloads` puts the files those links point to in the staged sources: the record
(JSON), its score file, every table the record holds as CSV (:func:`record_tables`), and the
paper's published tables as CSV.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from .provenance import reproduce_command

#: packages named in the provenance box (all versions stay in the record)
BOX_PACKAGES = ("python", "torch", "numpy", "scikit-learn", "faiss-cpu")
DOWNLOADS_DIR = "downloads"


@dataclass(frozen=True)
class Download:
    """One file offered on a page: its label and its path relative to the staged sources' root."""

    label: str
    path: str


def _scalar(value: Any) -> bool:
    return isinstance(value, (int, float, str, bool)) or value is None


def record_tables(metrics: Mapping[str, Any], path: tuple[str, ...] = ()) -> dict[str, pd.DataFrame]:
    """Every table in a record's metrics, ``{"table1" or "sweep/keywords": DataFrame}``.

    A table is a mapping of rows to mappings of scalars (what :func:`oodlib.tables.as_record`
    writes); other nodes are searched for tables below them.
    """
    found: dict[str, pd.DataFrame] = {}
    rows = [v for v in metrics.values()]
    if path and rows and all(isinstance(r, Mapping) and r and all(_scalar(x) for x in r.values()) for r in rows):
        df = pd.DataFrame.from_dict({k: dict(v) for k, v in metrics.items()}, orient="index")
        df.index.name = "row"
        return {"/".join(path): df}
    for key, value in metrics.items():
        if isinstance(value, Mapping):
            found.update(record_tables(value, (*path, str(key))))
    return found


def _file_name(name: str) -> str:
    return "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in name)


def write_downloads(record: Mapping[str, Any], records_dir: Path, src: Path) -> list[Download]:
    """Copy ``record``'s files and its tables (CSV) to ``src/downloads/<notebook>/``; list them.

    The paper's published tables (``oodlib/paper_numbers/<paper>.yaml``) come along as CSV for
    the paper notebooks (``p1_...`` -> ``p1``).
    """
    from .tables import paper_tables_of

    stem = record["notebook"]
    dest = src / DOWNLOADS_DIR / stem
    dest.mkdir(parents=True, exist_ok=True)
    rel = f"{DOWNLOADS_DIR}/{stem}"
    out = [Download("record (JSON)", f"{rel}/{stem}.json")]
    shutil.copy2(records_dir / f"{stem}.json", dest / f"{stem}.json")
    scores = record.get("scores_file")
    if scores and (records_dir / scores).is_file():
        shutil.copy2(records_dir / scores, dest / scores)
        out.append(Download("scores (NumPy .npz)", f"{rel}/{scores}"))
    for name, table in record_tables(record.get("metrics", {})).items():
        file = f"ours_{_file_name(name)}.csv"
        table.to_csv(dest / file)
        out.append(Download(f"{name} (CSV)", f"{rel}/{file}"))
    for name, table in paper_tables_of(stem.split("_")[0]).items():
        file = f"paper_{_file_name(name)}.csv"
        table.to_csv(dest / file)
        out.append(Download(f"paper's {name} (CSV)", f"{rel}/{file}"))
    return out


def _link(d: Download, page_depth: int = 1) -> str:
    return f"{{download}}`{d.label} <{'../' * page_depth}{d.path}>`"


def _duration(seconds: float) -> str:
    return f"{seconds:.0f} s" if seconds < 120 else f"{seconds / 60:.1f} min"


def provenance_markdown(record: Mapping[str, Any], notebook: Path, downloads: Sequence[Download],
                        profile: str = "") -> str:
    """The box under a page's title (MyST): what data, how to reproduce, which code, how long."""
    synthetic = record["data_source"] == "synthetic"
    title = ("Synthetic stand-in data: the numbers on this page are not the paper's numbers" if synthetic
             else f"Real data: {record['data_source']}")
    code = record.get("code") or {}
    commit = f"`{code['commit'][:10]}`" if code.get("commit") else "unknown (not run from a git checkout)"
    if code.get("uncommitted_changes"):
        commit += " with uncommitted changes"
    versions = record.get("versions", {})
    packages = ", ".join(f"{p} {versions[p]}" for p in BOX_PACKAGES if p in versions)
    timings = record.get("timings", {})
    profile_text = f"`{profile}`" + (" (`make book`)" if profile == "default" else "") if profile else "-"
    lines = [
        f"**Data** {record['data_source']}: {record.get('data_note') or 'no note'}",
        f"**Reproduce** `{reproduce_command(record, notebook)}`",
        f"**Seed** {record['seed']} · **device** {record.get('device') or 'not recorded'} · **torch threads** "
        f"{record.get('threads') or 'not recorded'} · **wall time** "
        f"{_duration(timings.get('total_s', 0.0))} · **peak memory** {timings.get('peak_rss_mb', 0.0) / 1024:.1f} GB",
        f"**Code** commit {commit} · {packages}",
        f"**Profile** {profile_text} · record written {record.get('created', '')}",
    ]
    if downloads:
        lines.append("**Downloads** " + " · ".join(_link(d) for d in downloads))
    kind = "warning" if synthetic else "note"
    return f":::{{admonition}} {title}\n:class: {kind} provenance\n\n" + " \\\n".join(lines) + "\n:::\n"


def verdicts_markdown(record: Mapping[str, Any]) -> str:
    """The page's claims, verdict first, with effect and 95% interval (or why there is none)."""
    from .claims.scoreboard import cell, rule_text

    claims = record.get("claims", [])
    if not claims:
        return ""
    lines = ["## Claims judged on this page", "",
             f"From this run's record ({record['data_source']} data). Each verdict is the claim's 95% "
             "bootstrap interval set against the margin fixed before the run (the *rule*); *paper* is "
             "the paper's own value of the same effect where it reports one.", "",
             "| claim | verdict, effect [95% interval] | rule | paper |", "|---|---|---|---|"]
    for c in claims:
        paper = f"{c['paper_effect']:+.2f}" if c.get("paper_effect") is not None else "-"
        text = [c["claim"], cell(c), rule_text(c), paper]
        lines.append("| " + " | ".join(t.replace("|", "\\|").replace("\n", " ") for t in text) + " |")
    return "\n".join(lines) + "\n"


def _markdown_cell(text: str, cell_id: str) -> dict[str, Any]:
    return {"cell_type": "markdown", "id": cell_id, "metadata": {}, "source": text.splitlines(keepends=True)}


def decorate_page(page: Path, record: Mapping[str, Any], source_notebook: Path, downloads: Sequence[Download],
                  profile: str = "") -> None:
    """Put the provenance box under ``page``'s title and the verdicts at its bottom (in place),
    before the notebook's ``## Exercises`` section when it has one.

    The title (the first cell's ``# ...`` line) stays the first line of the page.
    """
    nb = json.loads(page.read_text(encoding="utf-8"))
    first = nb["cells"][0]
    lines = "".join(first["source"]).splitlines(keepends=True)
    if first["cell_type"] != "markdown" or not lines or not lines[0].startswith("# "):
        raise ValueError(f"{page.name}: the first cell must be markdown starting with the '# title' line")
    first["source"] = lines[1:]
    cells = [_markdown_cell(lines[0], "oodlib-title"),
             _markdown_cell(provenance_markdown(record, source_notebook, downloads, profile), "oodlib-provenance"),
             *nb["cells"]]
    verdicts = verdicts_markdown(record)
    if verdicts:  # after the notebook's content, before its exercises (which end the page)
        at = next((i for i, c in enumerate(cells) if c["cell_type"] == "markdown"
                   and "".join(c["source"]).lstrip().startswith("## Exercises")), len(cells))
        cells.insert(at, _markdown_cell(verdicts, "oodlib-verdicts"))
    nb["cells"] = cells
    page.write_text(json.dumps(nb, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
