"""Train the tour's classifier and score every test set with MSP, kNN and raw kNN."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ... import scores
from ...claims import Evidence
from ...knn import KNNScorer
from ...models import MLPClassifier
from ...seeding import child_seed, seeded
from ...training import TrainHistory, predict, train_classifier
from .config import TourConfig
from .data import N_CLASSES, TourData

METHODS = ("MSP", "kNN", "kNN (raw)")


@dataclass
class TourResult:
    """Scores (higher = more OOD) of every method on the ID test set and each OOD set.

    ``scores[set][method]``: float64 (n,), sets ``"ID test"`` and the OOD set names.
    """

    accuracy: float  # ID test accuracy, fraction
    scores: dict[str, dict[str, np.ndarray]]
    history: TrainHistory
    ood_sets: tuple[str, ...] = field(default=())
    data_source: str = "synthetic"

    def evidence(self) -> dict[str, Evidence]:
        """One evidence set per OOD set: the ID test rows then that set's rows, ``is_ood`` to stratify."""
        out = {}
        for name in self.ood_sets:
            s_id, s_ood = self.scores["ID test"], self.scores[name]
            arrays = {"is_ood": np.r_[np.zeros(len(s_id["MSP"]), bool), np.ones(len(s_ood["MSP"]), bool)],
                      **{m: np.r_[s_id[m], s_ood[m]] for m in METHODS}}
            out[name] = Evidence(name, arrays, stratify="is_ood", data=self.data_source,
                                 facts={"id_accuracy": self.accuracy, "chance_accuracy": 1 / N_CLASSES})
        return out


def run(cfg: TourConfig, data: TourData) -> TourResult:
    """Train a 2-hidden-layer MLP (cross-entropy, Adam 1e-2) and score with MSP and kNN (P1's recipe)."""
    b = data.blobs
    with seeded(child_seed(cfg.seed, "tour/model")):
        model = MLPClassifier(in_dim=2, n_classes=N_CLASSES, hidden=(64, 64))
    history = train_classifier(model, b.x_train, b.y_train, epochs=cfg.epochs, lr=1e-2,
                               seed=child_seed(cfg.seed, "tour/train"), device=cfg.device)
    _, feats_train = predict(model, b.x_train, device=cfg.device)
    knn = KNNScorer(k=cfg.k, normalize=True, squared=True).fit(feats_train)  # P1's recipe
    knn_raw = KNNScorer(k=cfg.k).fit(feats_train)  # the same without normalisation

    def score(x: np.ndarray) -> tuple[np.ndarray, dict[str, np.ndarray]]:
        logits, feats = predict(model, x, device=cfg.device)
        return logits, {"MSP": scores.msp(logits), "kNN": knn.score(feats), "kNN (raw)": knn_raw.score(feats)}

    logits_test, s_test = score(b.x_test)
    all_scores = {"ID test": s_test, **{name: score(x)[1] for name, x in b.ood.items()}}
    accuracy = float(np.mean(logits_test.argmax(1) == b.y_test))
    return TourResult(accuracy, all_scores, history, tuple(b.ood), cfg.data)
