"""P2's Figure 1: official score per layer, for every extractor and for the primary one's variants."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pandas as pd

if TYPE_CHECKING:
    from .run import P2Result


def _curves(ax: Any, curves: pd.DataFrame, title: str) -> None:
    for name in curves:
        ax.plot(curves.index, curves[name], marker="o", label=name)
    ax.set(xlabel="layer", title=title)
    ax.legend(fontsize=8)


def figure1(every: pd.DataFrame, primary: pd.DataFrame, result: "P2Result") -> Any:
    """Left: ``every`` extractor's DN curve (:func:`.tables.layer_curves`); right: the primary
    extractor's ``primary`` curves (DN transductive, inductive, none). Dashed lines: fixed layers."""
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(10, 3.4), sharey=True)
    _curves(axes[0], every, "Every extractor (DN, no MemMixup)")
    _curves(axes[1], primary, result.primary.name)
    for r in result.runs:
        axes[0].axvline(r.fixed_layer, color="grey", lw=0.8, ls="--")
    axes[1].axvline(result.primary.fixed_layer, color="grey", lw=0.8, ls="--")
    axes[0].set_ylabel("official score (%)")
    fig.tight_layout()
    return fig
