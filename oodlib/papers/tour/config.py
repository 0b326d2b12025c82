"""The tour's parameters, validated before any work."""

from __future__ import annotations

from dataclasses import dataclass

from ...config import RunConfig, at_least, one_of


@dataclass(frozen=True)
class TourConfig(RunConfig):
    """Parameters of ``notebooks/00_tour.ipynb`` (see its parameters cell)."""

    n_per_class: int = 300  # training (and test) samples per ID class, and per OOD set
    epochs: int = 60  # training epochs of the classifier
    k: int = 10  # neighbours for the kNN score

    def check(self) -> None:
        super().check()
        one_of("data", self.data, ["synthetic"])
        at_least("n_per_class", self.n_per_class, 2, 100_000)
        at_least("epochs", self.epochs, 1, 10_000)
        at_least("k", self.k, 1, 3 * self.n_per_class)  # the bank holds 3 classes x n_per_class features
