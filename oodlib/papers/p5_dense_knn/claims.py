"""P5's claims, decided from the run's feature table (AP, percent) and its AP-by-size table.

These are still **point comparisons** of AP (no interval: a bootstrap over images is #21's), but
they are declared and decided here, once, with tests, not in the notebook. Features are the ones
fixed in advance (:data:`.models.FIXED_PROBES`), never the probe with the best test AP.
"""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd

from .models import FIXED_PROBES, VIT_PROBES


def _verdict(holds: bool) -> str:
    return "supported" if holds else "not supported"


def _row(model: str) -> str:
    """The feature-table row of ``model``'s fixed kNN feature, e.g. ``"ViT keys (kNN)"``."""
    return f"{model} {FIXED_PROBES[model]} (kNN)"


def point_claims(ap: Mapping[str, float], by_size: pd.DataFrame | None = None) -> list[tuple[str, str, str]]:
    """``(claim, verdict, evidence)`` for each of P5's claims.

    ``ap``: AP (%) by feature-table row (``"ViT keys (kNN)"``, ``"ViT 1 - LogSumExp"``, ``"CNN
    stage3 (kNN)"``, ``"ViT combined (...)"``, ...); ``by_size``: AP by anomaly size (rows as
    ``ap``, columns ``small``/``medium``/``large``), or ``None`` when the run has no size groups (the
    size claim is then left out).
    """
    vit, cnn = _row("ViT"), _row("CNN")
    vit_feats = {f: ap[f"ViT {f} (kNN)"] for f in VIT_PROBES}
    combined = next(r for r in ap.keys() if str(r).startswith("ViT combined"))  # a dict or a Series
    best_single = max(ap[vit], ap["ViT 1 - LogSumExp"])
    out = [
        ("kNN distances beat model uncertainty (1 - LogSumExp)", _verdict(ap[vit] > ap["ViT 1 - LogSumExp"]),
         f"ViT AP: keys kNN {ap[vit]:.1f} vs LogSumExp {ap['ViT 1 - LogSumExp']:.1f}; "
         f"CNN AP: kNN {ap[cnn]:.1f} vs LogSumExp {ap['CNN 1 - LogSumExp']:.1f}"),
        ("Transformer features beat CNN features (kNN)", _verdict(ap[vit] > ap[cnn]),
         f"fixed features, AP: ViT keys {ap[vit]:.1f} vs CNN stage 3 {ap[cnn]:.1f}"),
        ("Attention keys are the best transformer feature", _verdict(vit_feats["keys"] >= max(vit_feats.values())),
         "AP " + ", ".join(f"{f} {v:.1f}" for f, v in vit_feats.items())),
        ("Combining kNN with model uncertainty helps", _verdict(ap[combined] > best_single),
         f"ViT AP: combined {ap[combined]:.1f} vs best single score {best_single:.1f}"),
    ]
    if by_size is not None and {"small", "large"} <= set(by_size.columns):
        gap = by_size.loc[vit] - by_size.loc["ViT 1 - LogSumExp"]
        out.append(("Small anomalies are where kNN is weakest (smallest AP advantage over LogSumExp)",
                    _verdict(gap.idxmin() == "small"),
                    "ViT keys minus LogSumExp AP by size: " + ", ".join(f"{g} {v:+.1f}" for g, v in gap.items())))
    return out
