"""Interval estimates of a claim's effect: a paired, stratified bootstrap over test samples.

*Paired*: every method's scores are resampled with the same rows, so the difference
between two methods on the same samples is what varies. *Stratified*: each stratum
(ID and OOD, seen and unseen, ...) is resampled within itself, so the set sizes are
those of the run. *Clustered* when the evidence names a cluster array: whole units
(all pixels of an image, all clips of a machine) are resampled.

* One run: :func:`scipy.stats.bootstrap` on the per-stratum unit indices (percentile
  interval by default; ``method="BCa"`` is available).
* Several runs (seeds): a two-level bootstrap (scipy has none): each replicate draws
  runs with replacement, then resamples each drawn run's units, and averages the
  effect over the drawn runs. The interval thus holds seed-to-seed spread *and*
  test-set sampling. The point estimate is the mean of the runs' full-data effects.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from scipy import stats

from .evidence import Evidence

EffectFn = Callable[[Mapping[str, np.ndarray]], float]


@dataclass(frozen=True)
class Interval:
    """A point estimate with its bootstrap interval.

    ``units``: resampling units per stratum (of the first run); ``n_seeds``: runs combined.
    """

    point: float
    low: float
    high: float
    level: float
    n_resamples: int
    method: str
    n_seeds: int
    units: dict[str, int]

    @property
    def defined(self) -> bool:
        """False when the effect or its interval is NaN (a resample left it undefined)."""
        return bool(np.isfinite([self.point, self.low, self.high]).all())


def _rows(units: list[np.ndarray], picks: np.ndarray, clustered: bool) -> np.ndarray:
    if not clustered:
        return units[0][picks]
    return np.concatenate([units[i] for i in picks]) if len(picks) else np.array([], dtype=np.int64)


def _single(effect: EffectFn, ev: Evidence, n_resamples: int, level: float, rng: np.random.Generator,
            method: str) -> tuple[float, float, float]:
    units = ev.units()
    clustered = ev.cluster is not None
    keys = list(units)
    data = tuple(np.arange(len(units[k][0]) if not clustered else len(units[k])) for k in keys)

    def statistic(*picks: np.ndarray) -> float:
        rows = np.concatenate([_rows(units[k], p.astype(np.int64), clustered) for k, p in zip(keys, picks)])
        return float(effect(ev.take(rows)))

    point = float(effect(ev.arrays))
    if not np.isfinite(point):
        return point, np.nan, np.nan
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # DegenerateDataWarning when every resample gives one value
        res = stats.bootstrap(data, statistic, n_resamples=n_resamples, confidence_level=level, method=method,
                              vectorized=False, paired=False, random_state=rng)
    return point, float(res.confidence_interval.low), float(res.confidence_interval.high)


def _resample_once(effect: EffectFn, ev: Evidence, rng: np.random.Generator) -> float:
    units = ev.units()
    clustered = ev.cluster is not None
    parts = []
    for u in units.values():
        n = len(u[0]) if not clustered else len(u)
        parts.append(_rows(u, rng.integers(0, n, n), clustered))
    return float(effect(ev.take(np.concatenate(parts))))


def _hierarchical(effect: EffectFn, runs: Sequence[Evidence], n_resamples: int, level: float,
                  rng: np.random.Generator) -> tuple[float, float, float]:
    points = np.array([effect(ev.arrays) for ev in runs], dtype=np.float64)
    if not np.isfinite(points).all():
        return float(np.mean(points)), np.nan, np.nan
    reps = np.empty(n_resamples)
    for b in range(n_resamples):
        drawn = rng.integers(0, len(runs), len(runs))
        reps[b] = np.mean([_resample_once(effect, runs[i], rng) for i in drawn])
    alpha = (1 - level) / 2
    low, high = np.quantile(reps, [alpha, 1 - alpha])
    return float(points.mean()), float(low), float(high)


def bootstrap_effect(effect: EffectFn, runs: Sequence[Evidence], rng: np.random.Generator,
                     n_resamples: int = 1000, level: float = 0.95, method: str = "percentile") -> Interval:
    """Point estimate and ``level`` interval of ``effect`` over one or several runs' evidence.

    Args:
        effect: maps a mapping of (resampled) evidence arrays to a number.
        runs: the same evidence (same name and arrays) from one or more runs (seeds).
        rng: the only source of randomness (derive it from the run's seed).
        n_resamples: bootstrap replicates; level: two-sided interval level in (0, 1).
        method: scipy's ``"percentile"``, ``"basic"`` or ``"BCa"`` (one run only).
    """
    if not runs:
        raise ValueError("bootstrap_effect needs the evidence of at least one run")
    if not 0 < level < 1:
        raise ValueError(f"level must be in (0, 1), got {level}")
    if n_resamples < 10:
        raise ValueError(f"n_resamples must be >= 10, got {n_resamples}")
    if len(runs) == 1:
        point, low, high = _single(effect, runs[0], n_resamples, level, rng, method)
        used = method
    else:
        point, low, high = _hierarchical(effect, runs, n_resamples, level, rng)
        used = "two-level percentile (runs, then units)"
    return Interval(point, low, high, level, n_resamples, used, len(runs), runs[0].unit_counts())
