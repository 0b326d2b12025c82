"""Training-time augmentations, seeded through a ``torch.Generator``."""

from __future__ import annotations

import torch


class ShiftAndGain:
    """Log-mel augmentation: a random circular time shift and a random level offset per batch.

    ``x`` has shape (batch, channels, n_mels, frames). The shift (in frames, up
    to ``max_shift``) moves the whole batch in time; the level offset adds a
    per-clip constant drawn from N(0, ``gain_std``^2) to the log-mel values,
    i.e. a gain change of ``gain_std`` nepers (natural-log units).
    """

    def __init__(self, max_shift: int = 30, gain_std: float = 1.0) -> None:
        self.max_shift, self.gain_std = max_shift, gain_std

    def __call__(self, x: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        shift = int(torch.randint(-self.max_shift, self.max_shift + 1, (1,), generator=generator))
        gain = torch.randn(x.shape[0], *([1] * (x.ndim - 1)), generator=generator) * self.gain_std
        return torch.roll(x, shift, dims=-1) + gain
