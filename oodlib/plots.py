"""One plotting style for the whole book, and the figures several notebooks share."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
import seaborn as sns

PALETTE = "colorblind"


def set_style() -> None:
    """Apply the book's style: seaborn 'whitegrid', colour-blind palette, 110 dpi figures."""
    sns.set_theme(style="whitegrid", palette=PALETTE, context="notebook")
    plt.rcParams.update({"figure.dpi": 110, "savefig.dpi": 110, "figure.figsize": (6.4, 3.8), "axes.titlesize": 11})


def score_distributions(
    scores: Mapping[str, Any], ax: Any = None, xlabel: str = "score (higher = more OOD)", title: str = ""
) -> Any:
    """Overlaid density plots of several score sets (e.g. ID and each OOD set).

    Args:
        scores: name -> 1-D array of scores.
    Returns:
        The matplotlib Axes.
    """
    if ax is None:
        _, ax = plt.subplots()
    for name, values in scores.items():
        sns.kdeplot(np.asarray(values, dtype=float), ax=ax, label=name, fill=True, alpha=0.25, warn_singular=False)
    ax.set_xlabel(xlabel)
    ax.set_ylabel("density")
    if title:
        ax.set_title(title)
    ax.legend(frameon=False, fontsize=8)
    return ax
