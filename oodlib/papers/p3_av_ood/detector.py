"""P3's seen/unseen OOD detectors (paper Sec. 3.2): 3-layer MLPs (hidden 512, 128).

* ``"entropy"`` (OOD-entropy, the paper's): ``n_seen`` logits; loss on a real seen
  batch ``CE(logits, y) + H(softmax)``, on a synthetic unseen batch ``-H(softmax)``
  (eqs. 4-5: seen entropy down, unseen entropy up). Score = entropy.
  Threshold = mean entropy of the seen training samples (the paper's rule; the
  authors' code accumulates a running sum that ends near half of it).
* ``"binary"`` (OOD-binary): one logit, BCE with seen = 1 and synthetic unseen = 0
  (eq. 3). Score = ``-logit`` (sigmoid 0.5 at score 0), threshold 0.

Scores follow oodlib's convention: higher = more likely unseen (OOD).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from ...device import resolve_device
from ...models import MLPClassifier
from ...progress import progress
from ...seeding import torch_generator

KINDS = ("entropy", "binary")


def entropy(logits: torch.Tensor) -> torch.Tensor:
    """Shannon entropy (nats) of ``softmax(logits)`` per row, shape (n,)."""
    logp = torch.log_softmax(logits, dim=1)
    return -(logp.exp() * logp).sum(dim=1)


@dataclass
class OODDetector:
    """A trained detector: ``score(x)`` (higher = unseen) and ``is_unseen(x)`` at ``threshold``.

    ``collapsed`` flags a degenerate run (constant score on the seen training set).
    """

    kind: str
    model: nn.Module
    threshold: float
    device: torch.device
    collapsed: bool = False  # True when training ended with one constant score for every seen sample

    @torch.no_grad()
    def score(self, x: np.ndarray, batch_size: int = 4096) -> np.ndarray:
        """Unseen-ness of each row of ``x`` (n, d), shape (n,)."""
        self.model.eval()
        out = []
        xt = torch.as_tensor(x, dtype=torch.float32)
        for s in range(0, len(xt), batch_size):
            logits = self.model(xt[s : s + batch_size].to(self.device))
            out.append(entropy(logits) if self.kind == "entropy" else -logits[:, 0])
        return torch.cat(out).cpu().numpy().astype(np.float64)

    def is_unseen(self, x: np.ndarray, threshold: float | None = None) -> np.ndarray:
        """Boolean (n,): score above the threshold (default: the detector's own)."""
        return self.score(x) > (self.threshold if threshold is None else threshold)


def train_ood_detector(x_seen: np.ndarray, y_seen: np.ndarray, x_unseen: np.ndarray, kind: str = "entropy",
                       epochs: int = 80, lr: float = 0.009, batch_size: int = 16, hidden: tuple[int, int] = (512, 128),
                       seed: int = 0, device: str = "auto") -> OODDetector:
    """Train a detector on real seen features and synthetic unseen features.

    Args:
        x_seen: (n, d) real seen features; y_seen: (n,) labels 0..n_seen-1 (local ids).
        x_unseen: (m, d) synthetic unseen features.
        kind: ``"entropy"`` or ``"binary"``.
        epochs: passes over the seen samples; each seen batch is paired with an
            unseen batch of the same size drawn with replacement.
    """
    if kind not in KINDS:
        raise ValueError(f"detector kind must be one of {KINDS}, got {kind!r}")
    if len(x_unseen) == 0:
        raise ValueError("the detector needs synthetic unseen features (x_unseen is empty)")
    dev = resolve_device(device)
    gen = torch_generator(seed)
    torch.manual_seed(seed)
    xs = torch.as_tensor(x_seen, dtype=torch.float32)
    ys = torch.as_tensor(y_seen, dtype=torch.long)
    xu = torch.as_tensor(x_unseen, dtype=torch.float32)
    n_out = int(ys.max()) + 1 if kind == "entropy" else 1
    model = MLPClassifier(xs.shape[1], n_out, hidden=hidden).to(dev)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    for _ in progress(range(epochs), desc=f"OOD-{kind}"):
        model.train()
        perm = torch.randperm(len(xs), generator=gen)
        for s in range(0, len(xs), batch_size):
            idx = perm[s : s + batch_size]
            xb, yb = xs[idx].to(dev), ys[idx].to(dev)
            ub = xu[torch.randint(0, len(xu), (len(idx),), generator=gen)].to(dev)
            ls, lu = model(xb), model(ub)
            if kind == "entropy":
                loss = nn.functional.cross_entropy(ls, yb) + entropy(ls).mean() - entropy(lu).mean()
            else:
                loss = nn.functional.binary_cross_entropy_with_logits(ls[:, 0], torch.ones(len(idx), device=dev)) \
                    + nn.functional.binary_cross_entropy_with_logits(lu[:, 0], torch.zeros(len(idx), device=dev))
            opt.zero_grad()
            loss.backward()
            opt.step()
    model.eval()
    det = OODDetector(kind, model, 0.0, dev)
    train_scores = det.score(x_seen)
    det.collapsed = bool(np.ptp(train_scores) < 1e-6)
    if det.collapsed:
        warnings.warn(f"OOD-{kind} detector collapsed: every seen training sample gets the same score "
                      f"({train_scores[0]:.4g}), so it cannot separate seen from unseen. The learning rate "
                      f"lr={lr} is too high for these features; lower it (e.g. overrides={{'det_lr': 0.001}}).",
                      RuntimeWarning, stacklevel=2)
    if kind == "entropy":
        det.threshold = float(train_scores.mean())
    return det
