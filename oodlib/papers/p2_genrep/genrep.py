"""GenRep's detector: nearest-neighbour distances to per-domain memory banks, MemMixup, and
domain normalisation (DN).

* Each training clip belongs to a **bank** (its domain, ``"source"``/``"target"``, or its section
  in the label-aware DCASE2020 setting). A test clip's distance to a bank is the Euclidean distance
  to its nearest member (K = 1, :class:`oodlib.knn.KNNScorer`).
* **MemMixup** enlarges the target bank: each target feature ``t`` is mixed with each of its
  ``Ks`` nearest source features ``s`` as ``lam * t + (1 - lam) * s`` (lam = 0.9), giving
  ``n_target * Ks`` extra entries (vectorised; the reference code loops in Python).
* **DN** z-scores each bank's distances and takes the minimum over banks as the anomaly score
  (higher = more anomalous). The statistics are either

  - ``"transductive"`` - mean and std of the *test* clips' distances, as the reference code does
    (it needs the whole test set at once), or
  - ``"inductive"`` - statistics from the banks themselves: mean and std of each bank's own
    clips' leave-one-out distances to that bank (a clip never counts itself or the MemMixup entries
    made from it), i.e. how far a normal clip of that domain typically lies from the rest of its
    bank; needs no test data, so it can score a single clip;

  ``"none"`` takes the minimum of the raw distances.

:class:`GenRep` follows scikit-learn's ``fit``/``score`` shape.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import numpy as np
import torch

from ...knn import KNNScorer

Normalization = Literal["none", "transductive", "inductive"]
NORMALIZATIONS = ("none", "transductive", "inductive")


def memmixup(target: np.ndarray, source: np.ndarray, ks: int, lam: float = 0.9) -> tuple[np.ndarray, np.ndarray]:
    """Mix every target feature with each of its ``ks`` nearest source features.

    Args:
        target: (n_target, dim); source: (n_source, dim).
        ks: neighbours per target feature (1 <= ks <= n_source).
        lam: weight of the target feature.

    Returns:
        mixed (n_target * ks, dim), rows ordered target-major (target 0's ks mixes first), and
        origin (n_target * ks,) the target row each mix came from.
    """
    target = np.asarray(target, dtype=np.float32)
    source = np.asarray(source, dtype=np.float32)
    if not 1 <= ks <= len(source):
        raise ValueError(f"MemMixup Ks must be between 1 and the number of source features ({len(source)}), got {ks}")
    if not 0.0 <= lam <= 1.0:
        raise ValueError(f"MemMixup lambda must be in [0, 1], got {lam}")
    _, idx = KNNScorer(k=ks).fit(source).kneighbors(target)  # (n_target, ks)
    mixed = lam * target[:, None, :] + (1.0 - lam) * source[idx]
    return mixed.reshape(-1, target.shape[1]).astype(np.float32), np.repeat(np.arange(len(target)), ks)


def nearest_excluding(queries: np.ndarray, bank: np.ndarray, query_ids: np.ndarray, bank_ids: np.ndarray,
                      chunk: int = 1024) -> np.ndarray:
    """Distance from each query to its nearest bank vector whose id differs from the query's.

    Leave-one-out distances for the inductive statistics: a training clip (id = its row) is
    excluded from its own bank together with every MemMixup entry made from it. Returns (n,)
    float64; ``inf`` where every bank vector is excluded.
    """
    bank_t = torch.from_numpy(np.ascontiguousarray(bank, dtype=np.float32))
    bid = torch.from_numpy(np.asarray(bank_ids))
    out = np.empty(len(queries))
    for s in range(0, len(queries), chunk):
        q = torch.from_numpy(np.ascontiguousarray(queries[s : s + chunk], dtype=np.float32))
        d = torch.cdist(q.double(), bank_t.double())
        d[torch.from_numpy(np.asarray(query_ids[s : s + chunk]))[:, None] == bid[None, :]] = float("inf")
        out[s : s + chunk] = d.min(1).values.numpy()
    return out


class GenRep:
    """kNN anomaly scores against per-domain (or per-section) memory banks.

    Args:
        mix_ks: MemMixup neighbours per target feature (None: no MemMixup). Needs banks named
            ``"source"`` and ``"target"``.
        lam: MemMixup weight of the target feature (paper: 0.9).
        normalization: ``"none"``, ``"transductive"`` or ``"inductive"`` (module docstring).

    Attributes after :meth:`fit`: ``banks_`` (name -> (n, dim) float32), ``bank_sizes_``,
    ``train_distances_`` ((n_train, n_banks) leave-one-out distances) and, for the inductive
    variant, ``mean_`` and ``std_`` per bank. After :meth:`score`: ``distances_`` (n, n_banks).
    """

    def __init__(self, mix_ks: int | None = None, lam: float = 0.9, normalization: Normalization = "transductive") -> None:
        if normalization not in NORMALIZATIONS:
            raise ValueError(f"normalization must be one of {NORMALIZATIONS}, got {normalization!r}")
        self.mix_ks, self.lam, self.normalization = mix_ks, lam, normalization

    def fit(self, features: np.ndarray, banks: Sequence[str]) -> "GenRep":
        """features: (n_train, dim) normal training embeddings; banks: (n_train,) bank of each row."""
        x = np.asarray(features, dtype=np.float32)
        names = np.asarray(banks).astype(str)
        if x.ndim != 2 or len(x) != len(names) or len(x) == 0:
            raise ValueError(f"features must be (n, dim) with one bank name per row; got {x.shape} and {len(names)} names")
        self.bank_names_ = sorted(set(names.tolist()), key=lambda b: (b != "source", b))
        rows = np.arange(len(x))
        self.banks_, self._bank_ids = {}, {}
        for b in self.bank_names_:
            self.banks_[b], self._bank_ids[b] = x[names == b], rows[names == b]
        if self.mix_ks:
            if not {"source", "target"} <= set(self.bank_names_):
                raise ValueError(f"MemMixup needs 'source' and 'target' banks, got {self.bank_names_}")
            mixed, origin = memmixup(self.banks_["target"], self.banks_["source"], int(self.mix_ks), self.lam)
            self.banks_["target"] = np.concatenate([self.banks_["target"], mixed])
            self._bank_ids["target"] = np.concatenate([self._bank_ids["target"], self._bank_ids["target"][origin]])
        self.bank_sizes_ = {b: len(v) for b, v in self.banks_.items()}
        self._scorers = {b: KNNScorer(k=1).fit(v) for b, v in self.banks_.items()}
        self._train, self._train_names = x, names
        self.__dict__.pop("_train_dist", None)
        if self.normalization == "inductive":
            own = np.full_like(self.train_distances_, np.nan)
            for j, b in enumerate(self.bank_names_):
                own[names == b, j] = self.train_distances_[names == b, j]
            self.mean_, self.std_ = self._stats(own, "bank members' leave-one-out")
        return self

    @property
    def train_distances_(self) -> np.ndarray:
        """(n_train, n_banks) leave-one-out distance of every training clip to every bank (computed once)."""
        if not hasattr(self, "_train_dist"):
            rows = np.arange(len(self._train))
            self._train_dist = np.stack([nearest_excluding(self._train, self.banks_[b], rows, self._bank_ids[b])
                                         for b in self.bank_names_], axis=1)
        return self._train_dist

    def _stats(self, dist: np.ndarray, what: str) -> tuple[np.ndarray, np.ndarray]:
        means, stds = [], []
        for j, b in enumerate(self.bank_names_):
            v = dist[:, j][np.isfinite(dist[:, j])]
            if len(v) < 2 or np.std(v) == 0:
                raise ValueError(f"domain normalisation of bank {b!r}: the {what} distances give no spread "
                                 f"({len(v)} finite values); use more clips or normalization='none'")
            means.append(v.mean())
            stds.append(v.std())
        return np.asarray(means), np.asarray(stds)

    def distances(self, features: np.ndarray) -> np.ndarray:
        """(n, dim) -> (n, n_banks) nearest-neighbour distance to each bank, in ``bank_names_`` order."""
        if not hasattr(self, "banks_"):
            raise RuntimeError("GenRep is not fitted: call fit(features, banks) first")
        return np.stack([self._scorers[b].score(features).astype(np.float64) for b in self.bank_names_], axis=1)

    def normalize(self, dist: np.ndarray, reference: np.ndarray | None = None) -> np.ndarray:
        """Apply this detector's DN to (n, n_banks) distances; transductive stats come from ``reference``
        (default: ``dist`` itself, i.e. the test set)."""
        if self.normalization == "none":
            return dist
        if self.normalization == "inductive":
            return (dist - self.mean_) / self.std_
        mean, std = self._stats(dist if reference is None else reference, "test clips'")
        return (dist - mean) / std

    def score(self, features: np.ndarray) -> np.ndarray:
        """Anomaly score per test clip, (n,) float64, higher = more anomalous.

        With ``normalization="transductive"`` the z-scores use the statistics of exactly the clips
        passed here: score the whole test set of a machine in one call, as the reference code does.
        """
        self.distances_ = self.distances(features)
        return self.normalize(self.distances_).min(axis=1)

    def train_scores(self) -> np.ndarray:
        """Leave-one-out scores of the training clips under the same DN (transductive: the
        statistics of the last :meth:`score` call). Used for label-free decision thresholds."""
        ref = getattr(self, "distances_", None)
        if self.normalization == "transductive" and ref is None:
            raise RuntimeError("transductive DN needs the test statistics: call score() first")
        z = self.normalize(self.train_distances_, reference=ref)
        return np.nanmin(np.where(np.isfinite(z), z, np.nan), axis=1)
