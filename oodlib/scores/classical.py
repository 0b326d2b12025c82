"""Classical (feature-space) outlier detectors with oodlib's orientation.

:class:`ClassicalDetector` wraps PyOD and scikit-learn detectors behind one
``fit(train) / score(X)`` interface where **higher = more OOD**. PyOD's
``decision_function`` already points that way; scikit-learn's
``score_samples`` (higher = more normal) is negated.

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
        **params: override the preset's parameters.

    ``PCA``'s component count is capped at ``min(n_components, dim, n - 1)``; the
    cap actually used is in ``estimator_.n_components``.
    """

    def __init__(self, detector: str | Any, seed: int = 0, **params: Any) -> None:
        self.detector = detector
        self.seed = seed
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
            return np.asarray(est.decision_function(x), dtype=np.float64)
        if hasattr(est, "score_samples"):
            return -np.asarray(est.score_samples(x), dtype=np.float64)
        raise TypeError(f"{type(est).__name__} has neither PyOD's decision_function nor scikit-learn's score_samples")
