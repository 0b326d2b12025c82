"""Evidence: the per-sample arrays a claim is judged on, and how they may be resampled.

An :class:`Evidence` holds arrays aligned on their first axis (one row per test sample:
a clip, an image, a pixel, ...), the name of the array whose values are resampled
separately (``stratify``: e.g. ID vs OOD, seen vs unseen, so every resample keeps the
set sizes) and, optionally, the name of the array that groups rows into resampling
units (``cluster``: e.g. the image id of each pixel, the machine of each clip).
``facts`` carries run-level values a claim may need (a detector collapsed, the ID
accuracy and chance level).

Evidence is saved beside the results record as one compressed ``.npz``
(``<notebook>.scores.npz``) so that claims can be re-judged across runs and seeds
without re-training, and so that a reader can recompute any number. Loading never
unpickles (``allow_pickle=False``).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

_NAME = re.compile(r"^[A-Za-z0-9_.\-+() ]+$")
_META = "__meta__"


@dataclass(frozen=True)
class Evidence:
    """Aligned per-sample arrays for one comparison.

    Attributes:
        name: identifier used in the score file, e.g. ``"far"`` or ``"test"``.
        arrays: name -> array of shape (n, ...); every array has the same n.
        stratify: name of the array whose distinct values are resampled separately.
        cluster: name of the array of resampling-unit ids (None: each row is a unit).
        unit: the resampling unit in words (``"sample"``, ``"image"``, ``"machine"``).
        facts: run-level numbers/flags (JSON-serialisable) that claims may check.
        data: the data source these rows come from (``"synthetic"``, a real set name).
    """

    name: str
    arrays: Mapping[str, np.ndarray]
    stratify: str | None = None
    cluster: str | None = None
    unit: str = "sample"
    facts: Mapping[str, Any] = field(default_factory=dict)
    data: str = "synthetic"

    def __post_init__(self) -> None:
        if not _NAME.match(self.name) or "/" in self.name:
            raise ValueError(f"evidence name {self.name!r} must be letters, digits, space or _.-+() (no '/')")
        if not self.arrays:
            raise ValueError(f"evidence {self.name!r} holds no arrays")
        arrays = {str(k): np.asarray(v) for k, v in self.arrays.items()}
        lengths = {k: v.shape[0] if v.ndim else -1 for k, v in arrays.items()}
        if len(set(lengths.values())) != 1 or -1 in lengths.values():
            raise ValueError(f"evidence {self.name!r}: arrays must share their first axis, got lengths {lengths}")
        for key in (self.stratify, self.cluster):
            if key is not None and key not in arrays:
                raise ValueError(f"evidence {self.name!r}: no array named {key!r} (has {sorted(arrays)})")
        for k, v in arrays.items():
            if v.dtype.kind == "f" and not np.isfinite(v).all():
                raise ValueError(f"evidence {self.name!r}: array {k!r} contains NaN or infinite values")
        object.__setattr__(self, "arrays", arrays)
        json.dumps(dict(self.facts))  # facts must be JSON-ready: fail now, not when saving

    @property
    def n(self) -> int:
        """Number of rows."""
        return int(next(iter(self.arrays.values())).shape[0])

    def strata(self) -> dict[str, np.ndarray]:
        """``{stratum value (as text): row indices}`` (one stratum ``"all"`` when not stratified)."""
        if self.stratify is None:
            return {"all": np.arange(self.n)}
        values = self.arrays[self.stratify]
        return {str(v): np.flatnonzero(values == v) for v in np.unique(values)}

    def units(self) -> dict[str, list[np.ndarray]]:
        """Per stratum, the row indices of each resampling unit (a row, or a cluster's rows)."""
        out = {}
        for s, rows in self.strata().items():
            if self.cluster is None:
                out[s] = [rows]  # marker: unit = row (fast path in the bootstrap)
            else:
                ids = self.arrays[self.cluster][rows]
                out[s] = [rows[ids == c] for c in np.unique(ids)]
        return out

    def unit_counts(self) -> dict[str, int]:
        """Number of resampling units per stratum."""
        return {s: (len(u[0]) if self.cluster is None else len(u)) for s, u in self.units().items()}

    def take(self, rows: np.ndarray) -> dict[str, np.ndarray]:
        """The arrays restricted to (possibly repeated) ``rows``."""
        return {k: v[rows] for k, v in self.arrays.items()}


def save_evidence(evidence: list[Evidence] | tuple[Evidence, ...], path: str | Path) -> Path:
    """Write every evidence set into one compressed ``.npz`` (keys ``<evidence>/<array>``)."""
    path = Path(path)
    names = [e.name for e in evidence]
    if len(set(names)) != len(names):
        raise ValueError(f"evidence names must be unique, got {names}")
    payload: dict[str, np.ndarray] = {}
    meta = {}
    for e in evidence:
        for k, v in e.arrays.items():
            if v.dtype.kind == "O":
                raise ValueError(f"evidence {e.name!r}: array {k!r} has dtype object; use numbers or fixed strings")
            payload[f"{e.name}/{k}"] = v
        meta[e.name] = {"stratify": e.stratify, "cluster": e.cluster, "unit": e.unit, "facts": dict(e.facts),
                        "data": e.data, "arrays": list(e.arrays)}
    payload[_META] = np.array(json.dumps(meta))
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp.npz")
    np.savez_compressed(tmp, **payload)
    tmp.replace(path)
    return path


def load_evidence(path: str | Path) -> dict[str, Evidence]:
    """Read a score file written by :func:`save_evidence`: ``{name: Evidence}``."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"score file {path} does not exist")
    with np.load(path, allow_pickle=False) as z:
        if _META not in z.files:
            raise ValueError(f"{path} is not an oodlib score file (no {_META} entry)")
        meta = json.loads(str(z[_META]))
        out = {}
        for name, m in meta.items():
            arrays = {k: z[f"{name}/{k}"] for k in m["arrays"]}
            out[name] = Evidence(name, arrays, m["stratify"], m["cluster"], m["unit"], m["facts"], m.get("data", ""))
    return out
