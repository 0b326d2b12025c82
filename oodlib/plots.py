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


def claims_summary_figure(record: Mapping[str, Any]) -> Any:
    """Ours vs the paper for one run's claims: one row per claim that has an interval.

    Each row has its own x axis in the claim's units (claims differ in units): our 95% interval
    (bar) and estimate (dot, coloured by verdict), the margin the verdict is judged against
    (dashed) and the paper's own value of the same effect (diamond) where it reports one.
    """
    colours = {"supported": "tab:green", "not supported": "tab:red", "inconclusive": "tab:gray"}
    claims = [c for c in record["claims"] if c.get("interval")]
    fig, axes = plt.subplots(len(claims), 1, figsize=(7.5, 0.95 * len(claims) + 0.5), squeeze=False)
    for ax, c in zip(axes[:, 0], claims):
        lo, hi = c["interval"]
        colour = colours.get(c["verdict"], "black")
        ax.plot([lo, hi], [0, 0], color=colour, lw=6, alpha=0.45, solid_capstyle="butt")
        ax.plot([c["effect"]], [0], "o", color=colour)
        if c.get("direction") in ("greater", "less"):
            ax.axvline(c["margin"], color="black", ls="--", lw=1)
        elif c.get("direction") == "within":
            for m in (-c["margin"], c["margin"]):
                ax.axvline(m, color="black", ls="--", lw=1)
        if c.get("paper_effect") is not None:
            ax.plot([c["paper_effect"]], [0], "D", color="tab:blue")
        ax.set_yticks([])
        ax.set_title(f"{c.get('id', c['claim'])}: {c['verdict']}", fontsize=9, loc="left")
        ax.set_xlabel(c.get("units", ""), fontsize=8)
        ax.tick_params(labelsize=8)
    from matplotlib.lines import Line2D

    handles = [Line2D([], [], color="tab:gray", lw=6, alpha=0.45, label="our 95% interval"),
               Line2D([], [], color="tab:gray", marker="o", ls="", label="our estimate"),
               Line2D([], [], color="black", ls="--", lw=1, label="margin (fixed in advance)"),
               Line2D([], [], color="tab:blue", marker="D", ls="", label="paper")]
    fig.legend(handles=handles, loc="upper right", fontsize=8, ncols=4, bbox_to_anchor=(1.0, 1.0 + 0.3 / len(claims)))
    fig.tight_layout()
    return fig


def headline_figure(rows: list[tuple[str, float | None, float | None]], units: str) -> Any:
    """Ours vs the paper on a paper's headline numbers (:func:`oodlib.tables.headline_values`):
    one row per item, our value (dot; no interval: these claims are point comparisons) and the
    paper's (diamond), on one axis in ``units``."""
    fig, ax = plt.subplots(figsize=(7.5, 0.45 * len(rows) + 1.0))
    for y, (label, paper, ours) in enumerate(rows):
        if ours is not None:
            ax.plot([ours], [y], "o", color="tab:gray")
        if paper is not None:
            ax.plot([paper], [y], "D", color="tab:blue")
    ax.set_yticks(range(len(rows)), [r[0] + ("" if r[2] is not None else " (not in this run)") for r in rows],
                  fontsize=8)
    ax.invert_yaxis()
    ax.set_xlabel(units, fontsize=8)
    ax.tick_params(axis="x", labelsize=8)
    from matplotlib.lines import Line2D

    ax.legend(handles=[Line2D([], [], color="tab:gray", marker="o", ls="", label="ours (point estimate)"),
                       Line2D([], [], color="tab:blue", marker="D", ls="", label="paper")],
              fontsize=8, loc="lower right", bbox_to_anchor=(1.0, 1.0), ncols=2, frameon=False)
    fig.tight_layout()
    return fig
