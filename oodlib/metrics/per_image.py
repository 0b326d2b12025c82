"""Per-image dense OOD metrics: StreetHazards' official protocol (P5).

:func:`oodlib.papers.p5_dense_knn.dense.pixel_metrics` pools the valid pixels of all images into
one ranking. StreetHazards' own evaluation does not: it scores **each image on its own** and
averages the per-image values. This module implements that protocol and its label map.

Reference read (transcribed, not copied): repository ``hendrycks/anomaly-seg``, files
``eval_ood.py`` (``eval_ood_measure`` and ``evaluate``), ``anom_utils.py`` (``get_measures``,
``fpr_and_fdr_at_recall``), ``dataset.py`` (``segm_transform``) and ``defaults.py``
(``_C.OOD.out_labels``), at commit 6a7369d (``eval_ood.py`` also at 902cb13, same rules).

Rules of the reference, as we read them:

1. **Labels.** ``segm_transform`` subtracts 1 from the raw annotation PNG, and the anomaly test
   is ``seg_label == 13`` (``OOD.out_labels = (13)``), i.e. **raw value 14** is the anomaly.
   Every other pixel is in-distribution: ``in_scores = -conf[not out_label]``.
2. **Nothing is ignored.** ``evaluate`` passes ``mask=None``, so ``unlabeled`` (raw 1, shifted
   to 0) and raw 0 (shifted to -1; ignored by the training loss, not by this evaluation) count
   as **in-distribution**. oodlib's pooled convention (:func:`oodlib.data.segmentation.streethazards_ood`)
   makes them void instead. :func:`streethazards_official_ood` gives the official map.
3. **Resolution.** Scores are computed at the label's native size (``segSize`` = label shape).
   With lower-resolution score maps, pass ``counts`` (see :func:`per_image_metrics`).
4. **Per image.** For each image: OOD scores (positives, label 1) and ID scores (label 0),
   score = ``-conf`` (higher = more anomalous); ``roc_auc_score(labels, scores)``,
   ``average_precision_score(labels, scores)`` and ``fpr_and_fdr_at_recall(labels, scores, 0.95)``.
5. **Skipping.** An image with no OOD pixel, or only OOD pixels, returns ``None`` ("This image
   does not contain any OOD pixels or is only OOD.") and is left out of the means.
6. **Averaging.** The reported numbers are ``np.mean`` of the per-image AUROC, AUPR and FPR
   lists: an unweighted mean over the scored images (every image counts once, whatever its
   number of pixels or anomaly size).
7. **FPR95 is a threshold rule, not an interpolation.** ``fpr_and_fdr_at_recall``: sort scores
   high to low, keep one point per distinct score (the last row of each tie block), cumulative
   TP and FP there, ``recall = tps / tps[-1]``; cut at the first threshold reaching full recall
   and reverse (low recall last); append a point (recall 1, fps 0); take
   ``argmin |recall - 0.95|`` (the first minimiser, i.e. among equally close thresholds the
   **lowest** one, with the **highest** FPR) and return ``fps / #ID``. The appended point never
   wins: the first point already has recall exactly 1 and ties go to the first. This is
   :func:`oodlib.metrics.binary.fpr_at_tpr` with ``method="closest"``, used here.

Source quirks (no effect on the rules): ``defaults.py`` writes ``(13)``, an int, although
``eval_ood_measure`` indexes ``out_labels[0]`` (a config file must supply a list); the copy of
``eval_ood.py`` at 6a7369d has an unbalanced bracket in ``in_scores``, fixed at 902cb13.

Departures: an input where **no** image can be scored raises ``ValueError`` (the reference
would print ``nan`` means); raw values above 14 are refused by :func:`streethazards_official_ood`
(the reference would count them as ID; StreetHazards has none, so they mean a wrong file).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.metrics import average_precision_score, roc_auc_score

from ..data.segmentation import VOID
from .binary import fpr_at_tpr

STREETHAZARDS_ANOMALY = 14  # raw annotation value of the anomaly class (13 after the reference's -1 shift)
STREETHAZARDS_MAX_RAW = 14  # raw values 0..14 exist (0 / 1 unlabeled, 2-13 classes, 14 anomaly)


def streethazards_official_ood(raw: Any) -> np.ndarray:
    """StreetHazards raw annotation (any shape, values 0..14) -> the official protocol's OOD map.

    14 -> 1 (anomaly); 0..13 -> 0 (in-distribution, **unlabeled included**). The reference
    ignores nothing, so no pixel becomes void (255); void appears later only where oodlib
    itself adds pixels that are not in the image (letterbox padding in
    :func:`oodlib.data.segmentation.read_ood_pairs`).

    It lives here, not in :mod:`oodlib.data.segmentation`, because it belongs to the per-image
    protocol: that module's :func:`~oodlib.data.segmentation.streethazards_ood` (unlabeled ->
    void) stays the pooled convention, and the two are chosen together with their metric.
    Use it as ``convert=`` of :func:`~oodlib.data.segmentation.read_ood_pairs` to get maps and
    native counts for :func:`per_image_metrics`. Returns uint8, same shape as ``raw``.
    """
    arr = np.asarray(raw)
    if arr.size and (arr.min() < 0 or arr.max() > STREETHAZARDS_MAX_RAW):
        raise ValueError(f"raw StreetHazards labels must lie in 0..{STREETHAZARDS_MAX_RAW}, "
                         f"got values in [{arr.min()}, {arr.max()}]")
    return (arr == STREETHAZARDS_ANOMALY).astype(np.uint8)


def _shape_error(name: str, expected: str, got: tuple[int, ...]) -> ValueError:
    return ValueError(f"{name} must have shape {expected}, got {got}")


def _checked(score_maps: Any, ood_maps: Any, counts: Any) -> tuple[np.ndarray, np.ndarray | None, np.ndarray | None]:
    """The one validation path: shapes first, then each image's values (no full-size copies)."""
    s = np.asarray(score_maps)
    if s.ndim != 3 or s.shape[0] == 0:
        raise _shape_error("score_maps", "(n, H, W) with n >= 1", s.shape)
    y = None if ood_maps is None else np.asarray(ood_maps)
    if y is not None and y.shape != s.shape:
        raise _shape_error("ood_maps", f"(n, H, W) = {s.shape} like score_maps", y.shape)
    if counts is None and y is None:
        raise ValueError("ood_maps is required when counts is not given")
    c = None if counts is None else np.asarray(counts)
    if c is not None and c.shape != (*s.shape, 2):
        raise _shape_error("counts", f"(n, H, W, 2) = {(*s.shape, 2)}", c.shape)
    for i in range(len(s)):
        _check_values(i, s[i], None if c is not None else y[i], None if c is None else c[i])
    return s, (y if c is None else None), c


def _check_values(i: int, scores: np.ndarray, labels: np.ndarray | None, counts: np.ndarray | None) -> None:
    """Image ``i``: finite scores; labels in {0, 1, 255}, or counts finite and >= 0."""
    if not np.isfinite(scores).all():
        raise ValueError(f"score_maps[{i}] holds {int((~np.isfinite(scores)).sum())} NaN or infinite value(s)")
    if labels is not None:
        bad = np.setdiff1d(np.unique(labels), [0, 1, VOID])
        if bad.size:
            raise ValueError(f"ood_maps[{i}] may hold only 0 (ID), 1 (OOD) and {VOID} (ignored); "
                             f"found {bad[:10].tolist()}")
    elif not np.isfinite(counts).all() or (counts < 0).any():
        raise ValueError(f"counts[{i}] must be finite and >= 0")


def _pixels(scores: np.ndarray, labels: np.ndarray | None,
            counts: np.ndarray | None) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """One image -> (is_ood (m,), scores (m,), weights (m,) or None), void / zero-count pixels dropped."""
    scores = scores.astype(np.float64)
    if counts is None:
        valid = labels != VOID
        return labels[valid] == 1, scores[valid], None
    flat = scores.reshape(-1)
    w_id = counts[..., 0].reshape(-1).astype(np.float64)
    w_ood = counts[..., 1].reshape(-1).astype(np.float64)
    keep_id, keep_ood = w_id > 0, w_ood > 0
    is_ood = np.r_[np.zeros(int(keep_id.sum()), bool), np.ones(int(keep_ood.sum()), bool)]
    return is_ood, np.r_[flat[keep_id], flat[keep_ood]], np.r_[w_id[keep_id], w_ood[keep_ood]]


def _image_metrics(is_ood: np.ndarray, s: np.ndarray, w: np.ndarray | None, tpr: float) -> tuple[float, float, float]:
    """(AUROC, AP, FPR at ``tpr``) of one image, OOD positive, scikit-learn + the reference FPR rule."""
    y = is_ood.astype(int)
    return (float(roc_auc_score(y, s, sample_weight=w)),
            float(average_precision_score(y, s, sample_weight=w)),
            fpr_at_tpr(y, s, tpr=tpr, method="closest", sample_weight=w))


def per_image_metrics(score_maps: Any, ood_maps: Any, counts: Any = None, tpr: float = 0.95) -> dict[str, float]:
    """Means over images of per-image AUROC, AP and FPR at ``tpr`` (StreetHazards' protocol).

    Args:
        score_maps: (n, H, W) anomaly scores, higher = more OOD, finite.
        ood_maps: (n, H, W) 0 = ID, 1 = OOD, 255 = void (dropped). For the official StreetHazards
            protocol build them with :func:`streethazards_official_ood`. May be ``None`` when
            ``counts`` is given (then only its shape is checked if present).
        counts: optional (n, H, W, 2): how many native-resolution ID (``[..., 0]``) and OOD
            (``[..., 1]``) pixels take their score from each score pixel, void in neither (as
            :meth:`oodlib.metrics.PixelOODMetrics.update_counts`,
            :func:`oodlib.data.segmentation.native_counts`). Used as scikit-learn sample
            weights, which equals scoring the nearest-upsampled map against the native labels.
        tpr: target OOD recall for the FPR (0.95 -> FPR95).

    Returns:
        ``{"auroc", "ap", "fpr95", "n_images", "n_skipped"}``: the three unweighted means over
        scored images (fractions; ``"fpr95"`` is the FPR at ``tpr``, whatever its value), how
        many images were scored and how many were skipped because they hold no OOD pixel or no
        ID pixel (the reference's rule).

    Raises:
        ValueError: bad shapes (naming the argument and the expected shape), non-finite
            scores, label values other than 0 / 1 / 255, negative counts, or no image scoreable.
    """
    if not 0.0 < tpr <= 1.0:
        raise ValueError(f"tpr must be in (0, 1], got {tpr}")
    s, y, c = _checked(score_maps, ood_maps, counts)
    rows = []
    for i in range(len(s)):
        is_ood, scores, w = _pixels(s[i], None if y is None else y[i], None if c is None else c[i])
        if is_ood.any() and not is_ood.all():
            rows.append(_image_metrics(is_ood, scores, w, tpr))
    if not rows:
        raise ValueError(f"none of the {len(s)} images holds both ID and OOD pixels; nothing to average")
    auroc, ap, fpr = (float(np.mean(col)) for col in zip(*rows))
    return {"auroc": auroc, "ap": ap, "fpr95": fpr, "n_images": len(rows), "n_skipped": len(s) - len(rows)}
