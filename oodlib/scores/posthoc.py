"""Post-hoc OOD scores from a trained classifier. Orientation: higher = more OOD.

The papers' detectors, each turned so that a larger value means "more OOD":

===============  ==========================================  =======================
scorer           oodlib score                                 paper's own quantity
===============  ==========================================  =======================
``msp``          ``-max softmax(z / T)``                       max softmax probability
``max_logit``    ``-max z``                                    max logit
``energy``       ``-T logsumexp(z / T)``                       energy; P5's "1 - LSE" is
                                                              ``energy + 1`` (same ranking)
``entropy``      ``H(softmax(z))`` in nats                     predictive entropy (P3)
``odin``         ``-max softmax(f(x~) / T)``, x~ perturbed    ODIN (T=1000)
``gradnorm``     ``-||dL/dW||_1`` of the last layer           GradNorm
===============  ==========================================  =======================

Logit inputs are arrays or tensors of shape (n, n_classes); outputs are float64
NumPy arrays of shape (n,). :func:`softmax_entropy` and :func:`free_energy` are the same
quantities as differentiable tensor functions (any shape, classes along ``dim``, the input's
dtype and device): losses (P3's entropy terms) and dense maps (P5's pixel logits) use them,
and ``entropy`` / ``energy`` are built on them.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from torch import nn


def _logits(z: Any) -> torch.Tensor:
    t = torch.as_tensor(z).detach().to(torch.float64)
    if t.ndim != 2 or t.shape[1] < 2:
        raise ValueError(f"logits must have shape (n, n_classes >= 2), got {tuple(t.shape)}")
    if not torch.isfinite(t).all():
        raise ValueError("logits contain NaN or infinite values")
    return t


def _check_temperature(temperature: float) -> None:
    if not temperature > 0:
        raise ValueError(f"temperature must be positive, got {temperature}")


def softmax_entropy(logits: torch.Tensor, dim: int = 1) -> torch.Tensor:
    """Entropy in nats of ``softmax(logits)`` along ``dim``: shape of ``logits`` without ``dim``.

    Differentiable; computed in the input's dtype. 0 for a one-hot distribution, ``log C``
    for the uniform one over ``C`` classes.
    """
    logp = torch.log_softmax(logits, dim=dim)
    return -(logp.exp() * logp).sum(dim=dim)


def free_energy(logits: torch.Tensor, temperature: float = 1.0, dim: int = 1) -> torch.Tensor:
    """``-T * logsumexp(logits / T)`` along ``dim`` (Liu et al. 2020); higher = more OOD.

    Differentiable; computed in the input's dtype. P5's ``1 - logsumexp(z)`` map is
    ``1 + free_energy(z)`` (``T = 1``), the same ranking.
    """
    _check_temperature(temperature)
    return -temperature * torch.logsumexp(logits / temperature, dim=dim)


def msp(logits: Any, temperature: float = 1.0) -> np.ndarray:
    """Negative maximum softmax probability (Hendrycks & Gimpel). Range [-1, -1/C]."""
    _check_temperature(temperature)
    return -torch.softmax(_logits(logits) / temperature, dim=1).max(dim=1).values.cpu().numpy()


def max_logit(logits: Any) -> np.ndarray:
    """Negative maximum logit."""
    return -_logits(logits).max(dim=1).values.cpu().numpy()


def energy(logits: Any, temperature: float = 1.0) -> np.ndarray:
    """Energy score ``-T * logsumexp(z / T)`` (Liu et al. 2020)."""
    return free_energy(_logits(logits), temperature).cpu().numpy()


def entropy(logits: Any) -> np.ndarray:
    """Entropy of the softmax distribution in nats; 0 (one-hot) to log C (uniform)."""
    return softmax_entropy(_logits(logits)).cpu().numpy()


def odin(
    model: nn.Module,
    inputs: torch.Tensor,
    temperature: float = 1000.0,
    epsilon: float = 0.0014,
    batch_size: int = 256,
) -> np.ndarray:
    """ODIN (Liang et al. 2018): temperature scaling plus an input perturbation.

    Each input moves by ``epsilon`` against the sign of the gradient of the
    cross-entropy with its own predicted class (at temperature ``T``), which
    raises the max softmax of ID inputs more than of OOD ones; the score is
    ``-max softmax(model(x~) / T)``.

    Args:
        model: maps a batch of ``inputs`` to logits (n, C); put it in eval mode first.
        inputs: tensor (n, ...) on the model's device.
        epsilon: perturbation size in input units (log-mel units for audio).
    """
    _check_temperature(temperature)
    out = []
    for start in range(0, inputs.shape[0], batch_size):
        x = inputs[start : start + batch_size].detach().clone().requires_grad_(True)
        logits = model(x) / temperature
        loss = nn.functional.cross_entropy(logits, logits.argmax(dim=1))
        (grad,) = torch.autograd.grad(loss, x)
        x_tilde = x.detach() - epsilon * torch.sign(grad)
        with torch.no_grad():
            out.append(msp(model(x_tilde), temperature))
    return np.concatenate(out)


def gradnorm(features: Any, fc: nn.Linear, temperature: float = 1.0) -> np.ndarray:
    """Negative GradNorm (Huang et al. 2021) in closed form, for a final linear layer.

    The reference code back-propagates ``L = -sum_c log softmax(fc(h) / T)_c``
    (all-ones targets) one sample at a time and takes the L1 norm of the
    gradient of ``fc.weight``. That gradient is the outer product
    ``(C p - 1) / T  x  h``, so its L1 norm is ``||C p - 1||_1 ||h||_1 / T``; this
    computes it for a whole batch at once.

    Args:
        features: penultimate features ``h``, shape (n, d).
        fc: the classifier's last layer, ``d -> C``.
    """
    _check_temperature(temperature)
    h = torch.as_tensor(features).detach().to(fc.weight.device, fc.weight.dtype)
    if h.ndim != 2 or h.shape[1] != fc.in_features:
        raise ValueError(f"features must have shape (n, {fc.in_features}), got {tuple(h.shape)}")
    with torch.no_grad():
        p = torch.softmax(fc(h).double() / temperature, dim=1)
        n_classes = p.shape[1]
        norm = (n_classes * p - 1).abs().sum(1) * h.double().abs().sum(1) / temperature
    return -norm.cpu().numpy()


LOGIT_SCORERS = {"msp": msp, "max_logit": max_logit, "energy": energy, "entropy": entropy}
