"""Input validation shared by the metric functions.

Every metric in :mod:`oodlib.metrics` goes through :func:`binary_inputs`, so bad
input (one class only, NaN or infinite scores, mismatched lengths) fails the same
way everywhere, with a message that names the argument.
"""

from __future__ import annotations

from typing import Any

import numpy as np


def as_1d(values: Any, name: str, *, dtype: Any = None) -> np.ndarray:
    """Return ``values`` as a 1-D array, or raise ``ValueError`` naming ``name``."""
    arr = np.asarray(values, dtype=dtype)
    if arr.ndim == 2 and arr.shape[1] == 1:  # a column vector is accepted
        arr = arr[:, 0]
    if arr.ndim != 1:
        raise ValueError(f"{name} must be one-dimensional, got shape {np.shape(values)}")
    return arr


def finite_scores(scores: Any, name: str = "scores") -> np.ndarray:
    """Return ``scores`` as a float64 1-D array; reject NaN and infinite values."""
    s = as_1d(scores, name, dtype=np.float64)
    bad = ~np.isfinite(s)
    if bad.any():
        idx = np.flatnonzero(bad)[:5].tolist()
        raise ValueError(
            f"{name} contains {int(bad.sum())} NaN or infinite value(s) (first at positions {idx}); "
            "metrics need finite scores"
        )
    return s


def binary_inputs(y_true: Any, y_score: Any, pos_label: Any = 1) -> tuple[np.ndarray, np.ndarray]:
    """Validate a binary problem and return ``(is_positive, scores)``.

    Args:
        y_true: labels, shape (n,), any two values.
        y_score: scores, shape (n,); higher means "more likely the positive class".
        pos_label: the value of ``y_true`` that is the positive class.

    Returns:
        ``is_positive`` (bool, shape (n,)) and ``scores`` (float64, shape (n,)).
    """
    y = as_1d(y_true, "y_true")
    s = finite_scores(y_score, "y_score")
    if y.shape[0] != s.shape[0]:
        raise ValueError(f"y_true has {y.shape[0]} entries but y_score has {s.shape[0]}; they must match")
    if y.shape[0] == 0:
        raise ValueError("y_true and y_score are empty")
    values = np.unique(y)
    if len(values) > 2:
        raise ValueError(f"y_true must hold two classes, found {len(values)}: {values[:10].tolist()}")
    if pos_label not in values.tolist():
        raise ValueError(
            f"pos_label={pos_label!r} does not occur in y_true (values: {values.tolist()}); "
            "both the positive and the negative class are needed"
        )
    is_pos = y == pos_label
    if is_pos.all():
        raise ValueError("y_true holds only the positive class; a negative class is needed")
    return is_pos, s


def sample_weights(weights: Any, is_positive: np.ndarray) -> np.ndarray | None:
    """Validate per-sample weights for a binary problem: ``None`` stays ``None``.

    Weights must be finite and >= 0, one per sample, and leave both classes with a positive total.
    """
    if weights is None:
        return None
    w = as_1d(weights, "sample_weight", dtype=np.float64)
    if w.shape[0] != is_positive.shape[0]:
        raise ValueError(f"sample_weight has {w.shape[0]} entries but there are {is_positive.shape[0]} samples")
    if not np.isfinite(w).all() or (w < 0).any():
        raise ValueError("sample_weight must be finite and >= 0")
    if not (w[is_positive].sum() > 0 and w[~is_positive].sum() > 0):
        raise ValueError("sample_weight leaves a class with zero total weight")
    return w
