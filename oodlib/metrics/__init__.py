"""Evaluation metrics. Every function names its positive class and score direction.

* :mod:`~oodlib.metrics.binary` - AUROC, FPR at a TPR, AUPR, pAUC, EER on labels + scores.
* :mod:`~oodlib.metrics.ood` - the same from ID/OOD score sets in oodlib's orientation.
* :mod:`~oodlib.metrics.dcase` - DCASE Task 2 per-domain AUC, pAUC, official score (P2).
* :mod:`~oodlib.metrics.gzsl` - mean class accuracy, S/U/HM/ZSL (P3).
* :mod:`~oodlib.metrics.dense` - streaming pixel-level AP/FPR95/AUROC with an ignore label (P5).
"""

from .binary import aupr, auroc, eer, fpr_at_tpr, pauc, roc_points
from .dcase import dcase_machine_metrics, dcase_official_score
from .dense import PixelOODMetrics
from .gzsl import gzsl_metrics, harmonic_mean, mean_class_accuracy, zsl_accuracy
from .ood import ood_labels, ood_report

__all__ = [
    "PixelOODMetrics",
    "aupr",
    "auroc",
    "dcase_machine_metrics",
    "dcase_official_score",
    "eer",
    "fpr_at_tpr",
    "gzsl_metrics",
    "harmonic_mean",
    "mean_class_accuracy",
    "ood_labels",
    "ood_report",
    "pauc",
    "roc_points",
    "zsl_accuracy",
]
