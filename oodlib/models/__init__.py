"""Neural networks shared by the notebooks. Each exposes ``features(x)`` (penultimate
layer) and ``fc`` (the final linear layer), so every scorer works on every model."""

from .mlp import MLPClassifier

__all__ = ["MLPClassifier"]
