"""The paper's tables and figure data, built from :func:`.experiments.evaluate_variants` and
:func:`.experiments.low_shot` results (percent, like the paper).

Every builder takes ``how`` (``"oracle"``: each machine's best layer on the test set, as the paper
reports; ``"fixed"``: one layer for every machine) and ``fixed_layer``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from ...tables import paper_table
from .evaluate import choose_layers, official_score, summarize

if TYPE_CHECKING:
    from .run import P2Result

HOWS = ("fixed", "oracle")
#: column-group labels of the two layer choices, the honest one first
HOW_LABELS = {"fixed": "fixed layer", "oracle": "oracle layer (chosen on the test set)"}


def variant_rows(results: pd.DataFrame, pooling: str = "temporal", mix_ks: int = 0,
                 normalization: str = "transductive") -> pd.DataFrame:
    """The rows of one variant (possibly none); ``mix_ks`` 0 means no MemMixup."""
    return results[(results["pooling"] == pooling) & (results["mix_ks"] == mix_ks) & (results["normalization"] == normalization)]


def _select(results: pd.DataFrame, pooling: str = "temporal", mix_ks: int = 0, normalization: str = "transductive") -> pd.DataFrame:
    """The rows of one variant; ``ValueError`` when it was not run."""
    sel = variant_rows(results, pooling, mix_ks, normalization)
    if sel.empty:
        raise ValueError(f"no results for pooling={pooling}, mix_ks={mix_ks}, normalization={normalization}")
    return sel


def table1(results: pd.DataFrame, mix_ks: Sequence[int], how: str, fixed_layer: int,
           normalization: str = "transductive") -> tuple[pd.DataFrame, dict[int, float]]:
    """Per-machine AUC/pAUC for each Ks (columns ``GenRep-<Ks> AUC/pAUC``), the "All" and "Domain"
    summary rows (harmonic means over machines), and the official score per Ks."""
    cols, official = {}, {}
    for ks in mix_ks:
        chosen = choose_layers(_select(results, mix_ks=ks, normalization=normalization), how, fixed_layer).set_index("machine")
        s = summarize(chosen.reset_index())
        auc = chosen["auc"].to_dict() | {"All (AUC / pAUC)": s["auc"], "Domain (source AUC / target AUC)": s["auc_source"]}
        pauc = chosen["pauc"].to_dict() | {"All (AUC / pAUC)": s["pauc"], "Domain (source AUC / target AUC)": s["auc_target"]}
        cols[f"GenRep-{ks} AUC"], cols[f"GenRep-{ks} pAUC"] = auc, pauc
        cols[f"GenRep-{ks} layer"] = chosen["layer"].to_dict()
        official[ks] = 100 * s["official"]
    df = pd.DataFrame(cols)
    num = [c for c in df.columns if not c.endswith("layer")]
    df[num] *= 100
    df.index.name = "machine"
    return df, official


def table2(results: pd.DataFrame, ks: int, how: str, fixed_layer: int) -> pd.DataFrame:
    """DN (none / transductive / inductive) x MemMixup (off / Ks) -> source AUC, target AUC, pAUC,
    official score. Variants that were not run (e.g. MemMixup without target clips) are left out."""
    rows = {}
    for norm in ("none", "transductive", "inductive"):
        for mix in (0, ks):
            sel = variant_rows(results, mix_ks=mix, normalization=norm)
            if sel.empty:
                continue
            s = summarize(choose_layers(sel, how, fixed_layer))
            dn = "no DN" if norm == "none" else f"DN ({norm})"
            rows[f"{dn} / {'MemMixup' if mix else 'no MemMixup'}"] = {
                "source AUC": s["auc_source"], "target AUC": s["auc_target"], "pAUC": s["pauc"], "official score": s["official"]}
    df = 100 * pd.DataFrame(rows).T
    df.index.name = "DN / MemMixup"
    return df


def table3(results: pd.DataFrame, low: pd.DataFrame | None, how: str, fixed_layer: int,
           dims: dict[str, int]) -> pd.DataFrame:
    """Pooling comparison: DCASE2023-style AUC/pAUC (DN, no MemMixup; harmonic means over machines)
    and, when ``low`` holds spatial/spectral/temporal full-shot label-free rows, DCASE2020-style
    (arithmetic means over machines, as the paper's DCASE2020 numbers)."""
    rows = {}
    for pooling in ("spatial", "spectral", "temporal"):
        if pooling not in set(results["pooling"]):
            continue
        s = summarize(choose_layers(_select(results, pooling=pooling), how, fixed_layer))
        row = {"dim (ours)": dims.get(pooling, np.nan), "DCASE2023-style AUC": 100 * s["auc"], "DCASE2023-style pAUC": 100 * s["pauc"]}
        if low is not None and "pooling" in low and pooling in set(low["pooling"]):
            lo = low[(low["pooling"] == pooling) & (low["shots"] == "full") & (low["setting"] == "label-free")]
            chosen = choose_layers(lo, how, fixed_layer, criterion="oc")
            row |= {"DCASE2020-style AUC": 100 * chosen["auc"].mean(), "DCASE2020-style pAUC": 100 * chosen["pauc"].mean()}
        rows[pooling] = row
    df = pd.DataFrame(rows).T
    df.index.name = "pooling"
    return df


def table4(low: pd.DataFrame, how: str, fixed_layer: int) -> pd.DataFrame:
    """Low-shot: mean over seeds of the arithmetic mean over machines of AUC and pAUC, per shot
    setting and label use, rows ordered by training-set size. Oracle layers are chosen per machine, seed and setting by (AUC+pAUC)/2,
    as the reference code does."""
    low = low[low["pooling"] == "temporal"] if "pooling" in low else low
    rows = []
    for (shots, seed, setting), g in low.groupby(["shots", "seed", "setting"], sort=False):
        chosen = choose_layers(g, how, fixed_layer, criterion="oc")
        rows.append({"shots": shots, "seed": seed, "setting": setting, "auc": chosen["auc"].mean(),
                     "pauc": chosen["pauc"].mean(), "n_train": int(g["n_train"].iloc[0])})
    per_seed = pd.DataFrame(rows)
    order = per_seed.groupby("shots", sort=False)["n_train"].mean().sort_values(kind="stable").index
    agg = per_seed.groupby(["shots", "setting"], sort=False).agg(auc=("auc", "mean"), pauc=("pauc", "mean"),
                                                                   auc_sd=("auc", "std"), seeds=("seed", "nunique"),
                                                                   n_train=("n_train", "mean"))
    wide = agg.unstack("setting").loc[order]
    out = pd.DataFrame(index=wide.index)
    for setting in ("label-free", "label"):
        if ("auc", setting) in wide:
            out[f"{setting} AUC"] = 100 * wide[("auc", setting)]
            out[f"{setting} pAUC"] = 100 * wide[("pauc", setting)]
            out[f"{setting} AUC sd"] = 100 * wide[("auc_sd", setting)]
    out["seeds"] = wide["seeds"].max(axis=1)  # the same in every setting that ran
    out["clips per machine"] = wide["n_train"].max(axis=1)
    out.index.name = "shots"
    return out


def layer_curve(results: pd.DataFrame, variants: dict[str, tuple[int, str]]) -> pd.DataFrame:
    """Official score (percent) per layer for named (mix_ks, normalization) temporal variants."""
    out = {}
    for name, (ks, norm) in variants.items():
        sel = variant_rows(results, mix_ks=ks, normalization=norm)
        if not sel.empty:
            out[name] = {layer: 100 * official_score(g) for layer, g in sel.groupby("layer")}
    df = pd.DataFrame(out)
    df.index.name = "layer"
    return df


def table2_models(runs: Sequence[tuple[str, pd.DataFrame, int]], ks: int, how: str) -> pd.DataFrame:
    """Table 2 for several extractors: rows ``<extractor> / <DN> / <MemMixup>``.

    ``runs``: (extractor name, its results, its fixed layer) per extractor, in the run's order.
    """
    parts = []
    for name, results, fixed_layer in runs:
        t = table2(results, ks, how, fixed_layer)
        parts.append(t.rename(index=lambda r, n=name: f"{n} / {r}"))
    out = pd.concat(parts)
    out.index.name = "extractor / DN / MemMixup"
    return out


def layer_curves(runs: Sequence[tuple[str, pd.DataFrame, int]], ks: int = 0, normalization: str = "transductive") -> pd.DataFrame:
    """Figure 1 across extractors: official score (percent) per layer of one temporal variant,
    one column per extractor (NaN beyond an extractor's depth)."""
    curves = {name: layer_curve(results, {name: (ks, normalization)})[name] for name, results, _ in runs}
    df = pd.DataFrame(curves)
    df.index.name = "layer"
    return df


def both(tables: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """The fixed-layer and oracle-layer versions of one table side by side (column groups)."""
    return pd.concat({HOW_LABELS[h]: tables[h] for h in HOWS if h in tables}, axis=1)


def extractor_table(result: "P2Result") -> pd.DataFrame:
    """One row per extractor: weights, input rate, depth, fixed layer, embedding size, memory per
    1,000 clips (all layers as written to disk; the largest layer as held in RAM), extraction speed."""
    rows = {r.name: {
        "weights": r.extractor.weights, "sample rate (Hz)": r.extractor.sample_rate, "layers": r.extractor.n_layers,
        "fixed layer": r.fixed_layer, "temporal dim (fixed layer)": r.dims[r.fixed_layer - 1]["temporal"],
        "MB per 1,000 clips (all layers, written to disk)": round(r.memory_mb["all layers"], 1),
        "MB per 1,000 clips (one layer, held in RAM)": round(r.memory_mb["one layer"], 1),
        "ms per clip (extract)": round(1000 * r.timing["extract s"].sum() / r.timing["clips"].sum(), 1),
    } for r in result.runs}
    out = pd.DataFrame(rows).T
    out.index.name = "extractor"
    return out


@dataclass
class P2Tables:
    """Every table of a P2 run, each for both layer choices (``{"fixed": ..., "oracle": ...}``).

    Tables 1, 3 and 4 are the primary extractor's; Table 2 is the primary's (``table2``) and every
    extractor's (``table2_models``); ``figure1`` has every extractor's DN curve, ``figure1_primary``
    the primary's curves with and without DN. ``missing`` says why a table could not be built.
    """

    extractors: pd.DataFrame
    figure1: pd.DataFrame
    figure1_primary: pd.DataFrame
    table1: dict[str, pd.DataFrame] = field(default_factory=dict)
    table1_official: dict[str, dict[int, float]] = field(default_factory=dict)
    table2: dict[str, pd.DataFrame] = field(default_factory=dict)
    table2_models: dict[str, pd.DataFrame] = field(default_factory=dict)
    table3: dict[str, pd.DataFrame] = field(default_factory=dict)
    table4: dict[str, pd.DataFrame] = field(default_factory=dict)
    missing: dict[str, str] = field(default_factory=dict)

    def official_table(self, primary: str) -> pd.DataFrame:
        """Table 1's last row: the paper's systems and ours (each Ks, each layer choice)."""
        out = paper_table("p2", "table1_official")
        for how, off in self.table1_official.items():
            for ks, v in off.items():
                out.loc[f"ours ({primary}, {how} layer): GenRep-{ks}", "official score"] = v
        return out

    def oracle_gap(self, ks: int) -> float:
        """Official score at the oracle layer minus at the fixed layer (Table 1, MemMixup ``ks``)."""
        if set(HOWS) <= set(self.table1_official):
            return self.table1_official["oracle"][ks] - self.table1_official["fixed"][ks]
        return float("nan")

    def record_tables(self) -> dict[str, pd.DataFrame]:
        """``{record table name: table}`` for :meth:`oodlib.records.RunRecord.add_tables`."""
        out = {"extractors": self.extractors,
               "figure1_official": self.figure1.rename(index=lambda l: f"layer {l}")}
        for name in ("table2", "table2_models", "table3", "table4"):
            for how, tab in getattr(self, name).items():
                out[f"{name}_{how}"] = tab.drop(columns="dim (ours)") if name == "table3" else tab
        return out

    def record_metrics(self) -> dict[str, dict[str, float]]:
        """Table 1's official scores and the oracle-minus-fixed gap, for the record's metrics."""
        out = {"table1_official": {f"{how} Ks={k}": v for how, off in self.table1_official.items()
                                   for k, v in off.items() if np.isfinite(v)}}
        gaps = {k: self.oracle_gap(k) for k in next(iter(self.table1_official.values()), {})}
        out["layer_choice"] = {f"oracle_minus_fixed_official Ks={k}": v for k, v in gaps.items() if np.isfinite(v)}
        return out


def _each(build: Callable[[str], pd.DataFrame]) -> dict[str, pd.DataFrame]:
    return {how: build(how) for how in HOWS}


def build(result: "P2Result") -> P2Tables:
    """All of a run's tables (see :class:`P2Tables`)."""
    prim, ks = result.primary, result.ks_main
    runs = [(r.name, r.results, r.fixed_layer) for r in result.runs]
    curve = layer_curve(prim.results, {"DN (transductive)": (0, "transductive"), "DN (inductive)": (0, "inductive"),
                                       "no DN": (0, "none")})
    t = P2Tables(extractor_table(result), layer_curves(runs), curve)
    try:
        built = _each(lambda how: table1(prim.results, result.cfg.mix_ks, how, prim.fixed_layer))
        t.table1 = {how: b[0] for how, b in built.items()}
        t.table1_official = {how: b[1] for how, b in built.items()}
    except ValueError as err:  # no target clips: MemMixup (every Table 1 column) was not run
        t.missing["table1"] = str(err)
    t.table2 = _each(lambda how: table2(prim.results, ks, how, prim.fixed_layer))
    t.table2_models = _each(lambda how: table2_models(runs, ks, how))
    dims = prim.dims[prim.fixed_layer - 1]
    t.table3 = _each(lambda how: table3(prim.results, prim.low, how, prim.fixed_layer, dims))
    if prim.low is not None:
        t.table4 = _each(lambda how: table4(prim.low, how, prim.fixed_layer))
    else:
        t.missing["table4"] = "the low-shot benchmark was not run (lowshot_data='none')"
    return t
