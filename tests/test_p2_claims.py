"""P2's declared claims: each can come out supported, not supported and inconclusive, on
fabricated per-clip evidence whose effect is known by construction; claims whose evidence a run
does not make are "not run"; the fast bootstrap metrics equal the evaluator's."""

from __future__ import annotations

import importlib

import numpy as np
import pytest

from oodlib.claims import Compare, Evidence, judge
from oodlib.metrics.binary import pauc, pauc_ranks
from oodlib.metrics.dcase import dcase_machine_metrics
from oodlib.papers.p2_genrep.config import P2Config

p2c = importlib.import_module("oodlib.papers.p2_genrep.claims")  # the module (the package exports the function)
CLAIMS = {c.id: c for c in p2c.claims(P2Config())}
DOMAIN_SETS = ("domain_shift", "memmixup", "pretrained_vs_random", "beats_pt_ft", "ks_sweep")
COMPARES = [cid for cid, c in CLAIMS.items() if isinstance(c.effect, Compare) and c.evidence in DOMAIN_SETS]


def _domain(separation: dict[str, float], n: int = 40, seed: int = 0, min_clips: int = 100, name: str = "domain_shift") -> Evidence:
    """Two machines x {source, target} x {normal, anomaly}, ``n`` clips each; score ``<k>`` =
    separation[k] * is_anomaly + N(0, 1), so a larger separation means higher AUCs."""
    rng = np.random.default_rng(seed)
    machine, domain, y = (np.repeat(a, n) for a in np.array(np.meshgrid(["fan", "pump"], ["source", "target"], [False, True],
                                                                          indexing="ij")).reshape(3, -1))
    y = y == "True"
    arrays = {"machine": machine, "domain": domain, "is_anomaly": y}
    arrays |= {f"score:{k}": d * y + rng.normal(size=y.size) for k, d in separation.items()}
    arrays["stratum"] = np.char.add(np.char.add(machine, domain), y.astype(str))
    return Evidence(name, arrays, stratify="stratum", facts={"min_test_clips_per_machine": min_clips})


def _verdict(cid: str, ev: Evidence) -> str:
    return judge(CLAIMS[cid], {ev.name: ev}, seed=0, n_resamples=300).verdict


@pytest.mark.parametrize("cid", COMPARES)
def test_every_comparison_claim_can_go_each_way(cid):
    c = CLAIMS[cid]
    names = [c.effect.treatment, *c.effect.controls]
    strong = _domain({k: (3.0 if k == c.effect.treatment else 0.0) for k in names}, name=c.evidence)
    weak = _domain({k: (0.0 if k == c.effect.treatment else 3.0) for k in names}, name=c.evidence)
    tiny = _domain(dict.fromkeys(names, 1.0), n=3, name=c.evidence)  # 3 clips per stratum: an interval too wide to decide
    assert _verdict(cid, strong) == "supported"
    assert _verdict(cid, weak) == "not supported"
    assert _verdict(cid, tiny) == "inconclusive"


def test_too_few_test_clips_make_a_domain_claim_inconclusive_with_the_reason():
    ev = _domain({"DN": 3.0, "spatial": 0.0, "spectral": 0.0}, min_clips=4)
    v = judge(CLAIMS["p2/temporal_pooling_best"], {"domain_shift": ev}, n_resamples=50)
    assert v.verdict == "inconclusive" and "only 4 test clips" in v.reason


def test_middle_layer_claim_each_way():
    def layers(best: int, d_best: float = 3.0, d_other: float = 0.0, n: int = 40) -> Evidence:
        return _domain({f"layer {l}": (d_best if l == best else d_other) for l in range(1, 7)}, n=n, name="beats_layers")
    assert _verdict("p2/middle_layers_best", layers(4)) == "supported"
    assert _verdict("p2/middle_layers_best", layers(1)) == "not supported"
    assert _verdict("p2/middle_layers_best", layers(1, 1.0, 1.0, n=3)) == "inconclusive"


def test_eval_set_claim_against_the_published_system_each_way():
    cid = "p2/beats_best_outlier_exposure_system"
    assert _verdict(cid, _domain({"GenRep": 3.0}, name="eval_set")) == "supported"
    assert _verdict(cid, _domain({"GenRep": 0.0}, name="eval_set")) == "not supported"
    assert _verdict(cid, _domain({"GenRep": 0.85}, n=8, name="eval_set")) == "inconclusive"


def _low(separation: dict[str, float], n: int = 30, seed: int = 0, name: str = "low_shot") -> Evidence:
    """Two machines x two sections x {normal, anomaly}; ``separation``: ``"<setting>|<shots>"`` -> d,
    two draws each."""
    rng = np.random.default_rng(seed)
    machine, section, y = (np.repeat(a, n) for a in np.array(np.meshgrid(["fan", "pump"], ["00", "01"], [False, True],
                                                                          indexing="ij")).reshape(3, -1))
    y = y == "True"
    arrays = {"machine": machine, "section": section, "is_anomaly": y}
    for key, d in separation.items():
        for draw in (1, 2):
            arrays[f"score:{key}|{draw}"] = d * y + rng.normal(size=y.size)
    arrays["stratum"] = np.char.add(machine, y.astype(str))
    return Evidence(name, arrays, stratify="stratum")


def _ladder(ds: dict[str, float], label: dict[str, float] | None = None, **kw) -> Evidence:
    sep = {f"label-free|{s}": d for s, d in ds.items()}
    sep |= {f"label|{s}": d for s, d in (label or ds).items()}
    return _low(sep, **kw)


def test_shot_order_puts_half_and_full_last():
    ev = _ladder({"100": 1, "4": 1, "full": 1, "16": 1, "half": 1})
    assert p2c.shot_order(ev.arrays) == ["4", "16", "100", "half", "full"]


def test_graceful_degradation_each_way():
    cid = "p2/lowshot_graceful"
    assert _verdict(cid, _ladder({"4": 2.0, "16": 2.0, "full": 2.0})) == "supported"
    assert _verdict(cid, _ladder({"4": 0.0, "16": 3.0, "full": 3.0})) == "not supported"
    assert _verdict(cid, _ladder({"4": 0.4, "16": 1.0, "full": 1.0}, n=8)) == "inconclusive"


def test_section_labels_claim_each_way_and_per_id():
    cid = "p2/section_labels_help"
    base = {"4": 0.0, "full": 0.0}
    assert _verdict(cid, _ladder(base, {"4": 3.0, "full": 3.0})) == "supported"
    assert _verdict(cid, _ladder({"4": 3.0, "full": 3.0}, base)) == "not supported"
    assert _verdict(cid, _ladder({"4": 0.8, "full": 0.8}, {"4": 0.9, "full": 0.9}, n=6)) == "inconclusive"
    ev = _ladder({"4": 1.0, "full": 1.0}).arrays
    assert p2c.lowshot_auc(ev, "label-free", "4", per_id=True) != pytest.approx(p2c.lowshot_auc(ev, "label-free", "4"))


def test_200_shots_claim_each_way():
    cid = "p2/200_shots_match_autoencoder"
    kw = {"name": "low_shot_dcase2020"}
    assert _verdict(cid, _ladder({"200": 3.0, "full": 3.0}, **kw)) == "supported"
    assert _verdict(cid, _ladder({"200": 0.0, "full": 3.0}, **kw)) == "not supported"
    assert _verdict(cid, _ladder({"200": 0.9, "full": 3.0}, n=6, **kw)) == "inconclusive"


def test_claims_without_their_evidence_are_not_run():
    ev = {"domain_shift": _domain({"DN": 1.0, "no DN": 0.0, "spatial": 0.0, "spectral": 0.0})}
    for cid in ("p2/finetuned_beats_pretrained", "p2/middle_layers_best", "p2/beats_best_outlier_exposure_system",
                "p2/200_shots_match_autoencoder", "p2/pretraining_helps", "p2/largest_ks_best",
                "p2/memmixup_raises_target_auc", "p2/dn_memmixup_best"):
        v = judge(CLAIMS[cid], ev)
        assert v.verdict == "not run" and CLAIMS[cid].evidence in v.reason


def test_fast_machine_metrics_equal_the_evaluator():
    ev = _domain({"a": 0.7}, n=15, seed=3).arrays
    for m in ("fan", "pump"):
        sel = ev["machine"] == m
        fast = p2c.machine_values(ev["is_anomaly"][sel], ev["score:a"][sel], ev["domain"][sel])
        slow = dcase_machine_metrics(ev["is_anomaly"][sel], ev["score:a"][sel], ev["domain"][sel])
        assert fast == pytest.approx(slow, abs=1e-12)


@pytest.mark.parametrize("max_fpr", [0.05, 0.1, 0.3, 1.0])
def test_pauc_ranks_equals_scikit_learn_with_ties(max_fpr):
    rng = np.random.default_rng(1)
    for i in range(200):
        n = int(rng.integers(3, 50))
        y = rng.random(n) < 0.4
        if y.all() or not y.any():
            continue
        s = rng.integers(0, 5, n).astype(float) if i % 2 else rng.normal(size=n)
        assert pauc_ranks(y, s, max_fpr) == pytest.approx(pauc(y.astype(int), s, max_fpr), abs=1e-12)


def test_margins_and_paper_effects_are_declared():
    for c in CLAIMS.values():
        assert c.margin_reason and np.isfinite(c.margin)
    assert CLAIMS["p2/dn_raises_target_auc"].paper_effect == pytest.approx(77.20 - 60.78)
    assert CLAIMS["p2/beats_best_outlier_exposure_system"].paper_effect == pytest.approx(73.79 - 68.13)
