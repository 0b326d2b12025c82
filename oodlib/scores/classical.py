"""Classical (feature-space) outlier detectors with oodlib's orientation.

:class:`ClassicalDetector` wraps PyOD and scikit-learn detectors behind one
``fit(train) / score(X)`` interface where **higher = more OOD**. PyOD's
``decision_function`` already points that way; scikit-learn's
``score_samples`` (higher = more normal) is negated.

Two of PyOD's scores (checked on PyOD 3.6.7) are not the detector they name, and are
replaced by default (``pyod_scores=True`` keeps PyOD's, the code path P1 ran):

* PCA: PyOD sums the distances from the (standardised) sample to the *tips* of the unit
  eigenvectors, ``sum_j ||z - v_j|| / r_j`` (PyOD issue #217). Each term is about ``||z||``,
  so the score is the distance to the training mean in all dimensions, blind to the principal
  structure, and not symmetric (``mean + d`` and ``mean - d`` differ). :func:`pca_score` is the
  principal-component score of Shyu et al. (2003): ``sum_j y_j^2 / lambda_j`` over the kept
  components.
* LODA: PyOD looks a projection up with ``searchsorted`` on the wrong edges, so a value gets
  the probability of the *next* bin, and a value outside the training range that of an edge
  bin. In 1-d, with 90 training points in the first bin, none in the next eight and 10 in the
  last, the 90 score 32.2 (-log of the empty second bin) and a point 100x beyond the range 2.3.
  :func:`loda_score` uses the bin that holds the value and treats values outside the
  training range as an empty bin.

Presets follow P1's Table 3 settings.
"""

from __future__ import annotations

from typing import Any

import numpy as np

PRESETS: dict[str, dict[str, Any]] = {
    "iforest": {"n_estimators": 100},
    "ocsvm": {"kernel": "rbf", "nu": 0.25},
    "loda": {"n_bins": 10},
    "lof": {"n_neighbors": 20},
    "pca": {"n_components": 128},
}


EMPTY_COUNT = 1e-12
"""What PyOD's LODA adds to every bin count before normalising: an empty bin's probability is this / n."""


def loda_score(est: Any, x: np.ndarray) -> np.ndarray:
    """LODA's score, mean over projections of ``-log p(bin)``, with the right bin; shape (n,).

    Args:
        est: a fitted PyOD ``LODA`` (``projections_``, ``limits_``, ``histograms_``; integer
            or ``"auto"`` bins).
        x: features (n, dim). A projection outside ``[first edge, last edge]`` of a
            histogram gets the probability of an empty bin (:data:`EMPTY_COUNT` / n_train).
    """
    empty = EMPTY_COUNT / est.decision_scores_.size
    total = np.zeros(x.shape[0])
    for i in range(est.n_random_cuts):
        proj = x @ est.projections_[i]
        edges, hist = np.asarray(est.limits_[i]), np.asarray(est.histograms_[i])
        b = np.clip(np.searchsorted(edges, proj, side="right") - 1, 0, hist.size - 1)  # numpy's bins: last one closed
        inside = (proj >= edges[0]) & (proj <= edges[-1])
        total -= np.log(np.where(inside, hist[b], empty))
    return total / est.n_random_cuts


def pca_score(est: Any, x: np.ndarray) -> np.ndarray:
    """Shyu et al.'s principal-component score ``sum_j y_j^2 / lambda_j``; shape (n,).

    ``y_j`` is the projection of the (standardised, when the PyOD ``PCA`` standardises)
    centred sample on the kept component ``j`` and ``lambda_j`` that component's variance:
    the Mahalanobis distance within the principal subspace PyOD fitted.
    """
    z = est.scaler_.transform(x) if est.standardization else x
    comps = est.selected_components_
    var = est.detector_.explained_variance_[-comps.shape[0]:]
    y = (z - est.detector_.mean_) @ comps.T
    return np.sum(y**2 / np.maximum(var, 1e-12 * var.max()), axis=1)


def _make(name: str, seed: int, params: dict[str, Any], n_samples: int, dim: int) -> Any:
    if name == "iforest":
        from pyod.models.iforest import IForest

        return IForest(random_state=seed, **params)
    if name == "ocsvm":
        from pyod.models.ocsvm import OCSVM

        return OCSVM(**params)
    if name == "loda":
        from pyod.models.loda import LODA

        return LODA(random_state=seed, **params)
    if name == "lof":
        from pyod.models.lof import LOF

        return LOF(novelty=True, **params)
    if name == "pca":
        from pyod.models.pca import PCA

        p = dict(params)
        p["n_components"] = min(int(p.get("n_components", 128)), dim, n_samples - 1)
        return PCA(random_state=seed, **p)
    raise ValueError(f"unknown detector {name!r}; choose one of {sorted(PRESETS)} or pass an estimator")


class ClassicalDetector:
    """A classical detector fitted on ID features; ``score`` is higher for more OOD inputs.

    Args:
        detector: a preset name (``"iforest"``, ``"ocsvm"``, ``"loda"``, ``"lof"``,
            ``"pca"``) or an unfitted PyOD / scikit-learn estimator.
        seed: random state of randomised detectors.
        pyod_scores: score PyOD's ``LODA`` and ``PCA`` with PyOD's own ``decision_function``
            (as P1 did) instead of :func:`loda_score` / :func:`pca_score` (see the module
            docstring for why they differ).
        **params: override the preset's parameters.

    ``PCA``'s component count is capped at ``min(n_components, dim, n - 1)``; the
    cap actually used is in ``estimator_.n_components``.
    """

    def __init__(self, detector: str | Any, seed: int = 0, pyod_scores: bool = False, **params: Any) -> None:
        self.detector = detector
        self.seed = seed
        self.pyod_scores = pyod_scores
        self.params = params

    def fit(self, features: Any) -> "ClassicalDetector":
        """Fit on ID training features, shape (n, dim)."""
        x = np.asarray(features, dtype=np.float64)
        if x.ndim != 2 or x.shape[0] < 2:
            raise ValueError(f"features must have shape (n >= 2, dim), got {x.shape}")
        if isinstance(self.detector, str):
            params = {**PRESETS.get(self.detector, {}), **self.params}
            self.estimator_ = _make(self.detector, self.seed, params, *x.shape)
        else:
            self.estimator_ = self.detector
        self.estimator_.fit(x)
        return self

    def score(self, features: Any) -> np.ndarray:
        """OOD score per row, shape (n,), float64: higher = more OOD."""
        if not hasattr(self, "estimator_"):
            raise RuntimeError("ClassicalDetector is not fitted: call fit(features) first")
        x = np.asarray(features, dtype=np.float64)
        est = self.estimator_
        if type(est).__module__.startswith("pyod"):
            if not self.pyod_scores:
                from pyod.models.loda import LODA
                from pyod.models.pca import PCA

                if isinstance(est, LODA):
                    return loda_score(est, x)
                if isinstance(est, PCA):
                    return pca_score(est, x)
            return np.asarray(est.decision_function(x), dtype=np.float64)
        if hasattr(est, "score_samples"):
            return -np.asarray(est.score_samples(x), dtype=np.float64)
        raise TypeError(f"{type(est).__name__} has neither PyOD's decision_function nor scikit-learn's score_samples")
