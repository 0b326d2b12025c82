"""Our versions of P3's tables (percent, rows named as in the paper, one column group per dataset).

Columns are named as in the paper's tables, ``"<dataset> <metric>"`` (``"UCF HM"``), so ours and
the paper's meet cell by cell (:func:`oodlib.tables.side_by_side`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import pandas as pd

from ...metrics.gzsl import mean_class_accuracy
from .claims import PAPER_BEST_THRESHOLDS
from .figures import threshold_sweep
from .pipeline import (AVOODRun, av_ood_metrics, detector_table_row, gzsl_from_routing, seen_accuracy,
                       stacking_metrics, unseen_accuracy)
from .run import DETECTORS, P3Result

if TYPE_CHECKING:
    from .config import P3Config



def _pct(rows: dict[str, dict[str, float]], index: str) -> pd.DataFrame:
    df = pd.DataFrame.from_dict(rows, orient="index") * 100
    df.index.name = index
    return df


def _wide(result: P3Result, one: Callable[[AVOODRun], pd.DataFrame]) -> pd.DataFrame:
    """``one(run)`` for every dataset, side by side with columns ``"<dataset> <metric>"``."""
    parts = [one(r).rename(columns=lambda c, n=name: f"{n} {c}") for name, r in result.runs.items()]
    return pd.concat(parts, axis=1)


def _table1(run: AVOODRun) -> pd.DataFrame:
    return _pct({"AVCA": stacking_metrics(run), "AV-OOD": av_ood_metrics(run)}, "model")[["S", "U", "HM", "ZSL"]]


def table1(result: P3Result) -> pd.DataFrame:
    """S, U, HM, ZSL of AV-OOD and of the AVCA baseline (AVCA's model and losses, calibrated stacking with
    the stage-1-validated beta, no OOD routing), both trained here on the run's features."""
    return _wide(result, _table1)


def table2(result: P3Result, tpr: float = 0.6) -> pd.DataFrame:
    """AUC (seen positive), FPR and HM at ``tpr`` for the three bias reduction methods."""
    return _wide(result, lambda r: _pct({n: detector_table_row(r, n, tpr) for n in DETECTORS}, "method")[
        ["AUC", "FPR", "HM"]])


def _table3(run: AVOODRun) -> pd.DataFrame:
    combos = {"MLP & MLP": ("seen_mlp", "unseen_mlp"), "Embedding & Embedding": ("seen_emb", "unseen_emb"),
              "MLP & Embedding": ("seen_mlp", "unseen_emb")}
    rows = {name: {"SC_acc": seen_accuracy(run, s), "UC_acc": unseen_accuracy(run, u),
                   "HM": av_ood_metrics(run, s, u)["HM"]} for name, (s, u) in combos.items()}
    return _pct(rows, "classifiers")


def table3(result: P3Result) -> pd.DataFrame:
    """SC_acc, UC_acc and HM (OOD-entropy routing) for the classifier combinations."""
    return _wide(result, _table3)


def supp_table1(result: P3Result) -> pd.DataFrame:
    """UC_acc and HM (OOD-entropy routing) of the embedding model per loss subset (from :func:`.run.train_ablation`)."""
    def one(name: str, run: AVOODRun) -> pd.DataFrame:
        t = run.test
        det = t.scores["OOD-entropy"] > run.detectors["entropy"].threshold
        u = ~t.is_seen_sample
        rows = {v: {f"{name} UC_acc": mean_class_accuracy(t.y[u], pred[u]),
                    f"{name} HM": gzsl_from_routing(t, det, t.seen_mlp, pred)["HM"]}
                for v, pred in result.ablation[name].items()}
        return _pct(rows, "loss")

    return pd.concat([one(n, r) for n, r in result.runs.items()], axis=1)


def thresholds(result: P3Result) -> pd.DataFrame:
    """Per dataset: the mean-entropy threshold and HM there, the sweep's HM-optimal threshold (an
    oracle on the test scores) and HM there, and the paper's HM-optimal threshold (nats, HM %)."""
    rows = {}
    for name, r in result.runs.items():
        sw = threshold_sweep(r)
        rows[name] = {"mean threshold": sw["mean_threshold"], "HM at mean (%)": 100 * sw["HM_at_mean_entropy"],
                      "best threshold (oracle)": sw["best_threshold"], "HM at best (%)": 100 * sw["HM_best"],
                      "paper's best threshold": PAPER_BEST_THRESHOLDS[name]}
    df = pd.DataFrame.from_dict(rows, orient="index")
    df.index.name = "dataset"
    return df


def training_facts(result: P3Result) -> pd.DataFrame:
    """Per dataset: calibrated stacking's beta and AVCA's stage-2 epochs (both from stage-1 validation),
    the OOD-entropy threshold, and whether a detector collapsed."""
    df = pd.DataFrame(result.facts()).T.drop(columns=["uc_checkpoint"])
    df.index.name = "dataset"
    return df


def hyperparameters(cfg: P3Config) -> pd.DataFrame:
    """The paper's and this run's hyperparameters, a (dataset, "paper"/"this run") column pair each."""
    from .hparams import PRESETS

    cols = {}
    for name in cfg.datasets:
        cols[(name, "paper")] = PRESETS[name].to_dict()
        cols[(name, "this run")] = cfg.hp(name).to_dict()
    return pd.DataFrame(cols).astype(str)


#: the record tables (``record.add_table`` keys) that have a published counterpart in ``p3.yaml``
PAPER_TABLES = ("table1", "table2", "table3", "supp_table1")


def paper_tables(cfg: P3Config) -> dict[str, pd.DataFrame]:
    """The paper's tables restricted to ``cfg.datasets``' columns (in that order), keyed and shaped as
    this notebook's record tables.

    Rows keep the paper's names, so our AVCA and AV-OOD rows meet the paper's; a row of ours that is not
    the paper's has no published counterpart and is shown without one.
    """
    from ...tables import paper_table

    out = {}
    for name in PAPER_TABLES:
        df = paper_table("p3", name)
        cols = [c for d in cfg.datasets for c in df.columns if str(c).startswith(f"{d} ")]
        out[name] = df[cols].copy()
        out[name].attrs.update(df.attrs)
    return out
