"""Open-set metrics of P4: AUROC, AUPR-In (known positive), AUPR-Out (unknown positive), EER,
closed-set accuracy and open-set accuracy at a threshold chosen on development data."""

from __future__ import annotations

import numpy as np

from ...metrics.binary import aupr, auroc, eer


def detection_metrics(score: np.ndarray, is_unknown: np.ndarray) -> dict[str, float]:
    """AUROC, AUPR-In, AUPR-Out and EER (fractions) of an OOD score (higher = more unknown)."""
    u = np.asarray(is_unknown, dtype=bool).astype(int)
    return {"AUROC": auroc(u, score, pos_label=1), "AUPR-In": aupr(1 - u, -score, pos_label=1),
            "AUPR-Out": aupr(u, score, pos_label=1), "EER": eer(u, score, pos_label=1)}


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
