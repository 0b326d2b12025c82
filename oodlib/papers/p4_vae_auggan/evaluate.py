"""Open-set metrics of P4: AUROC, AUPR-In (known positive), AUPR-Out (unknown positive), EER,
closed-set accuracy and open-set accuracy at a threshold chosen on development data."""

from __future__ import annotations

import numpy as np

from ...metrics.binary import eer
from ...metrics.ood import ood_labels, ood_report


def detection_metrics(score: np.ndarray, is_unknown: np.ndarray) -> dict[str, float]:
    """AUROC, AUPR-In (known positive), AUPR-Out (unknown positive) and EER (fractions).

    ``score`` (n,): higher = more unknown; ``is_unknown`` (n,) bool. The first three are
    :func:`oodlib.metrics.ood_report`'s, the EER :func:`oodlib.metrics.binary.eer` with the
    unknown clips positive.
    """
    s = np.asarray(score, dtype=np.float64)
    u = np.asarray(is_unknown, dtype=bool)
    if s.shape != u.shape:
        raise ValueError(f"score has shape {s.shape} but is_unknown has shape {u.shape}")
    known, unknown = s[~u], s[u]
    rep = ood_report(known, unknown, positive="ood")
    return {"AUROC": rep["auroc"], "AUPR-In": rep["aupr_in"], "AUPR-Out": rep["aupr_out"],
            "EER": eer(*ood_labels(known, unknown, "ood"))}


def open_set_predictions(pred: np.ndarray, score: np.ndarray, threshold: float) -> np.ndarray:
    """Class predictions with ``-1`` (unknown) where the score exceeds ``threshold``."""
    return np.where(score > threshold, -1, pred)


def open_set_accuracy(y: np.ndarray, pred: np.ndarray, score: np.ndarray, threshold: float) -> float:
    """Fraction of clips right: a known clip accepted with its word, an unknown clip rejected (y = -1)."""
    return float(np.mean(open_set_predictions(pred, score, threshold) == y))


def best_threshold(y: np.ndarray, pred: np.ndarray, score: np.ndarray) -> float:
    """The threshold (among the midpoints of sorted scores) with the highest open-set accuracy on (y, pred, score)."""
    s = np.sort(np.unique(score))
    cands = np.r_[s[0] - 1, (s[:-1] + s[1:]) / 2, s[-1] + 1]
    accs = [open_set_accuracy(y, pred, score, t) for t in cands]
    return float(cands[int(np.argmax(accs))])
