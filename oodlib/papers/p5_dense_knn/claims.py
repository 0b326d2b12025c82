"""P5's claims (Galesso et al., dense kNN OOD), declared with their margins before any run, judged with
a bootstrap over **test images**.

Pixel AP is not a mean over independent pixels: what varies between test sets is whole images
(objects, scenes). So the evidence (:func:`evidence`) keeps, per test image and per score, a
histogram of its in-distribution and anomaly pixels (native-resolution counts) over
:data:`BINS` quantile bins of that score; a resample of images sums their histograms and
:func:`binned_ap` computes AP from the sums. Binning merges scores within a bin into one threshold
(as tied scores are), so the judged AP is within a few hundredths of a point of the table's exact
AP (tested). Features are the ones fixed in advance (:data:`.models.FIXED_PROBES`), never the probe
with the best test AP.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from ...claims import Claim, Compare, Evidence, Statistic
from .models import FIXED_PROBES, VIT_PROBES
from .run import P5Result, combined_label, knn_label, lse_label

Arrays = Mapping[str, np.ndarray]
BINS = 1000
SIZES = ("small", "medium", "large")
#: the ordering claims need only a reliable gain; the poster reports orderings with gaps of several points
ORDER_MARGIN = 0.0
ORDER_REASON = ("the poster states orderings, not sizes: any gain whose 95% interval over test images "
                "excludes zero counts")
SEARCH_SHARE_MAX = 50.0
PRETRAINED = ("ESPNet", "ESPNet-C")


# ----------------------------------------------------------------------------- binned AP
def binned_ap(pos: np.ndarray, neg: np.ndarray) -> float:
    """AP (fraction) from anomaly / ID pixel counts per score bin (bins in increasing score order).

    The bins are the thresholds, scanned from the highest: precision at each bin times the bin's
    share of the anomaly pixels, summed (scikit-learn's AP with the scores of a bin tied).
    NaN without anomaly pixels.
    """
    total = float(pos.sum())
    if total <= 0:
        return float("nan")
    tp, fp = np.cumsum(pos[::-1]), np.cumsum(neg[::-1])
    precision = tp / np.maximum(tp + fp, 1e-12)
    return float((precision * pos[::-1]).sum() / total)


def score_histograms(maps: np.ndarray, ood: np.ndarray, counts: np.ndarray | None,
                     bins: int = BINS) -> tuple[np.ndarray, np.ndarray]:
    """Per-image (n, bins) float32 histograms of ID and anomaly pixels over quantile bins of ``maps``.

    The bin edges are ``bins / 2`` quantiles of the ID pixels' scores and as many of the anomaly
    pixels' (both classes are resolved where they lie, however rare the anomalies).

    ``maps`` (n, H, W) scores; ``ood`` (n, H, W) 0 / 1 / 255; ``counts`` (n, H, W, 2) native-resolution
    ID / anomaly pixels behind each map pixel (None: count the map's own pixels, void ignored).
    """
    if counts is None:
        weights = np.stack([(ood == 0), (ood == 1)], axis=-1).astype(np.float64)
    else:
        weights = counts.astype(np.float64)
    inner = np.linspace(0, 1, bins // 2 + 1)[1:-1]
    edges = np.unique(np.concatenate([np.quantile(maps[weights[..., c] > 0], inner) for c in (0, 1)
                                      if np.any(weights[..., c] > 0)]))
    idx = np.searchsorted(edges, maps, side="right")  # 0 .. len(edges) <= bins - 1
    n = len(maps)
    flat = (np.arange(n)[:, None, None] * bins + idx).reshape(-1)
    hist = [np.bincount(flat, weights=weights[..., c].reshape(-1), minlength=n * bins).reshape(n, bins)
            for c in (0, 1)]
    return hist[0].astype(np.float32), hist[1].astype(np.float32)


def ap_of(arrays: Arrays, name: str) -> float:
    """AP (%) of score ``name`` over the (resampled) images' summed histograms."""
    return 100 * binned_ap(arrays[f"pos:{name}"].sum(0), arrays[f"neg:{name}"].sum(0))


# ----------------------------------------------------------------------------- evidence
def _score_arrays(result: P5Result, labels: list[str]) -> dict[str, np.ndarray]:
    out = {}
    for label in labels:
        bench = result.runs[label.split()[0]].bench
        neg, pos = score_histograms(result.maps[label], bench.test_ood, bench.test_counts)
        out[f"neg:{label}"], out[f"pos:{label}"] = neg, pos
    return out


def evidence(result: P5Result, data: str = "synthetic") -> dict[str, Evidence]:
    """Per-image evidence (one row per test image, the resampling unit), by the claims that use it.

    ``"ViT"``: histograms of every ViT probe's kNN map, its LogSumExp and its combination, and the
    image's anomaly ``size`` group (stratified, so each resample keeps the groups' sizes, when every
    group has at least two images);
    ``"ViT vs CNN"``: the two fixed kNN features; ``"pretrained"``: ESPNet's fixed kNN feature and
    LogSumExp; ``"runtime"``: the primary model's forward and fixed-feature search seconds per image.
    A set whose models did not run is absent (its claims are then "not run").
    """
    runs, out = result.runs, {}
    if "ViT" in runs:
        b = runs["ViT"].bench
        rows = [knn_label("ViT", p) for p in VIT_PROBES] + [lse_label("ViT"), combined_label("ViT")]
        size = np.asarray(b.test_groups).astype(str)
        # resample within size groups when each has two images or more (a group of one cannot be resampled)
        strata = "size" if min(np.unique(size, return_counts=True)[1]) >= 2 else None
        out["ViT"] = Evidence("ViT", {**_score_arrays(result, rows), "size": size}, stratify=strata, unit="image",
                              data=data)
    if {"ViT", "CNN"} <= set(runs):
        rows = [knn_label("ViT", "keys"), knn_label("CNN", "stage3")]
        out["ViT vs CNN"] = Evidence("ViT vs CNN", _score_arrays(result, rows), unit="image", data=data)
    pre = next((m for m in PRETRAINED if m in runs), None)
    if pre is not None:
        rows = [knn_label(pre, FIXED_PROBES[pre]), lse_label(pre)]
        arrays = {k.replace(pre, "pretrained", 1): v for k, v in _score_arrays(result, rows).items()}
        out["pretrained"] = Evidence("pretrained", arrays, unit="image", data=data, facts={"model": pre})
    main = runs[result.primary]
    fixed = FIXED_PROBES[result.primary]
    out["runtime"] = Evidence("runtime", {"extract_s": main.test.extract_per_image,
                                          "search_s": main.test.search_per_image[fixed]},
                              unit="image", data=data,
                              facts={"model": result.primary, "bank": main.bank_sizes[fixed], "device": "see record"})
    return out


# ----------------------------------------------------------------------------- effects
def _size_gap(a: Arrays, size: str) -> float:
    rows = a["size"] == size
    sub = {k: v[rows] for k, v in a.items() if k != "size"}
    return ap_of(sub, knn_label("ViT", "keys")) - ap_of(sub, lse_label("ViT"))


def small_weakest(a: Arrays) -> float:
    """min(gap of the other sizes) - gap(small), gap = ViT keys kNN AP - LogSumExp AP on that size's images."""
    present = [s for s in SIZES if np.any(a["size"] == s)]
    if "small" not in present or len(present) < 2:
        return float("nan")
    return min(_size_gap(a, s) for s in present if s != "small") - _size_gap(a, "small")


def _size_parts(a: Arrays) -> dict[str, float]:
    return {f"gap({s})": _size_gap(a, s) for s in SIZES if np.any(a["size"] == s)}


def search_share(a: Arrays) -> float:
    """Share (%) of the kNN search in the per-image time (forward pass + search)."""
    return 100 * float(a["search_s"].sum() / (a["search_s"].sum() + a["extract_s"].sum()))


def claims(cfg: object | None = None) -> list[Claim]:
    """P5's claims, in the poster's order (the same for every configuration; ``cfg`` is accepted for
    :data:`oodlib.sweep.CLAIMS_REGISTRY`)."""
    vit, lse, keys = knn_label("ViT", "keys"), lse_label("ViT"), "keys"
    others = [knn_label("ViT", p) for p in VIT_PROBES if p != keys]
    order = dict(direction="greater", margin=ORDER_MARGIN, margin_reason=ORDER_REASON, units="AP points")
    return [
        Claim("p5/knn_beats_lse", "kNN distances beat model uncertainty (1 - LogSumExp)", "poster, results tables",
              Compare(ap_of, vit, [lse], what="AP"), "ViT", **order),
        Claim("p5/knn_beats_lse_pretrained",
              "kNN distances beat model uncertainty on a pretrained segmenter (ESPNet, Cityscapes)",
              "poster, results tables (their segmenters are pretrained)",
              Compare(ap_of, "pretrained stage3 (kNN)", ["pretrained 1 - LogSumExp"], what="AP"), "pretrained",
              **order),
        Claim("p5/vit_beats_cnn", "Transformer features beat CNN features (kNN)", "poster, feature comparison",
              Compare(ap_of, vit, [knn_label("CNN", "stage3")], what="AP"), "ViT vs CNN", **order,
              protocol="fixed features (ViT keys, CNN stage 3), both models trained here from scratch"),
        Claim("p5/keys_best", "Attention keys are the best transformer feature", "poster, feature comparison",
              Compare(ap_of, vit, others, what="AP"), "ViT", **order),
        Claim("p5/combined_helps", "Combining kNN with model uncertainty helps", "poster, combination",
              Compare(ap_of, combined_label("ViT"), [vit, lse], what="AP"), "ViT", **order),
        Claim("p5/small_weakest", "Small anomalies are where kNN is weakest (smallest AP advantage over LogSumExp)",
              "poster, discussion of the 1/16 feature grid",
              Statistic(small_weakest, "min(gap(medium), gap(large)) - gap(small), gap = AP(ViT keys kNN) - "
                        "AP(ViT LogSumExp) on that size's images", _size_parts), "ViT", **order),
        Claim("p5/search_small_share", "The kNN search is a small share of the per-image time (bank of 100k)",
              "poster, runtime", Statistic(search_share, "search share (%) of forward pass + search, primary model"),
              "runtime", direction="less", margin=SEARCH_SHARE_MAX, units="% of per-image time",
              margin_reason="'small' read as under half of the per-image time",
              protocol="this run's device and bank_size; the poster times a GPU with a 100k bank"),
    ]
