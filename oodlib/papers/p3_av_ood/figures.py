"""P3's figures: ROC of the bias-reduction methods, the entropy-threshold sweep, a t-SNE of test samples."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from sklearn.manifold import TSNE

from ...metrics.binary import roc_points
from ...seeding import child_seed
from .pipeline import AVOODRun, av_ood_metrics, entropy_threshold_sweep, route
from .run import DETECTORS, P3Result


def _panels(n: int, width: float, height: float) -> tuple[plt.Figure, list[plt.Axes]]:
    fig, axes = plt.subplots(1, n, figsize=(width * n, height), squeeze=False)
    return fig, list(axes[0])


def roc_figure(result: P3Result, table2: pd.DataFrame) -> plt.Figure:
    """Paper Fig. 3: per dataset, the ROC (seen positive) of each detector, AUC (from ``table2``) in the legend."""
    fig, axes = _panels(len(result.runs), 4.2, 4.0)
    for ax, (name, run) in zip(axes, result.runs.items()):
        s = run.test.is_seen_sample
        for det in DETECTORS:
            fpr, tpr, _ = roc_points(s.astype(int), -run.test.scores[det], pos_label=1)
            ax.plot(fpr, tpr, label=f"{det} (AUC {table2.loc[det, f'{name} AUC']:.1f})")
        ax.plot([0, 1], [0, 1], "k:", lw=1)
        ax.set(xlabel="FPR (unseen accepted as seen)", ylabel="TPR (seen accepted)", title=name)
        ax.legend(fontsize=7)
    fig.tight_layout()
    return fig


def threshold_sweep(run: AVOODRun) -> dict[str, float]:
    """HM (fractions) at the mean-entropy threshold and at the sweep's best (oracle) threshold."""
    sw = entropy_threshold_sweep(run)
    best = int(sw["HM"].argmax())
    return {"HM_at_mean_entropy": av_ood_metrics(run)["HM"], "HM_best": float(sw["HM"][best]),
            "best_threshold": float(sw["threshold"][best]), "mean_threshold": run.detectors["entropy"].threshold}


def threshold_figure(result: P3Result) -> plt.Figure:
    """Supp. Fig. 1: per dataset, HM, TPR and FPR as the OOD-entropy threshold sweeps; red: the mean
    training entropy, grey: half of it."""
    fig, axes = _panels(len(result.runs), 4.4, 3.4)
    for ax, (name, run) in zip(axes, result.runs.items()):
        sw = entropy_threshold_sweep(run)
        thr = run.detectors["entropy"].threshold
        ax.plot(sw["threshold"], sw["HM"] * 100, color="C0", label="HM")
        ax.set(xlabel="entropy threshold (nats)", ylabel="HM (%)", title=name)
        ax2 = ax.twinx()
        ax2.plot(sw["threshold"], sw["TPR"] * 100, color="C1", ls="--", label="TPR")
        ax2.plot(sw["threshold"], sw["FPR"] * 100, color="C2", ls="--", label="FPR")
        ax2.set_ylabel("TPR / FPR (%)")
        ax.axvline(thr, color="red", lw=1)
        ax.axvline(thr / 2, color="grey", lw=1)
        ax.scatter([thr], [av_ood_metrics(run)["HM"] * 100], color="red", zorder=3)
    handles = [*axes[0].get_legend_handles_labels()[0], *fig.axes[-1].get_legend_handles_labels()[0]]
    fig.legend(handles=handles, loc="lower right", fontsize=8)
    fig.tight_layout()
    return fig


def tsne_dataset(datasets: list[str]) -> str:
    """The dataset of the t-SNE figure: UCF (the smallest) when the run has it, else the first."""
    return "UCF" if "UCF" in datasets else datasets[0]


def tsne_figure(run: AVOODRun, n_classes: int, seed: int, per_class: int = 15) -> plt.Figure:
    """t-SNE of audio ⊕ visual test features of ``n_classes`` seen and unseen classes, marked by
    whether calibrated stacking and AV-OOD classify each sample correctly."""
    rng = np.random.default_rng(child_seed(seed, "p3/tsne"))
    st, t = run.bench.stage2, run.test
    pick_s = rng.choice(st.seen_classes, min(n_classes, len(st.seen_classes)), replace=False)
    pick_u = rng.choice(st.unseen_classes, min(n_classes, len(st.unseen_classes)), replace=False)
    x_test = np.concatenate([st.seen_x, st.unseen_x])
    rows = np.concatenate([rng.permutation(np.flatnonzero(t.y == c))[:per_class] for c in [*pick_s, *pick_u]])
    emb2 = TSNE(2, init="pca", random_state=child_seed(seed, "p3/tsne/fit") % 2**31,
                perplexity=min(20, len(rows) - 1)).fit_transform(x_test[rows])
    thr = run.detectors["entropy"].threshold
    final = {"AVCA (calibrated stacking)": t.stacking_pred,
             "AV-OOD": route(t.scores["OOD-entropy"] > thr, t.seen_mlp, t.unseen_emb)}
    fig, axes = plt.subplots(1, 2, figsize=(9, 4))
    seen_r = t.is_seen_sample[rows]
    for ax, (name, pred) in zip(axes, final.items()):
        ok = pred[rows] == t.y[rows]
        for lab, m, col in (("Seen True", seen_r & ok, "C0"), ("Seen False", seen_r & ~ok, "C9"),
                            ("Unseen True", ~seen_r & ok, "C3"), ("Unseen False", ~seen_r & ~ok, "C1")):
            ax.scatter(emb2[m, 0], emb2[m, 1], s=10, c=col, label=f"{lab} ({m.sum()})")
        ax.set(title=name, xticks=[], yticks=[])
        ax.legend(fontsize=7)
    return fig
