"""Our versions of P3's tables (percent, rows named as in the paper)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pandas as pd

from ...metrics.gzsl import mean_class_accuracy
from .pipeline import (AVOODRun, av_ood_metrics, detector_table_row, gzsl_from_routing, seen_accuracy,
                       stacking_metrics, unseen_accuracy)
from .run import DETECTORS, P3Result

if TYPE_CHECKING:
    from .config import P3Config


def _pct(rows: dict[str, dict[str, float]], index: str) -> pd.DataFrame:
    df = pd.DataFrame.from_dict(rows, orient="index") * 100
    df.index.name = index
    return df


def table1(run: AVOODRun) -> pd.DataFrame:
    """S, U, HM, ZSL of AV-OOD and of the AVCA baseline (AVCA's model and losses, calibrated stacking with
    the stage-1-validated beta, no OOD routing), both trained here on the run's features."""
    return _pct({"AVCA": stacking_metrics(run), "AV-OOD": av_ood_metrics(run)}, "model")[["S", "U", "HM", "ZSL"]]


def table2(run: AVOODRun, tpr: float = 0.6) -> pd.DataFrame:
    """AUC (seen positive), FPR and HM at ``tpr`` for the three bias reduction methods."""
    rows = {n: detector_table_row(run, n, tpr) for n in DETECTORS}
    return _pct(rows, "method")[["AUC", "FPR", "HM"]]


def table3(run: AVOODRun) -> pd.DataFrame:
    """SC_acc, UC_acc and HM (OOD-entropy routing) for the classifier combinations."""
    combos = {"MLP & MLP": ("seen_mlp", "unseen_mlp"), "Embedding & Embedding": ("seen_emb", "unseen_emb"),
              "MLP & Embedding": ("seen_mlp", "unseen_emb")}
    rows = {name: {"SC_acc": seen_accuracy(run, s), "UC_acc": unseen_accuracy(run, u),
                   "HM": av_ood_metrics(run, s, u)["HM"]} for name, (s, u) in combos.items()}
    return _pct(rows, "classifiers")


def supp_table1(result: P3Result) -> pd.DataFrame:
    """UC_acc and HM (OOD-entropy routing) of the embedding model per loss subset (from :func:`.run.train_ablation`)."""
    run = result.run
    t = run.test
    det = t.scores["OOD-entropy"] > run.detectors["entropy"].threshold
    u = ~t.is_seen_sample
    rows = {name: {"UC_acc": mean_class_accuracy(t.y[u], pred_u[u]),
                   "HM": gzsl_from_routing(t, det, t.seen_mlp, pred_u)["HM"]}
            for name, pred_u in result.ablation.items()}
    return _pct(rows, "loss")


#: the record tables (``record.add_table`` keys) that have a published counterpart in ``p3.yaml``
PAPER_TABLES = ("table1", "table2", "table3", "supp_table1")


def paper_tables(cfg: P3Config) -> dict[str, pd.DataFrame]:
    """The paper's tables for ``cfg.dataset``, keyed and shaped as this notebook's record tables.

    Rows keep the paper's names, so our AVCA and AV-OOD rows meet the paper's; a row of ours that is not
    the paper's has no published counterpart and is shown without one.
    """
    from ...tables import paper_table, select_group

    return {name: select_group(paper_table("p3", name), cfg.dataset) for name in PAPER_TABLES}
