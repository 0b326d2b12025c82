"""DCASE Task 2 anomalous-sound-detection metrics, as the official evaluator computes them.

Positive class: **anomalous** clips; scores: higher = more anomalous (oodlib's
orientation). Per machine type (P2, DCASE2023 Task 2):

* AUC of a domain = ROC-AUC over that domain's **normal** clips plus **all**
  anomalous clips of the machine (source and target anomalies alike);
* pAUC = McClish-standardised partial AUC with ``max_fpr=0.1`` over all clips;
* official score = harmonic mean of every machine's {AUC_source, AUC_target,
  pAUC} taken together (21 values for 7 machines), each floored at ``eps``.
  A value a test set cannot define (NaN: one class only, or a domain without
  normal clips) is skipped; with no finite value at all the score is NaN.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np
from scipy.stats import hmean

from . import binary
from ._checks import as_1d

EPS = float(np.finfo(np.float64).eps)


def dcase_machine_metrics(
    is_anomaly: Any, scores: Any, domains: Any, max_fpr: float = 0.1
) -> dict[str, float]:
    """AUC per domain and pAUC for one machine type (one section).

    Args:
        is_anomaly: shape (n,), 1/True for anomalous clips, 0/False for normal ones.
        scores: shape (n,), higher = more anomalous.
        domains: shape (n,), ``"source"`` or ``"target"`` for each clip.
        max_fpr: the pAUC's false-positive-rate limit (DCASE: 0.1).

    Returns:
        ``{"auc_source", "auc_target", "pauc"}`` (fractions). A domain with no
        normal clips is left out.
    """
    y = as_1d(is_anomaly, "is_anomaly").astype(bool)
    s = as_1d(scores, "scores", dtype=np.float64)
    d = as_1d(domains, "domains").astype(str)
    if not (y.size == s.size == d.size):
        raise ValueError(f"is_anomaly, scores and domains must have equal length, got {y.size}, {s.size}, {d.size}")
    unknown = sorted(set(d.tolist()) - {"source", "target"})
    if unknown:
        raise ValueError(f"domains must be 'source' or 'target', found {unknown}")
    out: dict[str, float] = {}
    for dom in ("source", "target"):
        sel = y | (d == dom)
        if np.any(~y & (d == dom)):
            out[f"auc_{dom}"] = binary.auroc(y[sel].astype(int), s[sel])
    out["pauc"] = binary.pauc(y.astype(int), s, max_fpr=max_fpr)
    return out


def hmean_finite(values: Any, eps: float = EPS) -> float:
    """Harmonic mean of the finite entries of ``values``, each floored at ``eps``; NaN if none is finite.

    Args:
        values: numbers, any shape (flattened); NaN and infinite entries are skipped.
        eps: floor applied before the mean (the evaluator's, so that a 0 does not make it 0/0).
    """
    v = np.asarray(values, dtype=np.float64).ravel()
    v = v[np.isfinite(v)]
    return float(hmean(np.maximum(v, eps))) if v.size else float("nan")


def dcase_official_score(per_machine: Mapping[str, Mapping[str, float]] | Iterable[Mapping[str, float]], eps: float = EPS) -> float:
    """Harmonic mean of all machines' AUC_source, AUC_target and pAUC values together.

    Args:
        per_machine: a mapping machine -> :func:`dcase_machine_metrics` result,
            or an iterable of such results (e.g. ``frame.to_dict("records")``).
            A missing key is left out, like a NaN or infinite value (a metric that
            machine's test set cannot define).
        eps: floor applied to each value before the harmonic mean (as the evaluator does).
    Returns:
        The score (fraction), or NaN when no value is finite.
    Raises:
        ValueError: ``per_machine`` is empty.
    """
    rows = list(per_machine.values()) if isinstance(per_machine, Mapping) else list(per_machine)
    if not rows:
        raise ValueError("per_machine is empty: no machine metrics to combine")
    values = [r[k] for r in rows for k in ("auc_source", "auc_target", "pauc") if k in r]
    return hmean_finite(values, eps)
