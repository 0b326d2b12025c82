"""P2's claims (Saengthong et al., GenRep), declared with their margins before any run.

Effects are computed from the per-clip evidence of :meth:`.run.P2Result.evidence`, in
percentage points, and judged with a paired bootstrap over test clips stratified by machine,
domain and label. They are computed at each extractor's **fixed** layer: a layer chosen
without test labels. (The paper reports each machine's best layer on the test set; the notebook
shows that oracle beside the fixed layer, but no verdict rests on it.) DN is the paper's
transductive one.

A claim whose evidence the run did not make is "not run": the MemMixup claims need target-domain
training clips (the 28-clip mini set has none), the pt/ft comparison and the layer
trend need official BEATs checkpoints in ``extractors``, the comparison with the DCASE2023
systems needs the eval set, and the comparison with the DCASE2020 autoencoder needs the real
DCASE2020 development set.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
from scipy.stats import rankdata

from ...claims import Claim, Compare, Statistic
from ...metrics.binary import auroc_ranks, pauc_ranks
from ...metrics.dcase import hmean_finite
from ...tables import paper_table
from .config import P2Config

Arrays = Mapping[str, np.ndarray]
SSL4ASD = "SSL4ASD"  # the best outlier-exposure system in Table 1


def machine_values(y: np.ndarray, s: np.ndarray, domain: np.ndarray) -> dict[str, float]:
    """:func:`oodlib.metrics.dcase.dcase_machine_metrics` (source/target AUC, pAUC; fractions) on the
    rank-based metrics, fast enough for thousands of bootstrap resamples (tested equal)."""
    out = {}
    for dom in ("source", "target"):
        if np.any(~y & (domain == dom)):
            sel = y | (domain == dom)
            out[f"auc_{dom}"] = auroc_ranks(y[sel], s[sel])
    out["pauc"] = pauc_ranks(y, s, 0.1)
    return out


def _machine_values(a: Arrays, name: str) -> list[dict[str, float]]:
    """Per machine, source AUC, target AUC and pAUC of score array ``score:<name>`` (fractions)."""
    y, s, d, m = a["is_anomaly"], a[f"score:{name}"], a["domain"], a["machine"]
    return [machine_values(y[m == k], s[m == k], d[m == k]) for k in np.unique(m)]


def official(a: Arrays, name: str) -> float:
    """Official score (%) of ``name``: harmonic mean of all machines' source AUC, target AUC and pAUC."""
    return 100 * hmean_finite([v for m in _machine_values(a, name) for v in m.values()])


def target_auc(a: Arrays, name: str) -> float:
    """Target-domain AUC (%) of ``name``: harmonic mean over machines (Table 2's column)."""
    return 100 * hmean_finite([m.get("auc_target", np.nan) for m in _machine_values(a, name)])


def _auc_rows(y: np.ndarray, scores: np.ndarray) -> np.ndarray:
    """AUROC of each row of ``scores`` (k, n) against boolean ``y`` (n,): the Mann-Whitney statistic
    with ties counting one half (:func:`oodlib.metrics.binary.auroc_ranks`, vectorised over rows)."""
    ranks = rankdata(scores, axis=1)
    n_pos = int(y.sum())
    return (ranks[:, y].sum(axis=1) - n_pos * (n_pos + 1) / 2) / (n_pos * (y.size - n_pos))


def lowshot_table(a: Arrays, per_id: bool = False) -> dict[tuple[str, str], float]:
    """``{(setting, shots): AUC (%)}``: per low-shot score array, the AUC averaged over machines (each
    machine's AUC over its sections when ``per_id``), then over the draws of that setting and size."""
    keys = sorted(k for k in a if k.startswith("score:"))
    scores = np.stack([a[k] for k in keys])
    per_machine = []
    for m in np.unique(a["machine"]):
        sel = a["machine"] == m
        groups = [sel & (a["section"] == g) for g in np.unique(a["section"][sel])] if per_id else [sel]
        per_machine.append(np.mean([_auc_rows(a["is_anomaly"][g], scores[:, g]) for g in groups], axis=0))
    auc = np.mean(per_machine, axis=0)
    draws: dict[tuple[str, str], list[float]] = {}
    for k, v in zip(keys, auc):
        setting, shots, _ = k[len("score:"):].split("|")
        draws.setdefault((setting, shots), []).append(float(v))
    return {key: 100 * float(np.mean(v)) for key, v in draws.items()}


def lowshot_auc(a: Arrays, setting: str, shots: str, per_id: bool = False) -> float:
    """Mean over draws of the machine-averaged AUC (%) of low-shot ``setting`` at ``shots``
    (``per_id``: each machine's AUC is the mean over its sections); NaN when that setting was not run."""
    return lowshot_table(a, per_id).get((setting, shots), float("nan"))


def shot_order(a: Arrays) -> list[str]:
    """The shot settings present in low-shot evidence, smallest first ("half" and "full" last)."""
    shots = {k.split("|")[1] for k in a if k.startswith("score:label-free|")}
    numeric = sorted((s for s in shots if s.isdigit()), key=int)
    return numeric + [s for s in ("half", "full") if s in shots]


def largest_drop(a: Arrays, per_id: bool = False) -> float:
    """The largest fall of label-free AUC (points) from one shot setting to the next smaller one
    (positive = a fall; the settings in :func:`shot_order`)."""
    table = lowshot_table(a, per_id)
    auc = [table[("label-free", s)] for s in shot_order(a)]
    return float(max(np.diff(auc))) if len(auc) > 1 else float("nan")


def labels_gain(a: Arrays, per_id: bool = False) -> float:
    """Mean over shot settings of (label - label-free) AUC (points)."""
    table = lowshot_table(a, per_id)
    return float(np.mean([table[("label", s)] - table[("label-free", s)] for s in shot_order(a)]))


def _vs_published(metric, name: str, value: float):
    """``metric(a, name) - value``: our number against a published one on the same data."""
    def effect(a: Arrays) -> float:
        return metric(a, name) - value
    return effect


def _layer_trend(a: Arrays) -> float:
    """Official score of the better of layers 4 and 5 minus that of the best layer (<= 0)."""
    layers = {int(k.split()[-1]): official(a, k[len("score:"):]) for k in a if k.startswith("score:layer ")}
    return max(layers.get(4, -np.inf), layers.get(5, -np.inf)) - max(layers.values())


def _too_few(min_clips: int = 20):
    def check(ev) -> str | None:
        n = ev.facts.get("min_test_clips_per_machine", min_clips)
        return f"only {n} test clips per machine: too few to compare AUCs" if n < min_clips else None
    return check


def claims(cfg: P2Config) -> list[Claim]:
    """P2's claims; paper values are computed from the paper's tables."""
    t1o, t2, t3, t4, t4b = (paper_table("p2", t) for t in ("table1_official", "table2", "table3", "table4", "table4_baselines"))
    ft = lambda row, col: float(t2.loc[f"ft / {row}", col])  # noqa: E731
    per_id = cfg.lowshot_protocol == "per_id"
    few = _too_few()
    ks = max(cfg.mix_ks)
    ks_list = "/".join(str(k) for k in sorted(cfg.mix_ks))
    domain = ("Table 2, ft model: rows 'DN / no MemMixup' and 'no DN / no MemMixup'")
    return [
        Claim("p2/temporal_pooling_best",
              "Temporal pooling (keeping the frequency axis) beats spatial and spectral pooling",
              "Sec. 4.3, Table 3", Compare(official, "DN", ["spatial", "spectral"], what="official score"),
              "domain_shift", "greater", 1.0, "a gain under one official-score point is within seed-to-seed variation",
              units="official-score points", check=few,
              paper_effect=float(t3.loc["temporal", "DCASE2023 AUC"] - t3.loc[["spatial", "spectral"], "DCASE2023 AUC"].max()),
              paper_note="Table 3, DCASE2023 AUC (the paper gives AUC, not the official score, per pooling)"),
        Claim("p2/dn_raises_target_auc", "Domain normalisation raises the target-domain AUC",
              "Sec. 4.4, Table 2", Compare(target_auc, "DN", ["no DN"], what="target AUC"),
              "domain_shift", "greater", 1.0, "the paper's gain is 16 points; a gain under one point is no effect",
              units="AUC points", check=few,
              paper_effect=ft("DN / no MemMixup", "target AUC") - ft("no DN / no MemMixup", "target AUC"), paper_note=domain),
        Claim("p2/memmixup_raises_target_auc", f"MemMixup (Ks = {ks}) raises the target-domain AUC",
              "Sec. 4.4, Table 2", Compare(target_auc, "MemMixup", ["no DN"], what="target AUC"),
              "memmixup", "greater", 1.0, "the paper's gain is 8 points; a gain under one point is no effect",
              units="AUC points", check=few,
              paper_effect=ft("no DN / MemMixup", "target AUC") - ft("no DN / no MemMixup", "target AUC"),
              paper_note="Table 2, ft model: 'no DN / MemMixup' minus 'no DN / no MemMixup'"),
        Claim("p2/dn_memmixup_best", "DN and MemMixup together give the best official score",
              "Sec. 4.4, Table 2", Compare(official, "DN + MemMixup", ["no DN", "DN", "MemMixup"], what="official score"),
              "memmixup", "greater", 0.0,
              "the paper's lead over DN alone is 0.4 points, so any lead counts; the interval must exclude zero",
              units="official-score points", check=few,
              paper_effect=ft("DN / MemMixup", "official score") - max(ft(r, "official score") for r in
                                                                        ("DN / no MemMixup", "no DN / MemMixup", "no DN / no MemMixup")),
              paper_note="Table 2, ft model"),
        Claim("p2/largest_ks_best",
              f"MemMixup with the largest Ks ({ks}) gives the best official score of the Ks tried ({ks_list})",
              "Sec. 4.3, Table 1", Compare(official, f"Ks={ks}", [f"Ks={k}" for k in cfg.mix_ks if k != ks], what="official score"),
              "ks_sweep", "greater", 0.0, "the paper's lead is 0.04 points, so any lead counts; the interval must exclude zero",
              units="official-score points", check=few,
              paper_effect=float(t1o.loc["GenRep-990", "official score"] - t1o.loc[["GenRep-100", "GenRep-500"], "official score"].max()),
              paper_note="Table 1, GenRep-990 vs GenRep-100 and GenRep-500"),
        Claim("p2/pretraining_helps",
              "Generic pre-trained representations are what make kNN work (ours: a pretrained extractor against "
              "the same pipeline on a random-weight extractor; not a claim the paper tests)",
              "Sec. 1 (premise); control added here", Compare(official, "pretrained", ["random"], what="official score"),
              "pretrained_vs_random", "greater", 1.0, "pre-training must buy at least one official-score point",
              units="official-score points", check=few),
        Claim("p2/finetuned_beats_pretrained",
              "The AudioSet fine-tuned BEATs (ft) beats the self-supervised one (pt) in official score",
              "Sec. 4.4, Table 2, Fig. 1", Compare(official, "ft", ["pt"], what="official score"),
              "beats_pt_ft", "greater", 0.0, "the paper's gain is 0.16 points, so any gain counts",
              units="official-score points", check=few,
              paper_effect=ft("DN / MemMixup", "official score") - float(t2.loc["pt / DN / MemMixup", "official score"]),
              paper_note="Table 2, 'DN / MemMixup' rows"),
        Claim("p2/middle_layers_best",
              "BEATs' best layers are 4-5: the better of them is within one point of the best layer",
              "Sec. 4.2, Fig. 1", Statistic(_layer_trend, "official(best of layers 4, 5) - official(best layer)"),
              "beats_layers", "greater", -1.0, "'best layer 4-5' read as within one official-score point of the best",
              units="official-score points", check=few,
              protocol="oracle: the best layer is found on the test set, as in the paper's Fig. 1"),
        Claim("p2/beats_best_outlier_exposure_system",
              f"GenRep's official score on the DCASE2023 eval set beats the best outlier-exposure system ({SSL4ASD}, "
              f"{float(t1o.loc[SSL4ASD, 'official score']):.2f})",
              "Sec. 4.2, Table 1",
              Statistic(_vs_published(official, "GenRep", float(t1o.loc[SSL4ASD, "official score"])),
                        f"official(GenRep) - {SSL4ASD}'s published score"),
              "eval_set", "greater", 0.0, "any gain over the published score; its own uncertainty is not published",
              units="official-score points",
              paper_effect=float(t1o.loc["GenRep-990", "official score"] - t1o.loc[SSL4ASD, "official score"]),
              paper_note="Table 1, GenRep-990 vs SSL4ASD"),
        Claim("p2/lowshot_graceful",
              "GenRep degrades gracefully with fewer training clips: no step down the shot ladder costs 10 AUC points",
              "Sec. 4.5, Table 4", Statistic(lambda a: largest_drop(a, per_id), "largest AUC fall between shot settings"),
              "low_shot", "less", 10.0, "the paper's largest step is 5.3 points; 10 leaves room for a smaller set",
              units="AUC points",
              paper_effect=float(t4["label-free AUC"].diff().max()), paper_note="Table 4, label-free"),
        Claim("p2/section_labels_help", "Section labels (DN across sections) improve on label-free GenRep",
              "Sec. 4.5, Table 4", Statistic(lambda a: labels_gain(a, per_id), "mean (label - label-free) AUC over shots"),
              "low_shot", "greater", 0.0, "the paper's mean gain is 1.2 points, so any gain counts",
              units="AUC points",
              paper_effect=float((t4["label AUC"] - t4["label-free AUC"]).mean()), paper_note="Table 4"),
        Claim("p2/200_shots_match_autoencoder",
              "With 200 shots GenRep matches the DCASE2020 autoencoder baseline trained on every clip (at most one "
              "point below its AUC)",
              "Sec. 4.5, Table 4",
              Statistic(lambda a: lowshot_auc(a, "label-free", "200", per_id) - float(t4b.loc["AE", "AUC"]),
                        "AUC(label-free, 200 shots) - AE's published AUC"),
              "low_shot_dcase2020", "greater", -1.0, "'comparable' read as at most one AUC point below",
              units="AUC points",
              paper_effect=float(t4.loc["200", "label-free AUC"] - t4b.loc["AE", "AUC"]), paper_note="Table 4"),
    ]
