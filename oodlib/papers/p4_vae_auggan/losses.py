"""The confident loss: how far a predictive distribution is from uniform.

The paper minimises a Sinkhorn divergence ``SH(q_theta(x), U(y))`` between the
classifier's softmax ``q`` on a generated outlier and the uniform distribution
over the K known classes, but does not say how the two are set up as measures.
**Our interpretation:** both are discrete measures on the same K support points,
weights ``q`` and ``1/K``; the points are the one-hot vectors ``e_1..e_K`` because
classes are unordered and every pair of classes must be equally far apart
(cost ``|e_i - e_j|^2 / 2 = 1`` for i != j). The debiased Sinkhorn divergence
(GeomLoss, ``p=2``, ``blur``) is then a smoothed total-variation-like distance:
zero exactly when ``q`` is uniform, positive otherwise, differentiable in ``q``.
One divergence per sample; the loss is their batch mean.

The **Sinkhorn score** of a test sample is the same divergence of its softmax from
uniform: large for confident (in-distribution) predictions. Negated, it follows
oodlib's orientation (higher = more OOD).

The KL alternative of joint confidence training (Lee et al. 2018) is
``KL(U || q) = -log K - mean_k log q_k``.
"""

from __future__ import annotations

import torch

_LOSSES: dict[float, object] = {}


def _sinkhorn(blur: float):
    if blur not in _LOSSES:
        from geomloss import SamplesLoss

        _LOSSES[blur] = SamplesLoss("sinkhorn", p=2, blur=blur, debias=True, backend="tensorized")
    return _LOSSES[blur]


def sinkhorn_to_uniform(probs: torch.Tensor, blur: float = 0.05) -> torch.Tensor:
    """Per-sample Sinkhorn divergence between ``probs`` (n, K) and uniform, shape (n,)."""
    if probs.ndim != 2:
        raise ValueError(f"probs must be (n, K), got shape {tuple(probs.shape)}")
    n, k = probs.shape
    support = torch.eye(k, dtype=probs.dtype, device=probs.device).expand(n, k, k).contiguous()
    uniform = torch.full_like(probs, 1.0 / k)
    return _sinkhorn(blur)(probs, support, uniform, support)


def kl_uniform_to(probs: torch.Tensor) -> torch.Tensor:
    """Per-sample ``KL(U || probs)``, shape (n,)."""
    k = probs.shape[1]
    return -torch.log(torch.tensor(float(k))) - torch.log(probs.clamp_min(1e-12)).mean(dim=1)


def confident_loss(logits: torch.Tensor, kind: str = "sinkhorn", blur: float = 0.05) -> torch.Tensor:
    """Batch mean of the divergence from uniform of ``softmax(logits)``: ``"sinkhorn"`` (GeomLoss ``blur``),
    ``"kl"`` or ``"none"`` (0)."""
    if kind == "none":
        return logits.new_zeros(())
    p = torch.softmax(logits, dim=1)
    if kind == "sinkhorn":
        return sinkhorn_to_uniform(p, blur).mean()
    if kind == "kl":
        return kl_uniform_to(p).mean()
    raise ValueError(f"confident loss must be 'sinkhorn', 'kl' or 'none', got {kind!r}")


@torch.no_grad()
def sinkhorn_score(logits: torch.Tensor, blur: float = 0.05) -> torch.Tensor:
    """OOD score (n,): minus the Sinkhorn divergence (GeomLoss ``blur``) of ``softmax(logits)`` from
    uniform (higher = more OOD)."""
    return -sinkhorn_to_uniform(torch.softmax(logits, dim=1), blur)
