"""Pixel-level OOD metrics for dense (segmentation) anomaly maps (P5 convention).

Positive class: **OOD pixels** (label 1); ID pixels are 0; pixels equal to
``ignore_label`` (void) are dropped. Scores: higher = more OOD. Metrics are
computed exactly over all valid pixels, like the reference code's
scikit-learn calls; images are added one at a time so callers never hold a
list of full-resolution maps.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from . import binary
from ._checks import finite_scores


class PixelOODMetrics:
    """Accumulate (score map, label map) pairs; report AP, FPR95 and AUROC.

    Example::

        acc = PixelOODMetrics(ignore_label=255)
        for score_map, labels in maps:        # each (H, W)
            acc.update(score_map, labels)
        acc.compute()                          # {"ap": ..., "fpr95": ..., "auroc": ...}

    Memory: 9 bytes per valid pixel (float32 score and weight, bool label).
    """

    def __init__(self, ignore_label: int = 255, tpr: float = 0.95, fpr_method: str = "roc_argmin") -> None:
        """``fpr_method``: the FPR95 tie rule (:func:`oodlib.metrics.binary.fpr_at_tpr`); the default is
        P5's reference rule, ``"roc_argmin"``."""
        if fpr_method not in binary.FPR_METHODS:
            raise ValueError(f"fpr_method must be one of {binary.FPR_METHODS}, got {fpr_method!r}")
        self.ignore_label = ignore_label
        self.tpr = tpr
        self.fpr_method = fpr_method
        self._scores: list[np.ndarray] = []
        self._labels: list[np.ndarray] = []
        self._weights: list[np.ndarray] = []
        self._weighted = False

    def update(self, score_map: Any, label_map: Any) -> "PixelOODMetrics":
        """Add one image. ``score_map`` and ``label_map`` have the same shape (H, W).

        ``label_map`` values: 1 = OOD, 0 = ID, ``ignore_label`` = void (dropped).
        Any other value raises, so an unmapped label set is never silently mixed in.
        """
        scores = np.asarray(score_map)
        labels = np.asarray(label_map)
        if scores.shape != labels.shape:
            raise ValueError(f"score_map shape {scores.shape} differs from label_map shape {labels.shape}")
        valid = labels != self.ignore_label
        bad = np.setdiff1d(np.unique(labels[valid]), [0, 1])
        if bad.size:
            raise ValueError(
                f"label_map may hold only 0 (ID), 1 (OOD) and {self.ignore_label} (ignored); found {bad[:10].tolist()}"
            )
        self._scores.append(finite_scores(scores[valid], "score_map").astype(np.float32))
        self._labels.append(labels[valid] == 1)
        self._weights.append(np.ones(int(valid.sum()), np.float32))
        return self

    def update_counts(self, score_map: Any, counts: Any) -> "PixelOODMetrics":
        """Add one image scored at a lower resolution than its labels (native-resolution metrics).

        ``score_map`` (H, W); ``counts`` (H, W, 2): how many native-resolution ID (``[..., 0]``) and
        OOD (``[..., 1]``) pixels take their score from each score-map pixel (void pixels counted in
        neither). The metrics are then exactly those of the nearest-upsampled score map against the
        native labels, without building it (see :func:`oodlib.data.segmentation.native_counts`).
        """
        scores, c = np.asarray(score_map), np.asarray(counts)
        if c.shape != (*scores.shape, 2):
            raise ValueError(f"counts must have shape {(*scores.shape, 2)} for a score map of shape {scores.shape}, "
                             f"got {c.shape}")
        if (c < 0).any():
            raise ValueError("counts must be >= 0")
        flat = finite_scores(scores.reshape(-1), "score_map").astype(np.float32)
        for label, w in ((False, c[..., 0].reshape(-1)), (True, c[..., 1].reshape(-1))):
            keep = w > 0
            # equal scores of one class merged, their counts summed: the same curves (tied scores are one
            # threshold; integer counts sum exactly), far fewer points for an upsampled grid map
            values, inverse = np.unique(flat[keep], return_inverse=True)
            self._scores.append(values)
            self._labels.append(np.full(len(values), label))
            self._weights.append(np.bincount(inverse, weights=w[keep], minlength=len(values)).astype(np.float32))
        self._weighted = True
        return self

    @property
    def n_pixels(self) -> int:
        """Valid pixels added so far (native-resolution pixels for :meth:`update_counts`)."""
        return int(round(sum(float(w.sum(dtype=np.float64)) for w in self._weights)))

    def compute(self) -> dict[str, float]:
        """``{"ap", "fpr95", "auroc"}`` over all valid pixels added (fractions)."""
        if not self._scores:
            raise ValueError("no images were added: call update() first")
        s = np.concatenate(self._scores).astype(np.float64)
        y = np.concatenate(self._labels).astype(int)
        w = np.concatenate(self._weights).astype(np.float64) if self._weighted else None
        return {
            "ap": binary.aupr(y, s, sample_weight=w),
            "fpr95": binary.fpr_at_tpr(y, s, tpr=self.tpr, method=self.fpr_method, sample_weight=w),
            "auroc": binary.auroc(y, s, sample_weight=w),
        }
