"""DCASE anomalous sound detection layouts (P2): file-name parsing and folder loading.

Layout: ``<root>/<machine>/{train,test}/<file>.wav``. File names carry the labels:

* DCASE2023 Task 2 (dev, and eval training clips):
  ``section_<ss>_<source|target>_<train|test>_<normal|anomaly>_<idx>_<attributes>.wav``
  (attributes differ per machine, e.g. ``car_C2_spd_34V_mic_1``, ``vel_9_loc_A``, may be empty);
* DCASE2023 Task 2 eval test clips: ``section_<ss>_<idx>.wav`` (domain and label unknown: the
  ground truth is published separately);
* DCASE2020 Task 2: ``<normal|anomaly>_id_<ss>_<idx>.wav`` (no domains: reported as "source").

:func:`load_dcase` returns one row per clip; a ``.wav`` whose name matches none of these raises
``ValueError`` naming the file, so no clip is silently dropped.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from pathlib import Path

import pandas as pd

_DCASE2023 = re.compile(
    r"^section_(?P<section>\d+)_(?P<domain>source|target)_(?P<split>train|test)_(?P<label>normal|anomaly)"
    r"_(?P<index>\d+)(?:_(?P<attributes>.*))?$"
)
_DCASE2023_EVAL_TEST = re.compile(r"^section_(?P<section>\d+)_(?P<index>\d+)$")
_DCASE2020 = re.compile(r"^(?P<label>normal|anomaly)_id_(?P<section>\d+)_(?P<index>\d+)$")


@dataclass(frozen=True)
class DcaseName:
    """Fields of one clip's file name. ``domain``/``label`` are None when the name hides them."""

    section: str
    domain: str | None
    label: str | None
    index: int
    attributes: str


def parse_dcase_name(name: str) -> DcaseName:
    """Parse a DCASE2023 or DCASE2020 Task 2 file name (with or without ``.wav``)."""
    stem = Path(name).name
    stem = stem[:-4] if stem.lower().endswith(".wav") else stem
    if m := _DCASE2023.match(stem):
        return DcaseName(m["section"], m["domain"], m["label"], int(m["index"]), m["attributes"] or "")
    if m := _DCASE2023_EVAL_TEST.match(stem):
        return DcaseName(m["section"], None, None, int(m["index"]), "")
    if m := _DCASE2020.match(stem):
        return DcaseName(m["section"], "source", m["label"], int(m["index"]), "")
    raise ValueError(
        f"{name!r} is not a DCASE Task 2 file name: expected "
        "section_<ss>_<source|target>_<train|test>_<normal|anomaly>_<idx>[_<attributes>].wav, "
        "section_<ss>_<idx>.wav or <normal|anomaly>_id_<ss>_<idx>.wav"
    )


def load_dcase(root: str | Path, machines: list[str] | None = None) -> pd.DataFrame:
    """Every clip under ``root/<machine>/{train,test}``: one row each, sorted by path.

    Columns: ``path``, ``machine``, ``split`` (the folder), ``section``, ``domain``, ``label``
    ("normal"/"anomaly"/None), ``is_anomaly`` (bool, NA when unknown), ``index``, ``attributes``.
    Raises ``FileNotFoundError`` for a missing root or machine folder and ``ValueError`` for an
    unparsable file name.
    """
    root = Path(root)
    if not root.is_dir():
        raise FileNotFoundError(f"DCASE data: expected a folder at {root}")
    found = sorted(p.name for p in root.iterdir() if (p / "train").is_dir() or (p / "test").is_dir())
    if machines is None:
        machines = found
    missing = [m for m in machines if m not in found]
    if missing:
        raise FileNotFoundError(f"DCASE data at {root}: no machine folder(s) {missing}; found {found}")
    rows = []
    for machine in machines:
        for split in ("train", "test"):
            folder = root / machine / split
            if not folder.is_dir():
                continue
            for wav in sorted(folder.glob("*.wav")):
                fields = parse_dcase_name(wav.name)
                rows.append({"path": str(wav), "machine": machine, "split": split, **asdict(fields)})
    if not rows:
        raise FileNotFoundError(f"DCASE data at {root}: no .wav clips under <machine>/train or <machine>/test")
    df = pd.DataFrame(rows)
    df["is_anomaly"] = df["label"].map({"normal": False, "anomaly": True}).astype("boolean")
    return df.sort_values("path", ignore_index=True)
