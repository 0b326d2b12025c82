"""P4's Figure 2: the max-softmax and Sinkhorn scores of known and unknown test clips."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np

from .evaluate import detection_metrics
from .run import OPV, P4Result

PANELS = (("max-softmax", "max softmax probability"), ("sinkhorn", "Sinkhorn divergence from uniform"))


def score_histograms(result: P4Result, system: str = OPV) -> plt.Figure:
    """Histograms of ``system``'s two confidence scores (the paper's orientation: higher = more
    confident), known vs unknown test clips, each panel titled with its AUROC."""
    unknown = result.is_unknown
    fig, axes = plt.subplots(1, 2, figsize=(9, 3.2))
    for ax, (name, label) in zip(axes, PANELS):
        s = result.systems[system].scores_test[name]
        v = -s  # back to the paper's orientation
        bins = np.linspace(v.min(), v.max(), 30)
        ax.hist(v[~unknown], bins=bins, alpha=0.6, density=True, label="known words (ID)")
        ax.hist(v[unknown], bins=bins, alpha=0.6, density=True, label="unknown words (OOD)")
        auroc = 100 * detection_metrics(s, unknown)["AUROC"]
        ax.set(xlabel=label, ylabel="density", title=f"{name}: AUROC {auroc:.1f}")
    axes[0].legend(fontsize=8)
    fig.tight_layout()
    return fig
