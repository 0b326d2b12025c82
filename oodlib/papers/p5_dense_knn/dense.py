"""Dense kNN anomaly maps (P5): cell labels, upsampling, combination, pixel metrics, search timing.

The method (run in :mod:`.run`): a bank of ``N`` local features of in-distribution training images
(void cells dropped); every test feature scored by the **mean Euclidean distance to its k = 3
nearest** bank features (no normalisation), the grid map upsampled to pixels with nearest
interpolation; compared with ``1 - logsumexp(logits)`` (``1 +`` :func:`oodlib.scores.free_energy`)
and their combination (min-max normalised sum, ranges from in-distribution reference images).
Scores: higher = more OOD.
"""

from __future__ import annotations

import time

import numpy as np
import torch
from torch.nn import functional as F

from ...data.segmentation import VOID
from ...knn import KNNScorer
from ...metrics.dense import PixelOODMetrics


def grid_labels(labels: np.ndarray, grid: tuple[int, int]) -> np.ndarray:
    """Label maps (n, H, W) -> (n, h, w): the label at each feature cell's centre pixel.

    A cell of an ``H/h x W/w`` patch takes the label of the pixel nearest its centre, the
    nearest-neighbour rule that also upsamples the score maps back.
    """
    n, hh, ww = labels.shape
    h, w = grid
    ys = np.minimum(((np.arange(h) + 0.5) * hh / h).astype(int), hh - 1)
    xs = np.minimum(((np.arange(w) + 0.5) * ww / w).astype(int), ww - 1)
    return labels[:, ys][:, :, xs]


def upsample_nearest(maps: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Grid maps (n, h, w) -> (n, H, W) by nearest interpolation (each cell fills its patch)."""
    t = torch.from_numpy(np.ascontiguousarray(maps, dtype=np.float32))[:, None]
    return F.interpolate(t, size=size, mode="nearest")[:, 0].numpy()


def minmax_range(maps: np.ndarray, valid: np.ndarray | None = None) -> tuple[float, float]:
    """(min, max) of score maps of in-distribution reference images, over ``valid`` pixels if given."""
    values = maps if valid is None else maps[valid]
    if values.size == 0:
        raise ValueError("no valid reference pixels for the min-max range")
    lo, hi = float(np.min(values)), float(np.max(values))
    if not hi > lo:
        raise ValueError(f"reference maps are constant ({lo}); a min-max range needs spread")
    return lo, hi


def combine(knn: np.ndarray, lse: np.ndarray, knn_range: tuple[float, float],
            lse_range: tuple[float, float]) -> np.ndarray:
    """Min-max normalised kNN distance + min-max normalised ``1 - logsumexp`` (same shapes)."""
    a = (knn - knn_range[0]) / (knn_range[1] - knn_range[0])
    b = (lse - lse_range[0]) / (lse_range[1] - lse_range[0])
    return (a + b).astype(np.float32)


def pixel_metrics(score_maps: np.ndarray, ood_maps: np.ndarray, counts: np.ndarray | None = None) -> dict[str, float]:
    """AP, FPR95 and AUROC (fractions) with OOD pixels positive, void (255) ignored.

    ``score_maps`` and ``ood_maps`` (n, H, W). ``counts`` (n, H, W, 2), when the labels' native size
    differs from H x W (:attr:`.data.DenseBenchmark.test_counts`): the metrics are then computed
    at the native resolution, each native pixel scored by its nearest score-map pixel.
    """
    if score_maps.shape != ood_maps.shape:
        raise ValueError(f"score maps {score_maps.shape} and OOD maps {ood_maps.shape} differ in shape")
    if counts is not None and counts.shape != (*score_maps.shape, 2):
        raise ValueError(f"counts {counts.shape} do not match score maps {score_maps.shape} (expected (n, H, W, 2))")
    acc = PixelOODMetrics(ignore_label=VOID)
    for i, (s, y) in enumerate(zip(score_maps, ood_maps)):
        if counts is None:
            acc.update(s, y)
        else:
            acc.update_counts(s, counts[i])
    return acc.compute()


def metrics_by_group(score_maps: np.ndarray, ood_maps: np.ndarray, groups: np.ndarray,
                     counts: np.ndarray | None = None) -> dict[str, dict[str, float]]:
    """:func:`pixel_metrics` over the images of each group (e.g. anomaly size)."""
    groups = np.asarray(groups)
    return {str(g): pixel_metrics(score_maps[groups == g], ood_maps[groups == g],
                                  None if counts is None else counts[groups == g]) for g in dict.fromkeys(groups)}


def size_groups(ood_maps: np.ndarray, names: tuple[str, ...] = ("small", "medium", "large")) -> np.ndarray:
    """Each image's anomaly-area tercile (by OOD pixel fraction), for data without size labels."""
    frac = (ood_maps == 1).mean(axis=(1, 2))
    edges = np.quantile(frac, np.linspace(0, 1, len(names) + 1)[1:-1])
    return np.array(names)[np.searchsorted(edges, frac, side="right")]


def search_time_vs_bank(dim: int, bank_sizes: tuple[int, ...], n_queries: int, k: int = 3, seed: int = 0,
                        repeats: int = 2, backend: str = "auto", device: str = "auto") -> list[dict[str, float]]:
    """Exact kNN search time for ``n_queries`` queries against random banks of each size.

    Exact (flat) search cost does not depend on the values, so Gaussian vectors stand in for
    features; best of ``repeats``. Returns rows ``{bank, seconds, queries_per_s}``.
    """
    rng = np.random.default_rng(seed)
    q = rng.standard_normal((n_queries, dim), dtype=np.float32)
    rows = []
    for size in bank_sizes:
        bank = rng.standard_normal((size, dim), dtype=np.float32)
        scorer = KNNScorer(k=k, reduction="mean", backend=backend, device=device).fit(bank)
        best = np.inf
        for _ in range(repeats):
            t0 = time.perf_counter()
            scorer.score(q)
            best = min(best, time.perf_counter() - t0)
        rows.append({"bank": size, "seconds": best, "queries_per_s": n_queries / best})
    return rows
