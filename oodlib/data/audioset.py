"""A labelled set of fixed-length audio clips, the common currency of the audio notebooks."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd


@dataclass
class AudioSet:
    """Clips, integer labels and per-clip metadata.

    Attributes:
        audio: float32 waveforms in [-1, 1], shape (n, num_samples).
        labels: int64 class indices into ``classes``, shape (n,).
        classes: class names.
        sample_rate: Hz.
        meta: one row per clip (e.g. ``speaker``, ``text``, ``voice``); may be empty.
        name: a short description for tables and plots.
    """

    audio: np.ndarray
    labels: np.ndarray
    classes: list[str]
    sample_rate: int
    meta: pd.DataFrame = field(default_factory=pd.DataFrame)
    name: str = ""

    def __post_init__(self) -> None:
        # loaders hand over read-only views (pandas' copy-on-write); torch warns on them at every
        # training run, so make the arrays writable once, here
        for name in ("audio", "labels"):
            arr = np.asarray(getattr(self, name))
            setattr(self, name, arr if arr.flags.writeable else arr.copy())
        if self.audio.ndim != 2:
            raise ValueError(f"audio must have shape (n, num_samples), got {self.audio.shape}")
        if self.labels.shape != (self.audio.shape[0],):
            raise ValueError(f"labels shape {self.labels.shape} does not match {self.audio.shape[0]} clips")
        if len(self.meta) not in (0, self.audio.shape[0]):
            raise ValueError(f"meta has {len(self.meta)} rows for {self.audio.shape[0]} clips")

    def __len__(self) -> int:
        return int(self.audio.shape[0])

    def subset(self, mask: np.ndarray | pd.Series) -> "AudioSet":
        """The clips selected by a boolean mask or index array (same classes)."""
        idx = np.flatnonzero(np.asarray(mask)) if np.asarray(mask).dtype == bool else np.asarray(mask)
        meta = self.meta.iloc[idx].reset_index(drop=True) if len(self.meta) else self.meta
        return AudioSet(self.audio[idx], self.labels[idx], list(self.classes), self.sample_rate, meta, self.name)
