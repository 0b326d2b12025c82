"""Model size: the parameter count used in the papers' tables and our model checks."""

from __future__ import annotations

from torch import nn


def n_parameters(model: nn.Module, trainable_only: bool = False) -> int:
    """Number of parameters, each counted once (shared tensors, e.g. BEATs' relative-bias table, once)."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad or not trainable_only)
