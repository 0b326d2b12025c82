"""EfficientNet-B0 (torchvision's architecture) adapted to one input channel (P1)."""

from __future__ import annotations

import torch
from torch import nn
from torchvision.models import efficientnet_b0


class EfficientNetB0(nn.Module):
    """torchvision's EfficientNet-B0 with a ``in_channels``-channel stem and a new classifier.

    The penultimate feature is the 1280-d global-average-pooled output; the
    classifier is dropout (p=0.2, as torchvision) then a linear layer ``fc``.
    Weights are randomly initialised (P1 trains from scratch).
    """

    def __init__(self, n_classes: int, in_channels: int = 1, dropout: float = 0.2) -> None:
        super().__init__()
        net = efficientnet_b0(weights=None)
        stem = net.features[0][0]
        net.features[0][0] = nn.Conv2d(in_channels, stem.out_channels, stem.kernel_size, stem.stride,
                                       stem.padding, bias=False)
        self.body = net.features
        self.dropout = nn.Dropout(dropout)
        self.feature_dim = 1280
        self.fc = nn.Linear(1280, n_classes)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """(batch, in_channels, H, W) -> (batch, 1280)."""
        return self.body(x).mean(dim=(2, 3))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Logits (batch, n_classes)."""
        return self.fc(self.dropout(self.features(x)))
