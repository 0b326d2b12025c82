"""Supervised segmentation training (no OOD data) and batched feature extraction (P5)."""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from ...device import resolve_device
from ...progress import progress
from ...seeding import torch_generator

VOID = 255


def to_tensor(images: np.ndarray) -> torch.Tensor:
    """uint8 (n, H, W, 3) -> float (n, 3, H, W) in [0, 1]."""
    return torch.from_numpy(np.ascontiguousarray(images)).permute(0, 3, 1, 2).float() / 255.0


def train_segmenter(model: nn.Module, images: np.ndarray, labels: np.ndarray, epochs: int = 20,
                    lr: float = 1e-3, batch_size: int = 16, weight_decay: float = 0.05, seed: int = 0,
                    device: str = "auto", desc: str = "segmenter") -> list[float]:
    """Train ``model`` in place with pixel cross-entropy (void = 255 ignored), AdamW + cosine decay.

    Args:
        images: uint8 (n, H, W, 3); labels: uint8 (n, H, W) class ids or 255.
        epochs, lr, batch_size, weight_decay: optimisation; horizontal flips are the only
            augmentation.
    Returns:
        The mean training loss of each epoch.
    """
    if len(images) != len(labels):
        raise ValueError(f"{len(images)} images but {len(labels)} label maps")
    dev = resolve_device(device)
    torch.manual_seed(seed)
    gen = torch_generator(seed)
    model.to(dev).train()
    x_all, y_all = to_tensor(images), torch.from_numpy(labels.astype(np.int64))
    opt = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=weight_decay)
    steps = max(1, epochs * int(np.ceil(len(x_all) / batch_size)))
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=lr, total_steps=steps, pct_start=0.1)
    history = []
    for _ in progress(range(epochs), desc=desc):
        perm = torch.randperm(len(x_all), generator=gen)
        losses = []
        for s in range(0, len(perm), batch_size):
            idx = perm[s : s + batch_size]
            x, y = x_all[idx], y_all[idx]
            flip = torch.rand(len(idx), generator=gen) < 0.5
            x[flip], y[flip] = x[flip].flip(-1), y[flip].flip(-1)
            loss = F.cross_entropy(model(x.to(dev)), y.to(dev), ignore_index=VOID)
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
            losses.append(loss.item())
        history.append(float(np.mean(losses)))
    model.eval()
    return history


@dataclass
class Extracted:
    """Probed features of a set of images.

    ``features[name]``: float32 (n, h, w, C) on the model's feature grid; ``lse``: float32
    (n, H, W) = 1 - logsumexp(pixel logits) (higher = more OOD); ``pred``: uint8 (n, H, W)
    argmax class; ``seconds``: extraction wall time (forward passes only) per image.
    """

    features: dict[str, np.ndarray]
    lse: np.ndarray
    pred: np.ndarray
    seconds_per_image: float


@torch.no_grad()
def extract(model: nn.Module, images: np.ndarray, probes: tuple[str, ...], batch_size: int = 16,
            device: str = "auto") -> Extracted:
    """Run ``model.probe`` over ``images`` (uint8 (n, H, W, 3)) in batches."""
    dev = resolve_device(device)
    model.to(dev).eval()
    feats: dict[str, list[np.ndarray]] = {p: [] for p in probes}
    lse, pred = [], []
    elapsed = 0.0
    for s in range(0, len(images), batch_size):
        x = to_tensor(images[s : s + batch_size]).to(dev)
        t0 = time.perf_counter()
        out = model.probe(x, probes)
        if dev.type == "cuda":
            torch.cuda.synchronize()
        elapsed += time.perf_counter() - t0
        for p in probes:
            feats[p].append(out[p].permute(0, 2, 3, 1).float().cpu().numpy())
        logits = out["logits"].float()
        lse.append((1.0 - torch.logsumexp(logits, 1)).cpu().numpy())
        pred.append(logits.argmax(1).to(torch.uint8).cpu().numpy())
    return Extracted({p: np.concatenate(v) for p, v in feats.items()}, np.concatenate(lse),
                     np.concatenate(pred), elapsed / max(len(images), 1))


def mean_iou(pred: np.ndarray, labels: np.ndarray, n_classes: int) -> float:
    """Mean intersection over union over classes present in ``labels`` (void 255 ignored)."""
    valid = labels != VOID
    p, y = pred[valid].astype(np.int64), labels[valid].astype(np.int64)
    conf = np.bincount(y * n_classes + p, minlength=n_classes**2).reshape(n_classes, n_classes)
    inter = np.diag(conf)
    union = conf.sum(0) + conf.sum(1) - inter
    present = conf.sum(1) > 0
    return float(np.mean(inter[present] / np.maximum(union[present], 1)))
