"""Supervised segmentation training (no OOD data), image conversion and mean IoU (P5)."""

from __future__ import annotations

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from ...data.segmentation import VOID
from ...device import resolve_device
from ...seeding import seeded, torch_generator
from ...training import make_optimizer, optimizer_step, train_loop


def to_tensor(images: np.ndarray) -> torch.Tensor:
    """uint8 (n, H, W, 3) -> float (n, 3, H, W) in [0, 1]."""
    return torch.from_numpy(np.ascontiguousarray(images)).permute(0, 3, 1, 2).float() / 255.0


def train_segmenter(model: nn.Module, images: np.ndarray, labels: np.ndarray, epochs: int = 20,
                    lr: float = 1e-3, batch_size: int = 16, weight_decay: float = 0.05, seed: int = 0,
                    device: str = "auto", desc: str = "segmenter") -> list[float]:
    """Train ``model`` in place with pixel cross-entropy (void = 255 ignored), AdamW + one-cycle schedule.

    Args:
        images: uint8 (n, H, W, 3); labels: uint8 (n, H, W) class ids or 255.
        epochs, lr, batch_size, weight_decay: optimisation (``OneCycleLR`` to ``lr``, 10% warm-up,
            stepped per batch); horizontal flips are the only augmentation.
        seed: batch order and flips (``torch_generator(seed)``); dropout inside ``seeded(seed)``.
            Build the model under its own ``seeded(child_seed(...))``.
    Returns:
        The mean training loss of each epoch.
    """
    if len(images) != len(labels):
        raise ValueError(f"{len(images)} images but {len(labels)} label maps")
    dev = resolve_device(device)
    gen = torch_generator(seed)
    x_all, y_all = to_tensor(images), torch.from_numpy(labels.astype(np.int64))
    model.to(dev)
    opt = make_optimizer(model.parameters(), "adamw", lr=lr, weight_decay=weight_decay)
    steps = max(1, epochs * int(np.ceil(len(x_all) / batch_size)))
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=lr, total_steps=steps, pct_start=0.1)

    def step(idx: torch.Tensor) -> dict[str, float]:
        x, y = x_all[idx], y_all[idx]
        flip = torch.rand(len(idx), generator=gen) < 0.5
        x[flip], y[flip] = x[flip].flip(-1), y[flip].flip(-1)
        loss = F.cross_entropy(model(x.to(dev)), y.to(dev), ignore_index=VOID)
        optimizer_step(loss, opt, sched)
        return {"loss": loss.item()}

    with seeded(seed, dev):
        log = train_loop(step, len(x_all), epochs, batch_size, gen, model=model, desc=desc)
    model.eval()
    return log.metrics.get("loss", [])


def mean_iou(pred: np.ndarray, labels: np.ndarray, n_classes: int) -> float:
    """Mean intersection over union over classes present in ``labels`` (void 255 ignored)."""
    valid = labels != VOID
    p, y = pred[valid].astype(np.int64), labels[valid].astype(np.int64)
    conf = np.bincount(y * n_classes + p, minlength=n_classes**2).reshape(n_classes, n_classes)
    inter = np.diag(conf)
    union = conf.sum(0) + conf.sum(1) - inter
    present = conf.sum(1) > 0
    return float(np.mean(inter[present] / np.maximum(union[present], 1)))
