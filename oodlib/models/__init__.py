"""Neural networks shared by the notebooks. Each exposes ``features(x)`` (penultimate
layer) and ``fc`` (the final linear layer), so every scorer works on every model."""

from .efficientnet import EfficientNetB0
from .mlp import MLPClassifier
from .mobilenet import MobileNetV1

__all__ = ["EfficientNetB0", "MLPClassifier", "MobileNetV1"]
