"""One seed for every random choice: Python, NumPy and PyTorch."""

from __future__ import annotations

import os
import random

import numpy as np
import torch


def seed_everything(seed: int, deterministic: bool = True) -> np.random.Generator:
    """Seed ``random``, NumPy's legacy global state and PyTorch (CPU and CUDA).

    With ``deterministic=True`` PyTorch is asked for deterministic kernels
    (``warn_only`` so an op without one still runs), which makes two CPU runs
    with the same seed give bit-identical numbers.

    Returns:
        A fresh ``numpy.random.Generator`` seeded with ``seed``; pass it (or
        seeds drawn from it) to functions instead of using global state.
    """
    if not isinstance(seed, (int, np.integer)) or isinstance(seed, bool):
        raise ValueError(f"seed must be an integer, got {seed!r}")
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)
    if deterministic:
        os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
        torch.use_deterministic_algorithms(True, warn_only=True)
    return np.random.default_rng(seed)


def torch_generator(seed: int, device: str | torch.device = "cpu") -> torch.Generator:
    """A ``torch.Generator`` seeded with ``seed`` (for DataLoader shuffling and sampling)."""
    g = torch.Generator(device=device)
    g.manual_seed(seed)
    return g
