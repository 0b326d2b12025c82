"""Pick the compute device (CUDA when present, CPU otherwise) and pin float32 matmul precision."""

from __future__ import annotations

from contextlib import contextmanager
from typing import Iterator

import torch


def resolve_device(device: str | torch.device = "auto") -> torch.device:
    """Turn a device parameter into a ``torch.device``.

    ``"auto"`` gives ``cuda`` when a GPU is visible, else ``cpu``. Asking for
    ``"cuda"`` on a machine without one raises a ``ValueError`` that says so,
    instead of failing later inside a kernel.
    """
    if isinstance(device, torch.device):
        return device
    if not isinstance(device, str):
        raise ValueError(f"device must be a string such as 'auto', 'cpu' or 'cuda', got {device!r}")
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        dev = torch.device(device)
    except RuntimeError as err:
        raise ValueError(f"device={device!r} is not a valid torch device ('auto', 'cpu', 'cuda', 'cuda:0', ...)") from err
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"device={device!r} was asked for, but no CUDA GPU is visible; use 'auto' or 'cpu'")
    return dev


@contextmanager
def ieee_float32() -> Iterator[None]:
    """Run float32 matrix products at full IEEE float32 precision inside the block, then restore.

    ``torch.set_float32_matmul_precision("medium")`` (or "high"), a user's global choice for
    faster training, lets oneDNN on CPUs with AMX compute float32 products in bfloat16 and CUDA
    in TF32: about 1e-2 and 3e-4 relative error. Exact kNN distances must not inherit that, so
    :class:`oodlib.knn.KNNScorer` searches inside this block. It sets the per-backend settings
    (``torch.backends.{mkldnn,cuda}.matmul.fp32_precision``) and puts back what was there, so
    the global choice, whichever API made it, is unchanged afterwards.
    """
    backends = (torch.backends.mkldnn.matmul, torch.backends.cuda.matmul)
    saved = [b.fp32_precision for b in backends]
    try:
        for b in backends:
            b.fp32_precision = "ieee"
        yield
    finally:
        for b, old in zip(backends, saved):
            b.fp32_precision = old
