"""Effects: the number a claim is about, computed from (resampled) evidence arrays.

An effect is a callable ``effect(arrays) -> float`` with a ``label`` (what it measures,
in words) and ``parts(arrays) -> {name: value}`` (the numbers behind it, for the
record's evidence text). Builders:

* :class:`Compare` - a metric of one method minus the best of its rivals
  (``AUROC(kNN) - max(AUROC(MSP), ...)``), or the metric itself when there are none;
* :class:`AllOf` - several effects that must all hold: the smallest of them;
* :class:`Statistic` - any other function of the arrays (a paper-specific quantity).

A *metric* is ``metric(arrays, name) -> float``: the value of method/condition ``name``;
:func:`auroc_of` builds the common one.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from ..metrics.binary import auroc_ranks

Arrays = Mapping[str, np.ndarray]
Metric = Callable[[Arrays, str], float]


def auroc_of(label: str, scale: float = 100.0) -> Metric:
    """``metric(arrays, name)`` = AUROC of score array ``name`` with ``arrays[label]`` true = positive.

    Scores are higher = more positive. With oodlib's orientation (higher = more OOD) and
    ``label`` marking OOD rows, this is the AUROC of either positive-class convention
    (AUROC is unchanged by swapping the positive class and negating the scores).
    ``scale=100`` gives percentage points.
    """

    def metric(arrays: Arrays, name: str) -> float:
        return scale * auroc_ranks(np.asarray(arrays[label], dtype=bool), arrays[name])

    metric.__name__ = f"AUROC[{label}]"
    return metric


@dataclass(frozen=True)
class Compare:
    """``metric(treatment) - best(metric(c) for c in controls)``; ``metric(treatment)`` if no controls.

    ``higher_is_better`` says which rival is "best" (the highest or the lowest value).
    """

    metric: Metric
    treatment: str
    controls: Sequence[str] = ()
    higher_is_better: bool = True
    what: str = "metric"  # the metric's name in words, e.g. "AUROC"

    @property
    def label(self) -> str:
        if not self.controls:
            return f"{self.what}({self.treatment})"
        pick = "max" if self.higher_is_better else "min"
        rivals = ", ".join(self.controls)
        best = rivals if len(self.controls) == 1 else f"{pick}({rivals})"
        return f"{self.what}({self.treatment}) - {self.what}({best})"

    def values(self, arrays: Arrays) -> dict[str, float]:
        """The metric of the treatment and of every control, by name."""
        return {n: float(self.metric(arrays, n)) for n in (self.treatment, *self.controls)}

    def parts(self, arrays: Arrays) -> dict[str, float]:
        """The same values labelled with the metric, e.g. ``{"AUROC(kNN)": 91.7, "AUROC(MSP)": 0.0}``."""
        return {f"{self.what}({n})": v for n, v in self.values(arrays).items()}

    def __call__(self, arrays: Arrays) -> float:
        v = self.values(arrays)
        if not self.controls:
            return v[self.treatment]
        rivals = [v[c] for c in self.controls]
        return v[self.treatment] - (max(rivals) if self.higher_is_better else min(rivals))


@dataclass(frozen=True)
class AllOf:
    """Several effects that must all exceed the margin: their minimum (direction ``greater``)."""

    effects: Sequence[Callable[[Arrays], float]]

    @property
    def label(self) -> str:
        return "min(" + "; ".join(getattr(e, "label", "effect") for e in self.effects) + ")"

    def parts(self, arrays: Arrays) -> dict[str, float]:
        out: dict[str, float] = {}
        for e in self.effects:
            out.update(getattr(e, "parts", lambda a: {})(arrays))
        return out

    def __call__(self, arrays: Arrays) -> float:
        return float(min(e(arrays) for e in self.effects))


@dataclass(frozen=True)
class Statistic:
    """Any function of the arrays, with a label and optional parts."""

    fn: Callable[[Arrays], float]
    label: str
    parts_fn: Callable[[Arrays], dict[str, float]] | None = field(default=None)

    def parts(self, arrays: Arrays) -> dict[str, float]:
        return self.parts_fn(arrays) if self.parts_fn is not None else {}

    def __call__(self, arrays: Arrays) -> float:
        return float(self.fn(arrays))
