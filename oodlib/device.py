"""Pick the compute device: CUDA when present, CPU otherwise."""

from __future__ import annotations

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
