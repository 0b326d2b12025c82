"""Binary metrics: parity with scikit-learn, the reference-code FPR formula, properties, errors."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn import metrics as skm

from oodlib import metrics


def reference_fpr_at_recall(y_true: np.ndarray, y_score: np.ndarray, recall_level: float, pos_label: int = 1) -> float:
    """Transcription of ``fpr_and_fdr_at_recall`` from the kNN-OOD / Hendrycks reference code."""
    y_true = y_true == pos_label
    desc = np.argsort(y_score, kind="mergesort")[::-1]
    y_score, y_true = y_score[desc], y_true[desc]
    distinct = np.where(np.diff(y_score))[0]
    threshold_idxs = np.r_[distinct, y_true.size - 1]
    tps = np.cumsum(y_true, dtype=np.float64)[threshold_idxs]
    fps = 1 + threshold_idxs - tps
    recall = tps / tps[-1]
    last_ind = tps.searchsorted(tps[-1])
    sl = slice(last_ind, None, -1)
    recall, fps = np.r_[recall[sl], 1], np.r_[fps[sl], 0]
    cutoff = np.argmin(np.abs(recall - recall_level))
    return fps[cutoff] / np.sum(np.logical_not(y_true))


def _problem(seed: int, n: int = 400, ties: bool = False):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, n)
    y[:2] = [0, 1]
    s = rng.normal(size=n) + 1.2 * y
    if ties:
        s = np.round(s, 1)
    return y, s


@pytest.mark.parametrize("seed", range(5))
@pytest.mark.parametrize("ties", [False, True])
def test_parity_with_sklearn(seed, ties):
    y, s = _problem(seed, ties=ties)
    assert metrics.auroc(y, s) == pytest.approx(skm.roc_auc_score(y, s), abs=1e-9)
    assert metrics.aupr(y, s) == pytest.approx(skm.average_precision_score(y, s), abs=1e-9)
    assert metrics.pauc(y, s, max_fpr=0.1) == pytest.approx(skm.roc_auc_score(y, s, max_fpr=0.1), abs=1e-9)
    # AUPR with the other class positive equals sklearn with flipped labels and negated scores
    assert metrics.aupr(y, -s, pos_label=0) == pytest.approx(skm.average_precision_score(1 - y, -s), abs=1e-9)


@pytest.mark.parametrize("seed", range(8))
@pytest.mark.parametrize("ties", [False, True])
@pytest.mark.parametrize("level", [0.95, 0.6, 0.5])
def test_fpr_matches_reference_code(seed, ties, level):
    y, s = _problem(seed, n=300, ties=ties)
    assert metrics.fpr_at_tpr(y, s, tpr=level) == pytest.approx(reference_fpr_at_recall(y, s, level), abs=1e-12)


def test_fpr_hand_computed():
    # positives 0.9 0.8 0.7 0.6 ; negatives 0.85 0.5 0.1 0.05
    y = np.array([1, 1, 1, 1, 0, 0, 0, 0])
    s = np.array([0.9, 0.8, 0.7, 0.6, 0.85, 0.5, 0.1, 0.05])
    # TPR reaches 1.0 at threshold 0.6, where one negative (0.85) is above: FPR = 1/4
    assert metrics.fpr_at_tpr(y, s, tpr=1.0) == 0.25
    assert metrics.fpr_at_tpr(y, s, tpr=0.95, method="at_least") == 0.25
    # TPR 0.5 is reached at threshold 0.8 (0.9, 0.85, 0.8 above): FPR = 1/4
    assert metrics.fpr_at_tpr(y, s, tpr=0.5) == 0.25
    # closest to 0.3 is TPR 0.25, reached at 0.9 (no negative above) and still at 0.85 (one
    # negative above); the reference rule takes the lower threshold: FPR = 1/4
    assert metrics.fpr_at_tpr(y, s, tpr=0.3) == 0.25


def test_fpr_positive_class_matters():
    rng = np.random.default_rng(0)
    s_id, s_ood = rng.normal(0, 1, 500), rng.normal(2, 2, 500)
    id_pos = metrics.ood_report(s_id, s_ood, positive="id")
    ood_pos = metrics.ood_report(s_id, s_ood, positive="ood")
    assert id_pos["auroc"] == pytest.approx(ood_pos["auroc"], abs=1e-12)
    assert abs(id_pos["fpr"] - ood_pos["fpr"]) > 0.05  # the two conventions really differ here
    assert id_pos["aupr_in"] == ood_pos["aupr_in"]


def test_eer_known_cases():
    y = np.array([0, 0, 0, 0, 1, 1, 1, 1])
    assert metrics.eer(y, np.arange(8.0)) == 0.0  # perfect separation
    assert metrics.eer(y, -np.arange(8.0)) == 1.0  # perfectly wrong
    rng = np.random.default_rng(1)
    y = rng.integers(0, 2, 20000)
    s = rng.normal(size=y.size) + 2 * y  # two unit Gaussians 2 apart: EER = Phi(-1)
    assert metrics.eer(y, s) == pytest.approx(0.158655, abs=0.01)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(-50, 50), min_size=6, max_size=60), st.integers(0, 2**31 - 1))
def test_monotone_transform_invariance(values, seed):
    s = np.array(values) / 10.0  # a 0.1 grid: the transform below stays strictly increasing in floats
    y = np.random.default_rng(seed).integers(0, 2, s.size)
    y[:2] = [0, 1]
    t = np.exp(s / 3.0) * 7 + 2  # strictly increasing
    for f in (metrics.auroc, metrics.aupr, metrics.eer, metrics.fpr_at_tpr, metrics.pauc):
        assert f(y, t) == pytest.approx(f(y, s), abs=1e-9)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(-3, 3), min_size=6, max_size=60), st.integers(0, 2**31 - 1))
def test_swap_positive_class_with_negated_scores(values, seed):
    s = np.array(values, dtype=float)  # many ties on purpose
    y = np.random.default_rng(seed).integers(0, 2, s.size)
    y[:2] = [0, 1]
    assert metrics.auroc(y, s, pos_label=1) == pytest.approx(metrics.auroc(y, -s, pos_label=0), abs=1e-12)
    assert metrics.eer(y, s, pos_label=1) == pytest.approx(metrics.eer(y, -s, pos_label=0), abs=1e-12)


def test_all_tied_scores_are_chance():
    y = np.array([0, 1] * 10)
    s = np.zeros(20)
    assert metrics.auroc(y, s) == 0.5
    assert metrics.pauc(y, s) == pytest.approx(0.5)


@pytest.mark.parametrize(
    "y, s, message",
    [
        ([1, 1, 1], [0.1, 0.2, 0.3], "only the positive class"),
        ([0, 0, 0], [0.1, 0.2, 0.3], "does not occur"),
        ([0, 1, 1], [0.1, np.nan, 0.3], "NaN or infinite"),
        ([0, 1, 1], [0.1, np.inf, 0.3], "NaN or infinite"),
        ([0, 1], [0.1, 0.2, 0.3], "must match"),
        ([0, 1, 2], [0.1, 0.2, 0.3], "two classes"),
        ([], [], "empty"),
    ],
)
def test_bad_input_is_named(y, s, message):
    for f in (metrics.auroc, metrics.aupr, metrics.fpr_at_tpr, metrics.pauc, metrics.eer):
        with pytest.raises(ValueError, match=message):
            f(y, s)


def test_bad_parameters():
    y, s = _problem(0)
    with pytest.raises(ValueError, match="tpr"):
        metrics.fpr_at_tpr(y, s, tpr=0)
    with pytest.raises(ValueError, match="method"):
        metrics.fpr_at_tpr(y, s, method="nearest")
    with pytest.raises(ValueError, match="max_fpr"):
        metrics.pauc(y, s, max_fpr=1.5)
    with pytest.raises(ValueError, match="positive"):
        metrics.ood_report([1.0], [2.0], positive="in")


def reference_p5_fpr95(y_true: np.ndarray, y_score: np.ndarray, tpr: float = 0.95) -> float:
    """Transcription of the P5 reference code (dense-ood-knns): ``roc_curve``, then ``argmin |tpr - 0.95|``."""
    fpr, tpr_curve, _ = skm.roc_curve(y_true, y_score)
    return fpr[np.argmin(np.abs(tpr_curve - tpr))]


@pytest.mark.parametrize("seed", range(12))
def test_roc_argmin_matches_p5_reference_on_tie_heavy_problems(seed):
    rng = np.random.default_rng(seed)
    n = 40  # ~20 positives: ties between thresholds with the same closest TPR are common
    y = rng.integers(0, 2, n)
    y[:2] = [0, 1]
    s = np.round(rng.normal(size=n) + y, 0)
    assert metrics.fpr_at_tpr(y, s, method="roc_argmin") == reference_p5_fpr95(y, s)
    assert metrics.fpr_at_tpr(y, s, method="closest") == pytest.approx(reference_fpr_at_recall(y, s, 0.95), abs=1e-12)


def test_the_two_closest_rules_differ_on_ties():
    """Ten positives: TPR 0.9 and 1.0 are equally close to 0.95; P1's rule takes the higher FPR, P5's the lower."""
    y = np.r_[np.ones(10, int), np.zeros(10, int)]
    s = np.r_[np.arange(10, 0, -1), np.arange(10)] + 0.5 * np.r_[np.zeros(10), np.ones(10)]
    p1, p5 = metrics.fpr_at_tpr(y, s, method="closest"), metrics.fpr_at_tpr(y, s, method="roc_argmin")
    assert p1 == pytest.approx(reference_fpr_at_recall(y, s, 0.95)) and p5 == reference_p5_fpr95(y, s)
    assert p5 < p1


def test_pixel_metrics_use_p5s_rule_by_default():
    from oodlib.metrics import PixelOODMetrics

    rng = np.random.default_rng(0)
    lab = (rng.random((2, 6, 7)) < 0.3).astype(np.uint8)
    sc = np.round(rng.normal(size=lab.shape) + lab, 0)
    acc = PixelOODMetrics()
    for a, b in zip(sc, lab):
        acc.update(a, b)
    assert acc.compute()["fpr95"] == reference_p5_fpr95(lab.ravel(), sc.ravel())
    with pytest.raises(ValueError, match="fpr_method"):
        PixelOODMetrics(fpr_method="nearest")
