"""Our versions of P3's tables (percent, rows named as in the paper)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ...metrics.gzsl import mean_class_accuracy
from .embedding import ALL_TERMS
from .pipeline import (AVOODRun, av_ood_metrics, detector_table_row, gzsl_from_routing, seen_accuracy,
                       stacking_metrics, train_embedding, unseen_accuracy)

ABLATIONS = {
    "L+": frozenset({"trip+", "rec+", "reg+"}),
    "L+ + L-trip": frozenset({"trip+", "rec+", "reg+", "trip-"}),
    "L+ + L-rec": frozenset({"trip+", "rec+", "reg+", "rec-"}),
    "L+ + L-reg": frozenset({"trip+", "rec+", "reg+", "reg-"}),
    "L+ + L- (ours)": ALL_TERMS,
}


def _pct(rows: dict[str, dict[str, float]], index: str) -> pd.DataFrame:
    df = pd.DataFrame.from_dict(rows, orient="index") * 100
    df.index.name = index
    return df


def table1(run: AVOODRun) -> pd.DataFrame:
    """S, U, HM, ZSL of AV-OOD and of the AVCA-style calibrated-stacking baseline."""
    return _pct({"AVCA": stacking_metrics(run), "AV-OOD": av_ood_metrics(run)}, "model")[["S", "U", "HM", "ZSL"]]


def table2(run: AVOODRun, tpr: float = 0.6) -> pd.DataFrame:
    """AUC (seen positive), FPR and HM at ``tpr`` for the three bias reduction methods."""
    rows = {n: detector_table_row(run, n, tpr) for n in ("Calibrated stacking", "OOD-binary", "OOD-entropy")}
    return _pct(rows, "method")[["AUC", "FPR", "HM"]]


def table3(run: AVOODRun) -> pd.DataFrame:
    """SC_acc, UC_acc and HM (OOD-entropy routing) for the classifier combinations."""
    combos = {"MLP & MLP": ("seen_mlp", "unseen_mlp"), "Embedding & Embedding": ("seen_emb", "unseen_emb"),
              "MLP & Embedding": ("seen_mlp", "unseen_emb")}
    rows = {name: {"SC_acc": seen_accuracy(run, s), "UC_acc": unseen_accuracy(run, u),
                   "HM": av_ood_metrics(run, s, u)["HM"]} for name, (s, u) in combos.items()}
    return _pct(rows, "classifiers")


def negative_loss_ablation(run: AVOODRun, seed: int = 0, device: str = "auto") -> pd.DataFrame:
    """UC_acc and HM when the unseen classifier is trained with subsets of the loss terms.

    The full model is the run's own; the other four are trained here with the
    same data, seed and settings.
    """
    st, t = run.bench.stage2, run.test
    unseen = st.unseen_classes
    x = np.concatenate([st.seen_x, st.unseen_x])
    det = t.scores["OOD-entropy"] > run.detectors["entropy"].threshold
    rows = {}
    for name, terms in ABLATIONS.items():
        emb = run.embedding if terms == ALL_TERMS else train_embedding(st, run.bench, run.hp, seed, device, terms)
        pred_u = emb.predict(x, unseen)
        u = ~t.is_seen_sample
        rows[name] = {"UC_acc": mean_class_accuracy(t.y[u], pred_u[u]),
                      "HM": gzsl_from_routing(t, det, t.seen_mlp, pred_u)["HM"]}
    return _pct(rows, "loss")
