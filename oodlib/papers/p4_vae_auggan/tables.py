"""P4's tables from a :class:`~.run.P4Result` (percent, rows named as in the paper)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from .evaluate import best_threshold, detection_metrics, open_set_accuracy
from .run import OPV, SYSTEMS, P4Result, Scored

OPV_MSP = "OpVAEAugGAN, max-softmax score"  # Table 1's extra row: the same model, the baseline score


def system_metrics(out: Scored, y_dev: np.ndarray, y_test: np.ndarray, score: str) -> dict[str, float]:
    """AUROC, AUPR-In/-Out, EER (test), closed-set accuracy (known test clips) and open-set accuracy at
    the threshold that is best on the development set, for OOD score ``score`` (fractions)."""
    m = detection_metrics(out.scores_test[score], y_test < 0)
    m["closed-set acc"] = out.closed_set_accuracy
    thr = best_threshold(y_dev, out.logits_dev.argmax(1), out.scores_dev[score])
    m["open-set acc"] = open_set_accuracy(y_test, out.logits_test.argmax(1), out.scores_test[score], thr)
    return m


def table1(result: P4Result) -> pd.DataFrame:
    """Table 1: every system with its own OOD score, plus OpVAEAugGAN with max-softmax (percent)."""
    rows = {name: system_metrics(result.systems[name], result.y_dev, result.y_test, result.systems[name].own_score)
            for name in SYSTEMS}
    rows[OPV_MSP] = system_metrics(result.systems[OPV], result.y_dev, result.y_test, "max-softmax")
    out = pd.DataFrame.from_dict(rows, orient="index") * 100
    out.index.name = "system"
    return out


def ablation_table(result: P4Result) -> pd.DataFrame | None:
    """AUROC of each ablation variant with each score (the detector's: its real/fake detector, the
    separate network or the shared discriminator's head), and its closed-set accuracy (percent);
    None without an ablation."""
    if not result.ablation:
        return None
    unknown = result.is_unknown

    def auroc(out: Scored, score: str) -> float:
        return 100 * detection_metrics(out.scores_test[score], unknown)["AUROC"] if score in out.scores_test else np.nan

    rows = {name: {"AUROC (max-softmax)": auroc(out, "max-softmax"), "AUROC (Sinkhorn)": auroc(out, "sinkhorn"),
                   "AUROC (detector)": auroc(out, "detector"), "closed-set acc": 100 * out.closed_set_accuracy}
            for name, out in result.ablation.items()}
    out = pd.DataFrame.from_dict(rows, orient="index")
    out.index.name = "variant"
    return out


def paper_tables(cfg: object = None) -> dict[str, pd.DataFrame]:
    """The paper's Table 1, keyed and shaped as this notebook's record table ``"table1"``."""
    from ...tables import paper_table

    return {"table1": paper_table("p4", "table1")}
