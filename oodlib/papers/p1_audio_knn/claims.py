"""P1's claims (Bukhsh & Saeed, ICASSP 2023), declared with their margins before any run.

Effects are computed from the per-clip evidence of :meth:`.run.P1Result.evidence` in the paper's
convention (percent; FPR95 with ID positive, lower is better; AUROC) and judged with a paired
bootstrap over test clips, stratified by set (every resample keeps each set's size). "Average"
is the mean over the OOD sets of a setting, as in the paper's tables; "the best rival" is the
best of MSP, ODIN and GradNorm on that metric, chosen inside each resample.

Which setting a claim is about follows the paper: the size of the gain (17% FPR95, 7% AUROC) is
Table 1a's (VocalSound), the lead over ODIN and the task-sharing sets are Table 1b's (keyword
spotting: MSWC Micro-EN, the synthetic keywords, or Speech Commands' 10 words in the real
profile). A claim whose setting the run does not have is "not run".
"""

from __future__ import annotations

import re
from collections.abc import Mapping

import numpy as np

from ...claims import Claim, Statistic
from ...claims.checks import model_learned
from ...tables import paper_table
from .config import P1Config
from .run import ID_TEST, evidence_name
from .sets import PAPER_TABLE, TASK_SHARING, TASK_SHARING_REAL, setting_names

Arrays = Mapping[str, np.ndarray]
RIVALS = ("MSP", "ODIN", "GradNorm")
CLASSICAL = ("IForest", "OCSVM", "LODA", "LOF", "PCA")
LEAD_MARGIN = 1.0
LEAD_REASON = "a lead under one point (FPR95 or AUROC) is within the seed-to-seed spread of these small models"
KEYWORD_SETTINGS = ("keywords", "MSWC (Micro-EN)", "MSWC (Micro-ES)", "speech commands (10 words)")


# ----------------------------------------------------------------------------- metrics on evidence
def _ood_sets(a: Arrays) -> list[str]:
    return [str(s) for s in np.unique(a["set"]) if s != ID_TEST]


def table(a: Arrays, methods: tuple[str, ...]) -> dict[str, dict[str, dict[str, float]]]:
    """FPR95 (ID positive) and AUROC, percent, of each method's ``score:<method>`` for ID test against every
    OOD set: ``{method: {set: {"FPR95": ..., "AUROC": ...}}}``.

    One sort of the ID scores per method serves every set (the bootstrap calls this thousands of
    times). The values equal :func:`oodlib.metrics.ood_report` (tested): AUROC counts ties as one
    half; FPR95 follows P1's reference rule (:func:`oodlib.metrics.binary.fpr_at_tpr`, ``"closest"``):
    the ID recall closest to 95% (the higher of two equally close), at the lowest threshold giving it.
    """
    names, code = np.unique(a["set"], return_inverse=True)
    is_id = code == int(np.flatnonzero(names == ID_TEST)[0])
    c_ood = code[~is_id]
    counts = np.bincount(c_ood, minlength=names.size)
    return {m: _one_method(-np.asarray(a[f"score:{m}"], np.float64), is_id, c_ood, counts, names) for m in methods}


def _one_method(p: np.ndarray, is_id: np.ndarray, c_ood: np.ndarray, counts: np.ndarray,
                names: np.ndarray) -> dict[str, dict[str, float]]:
    """:func:`table` for one method's ID-positive scores ``p`` (higher = more ID)."""
    p_id, p_ood = np.sort(p[is_id]), p[~is_id]
    n_id = p_id.size
    below, upto = np.searchsorted(p_id, p_ood, "left"), np.searchsorted(p_id, p_ood, "right")
    wins = (n_id - upto) + 0.5 * (upto - below)  # ID clips ranked above each OOD clip, ties one half
    auroc = np.bincount(c_ood, weights=wins, minlength=names.size) / np.maximum(counts * n_id, 1)
    levels = np.unique(p_id)[::-1]  # candidate thresholds: distinct ID scores, highest first
    recall = (n_id - np.searchsorted(p_id, levels, "left")) / n_id
    gap = np.abs(recall - 0.95)
    j = int(np.flatnonzero(gap == gap.min())[-1])  # the higher recall of equally close ones
    accepted = p_ood >= levels[j] if j == levels.size - 1 else p_ood > levels[j + 1]
    fpr = np.bincount(c_ood, weights=accepted, minlength=names.size) / np.maximum(counts, 1)
    return {str(n): {"FPR95": 100 * float(fpr[i]), "AUROC": 100 * float(auroc[i])}
            for i, n in enumerate(names) if n != ID_TEST}


def per_set(a: Arrays, method: str) -> dict[str, dict[str, float]]:
    """:func:`table` of one method: ``{set: {"FPR95": ..., "AUROC": ...}}``."""
    return table(a, (method,))[method]


def set_metric(a: Arrays, method: str, ood_set: str, metric: str) -> float:
    """FPR95 (ID positive) or AUROC, percent, of ``score:<method>`` for ID test against ``ood_set``."""
    return per_set(a, method)[ood_set][metric]


def averages(a: Arrays, methods: tuple[str, ...]) -> dict[str, dict[str, float]]:
    """``{method: {"FPR95": ..., "AUROC": ...}}``: the means of :func:`table` over the OOD sets."""
    return {m: {k: float(np.mean([r[k] for r in rows.values()])) for k in ("FPR95", "AUROC")}
            for m, rows in table(a, methods).items()}


def lead(a: Arrays, method: str = "kNN", rivals: tuple[str, ...] = RIVALS) -> dict[str, float]:
    """``method``'s average lead over its best rival: ``{"FPR95": best rival - ours, "AUROC": ours - best rival}``."""
    avg = averages(a, (method, *rivals))
    return {"FPR95": min(avg[m]["FPR95"] for m in rivals) - avg[method]["FPR95"],
            "AUROC": avg[method]["AUROC"] - max(avg[m]["AUROC"] for m in rivals)}


def _lead_parts(a: Arrays, rivals: tuple[str, ...] = RIVALS) -> dict[str, float]:
    avg = averages(a, ("kNN", *rivals))
    return {f"{metric}({m})": avg[m][metric] for metric in ("FPR95", "AUROC") for m in ("kNN", *rivals)}


def beats_all(a: Arrays) -> float:
    """Smaller of kNN's FPR95 and AUROC leads over the best rival (> 0: best on both)."""
    return min(lead(a).values())


def beats_classical(a: Arrays) -> float:
    """The smallest of kNN's FPR95 and AUROC leads over each classical detector (> 0: beats every one on both)."""
    avg = averages(a, ("kNN", *CLASSICAL))
    return min(min(avg[d]["FPR95"] - avg["kNN"]["FPR95"], avg["kNN"]["AUROC"] - avg[d]["AUROC"]) for d in CLASSICAL)


def _odin_gap(a: Arrays) -> float:
    avg = averages(a, ("ODIN", "kNN"))
    return avg["ODIN"]["FPR95"] - avg["kNN"]["FPR95"]


def task_sharing_gap(sharing: tuple[str, ...]):
    """Effect: lowest kNN AUROC of the other OOD sets minus the highest of the task-sharing ones (> 0: those are hardest)."""
    def effect(a: Arrays) -> float:
        auc = {s: v["AUROC"] for s, v in per_set(a, "kNN").items()}
        hard = [v for s, v in auc.items() if s in sharing]
        other = [v for s, v in auc.items() if s not in sharing]
        return min(other) - max(hard) if hard and other else float("nan")
    return effect


def id_accuracy(a: Arrays) -> float:
    """ID test accuracy (percent, clips)."""
    return 100 * float(np.mean(a["correct"][a["set"] == ID_TEST]))


def _has_sets(sharing: tuple[str, ...]):
    def check(ev) -> str | None:
        sets = _ood_sets(ev.arrays)
        if not any(s in sharing for s in sets):
            return f"no OOD set of this run shares the ID task (looked for {', '.join(sharing)})"
        if all(s in sharing for s in sets):
            return "every OOD set of this run shares the ID task: nothing to compare with"
        return model_learned()(ev)
    return check


# ----------------------------------------------------------------------------- the paper's numbers
def paper_lead(table: str) -> dict[str, float]:
    """kNN's average lead over the best rival in the Average row of the paper's Table 1a or 1b."""
    avg = paper_table("p1", table).loc["Average"]
    fpr = {m: float(avg[f"{m} FPR95"]) for m in ("kNN", *RIVALS)}
    auc = {m: float(avg[f"{m} AUROC"]) for m in ("kNN", *RIVALS)}
    return {"FPR95": min(fpr[m] for m in RIVALS) - fpr["kNN"], "AUROC": auc["kNN"] - max(auc[m] for m in RIVALS)}


def paper_lead_table2(column: str) -> dict[str, float]:
    """kNN's lead over the best rival in the paper's Table 2 (EfficientNet) for ``column`` (a dataset)."""
    t = paper_table("p1", "table2")
    fpr, auc = t[f"{column} FPR95"], t[f"{column} AUROC"]
    return {"FPR95": float(fpr[list(RIVALS)].min() - fpr["kNN"]), "AUROC": float(auc["kNN"] - auc[list(RIVALS)].max())}


def _slug(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", name.lower()).strip("_")


# ----------------------------------------------------------------------------- the claims
def _paper_id(setting: str) -> str | None:
    """The paper's dataset name of a setting with its own paper table ("Vocalsound", "MSWC (Micro-EN)")."""
    return {"table1a": "Vocalsound", "table1b": "MSWC (Micro-EN)"}.get(PAPER_TABLE.get(setting, ""))


def knn_best(setting: str, arch: str) -> Claim:
    """kNN has the best average FPR95 and AUROC against MSP, ODIN and GradNorm, for one setting and model."""
    paper_id = _paper_id(setting)
    paper = None
    if paper_id is not None:
        paper = (paper_lead(PAPER_TABLE[setting]) if arch == "mobilenet" else paper_lead_table2(paper_id)
                 if arch == "efficientnet" else None)
    source = "Sec. 3.3, Table 1" if arch == "mobilenet" else "Sec. 3.3, Table 2" if arch == "efficientnet" else "Sec. 3.3"
    return Claim(f"p1/knn_best_{arch}_{_slug(setting)}",
                 f"kNN gives the best average FPR95 and AUROC against MSP, ODIN and GradNorm ({arch}, ID = {setting})",
                 source, Statistic(beats_all, "min(FPR95 lead, AUROC lead) of kNN over the best rival",
                                   lambda a: _lead_parts(a)),
                 evidence_name(setting, arch), "greater", LEAD_MARGIN, LEAD_REASON, units="points",
                 paper_effect=None if paper is None else min(paper.values()),
                 paper_note="" if paper is None else f"the paper's averages ({'Table 1' if arch == 'mobilenet' else 'Table 2'}, "
                                                    f"{paper_id}): FPR95 lead {paper['FPR95']:.2f}, AUROC lead {paper['AUROC']:.2f}",
                 check=model_learned())


def gain_claims(vocal: str) -> list[Claim]:
    """The size of the gain on VocalSound (abstract and Sec. 3.3: FPR95 by 17%, AUROC by 7%), each judged
    against half the paper's gain."""
    paper = paper_lead("table1a")
    stated = {"FPR95": 17, "AUROC": 7}  # the abstract's rounded words; the effects come from Table 1a
    words = {"FPR95": "average FPR95 of the best rival - that of kNN", "AUROC": "average AUROC of kNN - that of the best rival"}
    return [Claim(f"p1/{metric.lower()}_gain_{stated[metric]}",
                  f"kNN improves {metric} by {stated[metric]}% over the best prior method (ID = VocalSound, MobileNet)",
                  "Abstract; Sec. 3.3, Table 1a",
                  Statistic(lambda a, m=metric: lead(a)[m], words[metric], _lead_parts),
                  evidence_name(vocal, "mobilenet"), "greater", round(paper[metric] / 2, 1),
                  f"half the paper's gain ({paper[metric]:.1f} points): a gain of that order replicates its size",
                  units=f"{metric} points", paper_effect=paper[metric], paper_note="Table 1a averages (kNN vs GradNorm)",
                  check=model_learned())
            for metric in ("FPR95", "AUROC")]


def keyword_claims(keyword: str) -> list[Claim]:
    """Table 1b's claims: the FPR95 lead over ODIN and the task-sharing OOD sets being the hardest."""
    t1b = paper_table("p1", "table1b")
    sharing = TASK_SHARING if keyword == "keywords" else TASK_SHARING_REAL.get(keyword, ())
    paper_sharing = ("MSWC (Micro-ES)", "SpeechCommands")
    others = [r for r in t1b.index if r not in (*paper_sharing, "Average")]
    paper_gap = float(t1b.loc[others, "kNN AUROC"].min() - t1b.loc[list(paper_sharing), "kNN AUROC"].max())
    ev = evidence_name(keyword, "mobilenet")
    odin_lead = float(t1b.loc["Average", "ODIN FPR95"] - t1b.loc["Average", "kNN FPR95"])
    return [
        Claim("p1/knn_beats_odin_fpr95_keywords",
              f"On keyword spotting ODIN does relatively well, but kNN has the better average FPR95, by about 3% "
              f"(ID = {keyword})",
              "Sec. 3.3, Table 1b",
              Statistic(_odin_gap, "average FPR95 of ODIN - that of kNN",
                        lambda a: {f"FPR95({m})": v["FPR95"] for m, v in averages(a, ("kNN", "ODIN")).items()}),
              ev, "greater", round(odin_lead / 2, 1),
              f"half the paper's lead ({odin_lead:.2f} points): a lead of that order replicates its size",
              units="FPR95 points", paper_effect=odin_lead,
              paper_note="Table 1b averages", check=model_learned()),
        Claim("p1/task_sharing_hardest",
              f"OOD sets that share the ID task ({', '.join(sharing) or 'none in this run'}) are the hardest for kNN "
              f"(ID = {keyword}; judged on kNN's AUROC, where the paper argues from FPR95: both agree in its Table 1b)",
              "Sec. 3.3, Table 1b, Fig. 2",
              Statistic(task_sharing_gap(sharing), "lowest kNN AUROC of the other OOD sets - highest of the task-sharing sets",
                        lambda a: {f"AUROC(kNN, {s})": v["AUROC"] for s, v in per_set(a, "kNN").items()}),
              ev, "greater", 0.0,
              "'hardest' = below every other set: any gap whose interval excludes zero counts",
              units="AUROC points", paper_effect=paper_gap,
              paper_note="Table 1b: Fluent Speech (98.33) against MSWC Micro-ES (93.11)", check=_has_sets(sharing)),
    ]


def classical_claim(setting: str, arch: str) -> Claim:
    """Table 3: kNN beats every classical detector on the same embeddings."""
    t3 = paper_table("p1", "table3")
    paper = min(min(float(t3.loc[d, "FPR95"] - t3.loc["kNN", "FPR95"]), float(t3.loc["kNN", "AUROC"] - t3.loc[d, "AUROC"]))
                for d in CLASSICAL)
    return Claim("p1/knn_beats_classical",
                 f"kNN outperforms every classical detector (IForest, OCSVM, LODA, LOF, PCA) on the same embeddings "
                 f"in FPR95 and AUROC ({arch}, ID = {setting}; LODA and PCA with the published scores, not PyOD's)",
                 "Sec. 3.3, Table 3",
                 Statistic(beats_classical, "smallest lead of kNN over a classical detector (FPR95 or AUROC)",
                           lambda a: {f"{metric}({m})": v[metric] for metric in ("FPR95", "AUROC")
                                      for m, v in averages(a, ("kNN", *CLASSICAL)).items()}),
                 evidence_name(setting, arch), "greater", LEAD_MARGIN, LEAD_REASON, units="points",
                 paper_effect=paper, paper_note="Table 3 (LOF's AUROC is the closest)", check=model_learned())


def accuracy_claim(setting: str) -> Claim:
    """The ID classifiers reach about 90% test accuracy."""
    paper_id = _paper_id(setting)
    paper = float(paper_table("p1", "accuracy").loc[paper_id, "accuracy"]) if paper_id else None
    return Claim(f"p1/id_accuracy_{_slug(setting)}",
                 f"The MobileNet classifier reaches about 90% ID test accuracy (ID = {setting})",
                 "Sec. 3.3", Statistic(id_accuracy, "ID test accuracy (%)"),
                 evidence_name(setting, "mobilenet"), "greater", 85.0, "'about 90%' read as at least 85%",
                 units="percent", paper_effect=paper, paper_note="Sec. 3.3 (90.75% VocalSound, 90.05% MSWC Micro-EN)"
                 if paper else "")


def claims(cfg: P1Config | None = None) -> list[Claim]:
    """P1's claims for a run with parameters ``cfg`` (the default run's when None)."""
    cfg = cfg or P1Config()
    settings = setting_names(cfg.data, cfg.id_settings)
    synthetic = cfg.data == "synthetic"
    out = [knn_best(s, arch) for arch in cfg.models for s in settings]
    out += gain_claims("vocal sounds" if synthetic else "Vocalsound")
    keyword = next((s for s in settings if s in KEYWORD_SETTINGS), "keywords" if synthetic else "MSWC (Micro-EN)")
    out += keyword_claims(keyword)
    t3_setting = next((s for s in settings if s in ("vocal sounds", "Vocalsound")), settings[0])
    out.append(classical_claim(t3_setting, "mobilenet" if "mobilenet" in cfg.models else cfg.models[0]))
    out += [accuracy_claim(s) for s in settings]
    return out


__all__ = ["CLASSICAL", "LEAD_MARGIN", "RIVALS", "averages", "beats_all", "beats_classical", "claims", "id_accuracy", "lead",
           "per_set", "set_metric", "table", "task_sharing_gap"]
