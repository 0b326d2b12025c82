"""The paper's tables and figure data, built from :func:`.experiments.evaluate_variants` and
:func:`.experiments.low_shot` results (percent, like the paper).

Every builder takes ``how`` (``"oracle"``: each machine's best layer on the test set, as the paper
reports; ``"fixed"``: one layer for every machine) and ``fixed_layer``.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from .evaluate import choose_layers, official_score, summarize


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
