"""Generalised zero-shot learning metrics (P3, following AVCA).

* Mean class accuracy: per-class recall averaged over the classes present.
* S and U: mean class accuracy on test-seen and test-unseen samples, each
  prediction made over the **union** of seen and unseen classes.
* HM = 2SU / (S + U); ZSL = mean class accuracy on unseen samples with
  predictions restricted to unseen classes (computed by the caller's model).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ._checks import as_1d


def mean_class_accuracy(y_true: Any, y_pred: Any, classes: Any = None) -> float:
    """Per-class accuracy averaged over ``classes`` (default: the classes in ``y_true``).

    Args:
        y_true: true class ids, shape (n,).
        y_pred: predicted class ids, shape (n,).
        classes: the classes to average over; a class with no samples raises.
    """
    t = as_1d(y_true, "y_true")
    p = as_1d(y_pred, "y_pred")
    if t.size != p.size:
        raise ValueError(f"y_true has {t.size} entries but y_pred has {p.size}")
    if t.size == 0:
        raise ValueError("y_true is empty")
    present, inv, counts = np.unique(t, return_inverse=True, return_counts=True)
    if classes is not None:
        missing = np.setdiff1d(np.unique(as_1d(classes, "classes")), present)
        if missing.size:
            raise ValueError(f"class {missing[0]!r} has no samples in y_true")
        keep = np.isin(present, as_1d(classes, "classes"))
    else:
        keep = np.ones(present.size, dtype=bool)
    # vectorised (one bincount), since oodlib.claims calls this thousands of times per claim
    per_class = np.bincount(inv, weights=(p == t).astype(np.float64), minlength=present.size) / counts
    return float(np.mean(per_class[keep]))


def harmonic_mean(seen: float, unseen: float) -> float:
    """HM = 2SU / (S + U), defined as 0 when S + U = 0."""
    return 0.0 if seen + unseen == 0 else float(2 * seen * unseen / (seen + unseen))


def gzsl_metrics(
    y_true_seen: Any, y_pred_seen: Any, y_true_unseen: Any, y_pred_unseen: Any
) -> dict[str, float]:
    """S, U and HM from predictions over the union of all classes.

    Args:
        y_true_seen, y_pred_seen: test-seen samples' true and predicted classes.
        y_true_unseen, y_pred_unseen: test-unseen samples' true and predicted classes.

    Returns:
        ``{"S", "U", "HM"}`` as fractions.
    """
    s = mean_class_accuracy(y_true_seen, y_pred_seen)
    u = mean_class_accuracy(y_true_unseen, y_pred_unseen)
    return {"S": s, "U": u, "HM": harmonic_mean(s, u)}


def zsl_accuracy(y_true_unseen: Any, y_pred_unseen_only: Any) -> float:
    """ZSL: mean class accuracy on unseen samples, predictions restricted to unseen classes."""
    return mean_class_accuracy(y_true_unseen, y_pred_unseen_only)
