"""OOD-detection metrics from two score sets in oodlib's orientation.

oodlib's one convention: **a higher score means more OOD**. The papers disagree
about which class is *positive* (P1 and P4's AUPR-In: ID positive; P5, P2 and
P4's AUPR-Out: OOD positive), and FPR95 changes with that choice. These helpers
make the choice an explicit argument.
"""

from __future__ import annotations

from typing import Any, Literal

import numpy as np

from . import binary
from ._checks import finite_scores

Positive = Literal["id", "ood"]


def ood_labels(id_scores: Any, ood_scores: Any, positive: Positive) -> tuple[np.ndarray, np.ndarray]:
    """Stack two score sets into ``(y_true, y_score)`` for :mod:`oodlib.metrics.binary`.

    Args:
        id_scores: scores of in-distribution samples, shape (n_id,), higher = more OOD.
        ood_scores: scores of OOD samples, shape (n_ood,), higher = more OOD.
        positive: ``"ood"`` (label 1 = OOD, scores as given) or ``"id"``
            (label 1 = ID, scores negated so that higher = more ID).

    Returns:
        ``y_true`` (int, 1 = positive class) and ``y_score`` (higher = more positive).
    """
    s_id = finite_scores(id_scores, "id_scores")
    s_ood = finite_scores(ood_scores, "ood_scores")
    if s_id.size == 0 or s_ood.size == 0:
        raise ValueError(f"need ID and OOD scores, got {s_id.size} ID and {s_ood.size} OOD")
    is_ood = np.r_[np.zeros(s_id.size, dtype=int), np.ones(s_ood.size, dtype=int)]
    scores = np.r_[s_id, s_ood]
    if positive == "ood":
        return is_ood, scores
    if positive == "id":
        return 1 - is_ood, -scores
    raise ValueError(f"positive must be 'id' or 'ood', got {positive!r}")


def ood_report(
    id_scores: Any,
    ood_scores: Any,
    positive: Positive,
    tpr: float = 0.95,
    percent: bool = False,
) -> dict[str, float]:
    """AUROC, FPR at ``tpr``, AUPR-In and AUPR-Out in one dictionary.

    ``positive`` decides the FPR (and which AUPR is which is fixed by name:
    AUPR-In has ID positive, AUPR-Out has OOD positive, whatever ``positive`` is).
    Keys: ``auroc``, ``fpr``, ``aupr_in``, ``aupr_out``; only ``fpr`` depends on
    ``positive``. With ``percent=True`` values are multiplied by 100.
    """
    y, s = ood_labels(id_scores, ood_scores, positive)
    y_in, s_in = ood_labels(id_scores, ood_scores, "id")
    y_out, s_out = ood_labels(id_scores, ood_scores, "ood")
    scale = 100.0 if percent else 1.0
    return {
        "auroc": scale * binary.auroc(y, s),
        "fpr": scale * binary.fpr_at_tpr(y, s, tpr=tpr),
        "aupr_in": scale * binary.aupr(y_in, s_in),
        "aupr_out": scale * binary.aupr(y_out, s_out),
    }
