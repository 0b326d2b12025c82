"""P1's declared claims: each can come out supported, not supported and inconclusive on fabricated
per-clip evidence whose effect is known by construction; the evidence's metrics equal the tables';
claims about a setting the run lacks are "not run"; a model at chance makes them inconclusive."""

from __future__ import annotations

import importlib

import numpy as np
import pytest

from oodlib.claims import Evidence, judge
from oodlib.metrics import ood_report
from oodlib.papers.p1_audio_knn.config import P1Config

p1c = importlib.import_module("oodlib.papers.p1_audio_knn.claims")  # the module (the package exports the function)
CLAIMS = {c.id: c for c in p1c.claims(P1Config())}
METHODS = ("MSP", "ODIN", "GradNorm", "kNN", *p1c.CLASSICAL)
SETS = ("keywords (Spanish)", "other words", "environmental sounds", "emotional speech")


def _evidence(name: str, separation: dict[str, float] | None = None, per_set: dict[str, float] | None = None,
              n: int = 60, accuracy: float = 0.9, chance: float = 0.1, seed: int = 0) -> Evidence:
    """ID test plus four OOD sets of ``n`` clips; ``score:<m>`` = N(0, 1) + separation[m] on OOD rows (times
    ``per_set[set]``, default 1), so a larger separation means a lower FPR95 and a higher AUROC."""
    rng = np.random.default_rng(seed)
    separation = separation or {}
    sets = np.repeat(["ID test", *SETS], n)
    is_ood = sets != "ID test"
    scale = np.array([1.0 if s == "ID test" else (per_set or {}).get(s, 1.0) for s in sets])
    arrays = {"set": sets, "is_ood": is_ood, "correct": (~is_ood) & (rng.random(sets.size) < accuracy)}
    for m in METHODS:
        arrays[f"score:{m}"] = rng.normal(size=sets.size) + separation.get(m, 0.0) * is_ood * scale
    return Evidence(name, arrays, stratify="set", unit="clip",
                    facts={"id_accuracy": accuracy, "chance_accuracy": chance})


def _verdict(cid: str, ev: Evidence) -> str:
    return judge(CLAIMS[cid], {ev.name: ev}, seed=0, n_resamples=200).verdict


LEAD_CLAIMS = [cid for cid in CLAIMS if cid.startswith("p1/knn_best_") or cid in ("p1/fpr95_gain_17", "p1/auroc_gain_7")]


@pytest.mark.parametrize("cid", LEAD_CLAIMS)
def test_every_knn_lead_claim_can_go_each_way(cid):
    ev = CLAIMS[cid].evidence
    strong = _evidence(ev, {"kNN": 4.0, "MSP": 0.5, "ODIN": 0.5, "GradNorm": 0.5})
    weak = _evidence(ev, {"kNN": 0.5, "MSP": 4.0, "ODIN": 0.5, "GradNorm": 0.5})
    tiny = _evidence(ev, {"kNN": 1.0, "MSP": 0.9, "ODIN": 0.9, "GradNorm": 0.9}, n=4)
    assert _verdict(cid, strong) == "supported"
    assert _verdict(cid, weak) == "not supported"
    assert _verdict(cid, tiny) == "inconclusive"


def test_a_lead_on_one_metric_only_is_not_best():
    """kNN best on AUROC but not on FPR95 is not 'best on both' (an effect of min over the two leads)."""
    ev = _evidence(CLAIMS["p1/knn_best_mobilenet_keywords"].evidence, {"kNN": 2.0, "MSP": 0.0, "ODIN": 0.0, "GradNorm": 0.0})
    a = dict(ev.arrays)
    a["score:ODIN"] = np.where(a["is_ood"], np.where(np.arange(a["set"].size) % 5 != 0, 50.0, -50.0), a["score:ODIN"])
    lead = p1c.lead(a)
    assert lead["AUROC"] > 0 > lead["FPR95"] and p1c.beats_all(a) == lead["FPR95"]


def test_odin_and_classical_claims_go_each_way():
    ev = CLAIMS["p1/knn_beats_odin_fpr95_keywords"].evidence
    assert _verdict("p1/knn_beats_odin_fpr95_keywords", _evidence(ev, {"kNN": 4.0, "ODIN": 0.5})) == "supported"
    assert _verdict("p1/knn_beats_odin_fpr95_keywords", _evidence(ev, {"kNN": 0.5, "ODIN": 4.0})) == "not supported"
    assert _verdict("p1/knn_beats_odin_fpr95_keywords", _evidence(ev, {"kNN": 1.0, "ODIN": 1.0}, n=10)) == "inconclusive"
    ev = CLAIMS["p1/knn_beats_classical"].evidence
    classical = dict.fromkeys(p1c.CLASSICAL, 0.5)
    assert _verdict("p1/knn_beats_classical", _evidence(ev, {**classical, "kNN": 4.0})) == "supported"
    assert _verdict("p1/knn_beats_classical", _evidence(ev, {**classical, "kNN": 4.0, "LOF": 5.0})) == "not supported"
    assert _verdict("p1/knn_beats_classical", _evidence(ev, {**classical, "kNN": 1.0}, n=4)) == "inconclusive"


def test_task_sharing_claim_goes_each_way_and_needs_both_kinds_of_set():
    cid = "p1/task_sharing_hardest"
    ev = CLAIMS[cid].evidence
    hard = {"keywords (Spanish)": 0.2, "other words": 0.2}  # the synthetic task-sharing sets lie nearest ID
    easy = {"environmental sounds": 0.2, "emotional speech": 0.2}
    assert _verdict(cid, _evidence(ev, {"kNN": 3.0}, per_set=hard)) == "supported"
    assert _verdict(cid, _evidence(ev, {"kNN": 3.0}, per_set=easy)) == "not supported"
    assert _verdict(cid, _evidence(ev, {"kNN": 1.0}, n=4)) == "inconclusive"
    e = _evidence(ev, {"kNN": 3.0})
    only_far = Evidence(ev, {k: v[np.isin(e.arrays["set"], ["ID test", "environmental sounds"])] for k, v in e.arrays.items()},
                        stratify="set", facts=e.facts)
    v = judge(CLAIMS[cid], {ev: only_far}, n_resamples=50)
    assert v.verdict == "inconclusive" and "shares the ID task" in v.reason


def test_accuracy_claim_and_the_chance_check():
    cid = "p1/id_accuracy_keywords"
    ev = CLAIMS[cid].evidence
    assert _verdict(cid, _evidence(ev, accuracy=0.97, n=200)) == "supported"
    assert _verdict(cid, _evidence(ev, accuracy=0.5, n=200)) == "not supported"
    assert _verdict(cid, _evidence(ev, accuracy=0.85, n=30)) == "inconclusive"
    at_chance = _evidence(ev, {"kNN": 4.0}, accuracy=0.12, chance=0.1)
    v = judge(CLAIMS["p1/knn_best_mobilenet_keywords"], {ev: at_chance}, n_resamples=50)
    assert v.verdict == "inconclusive" and "did not learn" in v.reason


@pytest.mark.parametrize("decimals", [None, 1, 0])
@pytest.mark.parametrize("n", [60, 7, 1])
def test_evidence_metrics_equal_the_table_metrics(decimals, n):
    """The bootstrap's fast metrics are the tables' (ood_report, the reference FPR95 rule) on full data,
    with continuous scores, with many ties (rounded scores) and with tiny sets."""
    e = _evidence("x", {"kNN": 1.0, "MSP": 0.3}, n=n, seed=n)
    a = dict(e.arrays)
    for method in ("kNN", "MSP"):
        if decimals is not None:
            a[f"score:{method}"] = np.round(a[f"score:{method}"], decimals)
        s = a[f"score:{method}"]
        for o in SETS:
            ref = ood_report(s[a["set"] == "ID test"], s[a["set"] == o], positive="id", percent=True)
            assert p1c.set_metric(a, method, o, "AUROC") == pytest.approx(ref["auroc"], abs=1e-9)
            assert p1c.set_metric(a, method, o, "FPR95") == pytest.approx(ref["fpr"], abs=1e-9)


def test_claims_follow_the_run_settings_and_carry_the_papers_values():
    assert CLAIMS["p1/fpr95_gain_17"].paper_effect == pytest.approx(61.84 - 43.94)
    assert CLAIMS["p1/auroc_gain_7"].paper_effect == pytest.approx(92.40 - 85.33)
    assert CLAIMS["p1/knn_beats_odin_fpr95_keywords"].paper_effect == pytest.approx(20.03 - 17.0)
    real = {c.id: c for c in p1c.claims(P1Config(data="speech_commands_v0.02_test", models=["mobilenet"]))}
    assert "p1/knn_best_mobilenet_speech_commands_10_words" in real
    assert real["p1/task_sharing_hardest"].evidence == "mobilenet on speech commands (10 words)"
    assert real["p1/fpr95_gain_17"].evidence == "mobilenet on Vocalsound"  # judged "not run" on a Speech Commands run
    v = judge(real["p1/fpr95_gain_17"], {"mobilenet on speech commands (10 words)": _evidence("mobilenet on x")})
    assert v.verdict == "not run"
