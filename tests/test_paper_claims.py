"""The paper-package shape (config, data, run, tables, claims) for the tour and P3, and every
declared claim made supported, not supported and inconclusive on small fixture evidence."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest
from scipy import stats

from oodlib.claims import Evidence, judge
from oodlib.params import ParameterError
from oodlib.papers import p3_av_ood as p3
from oodlib.papers import tour
from oodlib.papers.p3_av_ood.claims import SWEEP_POINTS, hm_sweep, routed_hm
from oodlib.papers.p3_av_ood.pipeline import TestPredictions as Predictions
from oodlib.papers.p3_av_ood.pipeline import entropy_threshold_sweep, gzsl_from_routing
from oodlib.runner import run_notebook

# ---------------------------------------------------------------- configurations


@pytest.mark.parametrize("params,match", [
    ({"epochs": 0}, "epochs"), ({"epochs": -3}, "epochs"), ({"n_per_class": 1}, "n_per_class"),
    ({"k": 0}, "'k'"), ({"n_per_class": 5, "k": 16}, "'k'"), ({"data": "esc50"}, "'data'"),
    ({"seed": -1}, "seed"), ({"device": "tpu"}, "device"), ({"epoch": 3}, "no parameters"),
])
def test_tour_config_rejects_nonsense(params, match):
    with pytest.raises(ParameterError, match=match):
        tour.TourConfig.from_params(params)


@pytest.mark.parametrize("params,match", [
    ({"overrides": {"det_epochs": -3}}, "det_epochs"), ({"overrides": {"uc_lr": float("nan")}}, "uc_lr"),
    ({"overrides": {"sc_batch": 0}}, "sc_batch"), ({"overrides": {"dropout_enc": 1.5}}, "dropout_enc"),
    ({"overrides": {"det_epoch": 3}}, "unknown hyperparameters"), ({"datasets": ["Kinetics"]}, "datasets"),
    ({"datasets": []}, "datasets"), ({"datasets": ["UCF", "UCF"]}, "datasets"), ({"dataset": "UCF"}, "no parameters"),
    ({"overrides": {"UCF": {"det_lr": -1}}}, "det_lr"), ({"overrides": {"ucf": {"det_lr": 0.1}}}, "name no dataset"),
    ({"data": "real"}, "'data'"), ({"n_train": 1}, "n_train"), ({"tsne_classes": 0}, "tsne_classes"),
])
def test_p3_config_rejects_nonsense(params, match):
    with pytest.raises(ParameterError, match=match):
        p3.P3Config.from_params(params)


def test_oodlib_run_checks_values_before_the_kernel_starts(root, tmp_path):
    with pytest.raises(ParameterError, match="00_tour.ipynb.*epochs"):
        run_notebook(root / "notebooks" / "00_tour.ipynb", {"epochs": 0}, output_dir=tmp_path, records_dir=tmp_path)
    with pytest.raises(ParameterError, match="det_epochs"):
        run_notebook(root / "notebooks" / "p3_av_ood.ipynb", {"overrides": {"det_epochs": -3}},
                     output_dir=tmp_path, records_dir=tmp_path)
    assert not list(tmp_path.iterdir())  # nothing ran, nothing written


def test_a_caller_that_checked_the_config_skips_that_check_and_the_kernel_still_checks(root, tmp_path):
    """A sweep's workers pass config_checked=True (the plan checked every run): a value the config
    rejects then gets past the runner, which still checks types, and fails in the notebook's first cell."""
    import papermill

    nb = root / "notebooks" / "00_tour.ipynb"
    with pytest.raises(ParameterError, match="epochs"):
        run_notebook(nb, {"epochs": "five"}, output_dir=tmp_path, records_dir=tmp_path, config_checked=True)
    with pytest.raises(papermill.PapermillExecutionError, match="epochs"):
        run_notebook(nb, {"epochs": 0}, output_dir=tmp_path, records_dir=tmp_path, config_checked=True)


def test_tour_shape_end_to_end_small():
    cfg = tour.TourConfig(n_per_class=40, epochs=5, k=5, device="cpu")
    data = tour.load(cfg)
    assert data.summary()["train"] == 120 and "no real data" in data.note
    res = tour.run(cfg, data)
    table = tour.ood_table(res)
    assert set(table.index.get_level_values(0)) == {"near", "far"}
    ev = res.evidence()
    assert set(ev) == {"near", "far"} and ev["far"].unit_counts() == {"False": 120, "True": 40}
    again = tour.run(cfg, tour.load(cfg))
    np.testing.assert_array_equal(again.scores["far"]["kNN"], res.scores["far"]["kNN"])


# ---------------------------------------------------------------- the tour's claims on fixtures


def _q(n: int, d: float, seed: int) -> np.ndarray:
    """``n`` scores at the normal quantiles shifted by ``d``, shuffled: their AUROC against an
    unshifted set is exactly the normal model's (shared with ``test_p4_claims``)."""
    return np.random.default_rng(seed).permutation(stats.norm.ppf((np.arange(n) + 0.5) / n) + d)


def tour_evidence(name: str, auroc_knn: float, auroc_msp: float, n: int = 300, acc: float = 0.95) -> Evidence:
    d = lambda a: float(np.sqrt(2) * stats.norm.ppf(a / 100))  # noqa: E731
    arrays = {"is_ood": np.r_[np.zeros(n, bool), np.ones(n, bool)],
              "kNN": np.r_[_q(n, 0, 1), _q(n, d(auroc_knn), 2)], "MSP": np.r_[_q(n, 0, 3), _q(n, d(auroc_msp), 4)]}
    arrays["kNN (raw)"] = arrays["kNN"]
    return Evidence(name, arrays, stratify="is_ood", facts={"id_accuracy": acc, "chance_accuracy": 1 / 3})


TOUR_CASES = {  # claim id -> evidence (name, AUROC kNN, AUROC MSP, n) per verdict
    "tour/knn_beats_msp_far": {"supported": ("far", 95, 50, 300), "not supported": ("far", 50, 95, 300),
                               "inconclusive": ("far", 75, 70, 12)},
    "tour/msp_near_chance_far": {"supported": ("far", 90, 45, 300), "not supported": ("far", 90, 90, 300),
                                 "inconclusive": ("far", 90, 60, 12)},
    "tour/knn_not_worse_near": {"supported": ("near", 90, 70, 300), "not supported": ("near", 60, 90, 300),
                                "inconclusive": ("near", 70, 71, 12)},
}


@pytest.mark.parametrize("claim", tour.claims(), ids=lambda c: c.id)
@pytest.mark.parametrize("verdict", ["supported", "not supported", "inconclusive"])
def test_every_tour_claim_can_take_every_verdict(claim, verdict):
    name, a_knn, a_msp, n = TOUR_CASES[claim.id][verdict]
    v = judge(claim, {name: tour_evidence(name, a_knn, a_msp, n)})
    assert v.verdict == verdict, v.evidence_text()


def test_tour_claims_are_not_judged_on_a_model_at_chance():
    for claim in tour.claims():
        name = claim.evidence
        v = judge(claim, {name: tour_evidence(name, 95, 50, acc=0.40)})
        assert v.verdict == "inconclusive" and "did not learn" in v.reason


# ---------------------------------------------------------------- P3's claims on fixtures

SEEN, UNSEEN = np.arange(4), np.arange(4, 8)


def _preds(y: np.ndarray, classes: np.ndarray, acc: float, rng: np.random.Generator) -> np.ndarray:
    """Predictions over ``classes``: right for a fraction ``acc`` of each class's rows, else another class."""
    out = np.empty_like(y)
    for c in np.unique(y):
        rows = rng.permutation(np.flatnonzero(y == c))  # which rows are right differs between classifiers
        k = int(round(acc * len(rows)))
        wrong = rng.choice(classes[classes != c] if c in classes else classes, len(rows))
        out[rows] = np.r_[np.full(k, c) if c in classes else wrong[:k], wrong[k:]]
    return out


def _p3_rows(m: int, seed: int, acc: dict | None = None, auc: dict | None = None, route_at: float = 0.9,
             abl: tuple[float, float] = (0.6, 0.4), scale: float = 1.0) -> dict[str, np.ndarray]:
    """One dataset's fixture rows: 4 seen and 4 unseen classes, ``m`` test rows per class. The entropy
    scores are ``scale * exp(z)`` (positive, as entropies), routed where ``z > route_at``."""
    rng = np.random.default_rng(seed)
    acc = {"seen_mlp": 0.9, "seen_emb": 0.6, "unseen_emb": 0.7, "unseen_mlp": 0.3, "unseen_avca": 0.5, **(acc or {})}
    auc = {"OOD-entropy": 90, "OOD-binary": 60, "Calibrated stacking": 70, **(auc or {})}
    y = np.r_[np.repeat(SEEN, m), np.repeat(UNSEEN, m)]
    u = y >= 4
    n_s = len(SEEN) * m
    a = {"is_unseen": u, "y": y}
    for name, value in auc.items():
        d = float(np.sqrt(2) * stats.norm.ppf(value / 100))
        a[f"score:{name}"] = np.r_[_q(n_s, 0, rng.integers(1e6)), _q(n_s, d, rng.integers(1e6))]
    for name, value in acc.items():
        if name != "unseen_avca":
            a[name] = _preds(y, SEEN if name.startswith("seen") else UNSEEN, value, rng)
    a["stacking_pred"] = np.where(u, a["unseen_emb"], a["seen_mlp"])
    a["stacking_pred"][rng.random(len(y)) < 0.5] = 0  # the stacking baseline: half its rows wrong
    a["unseen_avca"] = _preds(y, UNSEEN, acc.get("unseen_avca", 0.5), rng)
    a["routes_unseen"] = a["score:OOD-entropy"] > route_at
    a["score:OOD-entropy"] = scale * np.exp(a["score:OOD-entropy"])  # monotone: every ranking is unchanged
    a["ablation:L+ + L- (ours)"] = _preds(y, UNSEEN, abl[0], rng)
    a["ablation:L+"] = _preds(y, UNSEEN, abl[1], rng)
    return a


def p3_evidence(m: int = 60, seed: int = 0, datasets: tuple[str, ...] = ("VGGSound", "UCF", "ActivityNet"),
                where: dict | None = None, collapsed: bool = False, **kw) -> dict:
    """Fixture evidence for P3 with the layout of :meth:`P3Result.evidence`: every dataset's rows from
    :func:`_p3_rows` with ``kw``, updated by ``where[dataset]`` for that dataset."""
    parts = []
    for i, d in enumerate(datasets):
        a = _p3_rows(m, seed + 97 * i, **{**kw, **(where or {}).get(d, {})})
        a["dataset"] = np.full(len(a["y"]), d)
        a["stratum"] = np.where(a["is_unseen"], f"{d}:unseen", f"{d}:seen")
        parts.append(a)
    a = {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}
    facts = {"entropy_collapsed": list(datasets) if collapsed else [], "uc_checkpoint": []}
    test = Evidence("test", {k: v for k, v in a.items() if not k.startswith("ablation:")}, "stratum", facts=facts)
    keep = ("dataset", "stratum", "is_unseen", "y", "routes_unseen", "seen_mlp", "ablation:L+ + L- (ours)", "ablation:L+")
    return {"test": test, "ablation": Evidence("ablation", {k: a[k] for k in keep}, "stratum", facts=facts)}


P3_CASES = {  # claim id -> fixture keyword arguments per verdict
    "p3/entropy_best_detector": {"supported": {}, "not supported": {"auc": {"OOD-entropy": 55}},
                                 "inconclusive": {"m": 6, "auc": {"OOD-entropy": 72}}},
    "p3/binary_worst_detector": {"supported": {}, "not supported": {"auc": {"OOD-binary": 85}},
                                 "inconclusive": {"m": 6, "auc": {"OOD-binary": 67}}},
    "p3/entropy_lowest_fpr": {"supported": {}, "not supported": {"auc": {"OOD-entropy": 55}},
                              "inconclusive": {"m": 6, "auc": {"OOD-entropy": 73}}},
    "p3/classifier_roles": {"supported": {}, "not supported": {"acc": {"seen_mlp": 0.4}},
                            "inconclusive": {"m": 8, "acc": {"seen_mlp": 0.7}}},
    "p3/negative_losses_help": {"supported": {}, "not supported": {"abl": (0.3, 0.7)},
                                "inconclusive": {"m": 6, "abl": (0.5, 0.5)}},
    "p3/mean_entropy_threshold": {"supported": {}, "not supported": {"route_at": 3.0},
                                  "inconclusive": {"m": 6, "route_at": 1.5}},
    "p3/avood_beats_avca": {"supported": {}, "not supported": {"route_at": 3.0},
                            "inconclusive": {"m": 6, "route_at": 0.6}},
    "p3/zsl_above_avca": {"supported": {}, "not supported": {"acc": {"unseen_avca": 0.9}},
                          "inconclusive": {"m": 6, "acc": {"unseen_avca": 0.68}}},
    "p3/best_thresholds_vary": {"supported": {"where": {"UCF": {"scale": 1e-2}, "ActivityNet": {"scale": 1e-4}}},
                                "not supported": {},
                                "inconclusive": {"m": 6, "where": {"UCF": {"scale": 0.1}, "ActivityNet": {"scale": 0.1}}}},
}


@pytest.mark.parametrize("claim", p3.claims(p3.P3Config()), ids=lambda c: c.id)
@pytest.mark.parametrize("verdict", ["supported", "not supported", "inconclusive"])
def test_every_p3_claim_can_take_every_verdict(claim, verdict):
    v = judge(claim, p3_evidence(**P3_CASES[claim.id][verdict]))
    assert v.verdict == verdict, v.evidence_text()


def test_p3_claims_carry_the_papers_values_and_respect_a_collapse():
    cs = {c.id: c for c in p3.claims(p3.P3Config(datasets=["UCF"]))}
    assert cs["p3/entropy_best_detector"].paper_effect == pytest.approx(87.66 - 60.06)
    assert cs["p3/avood_beats_avca"].paper_effect == pytest.approx(37.89 - 27.15)
    assert cs["p3/zsl_above_avca"].paper_effect > 0  # the paper's AV-OOD ZSL beats AVCA's on UCF
    assert cs["p3/binary_worst_detector"].paper_effect == pytest.approx(47.09 - 60.06)
    assert cs["p3/entropy_lowest_fpr"].paper_effect == pytest.approx(8.68 - 39.78)
    assert "p3/best_thresholds_vary" not in cs  # one dataset: nothing to vary across
    every = {c.id: c for c in p3.claims(p3.P3Config())}
    # the worst dataset's value: HM gains 4.85 (VGGSound), 10.74 (UCF), 2.25 (ActivityNet)
    assert every["p3/avood_beats_avca"].paper_effect == pytest.approx(14.38 - 12.13)
    # the paper's exceptions stay out: ActivityNet, where stacking has the higher AUC and the lower FPR
    assert every["p3/entropy_best_detector"].paper_effect == pytest.approx(min(87.66 - 60.06, 72.59 - 66.04))
    assert every["p3/entropy_lowest_fpr"].paper_effect == pytest.approx(max(8.68 - 39.78, 26.64 - 36.43))
    assert every["p3/best_thresholds_vary"].paper_effect == pytest.approx(np.log10(0.6 / 0.00095))
    only_anet = {c.id for c in p3.claims(p3.P3Config(datasets=["ActivityNet"]))}
    assert "p3/entropy_best_detector" not in only_anet and "p3/binary_worst_detector" in only_anet
    assert "oracle" in cs["p3/mean_entropy_threshold"].protocol
    v = judge(cs["p3/entropy_best_detector"], p3_evidence(collapsed=True, datasets=("UCF",)))
    assert v.verdict == "inconclusive" and "collapsed" in v.reason
    assert judge(cs["p3/negative_losses_help"], {"test": p3_evidence()["test"]}).verdict == "not run"


def test_p3_on_every_dataset_means_the_worst_one():
    """A claim that holds on two datasets and fails on the third is not supported; its evidence names each."""
    cs = {c.id: c for c in p3.claims(p3.P3Config())}
    ev = p3_evidence(where={"ActivityNet": {"auc": {"OOD-binary": 85}}})
    v = judge(cs["p3/binary_worst_detector"], ev)
    assert v.verdict == "not supported" and "ActivityNet: effect" in v.evidence_text()
    assert judge(cs["p3/binary_worst_detector"], p3_evidence()).verdict == "supported"
    # the paper's exception: a bad ActivityNet OOD-entropy AUC does not touch the two-dataset claim
    v = judge(cs["p3/entropy_best_detector"], p3_evidence(where={"ActivityNet": {"auc": {"OOD-entropy": 55}}}))
    assert v.verdict == "supported"


def test_p3_fast_effects_equal_the_pipeline_metrics():
    ev = p3_evidence(m=20, seed=4, route_at=0.3, datasets=("UCF",))["test"].arrays
    t = Predictions(y=ev["y"], is_seen_sample=~ev["is_unseen"], seen_mlp=ev["seen_mlp"], seen_emb=ev["seen_emb"],
                        unseen_emb=ev["unseen_emb"], unseen_mlp=ev["unseen_mlp"],
                        scores={"OOD-entropy": ev["score:OOD-entropy"]})
    ref = gzsl_from_routing(t, ev["routes_unseen"], t.seen_mlp, t.unseen_emb)["HM"]
    assert routed_hm(ev, ev["routes_unseen"]) == pytest.approx(100 * ref)
    thr, hm = hm_sweep(ev)
    sw = entropy_threshold_sweep(SimpleNamespace(test=t), n=SWEEP_POINTS)
    looped = [gzsl_from_routing(t, ev["score:OOD-entropy"] > th, t.seen_mlp, t.unseen_emb)["HM"] for th in thr]
    np.testing.assert_allclose(hm, 100 * np.array(looped), atol=1e-10)  # the vectorised curve vs routing, threshold by threshold
    np.testing.assert_allclose(hm, 100 * sw["HM"], atol=1e-10)
    np.testing.assert_allclose(thr, sw["threshold"])
    kept = [np.mean(ev["score:OOD-entropy"][~ev["is_unseen"]] <= th) for th in thr]
    np.testing.assert_allclose(sw["TPR"], kept)


def test_p3_detector_fpr_is_sklearns_fpr_at_60_percent_seen_accepted():
    from sklearn.metrics import roc_curve

    from oodlib.papers.p3_av_ood.claims import detector_fpr

    a = p3_evidence(m=25, seed=3, datasets=("UCF",))["test"].arrays
    for name in ("OOD-entropy", "OOD-binary", "Calibrated stacking"):
        fpr, tpr, _ = roc_curve(~a["is_unseen"], -a[f"score:{name}"])  # seen positive, lower score = more seen
        assert detector_fpr(a, name) == pytest.approx(100 * fpr[np.argmax(tpr >= 0.6)])
