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


def score_panels(scores: Mapping[str, Mapping[str, Any]], reference: str = "ID test") -> Any:
    """One panel per method: the score distributions of ``reference`` and every other set.

    Args:
        scores: ``scores[set][method]`` -> 1-D array (higher = more OOD).
        reference: the ID set's name; the other sets are drawn as OOD.
    Returns:
        The matplotlib Figure.
    """
    methods = list(scores[reference])
    others = [s for s in scores if s != reference]
    fig, axes = plt.subplots(1, len(methods), figsize=(4 * len(methods), 3.4), squeeze=False)
    for ax, method in zip(axes[0], methods):
        series = {reference: scores[reference][method], **{f"OOD {s}": scores[s][method] for s in others}}
        score_distributions(series, ax=ax, title=f"{method} score (higher = more OOD)")
    fig.tight_layout()
    return fig


def blobs_figure(blobs: Any) -> Any:
    """Scatter plot of 2-d blobs (:class:`oodlib.synthetic.blobs.BlobsData`): training ID classes and OOD sets."""
    fig, ax = plt.subplots(figsize=(5, 4))
    for c in np.unique(blobs.y_train):
        pts = blobs.x_train[blobs.y_train == c]
        ax.scatter(pts[:, 0], pts[:, 1], s=6, label=f"ID class {c}")
    for name, pts in blobs.ood.items():
        ax.scatter(pts[:, 0], pts[:, 1], s=6, marker="x", label=f"OOD: {name}")
    ax.set_aspect("equal")
    ax.legend(fontsize=8, frameon=False)
    ax.set_title("Synthetic blobs (training ID and OOD test sets)")
    return fig
