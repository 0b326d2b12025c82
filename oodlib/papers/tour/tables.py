"""The tour's result table."""

from __future__ import annotations

import pandas as pd

from ...metrics import ood_report
from .run import METHODS, TourResult


def ood_table(result: TourResult) -> pd.DataFrame:
    """FPR95 and AUROC (percent, ID positive: P1's convention) per (OOD set, score)."""
    rows = {}
    for name in result.ood_sets:
        for method in METHODS:
            rep = ood_report(result.scores["ID test"][method], result.scores[name][method], positive="id", percent=True)
            rows[(name, method)] = {"FPR95 (%)": rep["fpr"], "AUROC (%)": rep["auroc"]}
    table = pd.DataFrame.from_dict(rows, orient="index")
    table.index.names = ["OOD set", "score"]
    return table
