"""P5's tables from a :class:`~.run.P5Result`: models, features (AP / FPR95 / AUROC in percent),
runtime, AP by anomaly size, and the poster's SOTA tables with our row under the column it ran on."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ...tables import paper_table
from .data import EVALUATION
from .dense import metrics_by_group
from .load_check import LoadCheck
from .models import FIXED_PROBES
from .run import P5Result, combined_label, knn_label, lse_label

#: the poster's SOTA table and column of each data source that has one
SOTA_COLUMNS = {"road_anomaly": ("sota_road", "RoadAnomaly"), "streethazards": ("sota_road", "StreetHazards"),
                "smiyc": ("sota_smiyc", "SMIYC-Anomaly"), "fishyscapes_lostandfound": ("sota_fishyscapes", "FS-Lost&Found")}


@dataclass
class P5Tables:
    models: pd.DataFrame
    features: pd.DataFrame
    runtime: pd.DataFrame
    by_size: pd.DataFrame
    sota: dict[str, pd.DataFrame]
    ours_row: str


def models_table(result: P5Result) -> pd.DataFrame:
    """One row per model: parameters, where its weights come from, training time, loss, mIoU."""
    df = pd.DataFrame({name: r.info for name, r in result.runs.items()}).T
    df.index.name = "model"
    return df


def features_table(result: P5Result) -> pd.DataFrame:
    """AP, FPR95, AUROC (percent, anomaly pixels positive) and search seconds per image, by row."""
    df = pd.DataFrame(result.rows).T
    for col in ("ap", "fpr95", "auroc"):
        df[col] = 100 * df[col]
    df = df.rename(columns={"ap": "AP", "fpr95": "FPR95", "auroc": "AUROC"})
    cols = ["AP", "FPR95", "AUROC"] + [c for c in df.columns if c not in ("AP", "FPR95", "AUROC")]
    df = df[cols]
    df.index.name = "score"
    return df


def runtime_table(result: P5Result) -> pd.DataFrame:
    """Per model: forward-pass and fixed-feature search seconds per test image, dims, cells, search share."""
    rows = {}
    for name, r in result.runs.items():
        fixed = FIXED_PROBES[name]
        rows[name] = {"extract s/image": r.test.extract_s, "kNN search s/image": r.test.search_s[fixed],
                      "feature": fixed, "feature dim": r.dims[fixed], "cells/image": int(np.prod(r.grids[fixed])),
                      "bank": r.bank_sizes[fixed], "image size": "x".join(map(str, r.bench.image_size))}
    df = pd.DataFrame(rows).T
    df["search share (%)"] = 100 * df["kNN search s/image"] / (df["extract s/image"] + df["kNN search s/image"])
    df.index.name = "model"
    return df


def size_table(result: P5Result) -> pd.DataFrame:
    """AP (%) of each model's fixed kNN feature and LogSumExp by anomaly size group."""
    out = {}
    for name, r in result.runs.items():
        b = r.bench
        for label in (knn_label(name, FIXED_PROBES[name]), lse_label(name)):
            groups = metrics_by_group(result.maps[label], b.test_ood, b.test_groups, b.test_counts)
            out[label] = {g: 100 * m["ap"] for g, m in groups.items()}
    df = pd.DataFrame(out).T
    present = set(next(iter(result.runs.values())).bench.test_groups)
    df = df[[g for g in ("small", "medium", "large") if g in present] + [g for g in df.columns
                                                                         if g not in ("small", "medium", "large")]]
    df.index.name = "AP (%) by anomaly size"
    return df


def sota_tables(features: pd.DataFrame, data: str, ours_row: str,
                official: dict[str, float] | None = None) -> dict[str, pd.DataFrame]:
    """The poster's three SOTA tables; our fixed-feature row added under the column of ``data``, labelled
    with how it was obtained (:data:`.data.EVALUATION`). Other sources have no column there.

    ``official``: the row's metrics (fractions) under the benchmark's own protocol when it differs from
    the pooled pixels of ``features`` (StreetHazards' per-image means, :mod:`oodlib.metrics.per_image`)."""
    tables = {t: paper_table("p5", t) for t in ("sota_road", "sota_smiyc", "sota_fishyscapes")}
    if data in SOTA_COLUMNS:
        table, column = SOTA_COLUMNS[data]
        label = f"ours ({EVALUATION[data]}): {ours_row}"
        ap, fpr = ((100 * official["ap"], 100 * official["fpr95"]) if official is not None
                   else (features.loc[ours_row, "AP"], features.loc[ours_row, "FPR95"]))
        tables[table].loc[label, [f"{column} AP", f"{column} FPR95"]] = [ap, fpr]
        tables[table].loc[label, "OE"] = 0
    return tables


def build(result: P5Result, data: str) -> P5Tables:
    """Every table of the notebook; the SOTA row is the primary model's fixed feature (never the best on test)."""
    features = features_table(result)
    ours = knn_label(result.primary, FIXED_PROBES[result.primary])
    return P5Tables(models_table(result), features, runtime_table(result), size_table(result),
                    sota_tables(features, data, ours, result.official), ours)




def load_checks(result: P5Result) -> pd.DataFrame:
    """One row per pretrained model whose CamVid load check ran: images, size, mean / road IoU, accuracy, rule, passed."""
    rows = {name: r.load_check.summary() for name, r in result.runs.items() if isinstance(r.load_check, LoadCheck)}
    df = pd.DataFrame(rows).T
    df.index.name = "pretrained model"
    return df


def load_check_classes(result: P5Result) -> pd.DataFrame:
    """Per-class IoU of the first pretrained model's load check (``IoU``, ``pixels``)."""
    check = next(r.load_check for r in result.runs.values() if isinstance(r.load_check, LoadCheck))
    return check.per_class


def load_check_note(result: P5Result) -> str:
    """Why no load check ran: no pretrained model, or the reason each gave."""
    reasons = [f"{n}: {r.load_check}" for n, r in result.runs.items() if isinstance(r.load_check, str)]
    return "; ".join(reasons) if reasons else "no pretrained model in this run"
