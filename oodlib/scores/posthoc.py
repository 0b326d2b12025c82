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
``odin``         ``-max softmax(f(x~) / T)``, x~ perturbed    ODIN (T=1000); epsilon in
                                                              input stds, ``tune_odin``
``gradnorm``     ``-||dL/dW||_1`` of the last layer           GradNorm
===============  ==========================================  =======================

Logit inputs are arrays or tensors of shape (n, n_classes); outputs are float64
NumPy arrays of shape (n,). :func:`softmax_entropy` and :func:`free_energy` are the same
quantities as differentiable tensor functions (any shape, classes along ``dim``, the input's
dtype and device): losses (P3's entropy terms) and dense maps (P5's pixel logits) use them,
and ``entropy`` / ``energy`` are built on them.
"""

from __future__ import annotations

from collections.abc import Sequence
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


PIXEL_STD = 0.25
"""Per-channel pixel std of CIFAR in ODIN's code (63.0, 62.1, 66.7 / 255 on [0, 1] pixels), rounded."""

ODIN_TEMPERATURES: tuple[float, ...] = (1.0, 2.0, 5.0, 10.0, 20.0, 50.0, 100.0, 200.0, 500.0, 1000.0)
"""ODIN's temperature grid (Liang et al. 2018)."""

ODIN_EPSILONS: tuple[float, ...] = tuple(round(e / PIXEL_STD, 6) for e in np.linspace(0.0, 0.004, 21))
"""ODIN's 21 perturbation sizes, 0 to 0.004 on [0, 1] pixels, in units of the input std: 0 to 0.016."""

ODIN_EPSILON = 0.0014 / PIXEL_STD
"""ODIN's CIFAR perturbation 0.0014 (on [0, 1] pixels) in units of the input std: 0.0056."""


def input_std(inputs: Any) -> float:
    """Standard deviation of every value of ``inputs`` (n, ...), in float64: the unit of ODIN's epsilon.

    Compute it once on ID training (or validation) inputs and pass the same number for every
    set scored; a set's own std would give ID and OOD sets different perturbations.
    """
    x = torch.as_tensor(inputs).detach().to(torch.float64)
    std = float(x.std())
    if not (np.isfinite(std) and std > 0):
        raise ValueError(f"inputs must have a positive, finite std, got {std}")
    return std


def _odin_grid(model: nn.Module, inputs: torch.Tensor, temperature: float, epsilons: Sequence[float],
               input_std: float | torch.Tensor, batch_size: int) -> np.ndarray:
    """ODIN scores for several perturbation sizes at one temperature: shape (len(epsilons), n)."""
    _check_temperature(temperature)
    scale = torch.as_tensor(input_std, dtype=inputs.dtype, device=inputs.device)
    if not (torch.isfinite(scale).all() and (scale > 0).all()):
        raise ValueError(f"input_std must be positive and finite, got {input_std}")
    if any(not (np.isfinite(e) and e >= 0) for e in epsilons):
        raise ValueError(f"epsilons must be finite and >= 0, got {list(epsilons)}")
    out: list[list[np.ndarray]] = [[] for _ in epsilons]
    for start in range(0, inputs.shape[0], batch_size):
        x = inputs[start : start + batch_size].detach().clone().requires_grad_(True)
        logits = model(x) / temperature
        # summed (not averaged) so that no per-sample gradient shrinks with the batch size
        loss = nn.functional.cross_entropy(logits, logits.argmax(dim=1), reduction="sum")
        (grad,) = torch.autograd.grad(loss, x)
        step = scale * torch.sign(grad)
        with torch.no_grad():
            for i, eps in enumerate(epsilons):
                out[i].append(msp(model(x.detach() - eps * step), temperature))
    return np.stack([np.concatenate(o) for o in out])


def odin(
    model: nn.Module,
    inputs: torch.Tensor,
    temperature: float = 1000.0,
    epsilon: float = ODIN_EPSILON,
    *,
    input_std: float | torch.Tensor,
    batch_size: int = 256,
) -> np.ndarray:
    """ODIN (Liang et al. 2018): temperature scaling plus an input perturbation; shape (n,).

    Each input moves by ``epsilon * input_std`` against the sign of the gradient of the
    cross-entropy with its own predicted class (at temperature ``T``), which raises the max
    softmax of ID inputs more than of OOD ones; the score is ``-max softmax(model(x~) / T)``.
    ``epsilon = 0`` gives :func:`msp` at temperature ``T`` exactly.

    Units: ``epsilon`` is in units of ``input_std``. ODIN's own code perturbs std-normalised
    images by ``epsilon / std`` per channel, i.e. by ``epsilon`` on [0, 1] pixels, which is about
    ``epsilon / 0.25`` pixel stds: its 0.0014 is :data:`ODIN_EPSILON` = 0.0056 stds here. Pass
    ``input_std=`` :func:`input_std` ``(x_train)`` (one number for all sets) for that unit; ``input_std=1``
    means raw input units (for log-mel input, whose std is about 4, raw 0.0014 is 0.0003 stds).

    Args:
        model: maps a batch of ``inputs`` to logits (n, C); put it in eval mode first.
        inputs: tensor (n, ...) on the model's device.
        input_std: the unit of ``epsilon``: a positive float, or a tensor broadcastable to a
            batch (per channel, say).
    """
    return _odin_grid(model, inputs, temperature, [epsilon], input_std, batch_size)[0]


def tune_odin(
    model: nn.Module,
    x_val: torch.Tensor,
    *,
    input_std: float | torch.Tensor,
    x_val_ood: torch.Tensor | None = None,
    temperatures: Sequence[float] = ODIN_TEMPERATURES,
    epsilons: Sequence[float] = ODIN_EPSILONS,
    tpr: float = 0.95,
    batch_size: int = 256,
) -> tuple[float, float]:
    """ODIN's temperature ``T`` and perturbation ``epsilon`` (in ``input_std`` units) from a validation split.

    Two rules (P1 does not say how it set ODIN's parameters):

    * ``x_val_ood`` given - ODIN's own rule (Liang et al. 2018): every pair of the grid
      ``temperatures x epsilons``; the pair with the lowest FPR at ``tpr`` TPR (ID positive, as
      P1 reports it) between ``x_val`` and ``x_val_ood``; ties go to the higher AUROC, then to
      the first pair in grid order. This uses OOD data, so the OOD validation clips must not
      be test clips.
    * ``x_val_ood`` omitted - the ID-only rule of Hsu et al. 2020 (Generalized ODIN): ``T`` is
      the largest temperature of the grid (ODIN's 1000) and ``epsilon`` maximises the mean max
      softmax of the ID validation inputs (first of equals). It often picks the largest
      epsilon of the grid: widen the grid when it does.

    Args:
        x_val: held-out ID inputs (n, ...) on the model's device (not the training inputs).
        x_val_ood: validation OOD inputs (m, ...), or ``None`` for the ID-only rule.
    Returns:
        ``(T, epsilon)``, both taken from the grids.
    """
    from ..metrics.ood import ood_report

    if not temperatures or not epsilons:
        raise ValueError("temperatures and epsilons must not be empty")
    if x_val_ood is None:
        t = float(max(temperatures))
        mean_msp = -_odin_grid(model, x_val, t, epsilons, input_std, batch_size).mean(axis=1)
        return t, float(epsilons[int(np.argmax(mean_msp))])
    best: tuple[float, float, float, float] | None = None  # (fpr, -auroc, T, eps)
    for t in temperatures:
        s_id = _odin_grid(model, x_val, t, epsilons, input_std, batch_size)
        s_ood = _odin_grid(model, x_val_ood, t, epsilons, input_std, batch_size)
        for eps, a, b in zip(epsilons, s_id, s_ood):
            rep = ood_report(a, b, positive="id", tpr=tpr)
            key = (rep["fpr"], -rep["auroc"], float(t), float(eps))
            if best is None or key[:2] < best[:2]:
                best = key
    assert best is not None
    return best[2], best[3]


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
