"""A small multilayer perceptron classifier."""

from __future__ import annotations

import torch
from torch import nn


class MLPClassifier(nn.Module):
    """``in_dim -> hidden... -> n_classes`` with ReLU; ``features`` is the last hidden layer.

    Args:
        in_dim: input features.
        n_classes: output logits.
        hidden: widths of the hidden layers (at least one).
        dropout: dropout after each hidden layer.
        negative_slope: 0 for ReLU, > 0 for LeakyReLU with this slope (P3 uses 0.2).
    """

    def __init__(
        self,
        in_dim: int,
        n_classes: int,
        hidden: tuple[int, ...] = (64, 64),
        dropout: float = 0.0,
        negative_slope: float = 0.0,
    ) -> None:
        super().__init__()
        if not hidden:
            raise ValueError("hidden must list at least one layer width")
        layers: list[nn.Module] = []
        width = in_dim
        for h in hidden:
            act = nn.LeakyReLU(negative_slope) if negative_slope > 0 else nn.ReLU()
            layers += [nn.Linear(width, h), act]
            if dropout:
                layers.append(nn.Dropout(dropout))
            width = h
        self.body = nn.Sequential(*layers)
        self.fc = nn.Linear(width, n_classes)
        self.feature_dim = width

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """Penultimate features, shape (n, hidden[-1])."""
        return self.body(x)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Logits, shape (n, n_classes)."""
        return self.fc(self.features(x))
