"""Result tables: the papers' published numbers (kept as data) beside ours.

The papers' numbers live in ``oodlib/paper_numbers/<paper>.yaml``, never in
prose. A file holds tables by id; each table has ``caption``, ``units``,
``index`` (row label name), ``columns`` and ``rows`` (row label -> values,
``null`` for a cell the paper leaves empty)::

    tables:
      table1a:
        caption: "P1 Table 1a: ID = VocalSound, MobileNet"
        units: percent
        index: ood_set
        columns: [msp_fpr95, msp_auroc]
        rows:
          Voxforge: [39.84, 94.22]
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml


PAPER_NUMBERS = Path(__file__).parent / "paper_numbers"


def _load(paper: str, folder: str | Path | None) -> dict[str, Any]:
    base = Path(folder) if folder is not None else PAPER_NUMBERS
    path = base / f"{paper}.yaml"
    if not path.is_file():
        raise FileNotFoundError(f"no published numbers for paper {paper!r}: {path} does not exist")
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def paper_table(paper: str, table: str, folder: str | Path | None = None) -> pd.DataFrame:
    """A published table as a DataFrame (rows x columns, NaN for empty cells).

    The caption and units are in ``df.attrs``.
    """
    data = _load(paper, folder)
    tables = data.get("tables", {})
    if table not in tables:
        raise KeyError(f"paper {paper!r} has no table {table!r}; it has {sorted(tables)}")
    t = tables[table]
    columns = list(t["columns"])
    for label, values in t["rows"].items():
        if len(values) != len(columns):
            raise ValueError(f"{paper}/{table} row {label!r} has {len(values)} values for {len(columns)} columns")
    df = pd.DataFrame.from_dict(t["rows"], orient="index", columns=columns, dtype=float)
    df.index.name = t.get("index", "row")
    df.attrs.update(caption=t.get("caption", ""), units=t.get("units", ""), paper=paper, table=table)
    return df


def paper_tables_of(paper: str, folder: str | Path | None = None) -> dict[str, pd.DataFrame]:
    """Every published table of ``paper`` (``{table id: DataFrame}``); empty when it has none on file."""
    base = Path(folder) if folder is not None else PAPER_NUMBERS
    if not (base / f"{paper}.yaml").is_file():
        return {}
    return {name: paper_table(paper, name, folder) for name in _load(paper, folder).get("tables", {})}


def headline_values(paper: str, metrics: Mapping[str, Any], folder: str | Path | None = None,
                    ) -> tuple[str, list[tuple[str, float | None, float | None]]]:
    """A paper's headline numbers beside this run's: ``(units, [(label, paper, ours), ...])``.

    Declared under ``headline`` in ``paper_numbers/<paper>.yaml`` (each item pairs a paper cell
    ``[table, row, column]`` with a path into the record's metrics). ``ours`` is ``None`` where
    this run did not produce the quantity (a model or setting left out); ``paper`` is ``None`` for
    an item the paper does not report. Returns ``("", [])`` for a paper without headline numbers.

    Raises:
        KeyError: a declared paper cell does not exist (a typo in the YAML file).
    """
    base = Path(folder) if folder is not None else PAPER_NUMBERS
    if not (base / f"{paper}.yaml").is_file():
        return "", []
    declared = _load(paper, folder).get("headline") or {}
    rows = []
    for item in declared.get("items", []):
        value = None
        if item.get("paper"):
            table, row, column = item["paper"]
            df = paper_table(paper, table, folder)
            if row not in df.index or column not in df.columns:
                raise KeyError(f"{paper}.yaml headline {item['label']!r}: no cell [{row!r}, {column!r}] in {table}")
            value = None if pd.isna(df.loc[row, column]) else float(df.loc[row, column])
        node: Any = metrics
        for key in item["ours"]:
            node = node.get(key) if isinstance(node, Mapping) else None
        rows.append((item["label"], value, float(node) if isinstance(node, (int, float)) else None))
    return declared.get("units", ""), rows


def side_by_side(paper: pd.DataFrame, ours: pd.DataFrame, labels: tuple[str, str] = ("paper", "ours")) -> pd.DataFrame:
    """Interleave the paper's and our columns: (column, "paper"), (column, "ours").

    Rows are the union of both tables' rows (missing cells are NaN); columns
    that only one side has are kept.
    """
    columns = list(dict.fromkeys([*paper.columns, *ours.columns]))
    index = list(dict.fromkeys([*paper.index, *ours.index]))
    pieces = {}
    for col in columns:
        pieces[(col, labels[0])] = paper[col].reindex(index) if col in paper else pd.Series(index=index, dtype=float)
        pieces[(col, labels[1])] = ours[col].reindex(index) if col in ours else pd.Series(index=index, dtype=float)
    out = pd.DataFrame(pieces, index=index)
    out.index.name = paper.index.name or ours.index.name
    return out


def format_table(df: pd.DataFrame, decimals: int = 2) -> Any:
    """A pandas Styler with fixed decimals and blank cells for NaN, for notebook display."""
    styles = [{"selector": "td, th", "props": "padding: 0.15em 0.6em; text-align: right"}]
    return df.style.format(precision=decimals, na_rep="-").set_table_styles(styles)


def select_group(df: pd.DataFrame, group: str) -> pd.DataFrame:
    """Columns named ``"<group> <metric>"`` renamed to ``<metric>`` (e.g. one dataset of a multi-dataset table)."""
    prefix = f"{group} "
    cols = [c for c in df.columns if str(c).startswith(prefix)]
    if not cols:
        groups = sorted({str(c).split(" ")[0] for c in df.columns})
        raise KeyError(f"no columns for {group!r}; groups are {groups}")
    out = df[cols].rename(columns=lambda c: str(c)[len(prefix):])
    out.attrs.update(df.attrs)
    return out


def as_record(df: pd.DataFrame) -> dict[str, dict[str, Any]]:
    """A table as results-record metrics, ``{row: {column: value}}``: the one way tables enter records.

    A MultiIndex row or column label is joined with ``"/"`` (``("far", "kNN")`` -> ``"far/kNN"``);
    a cell the run could not fill (NaN) is left out, never stored as a number.
    """
    def key(label: Any) -> str:
        return "/".join(map(str, label)) if isinstance(label, tuple) else str(label)

    return {key(r): {key(c): v for c, v in row.items() if not (np.isscalar(v) and pd.isna(v))}
            for r, row in df.iterrows()}
