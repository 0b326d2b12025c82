"""oodlib.claims: the decision rule, the bootstrap, evidence files, the scoreboard."""

from __future__ import annotations

import json

import numpy as np
import pytest
from scipy import stats
from sklearn.metrics import roc_auc_score

from oodlib.claims import (AllOf, Claim, Compare, Evidence, Statistic, auroc_of, bootstrap_effect, decide, judge,
                           judge_all, load_evidence, save_evidence)
from oodlib.claims.checks import flag_false, model_learned
from oodlib.claims.scoreboard import scoreboard, scoreboard_markdown, tally, verdict_table
from oodlib.metrics.binary import auroc_ranks
from oodlib.records import RunRecord, load_records


def shifted(n: int, d: float) -> np.ndarray:
    """n evenly spaced normal quantiles shifted by d (deterministic 'samples')."""
    return stats.norm.ppf((np.arange(n) + 0.5) / n) + d


def ood_evidence(name: str, n_id: int, n_ood: int, shifts: dict[str, float], facts=None) -> Evidence:
    """ID scores ~ N(0,1) quantiles; each method's OOD scores shifted by its d (AUROC = Phi(d / sqrt 2))."""
    arrays = {"is_ood": np.r_[np.zeros(n_id, bool), np.ones(n_ood, bool)]}
    for m, d in shifts.items():
        rng = np.random.default_rng(sum(map(ord, m)))  # decorrelate the methods' orders (stable)
        arrays[m] = np.r_[rng.permutation(shifted(n_id, 0.0)), rng.permutation(shifted(n_ood, d))]
    return Evidence(name, arrays, stratify="is_ood", facts=facts or {})


def d_for(auroc_pct: float) -> float:
    return float(np.sqrt(2) * stats.norm.ppf(auroc_pct / 100))


AUROC = auroc_of("is_ood")


# ---------------------------------------------------------------- the rule


@pytest.mark.parametrize("direction,margin,low,high,want", [
    ("greater", 0.0, 0.1, 2.0, "supported"), ("greater", 0.0, -2.0, -0.1, "not supported"),
    ("greater", 0.0, -0.1, 2.0, "inconclusive"), ("greater", 5.0, 1.0, 4.0, "not supported"),
    ("less", 60.0, 40.0, 59.0, "supported"), ("less", 60.0, 61.0, 70.0, "not supported"),
    ("less", 60.0, 55.0, 65.0, "inconclusive"),
    ("within", 2.0, -1.0, 1.5, "supported"), ("within", 2.0, 2.5, 4.0, "not supported"),
    ("within", 2.0, -4.0, -2.5, "not supported"), ("within", 2.0, 1.0, 3.0, "inconclusive"),
    ("greater", 0.0, np.nan, 1.0, "inconclusive"),
])
def test_decide(direction, margin, low, high, want):
    assert decide(direction, margin, low, high) == want


def test_claim_declaration_is_checked():
    with pytest.raises(ValueError, match="direction"):
        Claim("x/a", "s", "src", Compare(AUROC, "a"), "e", "bigger", 0.0, "r")
    with pytest.raises(ValueError, match="margin_reason"):
        Claim("x/a", "s", "src", Compare(AUROC, "a"), "e", "greater", 0.0, " ")
    with pytest.raises(ValueError, match="margin"):
        Claim("x/a", "s", "src", Compare(AUROC, "a"), "e", "within", 0.0, "r")


# ---------------------------------------------------------------- metrics and effects


def test_auroc_ranks_equals_sklearn_with_ties():
    rng = np.random.default_rng(0)
    for _ in range(20):
        y = rng.random(200) < 0.3
        s = rng.integers(0, 8, 200).astype(float)  # heavy ties
        assert auroc_ranks(y, s) == pytest.approx(roc_auc_score(y, s), abs=1e-12)


def test_compare_and_allof():
    ev = ood_evidence("far", 100, 100, {"kNN": d_for(90), "MSP": d_for(60), "ODIN": d_for(70)})
    eff = Compare(AUROC, "kNN", ["MSP", "ODIN"], what="AUROC")
    parts = eff.values(ev.arrays)
    assert eff(ev.arrays) == pytest.approx(parts["kNN"] - parts["ODIN"])
    assert set(eff.parts(ev.arrays)) == {"AUROC(kNN)", "AUROC(MSP)", "AUROC(ODIN)"}
    assert "max(MSP, ODIN)" in eff.label
    low = Compare(AUROC, "MSP", ["kNN"], higher_is_better=False, what="AUROC")
    assert low(ev.arrays) == pytest.approx(parts["MSP"] - parts["kNN"])
    both = AllOf([eff, Compare(AUROC, "ODIN", ["MSP"], what="AUROC")])
    assert both(ev.arrays) == pytest.approx(min(parts["kNN"] - parts["ODIN"], parts["ODIN"] - parts["MSP"]))


# ---------------------------------------------------------------- the bootstrap


def claim_gt(margin=0.0, check=None) -> Claim:
    return Claim("t/knn_beats_msp", "kNN beats MSP", "test", Compare(AUROC, "kNN", ["MSP"], what="AUROC"),
                 "far", "greater", margin, "test margin", "AUROC points", check=check)


def test_identical_scores_are_inconclusive():
    ev = ood_evidence("far", 200, 200, {"kNN": 1.0})
    ev = Evidence("far", {**ev.arrays, "MSP": ev.arrays["kNN"].copy()}, stratify="is_ood")
    v = judge(claim_gt(), {"far": ev})
    assert v.verdict == "inconclusive" and v.interval.low == v.interval.high == 0.0


def test_well_separated_is_supported_and_reverse_not():
    ev = ood_evidence("far", 300, 300, {"kNN": d_for(95), "MSP": d_for(60)})
    assert judge(claim_gt(5.0), {"far": ev}).verdict == "supported"
    rev = Evidence("far", {**ev.arrays, "kNN": ev.arrays["MSP"], "MSP": ev.arrays["kNN"]}, stratify="is_ood")
    assert judge(claim_gt(5.0), {"far": rev}).verdict == "not supported"


def test_small_sets_near_the_margin_are_inconclusive():
    ev = ood_evidence("far", 15, 15, {"kNN": d_for(80), "MSP": d_for(75)})
    v = judge(claim_gt(5.0), {"far": ev})
    assert v.verdict == "inconclusive"
    assert v.interval.low < 5.0 < v.interval.high


def test_bootstrap_is_deterministic_and_stratified():
    ev = ood_evidence("far", 50, 20, {"kNN": 1.0, "MSP": 0.5})
    a = judge(claim_gt(), {"far": ev}, seed=3)
    b = judge(claim_gt(), {"far": ev}, seed=3)
    assert a.interval == b.interval
    assert a.interval.units == {"False": 50, "True": 20}


def test_interval_coverage_on_a_simulated_mean():
    """95% percentile intervals of a mean cover the true mean about 95% of the time."""
    rng = np.random.default_rng(1)
    eff = Statistic(lambda a: float(np.mean(a["x"])), "mean")
    hits = 0
    trials = 200
    for _ in range(trials):
        ev = Evidence("m", {"x": rng.normal(2.0, 1.0, 60)})
        iv = bootstrap_effect(eff, [ev], rng, n_resamples=300)
        hits += iv.low <= 2.0 <= iv.high
    assert 0.89 <= hits / trials <= 0.99


def test_cluster_bootstrap_resamples_whole_units():
    """Rows of one cluster share a value: resampling rows would overstate precision."""
    rng = np.random.default_rng(2)
    centres = rng.normal(0, 1, 10)
    x = np.repeat(centres, 50) + rng.normal(0, 0.01, 500)
    cl = np.repeat(np.arange(10), 50)
    eff = Statistic(lambda a: float(np.mean(a["x"])), "mean")
    by_row = bootstrap_effect(eff, [Evidence("c", {"x": x})], np.random.default_rng(0), n_resamples=500)
    by_unit = bootstrap_effect(eff, [Evidence("c", {"x": x, "img": cl}, cluster="img", unit="image")],
                               np.random.default_rng(0), n_resamples=500)
    assert by_unit.units == {"all": 10} and by_row.units == {"all": 500}
    assert (by_unit.high - by_unit.low) > 5 * (by_row.high - by_row.low)


def test_several_seeds_add_their_spread():
    runs = [{"far": ood_evidence("far", 100, 100, {"kNN": d, "MSP": 0.5})} for d in (0.6, 1.5, 2.5)]
    one = judge(claim_gt(), runs[1])
    many = judge(claim_gt(), runs)
    assert many.interval.n_seeds == 3 and "two-level" in many.interval.method
    assert (many.interval.high - many.interval.low) > (one.interval.high - one.interval.low)


# ---------------------------------------------------------------- checks, missing evidence, records


def test_checks_make_claims_inconclusive():
    ev = ood_evidence("far", 100, 100, {"kNN": 3.0, "MSP": 0.0}, facts={"id_accuracy": 0.36, "chance_accuracy": 1 / 3})
    v = judge(claim_gt(check=model_learned(0.1)), {"far": ev})
    assert v.verdict == "inconclusive" and "did not learn" in v.reason
    ok = Evidence("far", ev.arrays, "is_ood", facts={"id_accuracy": 0.9, "chance_accuracy": 1 / 3})
    assert judge(claim_gt(check=model_learned(0.1)), {"far": ok}).verdict == "supported"
    flagged = Evidence("far", ev.arrays, "is_ood", facts={"collapsed": True})
    assert judge(claim_gt(check=flag_false("collapsed", "collapsed")), {"far": flagged}).verdict == "inconclusive"


def test_missing_evidence_is_not_run_and_ids_unique():
    v = judge(claim_gt(), {})
    assert v.verdict == "not run" and v.to_record()["verdict"] == "not run"
    with pytest.raises(ValueError, match="unique"):
        judge_all([claim_gt(), claim_gt()], {})


def test_evidence_validation():
    with pytest.raises(ValueError, match="first axis"):
        Evidence("e", {"a": np.zeros(3), "b": np.zeros(4)})
    with pytest.raises(ValueError, match="NaN"):
        Evidence("e", {"a": np.array([0.0, np.nan])})
    with pytest.raises(ValueError, match="no array named"):
        Evidence("e", {"a": np.zeros(3)}, stratify="label")
    with pytest.raises(ValueError, match="name"):
        Evidence("a/b", {"a": np.zeros(3)})


def test_score_file_roundtrip_and_rejudge(tmp_path):
    ev = ood_evidence("far", 80, 40, {"kNN": 2.0, "MSP": 0.3}, facts={"id_accuracy": 0.9, "chance_accuracy": 0.33})
    path = save_evidence([ev], tmp_path / "x.scores.npz")
    back = load_evidence(path)["far"]
    assert back.stratify == "is_ood" and back.facts["id_accuracy"] == 0.9
    np.testing.assert_array_equal(back.arrays["kNN"], ev.arrays["kNN"])
    assert judge(claim_gt(), {"far": back}).interval == judge(claim_gt(), {"far": ev}).interval
    with np.load(path, allow_pickle=False) as z:  # readable without pickle
        assert "far/kNN" in z.files


def test_record_keeps_verdicts_and_scores(tmp_path):
    ev = ood_evidence("far", 80, 40, {"kNN": 2.0, "MSP": 0.3})
    rec = RunRecord("99_claims", {"seed": 0}, seed=0, data_source="synthetic")
    rec.add_evidence({"far": ev})
    rec.add_verdicts(judge_all([claim_gt(), Claim("t/other", "other", "t", Compare(AUROC, "MSP"), "near",
                                                   "greater", 50.0, "r")], {"far": ev}))
    rec.add_claim("legacy", "supported", "a point comparison")
    path = rec.write(tmp_path)
    data = json.loads(path.read_text())
    assert data["scores_file"] == "99_claims.scores.npz" and (tmp_path / "99_claims.scores.npz").is_file()
    c = data["claims"][0]
    assert c["verdict"] == "supported" and c["interval"][0] > 0 and c["n_seeds"] == 1
    assert c["resampling"]["units_per_stratum"] == {"False": 80, "True": 40}
    assert data["claims"][1]["verdict"] == "not run"
    recs = load_records(tmp_path)
    boards = scoreboard(recs)
    assert set(boards["99_claims"].columns) >= {"claim", "synthetic", "rule"}
    md = scoreboard_markdown(recs)
    assert "point comparison, no interval" in md and "**supported** +" in md
    t = tally(recs)
    assert t.loc[0, "supported"] == 2 and t.loc[0, "not run"] == 1 and t.loc[0, "with interval"] == 1
    assert list(verdict_table(judge_all([claim_gt()], {"far": ev})).columns)[:3] == ["claim", "verdict", "effect"]


def test_scoreboard_has_one_column_per_data_source():
    base = {"schema_version": 1, "notebook": "p9", "parameters": {}, "seed": 0, "metrics": {}, "timings": {},
            "versions": {}, "created": "2026-01-01"}
    claim = {"id": "p9/a", "claim": "A", "verdict": "supported", "evidence": "e", "effect": 3.0,
             "interval": [1.0, 5.0], "n_seeds": 1, "margin": 0.0, "direction": "greater", "units": "pts"}
    recs = [{**base, "data_source": "synthetic", "claims": [claim]},
            {**base, "data_source": "esc50", "claims": [{**claim, "verdict": "not supported", "interval": [-3, -1]}]}]
    board = scoreboard(recs)["p9"]
    assert board.loc[0, "synthetic"].startswith("**supported**") and board.loc[0, "esc50"].startswith("**not supported**")


def test_smoke_runs_are_marked_and_claims_name_their_data(tmp_path, monkeypatch):
    from oodlib.records import check_records

    monkeypatch.setenv("OODLIB_PROFILE", "real-smoke")
    rec = RunRecord("p9_smoke", {}, seed=0, data_source="camvid")
    rec.add_claim("judged on synthetic low-shot clips", "supported", "e", data="synthetic (low-shot)")
    rec.add_claim("judged on the run's data", "inconclusive", "e")
    data = json.loads(rec.write(tmp_path).read_text())
    assert data["smoke"] is True and data["profile"] == "real-smoke"
    assert all(c["smoke"] for c in data["claims"]) and data["claims"][1]["data"] == "camvid"
    assert check_records([data]) == []
    board = scoreboard([data])["p9_smoke"]
    assert "camvid (smoke)" in board.columns
    assert board.loc[0, "camvid (smoke)"].startswith("smoke: **supported**")
    assert "judged on synthetic (low-shot)" in board.loc[0, "camvid (smoke)"]
    broken = {**data, "claims": [{k: v for k, v in c.items() if k not in ("smoke", "data")} for c in data["claims"]]}
    problems = check_records([broken])
    assert len(problems) == 4 and "which data" in problems[0] and "not marked smoke" in problems[1]


def test_show_verdicts_keeps_the_whole_claim_text():
    ev = ood_evidence("far", 50, 50, {"kNN": 2.0, "MSP": 0.3})
    long = Claim("t/long", "a claim whose statement is much longer than fifty characters, as papers' claims are",
                 "t", Compare(AUROC, "kNN", ["MSP"]), "far", "greater", 0.0, "r")
    from oodlib.claims.scoreboard import show_verdicts

    html = show_verdicts(judge_all([long], {"far": ev})).to_html()
    assert "as papers' claims are" in html or "as papers&#x27; claims are" in html


def test_interval_of_reads_a_verdicts_interval_by_claim_id():
    from oodlib.claims import interval_of

    ev = ood_evidence("far", 300, 300, {"kNN": d_for(95), "MSP": d_for(60)})
    v = judge(claim_gt(5.0), {"far": ev})
    point, low, high = interval_of([v], v.claim.id)
    assert (point, low, high) == (v.interval.point, v.interval.low, v.interval.high) and low < point < high
    missing = judge(claim_gt(5.0), {})  # no evidence: not run, no interval
    assert all(np.isnan(x) for x in interval_of([missing], missing.claim.id))
    with pytest.raises(KeyError, match="no verdict"):
        interval_of([v], "p9/absent")
