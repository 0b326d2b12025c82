"""The one audio reading path: soundfile, mono, resampled, fixed length.

Every loader reads audio through :func:`read_audio`, so every notebook gets
float32 mono waveforms in [-1, 1] at the requested rate, and every unreadable,
empty or missing file fails with an error that names it. Each file is checked
when it is read (:func:`check_decoded`): its sample rate must lie in
:data:`MIN_SAMPLE_RATE`-:data:`MAX_SAMPLE_RATE` Hz (a header claiming 1 Hz would
make the resampler allocate gigabytes), every sample must be finite, and float
samples must lie in [-1, 1]; overshoots up to :data:`RANGE_TOLERANCE` (rounding in
a float pipeline) are clipped, larger ones are refused.
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

AUDIO_EXTENSIONS = (".wav", ".flac", ".ogg", ".opus", ".mp3", ".aiff", ".aif")  # .opus: Ogg Opus (MSWC), decoded by libsndfile >= 1.0.29
MIN_SAMPLE_RATE = 1_000
MAX_SAMPLE_RATE = 384_000
RANGE_TOLERANCE = 1e-3


def check_rate(rate: int, what: str) -> None:
    """Raise ``ValueError`` naming ``what`` unless ``rate`` lies in the plausible audio range."""
    if not MIN_SAMPLE_RATE <= rate <= MAX_SAMPLE_RATE:
        raise ValueError(f"{what}: sample rate {rate} Hz is outside {MIN_SAMPLE_RATE:,}-{MAX_SAMPLE_RATE:,} Hz")


def check_decoded(data: np.ndarray, rate: int, path: Path) -> np.ndarray:
    """Check decoded samples (frames, channels) of ``path``; return them, tiny overshoots clipped.

    Raises ``ValueError`` naming the file for an implausible sample rate, a NaN or infinite
    sample, or a sample beyond [-1, 1] by more than :data:`RANGE_TOLERANCE`.
    """
    check_rate(int(rate), f"audio file {path}")
    finite = np.isfinite(data)
    if not finite.all():
        bad = np.flatnonzero(~finite.all(axis=1))
        value = data[bad[0]][~finite[bad[0]]][0]
        raise ValueError(
            f"audio file {path}: {bad.size} sample(s) are not finite ({'NaN' if np.isnan(value) else value}"
            f" at sample {bad[0]}); expected finite samples in [-1, 1]"
        )
    peak = float(np.abs(data).max())
    if peak > 1 + RANGE_TOLERANCE:
        frame = int(np.flatnonzero(np.abs(data).max(axis=1) == peak)[0])
        raise ValueError(
            f"audio file {path}: sample {frame} has amplitude {peak:.4g}, outside [-1, 1] "
            f"(tolerance {RANGE_TOLERANCE:g}); rescale or re-export the file as PCM"
        )
    return np.clip(data, -1.0, 1.0, out=data) if peak > 1 else data


def decode(path: str | Path) -> tuple[np.ndarray, int]:
    """Decode a whole file as float32 (frames, channels) at its own rate, checked (:func:`check_decoded`).

    Raises ``FileNotFoundError`` for a missing file and ``ValueError`` naming the file when it
    cannot be decoded, holds no samples or fails a check.
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
    return check_decoded(data, rate, path), int(rate)


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
    missing file and ``ValueError`` naming the file when it cannot be decoded,
    holds no samples, or fails the checks of :func:`check_decoded`.
    """
    check_rate(int(sample_rate), "read_audio: target sample_rate")
    data, rate = decode(path)
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
