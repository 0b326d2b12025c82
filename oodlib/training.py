"""A plain supervised training loop and batched inference, shared by the notebooks."""

from __future__ import annotations

from collections.abc import Callable
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
    recalibrate_bn: bool = True,
    augment: Callable[[torch.Tensor, torch.Generator], torch.Tensor] | None = None,
) -> TrainHistory:
    """Train ``model`` with cross-entropy and Adam; batches shuffled by a seeded generator.

    Args:
        x: inputs, array or tensor (n, ...); y: integer labels (n,).
        epochs: passes over the data.
        recalibrate_bn: after training, re-estimate batch-norm statistics on the
            training inputs (see :func:`recalibrate_batchnorm`); needed for the
            short CPU runs, harmless for long ones.
        augment: optional ``f(batch, generator) -> batch`` applied to each
            training batch (on the CPU, before moving to ``device``), seeded.
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
            xb = augment(xt[idx], gen) if augment is not None else xt[idx]
            xb, yb = xb.to(dev), yt[idx].to(dev)
            logits = model(xb)
            loss = nn.functional.cross_entropy(logits, yb)
            opt.zero_grad()
            loss.backward()
            opt.step()
            loss_sum += float(loss.detach()) * len(idx)
            correct += int((logits.argmax(1) == yb).sum())
            total += len(idx)
        hist.loss.append(loss_sum / total)
        hist.accuracy.append(correct / total)
    if recalibrate_bn and epochs > 0:
        recalibrate_batchnorm(model, xt, batch_size=batch_size, device=device)
    model.eval()
    return hist


@torch.no_grad()
def recalibrate_batchnorm(model: nn.Module, x: Any, batch_size: int = 128, device: str = "auto") -> int:
    """Replace batch-norm running statistics by their exact average over ``x``.

    Running statistics are an exponential average with momentum 0.1; after a
    few dozen steps of fast-changing weights they still remember early batches,
    and an eval-mode model can collapse to one class. One pass over the training
    inputs in train mode with ``momentum=None`` (a cumulative average) and no
    weight updates fixes that. Returns the number of batch-norm layers reset.
    """
    layers = [m for m in model.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]
    if not layers:
        return 0
    dev = resolve_device(device)
    saved = [m.momentum for m in layers]
    for m in layers:
        m.reset_running_stats()
        m.momentum = None
    model.to(dev).train()
    xt = torch.as_tensor(np.asarray(x) if not isinstance(x, torch.Tensor) else x, dtype=torch.float32)
    for start in range(0, xt.shape[0], batch_size):
        model(xt[start : start + batch_size].to(dev))
    for m, mom in zip(layers, saved):
        m.momentum = mom
    model.eval()
    return len(layers)


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
