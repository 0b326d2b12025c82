"""P5's figures: AP against k and bank size, and qualitative score maps."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from .models import FIXED_PROBES
from .run import P5Result, knn_label, lse_label


def sweep_figure(sweep: pd.DataFrame, label: str) -> plt.Figure:
    """AP (%) of ``label`` (the primary fixed feature) against k and against the bank size (log x axes)."""
    fig, axes = plt.subplots(1, 2, figsize=(8, 3))
    for ax, (setting, grp) in zip(axes, sweep.groupby("setting", sort=False)):
        grp = grp.sort_values("value")
        ax.plot(grp["value"], grp["AP"], marker="o")
        ax.set(xscale="log", xlabel=setting, ylabel="AP (%)", title=f"{label}: AP vs {setting}")
    fig.tight_layout()
    return fig


def examples_figure(result: P5Result, n_examples: int) -> plt.Figure:
    """Rows of test images: image, ground truth (anomaly white, void grey), the primary model's
    1 - LogSumExp and its fixed kNN map."""
    name = result.primary
    bench = result.runs[name].bench
    y = bench.test_ood
    pick = np.linspace(0, len(y) - 1, min(n_examples, len(y))).astype(int)
    fig, axes = plt.subplots(len(pick), 4, figsize=(10, 2.4 * len(pick)), squeeze=False)
    knn = knn_label(name, FIXED_PROBES[name])
    for row, i in zip(axes, pick):
        gt = np.where(y[i] == 255, 0.5, y[i].astype(float))
        panels = [(bench.test_images[i], "image", None), (gt, f"anomaly ({bench.test_groups[i]})", "gray"),
                  (result.maps[lse_label(name)][i], f"{name} 1 - LogSumExp", "magma"),
                  (result.maps[knn][i], f"kNN ({FIXED_PROBES[name]})", "magma")]
        for ax, (img, title, cmap) in zip(row, panels):
            ax.imshow(img, cmap=cmap)
            ax.set_title(title, fontsize=9)
            ax.axis("off")
    fig.tight_layout()
    return fig


def load_check_figure(per_class: pd.DataFrame, title: str) -> plt.Figure:
    """IoU per CamVid class of a pretrained segmenter's mapped predictions (the load check)."""
    fig, ax = plt.subplots(figsize=(7, 2.6))
    ax.bar(per_class.index, per_class["IoU"], color="tab:blue")
    ax.set(ylim=(0, 1), ylabel="IoU", title=title)
    ax.tick_params(axis="x", rotation=45)
    fig.tight_layout()
    return fig
