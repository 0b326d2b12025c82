"""The one audio reading path: soundfile, mono, resampled, fixed length.

Every loader reads audio through :func:`read_audio`, so every notebook gets
float32 mono waveforms in [-1, 1] at the requested rate, and every unreadable,
empty or missing file fails with an error that names it.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd
import soundfile as sf
import torch
import torchaudio.functional as AF

from ..progress import progress

AUDIO_EXTENSIONS = (".wav", ".flac", ".ogg", ".mp3", ".aiff", ".aif")


def resample(x: np.ndarray, orig_rate: int, target_rate: int) -> np.ndarray:
    """Band-limited resampling (torchaudio's windowed sinc) of a 1-D float32 signal."""
    if orig_rate == target_rate:
        return x.astype(np.float32, copy=False)
    y = AF.resample(torch.from_numpy(np.ascontiguousarray(x, dtype=np.float32)), int(orig_rate), int(target_rate))
    return y.numpy()


def fix_length(x: np.ndarray, length: int, align: Literal["start", "center"] = "start") -> np.ndarray:
    """Crop or zero-pad a 1-D signal to ``length`` samples (``"center"`` crops/pads both ends)."""
    n = x.shape[0]
    if n == length:
        return x
    if n > length:
        start = 0 if align == "start" else (n - length) // 2
        return x[start : start + length]
    before = 0 if align == "start" else (length - n) // 2
    return np.pad(x, (before, length - n - before))


def read_audio(
    path: str | Path,
    sample_rate: int = 16000,
    num_samples: int | None = None,
    align: Literal["start", "center"] = "start",
) -> np.ndarray:
    """Read one file as float32 mono at ``sample_rate``; optionally crop/pad to ``num_samples``.

    Multi-channel files are averaged to mono. Raises ``FileNotFoundError`` for a
    missing file and ``ValueError`` naming the file when it cannot be decoded or
    holds no samples.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"audio file {path} does not exist")
    try:
        data, rate = sf.read(str(path), dtype="float32", always_2d=True)
    except (sf.LibsndfileError, RuntimeError, TypeError) as err:
        raise ValueError(f"cannot read audio file {path}: {err}") from err
    if data.shape[0] == 0:
        raise ValueError(f"audio file {path} is empty (0 samples)")
    x = resample(data.mean(axis=1), rate, sample_rate)
    return fix_length(x, num_samples, align) if num_samples is not None else x


def load_clips(
    paths: Sequence[str | Path] | pd.Series,
    sample_rate: int = 16000,
    num_samples: int = 16000,
    align: Literal["start", "center"] = "start",
    desc: str = "read audio",
) -> np.ndarray:
    """Read many files into one float32 array of shape (n, num_samples)."""
    paths = list(paths)
    out = np.zeros((len(paths), num_samples), dtype=np.float32)
    for i, p in enumerate(progress(paths, desc=desc)):
        out[i] = read_audio(p, sample_rate, num_samples, align)
    return out
