"""A plain supervised training loop and batched inference, shared by the notebooks."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
from torch import nn

from .device import resolve_device
from .progress import progress
from .seeding import torch_generator


@dataclass
class TrainHistory:
    """Mean training loss and accuracy per epoch."""

    loss: list[float] = field(default_factory=list)
    accuracy: list[float] = field(default_factory=list)


def train_classifier(
    model: nn.Module,
    x: Any,
    y: Any,
    epochs: int,
    lr: float = 1e-3,
    batch_size: int = 128,
    seed: int = 0,
    device: str = "auto",
    weight_decay: float = 0.0,
    desc: str = "train",
) -> TrainHistory:
    """Train ``model`` with cross-entropy and Adam; batches shuffled by a seeded generator.

    Args:
        x: inputs, array or tensor (n, ...); y: integer labels (n,).
        epochs: passes over the data.
    Returns:
        The per-epoch history. The model is left on ``device`` in eval mode.
    """
    if epochs < 0:
        raise ValueError(f"epochs must be >= 0, got {epochs}")
    dev = resolve_device(device)
    xt = torch.as_tensor(np.asarray(x), dtype=torch.float32)
    yt = torch.as_tensor(np.asarray(y), dtype=torch.long)
    if xt.shape[0] != yt.shape[0]:
        raise ValueError(f"x has {xt.shape[0]} samples but y has {yt.shape[0]}")
    model.to(dev)
    opt = torch.optim.Adam(model.parameters(), lr=lr, weight_decay=weight_decay)
    gen = torch_generator(seed)
    hist = TrainHistory()
    for _ in progress(range(epochs), desc=desc):
        model.train()
        perm = torch.randperm(xt.shape[0], generator=gen)
        total, correct, loss_sum = 0, 0, 0.0
        for start in range(0, xt.shape[0], batch_size):
            idx = perm[start : start + batch_size]
            xb, yb = xt[idx].to(dev), yt[idx].to(dev)
            logits = model(xb)
            loss = nn.functional.cross_entropy(logits, yb)
            opt.zero_grad()
            loss.backward()
            opt.step()
            loss_sum += float(loss) * len(idx)
            correct += int((logits.argmax(1) == yb).sum())
            total += len(idx)
        hist.loss.append(loss_sum / total)
        hist.accuracy.append(correct / total)
    model.eval()
    return hist


@torch.no_grad()
def predict(model: nn.Module, x: Any, batch_size: int = 512, device: str = "auto") -> tuple[np.ndarray, np.ndarray]:
    """Logits (n, C) and penultimate features (n, d) of ``model`` (needs ``features`` and ``fc``)."""
    dev = resolve_device(device)
    model.to(dev).eval()
    xt = torch.as_tensor(np.asarray(x), dtype=torch.float32)
    logits, feats = [], []
    for start in range(0, xt.shape[0], batch_size):
        f = model.features(xt[start : start + batch_size].to(dev))
        feats.append(f.cpu())
        logits.append(model.fc(f).cpu())
    return torch.cat(logits).numpy(), torch.cat(feats).numpy()
