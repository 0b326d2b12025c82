"""P3's seen/unseen OOD detectors (paper Sec. 3.2): 3-layer MLPs (hidden 512, 128).

* ``"entropy"`` (OOD-entropy, the paper's): ``n_seen`` logits; loss on a real seen
  batch ``CE(logits, y) + H(softmax)``, on a synthetic unseen batch ``-H(softmax)``
  (eqs. 4-5: seen entropy down, unseen entropy up). Score = entropy.
  Threshold = mean entropy of the seen training samples (the paper's rule; the
  authors' code accumulates a running sum that ends near half of it).
* ``"binary"`` (OOD-binary): one logit, BCE with seen = 1 and synthetic unseen = 0
  (eq. 3). Score = ``-logit`` (sigmoid 0.5 at score 0), threshold 0.

Training as in the authors' code: LeakyReLU(0.2) MLPs, Adam with betas (0.5, 0.999), a
``ReduceLROnPlateau`` scheduler, and half-and-half batches (half real seen, half synthetic
unseen). The plateau watches the detector's loss on all its training data (real seen and
synthetic unseen) after each epoch, with torch's default factor 0.1 and patience 10: the
authors' code does not say more in the reference facts, and no test data are used.

Scores follow oodlib's convention: higher = more likely unseen (OOD). The entropy is
:func:`oodlib.scores.softmax_entropy` (kept here as :data:`entropy` for ``p3.entropy``).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from ...device import resolve_device
from ...models import MLPClassifier
from ...scores.posthoc import softmax_entropy
from ...seeding import seeded, torch_generator
from ...training import infer, make_optimizer, optimizer_step, train_loop

KINDS = ("entropy", "binary")
NEGATIVE_SLOPE = 0.2  # LeakyReLU, as the authors' detector
BETAS = (0.5, 0.999)  # Adam's, as the authors' detector

entropy = softmax_entropy  # Shannon entropy (nats) of softmax(logits) per row: (n, C) -> (n,)


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

    def score(self, x: np.ndarray, batch_size: int = 4096) -> np.ndarray:
        """Unseen-ness of each row of ``x`` (n, d), shape (n,), float64."""
        self.model.eval()
        return infer(lambda xb: _score(self.kind, self.model(xb)), x, batch_size, self.device).astype(np.float64)

    def is_unseen(self, x: np.ndarray, threshold: float | None = None) -> np.ndarray:
        """Boolean (n,): score above the threshold (default: the detector's own)."""
        return self.score(x) > (self.threshold if threshold is None else threshold)


def _score(kind: str, logits: torch.Tensor) -> torch.Tensor:
    """Detector score (n,) from its outputs: entropy of the ``n_seen`` logits, or ``-logit``."""
    return softmax_entropy(logits) if kind == "entropy" else -logits[:, 0]


def _detector_loss(kind: str, seen_logits: torch.Tensor, y: torch.Tensor, unseen_logits: torch.Tensor) -> torch.Tensor:
    """Eqs. 4-5 (``"entropy"``) or eq. 3 (``"binary"``) for one seen and one synthetic unseen batch."""
    if kind == "entropy":
        return (nn.functional.cross_entropy(seen_logits, y) + softmax_entropy(seen_logits).mean()
                - softmax_entropy(unseen_logits).mean())
    ones = torch.ones(len(seen_logits), device=seen_logits.device)
    zeros = torch.zeros(len(unseen_logits), device=unseen_logits.device)
    bce = nn.functional.binary_cross_entropy_with_logits
    return bce(seen_logits[:, 0], ones) + bce(unseen_logits[:, 0], zeros)


def train_ood_detector(x_seen: np.ndarray, y_seen: np.ndarray, x_unseen: np.ndarray, kind: str = "entropy",
                       epochs: int = 80, lr: float = 0.009, batch_size: int = 16, hidden: tuple[int, int] = (512, 128),
                       seed: int = 0, device: str = "auto") -> OODDetector:
    """Train a detector on real seen features and synthetic unseen features.

    Args:
        x_seen: (n, d) real seen features; y_seen: (n,) labels 0..n_seen-1 (local ids).
        x_unseen: (m, d) synthetic unseen features.
        kind: ``"entropy"`` or ``"binary"``.
        epochs: passes over the seen samples.
        batch_size: samples per step, half real seen (a pass over them per epoch) and half synthetic
            unseen (drawn with replacement).
        seed: batch order and unseen draws (``torch_generator(seed)``); initial weights
            and the global stream inside ``seeded(seed)``.
    """
    if kind not in KINDS:
        raise ValueError(f"detector kind must be one of {KINDS}, got {kind!r}")
    if len(x_unseen) == 0:
        raise ValueError("the detector needs synthetic unseen features (x_unseen is empty)")
    dev = resolve_device(device)
    gen = torch_generator(seed)
    xs = torch.as_tensor(x_seen, dtype=torch.float32)
    ys = torch.as_tensor(y_seen, dtype=torch.long)
    xu = torch.as_tensor(x_unseen, dtype=torch.float32)
    n_out = int(ys.max()) + 1 if kind == "entropy" else 1
    with seeded(seed, dev):
        model = MLPClassifier(xs.shape[1], n_out, hidden=hidden, negative_slope=NEGATIVE_SLOPE).to(dev)
        opt = make_optimizer(model.parameters(), "adam", lr=lr, betas=BETAS)
        plateau = torch.optim.lr_scheduler.ReduceLROnPlateau(opt)

        def step(idx: torch.Tensor) -> dict[str, float]:
            ub = xu[torch.randint(0, len(xu), (len(idx),), generator=gen)].to(dev)
            loss = _detector_loss(kind, model(xs[idx].to(dev)), ys[idx].to(dev), model(ub))
            optimizer_step(loss, opt)
            return {}

        def training_loss() -> float:  # what the plateau watches: the loss on all the training data
            return float(_detector_loss(kind, model(xs.to(dev)), ys.to(dev), model(xu.to(dev))))

        train_loop(step, len(xs), epochs, max(1, batch_size // 2), gen, model=model, scheduler=plateau,
                   validate=training_loss, restore_best=False, desc=f"OOD-{kind}")
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
