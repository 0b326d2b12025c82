"""P1's figures: Figure 2 (kNN score distributions) and the k sweep."""

from __future__ import annotations

import matplotlib.pyplot as plt
import pandas as pd

from ... import plots
from .run import ID_TEST, P1Result
from .sets import STANDS_IN_FOR


def figure2(result: P1Result, setting: str) -> plt.Figure:
    """The kNN score (squared distance to the k-th neighbour, per clip) of ID test and each OOD set,
    for ``setting`` with Table 3's model; synthetic sets are labelled by what they stand in for."""
    arch = result.t3_key[1]
    scores = result.runs[(setting, arch)].scores["kNN"]
    label = (lambda n: n if n == ID_TEST else STANDS_IN_FOR.get(n, n)) if result.data.synthetic else (lambda n: n)
    fig, ax = plt.subplots(figsize=(7.5, 3.8))
    plots.score_distributions({label(n): v for n, v in scores.items()}, ax=ax,
                              xlabel="kNN score: squared distance to the k-th neighbour (higher = more OOD)",
                              title=f"ID = {setting} ({arch})")
    return fig


def k_sweep_figure(sweeps: dict[str, pd.DataFrame]) -> plt.Figure:
    """Average FPR95 and AUROC over the OOD sets against k, one curve per ID setting."""
    fig, axes = plt.subplots(1, 2, figsize=(9.5, 3.4))
    for name, sw in sweeps.items():
        axes[0].plot(sw.index, sw["FPR95"], marker="o", label=name)
        axes[1].plot(sw.index, sw["AUROC"], marker="o", label=name)
    for ax, metric in zip(axes, ("FPR95 (%, lower is better)", "AUROC (%, higher is better)")):
        ax.set_xscale("log")
        ax.set_xlabel("k")
        ax.set_ylabel(metric)
        ax.legend(fontsize=8, frameon=False)
    fig.tight_layout()
    return fig


__all__ = ["figure2", "k_sweep_figure"]
