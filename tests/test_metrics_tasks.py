"""DCASE, GZSL and dense pixel metrics against hand computations and the reference formulas."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import hmean
from sklearn import metrics as skm

from oodlib import metrics


def _machine(seed: int):
    rng = np.random.default_rng(seed)
    n = 120
    dom = np.where(rng.random(n) < 0.5, "source", "target")
    y = (rng.random(n) < 0.4).astype(int)
    s = rng.normal(size=n) + y + 0.5 * (dom == "target")
    return y, s, dom


def test_dcase_domain_auc_uses_all_anomalies():
    y, s, d = _machine(0)
    out = metrics.dcase_machine_metrics(y, s, d)
    for dom in ("source", "target"):
        sel = (y == 1) | (d == dom)  # that domain's normals plus ALL anomalies
        assert out[f"auc_{dom}"] == pytest.approx(skm.roc_auc_score(y[sel], s[sel]), abs=1e-12)
    assert out["pauc"] == pytest.approx(skm.roc_auc_score(y, s, max_fpr=0.1), abs=1e-12)


def test_dcase_official_score_is_hmean_of_all_values():
    per = {m: metrics.dcase_machine_metrics(*_machine(i)) for i, m in enumerate(["fan", "valve", "slider"])}
    values = [v for r in per.values() for v in (r["auc_source"], r["auc_target"], r["pauc"])]
    assert len(values) == 9
    assert metrics.dcase_official_score(per) == pytest.approx(hmean(values), abs=1e-12)
    assert metrics.dcase_official_score(list(per.values())) == metrics.dcase_official_score(per)


def test_dcase_official_score_skips_undefined_values():
    per = {"fan": {"auc_source": 0.8, "auc_target": np.nan, "pauc": 0.6},
           "valve": {"auc_source": 0.7, "pauc": np.inf}}  # a missing key is left out too
    assert metrics.dcase_official_score(per) == pytest.approx(hmean([0.8, 0.6, 0.7]), abs=1e-12)
    assert np.isnan(metrics.dcase_official_score([{"auc_source": np.nan, "auc_target": np.nan, "pauc": np.nan}]))
    assert metrics.dcase_official_score([{"auc_source": 0.0, "pauc": 0.5}]) > 0  # floored at eps, not 0/0
    from oodlib.metrics.dcase import EPS, hmean_finite

    assert hmean_finite(np.array([[0.5, np.nan], [0.25, 1.0]])) == pytest.approx(hmean([0.5, 0.25, 1.0]))
    assert np.isnan(hmean_finite([])) and hmean_finite([0.0]) == pytest.approx(EPS)


def test_dcase_errors():
    with pytest.raises(ValueError, match="source' or 'target"):
        metrics.dcase_machine_metrics([0, 1], [0.1, 0.2], ["src", "target"])
    with pytest.raises(ValueError, match="empty"):
        metrics.dcase_official_score({})


def test_mean_class_accuracy_and_hm():
    y = np.array([0, 0, 0, 0, 1, 1])
    p = np.array([0, 0, 1, 1, 1, 1])
    assert metrics.mean_class_accuracy(y, p) == pytest.approx((0.5 + 1.0) / 2)
    # plain accuracy would be 4/6: per-class averaging is the point
    assert metrics.mean_class_accuracy(y, p) != pytest.approx(4 / 6)
    out = metrics.gzsl_metrics([0, 0, 1], [0, 2, 1], [2, 3, 3], [2, 3, 0])
    s, u = (0.5 + 1.0) / 2, (1.0 + 0.5) / 2
    assert out["S"] == pytest.approx(s) and out["U"] == pytest.approx(u)
    assert out["HM"] == pytest.approx(2 * s * u / (s + u))
    assert metrics.harmonic_mean(0.0, 0.0) == 0.0
    assert metrics.zsl_accuracy([2, 3], [2, 2]) == pytest.approx(0.5)
    with pytest.raises(ValueError, match="no samples"):
        metrics.mean_class_accuracy([0, 0], [0, 0], classes=[0, 1])


def test_pixel_metrics_known_map_and_ignore():
    labels = np.zeros((4, 4), dtype=np.uint8)
    labels[0, :2] = 1  # two OOD pixels
    labels[3, 3] = 255  # void
    scores = np.zeros((4, 4))
    scores[0, :2] = 5.0  # perfectly separated
    scores[3, 3] = 100.0  # a void pixel with the highest score must not count
    acc = metrics.PixelOODMetrics().update(scores, labels)
    out = acc.compute()
    assert out == {"ap": 1.0, "fpr95": 0.0, "auroc": 1.0}
    assert acc.n_pixels == 15


def test_pixel_metrics_stream_equals_concatenation():
    rng = np.random.default_rng(0)
    maps = [(rng.normal(size=(8, 9)), (rng.random((8, 9)) < 0.2).astype(int)) for _ in range(3)]
    acc = metrics.PixelOODMetrics()
    for s, y in maps:
        acc.update(s, y)
    s_all = np.concatenate([m[0].ravel() for m in maps])
    y_all = np.concatenate([m[1].ravel() for m in maps])
    out = acc.compute()
    assert out["auroc"] == pytest.approx(skm.roc_auc_score(y_all, s_all), abs=1e-6)
    assert out["ap"] == pytest.approx(skm.average_precision_score(y_all, s_all), abs=1e-6)


def test_pixel_metrics_errors():
    acc = metrics.PixelOODMetrics()
    with pytest.raises(ValueError, match="no images"):
        acc.compute()
    with pytest.raises(ValueError, match="shape"):
        acc.update(np.zeros((2, 2)), np.zeros((2, 3)))
    with pytest.raises(ValueError, match="may hold only"):
        acc.update(np.zeros((2, 2)), np.full((2, 2), 7))
