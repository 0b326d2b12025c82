"""One seed for every random choice: Python, NumPy and PyTorch.

* :func:`seed_everything` - the notebooks' top cell: seed every global generator once.
* :func:`child_seed` - independent seeds for a run's components, derived from the run's seed
  by name (``child_seed(seed, "p3/detector/entropy")``), instead of ``seed + 1`` arithmetic
  whose streams collide across runs (seed 0's ``seed + 1`` is seed 1's ``seed``).
* :func:`seeded` - a block in which PyTorch's global generator is seeded, restored afterwards:
  model construction (initial weights) and each trainer's body (dropout masks) run inside one,
  so that a component's weights never depend on what ran before it.
* :func:`torch_generator` - a seeded ``torch.Generator`` for shuffling and sampling.
"""

from __future__ import annotations

import hashlib
import os
import random
from collections.abc import Iterator
from contextlib import contextmanager

import numpy as np
import torch

from .device import resolve_device


def _check_seed(seed: object, name: str = "seed") -> int:
    if not isinstance(seed, (int, np.integer)) or isinstance(seed, (bool, np.bool_)):
        raise ValueError(f"{name} must be an integer, got {seed!r}")
    return int(seed)


def seed_everything(seed: int, deterministic: bool = True) -> np.random.Generator:
    """Seed ``random``, NumPy's legacy global state and PyTorch (CPU and CUDA).

    With ``deterministic=True`` PyTorch is asked for deterministic kernels
    (``warn_only`` so an op without one still runs), which makes two CPU runs
    with the same seed give bit-identical numbers.

    Returns:
        A fresh ``numpy.random.Generator`` seeded with ``seed``; pass it (or
        seeds drawn from it) to functions instead of using global state.
    """
    seed = _check_seed(seed)
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)
    if deterministic:
        os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
        torch.use_deterministic_algorithms(True, warn_only=True)
    return np.random.default_rng(seed)


def child_seed(seed: int, name: str) -> int:
    """A seed for the component ``name`` of a run with seed ``seed``, in ``[0, 2**63)``.

    The first 8 bytes of BLAKE2b(``f"{seed}/{name}"``) as a big-endian integer, shifted right
    by one bit. Stable across Python versions, platforms and processes (unlike ``hash``);
    different names give unrelated seeds, and so do different run seeds for one name. Use
    slash-separated paths (``"p5/data/train"``, ``f"p1/{arch}/init"``); derive a child of a
    child for a sub-component (``child_seed(child_seed(seed, "p3"), "detector")``).

    Raises:
        ValueError: ``seed`` is not an integer or ``name`` is not a non-empty string.
    """
    seed = _check_seed(seed)
    if not isinstance(name, str) or not name:
        raise ValueError(f"name must be a non-empty string, got {name!r}")
    digest = hashlib.blake2b(f"{seed}/{name}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") >> 1


def _cuda_index(device: str | torch.device | None) -> int | None:
    """The CUDA device index a block runs on, or ``None`` for CPU (and no device)."""
    if device is None:
        return None
    dev = resolve_device(device)
    if dev.type != "cuda":
        return None
    return dev.index if dev.index is not None else torch.cuda.current_device()


@contextmanager
def seeded(seed: int, device: str | torch.device | None = None) -> Iterator[None]:
    """Seed PyTorch's global generator with ``seed`` inside the block; restore it afterwards.

    Inside, ``torch.rand``, weight initialisation and dropout start from ``seed`` exactly as
    after ``torch.manual_seed(seed)``: the CPU generator and, when ``device`` is a CUDA device
    (``"auto"`` resolves to one when a GPU is visible), that device's generator. After the
    block (also on an exception) those generators are back in the state the caller left them
    in (``torch.random.fork_rng``), so code after the block does not depend on what ran inside.
    Python's ``random`` and NumPy are untouched: pass NumPy generators explicitly.

    Args:
        seed: an integer (e.g. a :func:`child_seed`).
        device: the device the block computes on; ``None`` or a CPU device: CPU only.
    """
    seed = _check_seed(seed)
    index = _cuda_index(device)
    devices = [] if index is None else [index]
    with torch.random.fork_rng(devices=devices):
        torch.random.default_generator.manual_seed(seed)
        if index is not None:
            with torch.cuda.device(index):
                torch.cuda.manual_seed(seed)
        yield


def torch_generator(seed: int, device: str | torch.device = "cpu") -> torch.Generator:
    """A ``torch.Generator`` seeded with ``seed`` (for DataLoader shuffling and sampling)."""
    g = torch.Generator(device=device)
    g.manual_seed(_check_seed(seed))
    return g
