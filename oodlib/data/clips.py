"""How a clip of any length becomes the fixed-length input a model takes: the clip-length policy.

Models trained on one-second inputs (P1: 98 log-mel frames) need a rule for longer clips
(ESC-50's 5 s, CREMA-D's lead-in, VocalSound's variable length) and shorter ones. The rule is
one :class:`ClipPolicy`, applied the same way to ID and OOD clips:

* ``"start"`` - the first ``seconds`` (what every loader did before this policy existed);
* ``"centre"`` - the middle ``seconds``;
* ``"loudest"`` - the ``seconds``-long window with the most energy, searched every ``hop_s``
  (a keyword or a cough wherever it sits in the clip);
* ``"windows"`` - every ``seconds``-long window, ``hop_s`` apart (the last one flush with
  the clip's end); each window is scored and a clip's score is the ``reduce`` (``"mean"`` or
  ``"max"``) of its windows' scores (:func:`reduce_to_clips`).

A clip shorter than ``seconds`` is zero-padded at its end under every mode, and a clip of
exactly ``seconds`` gives the same single window under every mode.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..progress import progress
from .audio import read_audio

MODES = ("start", "centre", "loudest", "windows")
REDUCTIONS = ("mean", "max")


@dataclass(frozen=True)
class ClipPolicy:
    """The clip-length rule (see the module docstring).

    Attributes:
        mode: ``"start"``, ``"centre"``, ``"loudest"`` or ``"windows"``.
        seconds: the model's input length in seconds.
        hop_s: the step between candidate windows in seconds (``"loudest"`` and ``"windows"``).
        reduce: how window scores become a clip score under ``"windows"``: ``"mean"`` or ``"max"``.
    """

    mode: str = "loudest"
    seconds: float = 1.0
    hop_s: float = 0.25
    reduce: str = "mean"

    def __post_init__(self) -> None:
        if self.mode not in MODES:
            raise ValueError(f"clip policy mode must be one of {MODES}, got {self.mode!r}")
        if self.reduce not in REDUCTIONS:
            raise ValueError(f"clip policy reduce must be one of {REDUCTIONS}, got {self.reduce!r}")
        if not (0 < self.seconds <= 60 and 0 < self.hop_s <= 60):
            raise ValueError(f"clip policy seconds and hop_s must lie in (0, 60], got {self.seconds}, {self.hop_s}")

    def describe(self) -> str:
        """The rule in words, for a notebook's text and a record."""
        s = f"{self.seconds:g} s"
        return f"'{self.mode}', " + {"start": f"the first {s} of each clip",
                "centre": f"the middle {s} of each clip",
                "loudest": f"the {s} window of most energy in each clip (searched every {self.hop_s:g} s)",
                "windows": f"every {s} window of each clip, {self.hop_s:g} s apart, scored separately; "
                           f"a clip's score is the {self.reduce} over its windows"}[self.mode] + \
            "; shorter clips are zero-padded at the end"

    def starts(self, n: int, sample_rate: int) -> np.ndarray:
        """Start samples of the windows a clip of ``n`` samples gives (one for every mode but windows)."""
        length, hop = self.length(sample_rate), max(1, round(self.hop_s * sample_rate))
        last = max(0, n - length)
        grid = np.unique(np.r_[np.arange(0, last + 1, hop), last])  # the last window is flush with the end
        if self.mode == "start":
            return np.array([0])
        if self.mode == "centre":
            return np.array([last // 2])
        return grid

    def length(self, sample_rate: int) -> int:
        """The window length in samples."""
        return int(round(self.seconds * sample_rate))

    def cut(self, x: np.ndarray, sample_rate: int) -> np.ndarray:
        """The windows (m, length) of one mono clip ``x`` (n,) under this policy."""
        length = self.length(sample_rate)
        if x.shape[0] < length:
            x = np.pad(x, (0, length - x.shape[0]))
        starts = self.starts(x.shape[0], sample_rate)
        windows = np.stack([x[s : s + length] for s in starts])
        if self.mode == "loudest" and len(starts) > 1:
            energy = np.einsum("ij,ij->i", windows.astype(np.float64), windows.astype(np.float64))
            windows = windows[[int(np.argmax(energy))]]  # the first of equally loud windows
        return windows.astype(np.float32, copy=False)


def load_windows(paths: Sequence[str | Path], policy: ClipPolicy, sample_rate: int = 16000,
                 desc: str = "read audio") -> tuple[np.ndarray, np.ndarray]:
    """Read files (any rate, length, channel count) and cut them by ``policy``.

    Returns:
        ``(windows, clip)``: float32 windows (N, policy.length(sample_rate)) and the index (N,)
        of the file each window comes from, in the order of ``paths`` (N = len(paths) unless
        the mode is ``"windows"``).
    """
    parts, owner = [], []
    for i, p in enumerate(progress(list(paths), desc=desc)):
        w = policy.cut(read_audio(p, sample_rate), sample_rate)
        parts.append(w)
        owner.append(np.full(len(w), i, np.int64))
    if not parts:
        return np.zeros((0, policy.length(sample_rate)), np.float32), np.zeros(0, np.int64)
    return np.concatenate(parts), np.concatenate(owner)


def reduce_to_clips(values: np.ndarray, clip: np.ndarray, how: str = "mean") -> np.ndarray:
    """Per-window values (N, ...) -> per-clip values (n_clips, ...), clips in increasing id order.

    ``how``: ``"mean"`` or ``"max"`` over each clip's windows. With one window per clip this
    is the identity (in clip order).
    """
    if how not in REDUCTIONS:
        raise ValueError(f"how must be one of {REDUCTIONS}, got {how!r}")
    values, clip = np.asarray(values), np.asarray(clip)
    if values.shape[0] != clip.shape[0]:
        raise ValueError(f"{values.shape[0]} window values for {clip.shape[0]} window clip ids")
    ids, first, counts = np.unique(clip, return_index=True, return_counts=True)
    if np.all(counts == 1):
        return values[first]
    order = np.argsort(clip, kind="stable")
    bounds = np.r_[0, np.cumsum(counts)[:-1]]
    v = values[order].astype(np.float64)
    if how == "mean":
        return (np.add.reduceat(v, bounds, axis=0) / counts.reshape(-1, *([1] * (v.ndim - 1)))).astype(values.dtype)
    return np.maximum.reduceat(v, bounds, axis=0).astype(values.dtype)


__all__ = ["MODES", "REDUCTIONS", "ClipPolicy", "load_windows", "reduce_to_clips"]
