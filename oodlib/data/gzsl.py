"""A generalised zero-shot benchmark in memory: the two-stage AVCA protocol.

Stage 1 (validation): train on ``stage_1_train`` classes, evaluate on their
validation samples and on ``stage_1_val_unseen`` classes; used only to choose
hyperparameters such as the calibrated-stacking bias. Stage 2 (test): train on
all ``stage_2_train`` (seen) classes, evaluate on test-seen and test-unseen.

Features are audio ⊕ video concatenated: ``x[:, :audio_dim]`` is audio.
Class ids are global indices into ``class_names`` / ``text``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .avca import load_avca_features, load_avca_meta


@dataclass
class GZSLStage:
    """One protocol stage. ``*_x`` float32 (n, d_audio + d_video); ``*_y`` int64 (n,) global class ids."""

    train_x: np.ndarray
    train_y: np.ndarray
    seen_x: np.ndarray
    seen_y: np.ndarray
    unseen_x: np.ndarray
    unseen_y: np.ndarray
    seen_classes: np.ndarray
    unseen_classes: np.ndarray

    def __post_init__(self) -> None:
        for name in ("train", "seen", "unseen"):
            x, y = getattr(self, f"{name}_x"), getattr(self, f"{name}_y")
            if x.ndim != 2 or len(x) != len(y):
                raise ValueError(f"{name}_x must be (n, d) with n labels; got {x.shape} and {len(y)} labels")
        if np.intersect1d(self.seen_classes, self.unseen_classes).size:
            raise ValueError("seen and unseen classes overlap")
        if not np.isin(self.train_y, self.seen_classes).all():
            raise ValueError("training samples must belong to seen classes")
        if not np.isin(self.unseen_y, self.unseen_classes).all() or not np.isin(self.seen_y, self.seen_classes).all():
            raise ValueError("evaluation samples must belong to their split's classes")

    @property
    def all_classes(self) -> np.ndarray:
        """Seen then unseen class ids."""
        return np.concatenate([self.seen_classes, self.unseen_classes])


@dataclass
class GZSLBenchmark:
    """A GZSL benchmark: class names, 300-d class embeddings (C, 300) and both stages.

    ``source`` says in words what is real and what is synthetic.
    """

    name: str
    class_names: list[str]
    text: np.ndarray
    audio_dim: int
    stage1: GZSLStage
    stage2: GZSLStage
    source: str

    @property
    def note(self) -> str:
        """What the data are, in words (the paper packages' common name for :attr:`source`)."""
        return self.source

    def summary(self) -> dict[str, int]:
        """Class and sample counts per stage."""
        out = {}
        for s, st in (("stage1", self.stage1), ("stage2", self.stage2)):
            out.update({f"{s}_seen_classes": len(st.seen_classes), f"{s}_unseen_classes": len(st.unseen_classes),
                        f"{s}_train": len(st.train_y), f"{s}_eval_seen": len(st.seen_y),
                        f"{s}_eval_unseen": len(st.unseen_y)})
        return out


def load_avca_benchmark(root: str | Path, dataset: str = "UCF", features: str = "main_features") -> GZSLBenchmark:
    """The real AVCA benchmark (SeLaVi features) from ``root`` (see :mod:`oodlib.data.avca`)."""
    meta = load_avca_meta(root, dataset, features=features)
    names = meta.classes
    index = {n: i for i, n in enumerate(names)}

    def read(split: str) -> tuple[np.ndarray, np.ndarray]:
        f = load_avca_features(root, dataset, split, features=features, classes=meta.splits[split])
        return np.concatenate([f.audio, f.video], axis=1), np.array([index[c] for c in f.labels], dtype=np.int64)

    parts = {s: read(s) for s in ("stage_1_train", "stage_1_val_seen", "stage_1_val_unseen", "stage_2_train",
                                  "stage_2_test_seen", "stage_2_test_unseen")}
    ids = lambda split: np.array([index[c] for c in meta.splits[split]], dtype=np.int64)  # noqa: E731
    stage1 = GZSLStage(*parts["stage_1_train"], *parts["stage_1_val_seen"], *parts["stage_1_val_unseen"],
                       ids("stage_1_train"), ids("stage_1_val_unseen"))
    stage2 = GZSLStage(*parts["stage_2_train"], *parts["stage_2_test_seen"], *parts["stage_2_test_unseen"],
                       ids("stage_2_train"), ids("stage_2_test_unseen"))
    audio_dim = load_avca_features(root, dataset, "stage_2_test_unseen", features=features,
                                   classes=meta.unseen[:1]).audio.shape[1]
    return GZSLBenchmark(f"{dataset}-GZSL", names, meta.embedding_matrix(names), audio_dim, stage1, stage2,
                         source=f"real AVCA {dataset}-GZSL SeLaVi features, splits and word2vec embeddings")
