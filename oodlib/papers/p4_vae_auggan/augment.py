"""Physical data augmentation of waveforms (the "Aug" of AugGAN).

Each function keeps the clip length and sample rate, takes a seeded
``numpy.random.Generator`` and works on one clip (samples,) or a batch (n, samples).

* :func:`time_shift` — circular-free shift by up to ``max_shift_s`` seconds, zero fill;
* :func:`speed_perturb` — resample by a factor in ``[1 - r, 1 + r]`` (changes speed
  and pitch together, as tape speed does), then crop or pad to the original length;
* :func:`add_noise` — white-or-pink noise at a random SNR in dB;
* :func:`reverb` — convolution with an exponentially decaying noise impulse
  response (random RT60), level-matched to the dry clip;
* :func:`augment_clip` / :func:`augment_set` — all four in sequence.
"""

from __future__ import annotations

import numpy as np
from scipy.signal import fftconvolve, resample

from ...synthetic.noise import colored_noise


def _each(fn):
    def wrapper(audio: np.ndarray, rng: np.random.Generator, **kw) -> np.ndarray:
        a = np.asarray(audio, dtype=np.float32)
        if a.ndim == 1:
            return fn(a, rng, **kw)
        return np.stack([fn(row, rng, **kw) for row in a])
    wrapper.__doc__ = fn.__doc__
    wrapper.__name__ = fn.__name__
    return wrapper


@_each
def time_shift(x: np.ndarray, rng: np.random.Generator, max_shift_s: float = 0.1, sample_rate: int = 16000) -> np.ndarray:
    """Shift by a uniform offset in ``[-max_shift_s, max_shift_s]`` seconds, filling with zeros."""
    s = int(rng.integers(-int(max_shift_s * sample_rate), int(max_shift_s * sample_rate) + 1))
    out = np.zeros_like(x)
    if s >= 0:
        out[s:] = x[: len(x) - s]
    else:
        out[:s] = x[-s:]
    return out


@_each
def speed_perturb(x: np.ndarray, rng: np.random.Generator, max_rate: float = 0.1) -> np.ndarray:
    """Play ``factor`` times faster (factor uniform in ``[1 - max_rate, 1 + max_rate]``); same length out."""
    factor = float(rng.uniform(1 - max_rate, 1 + max_rate))
    y = resample(x, max(2, int(round(len(x) / factor)))).astype(np.float32)
    if len(y) >= len(x):
        start = (len(y) - len(x)) // 2
        return y[start : start + len(x)]
    pad = len(x) - len(y)
    return np.pad(y, (pad // 2, pad - pad // 2))


@_each
def add_noise(x: np.ndarray, rng: np.random.Generator, snr_db: tuple[float, float] = (5.0, 30.0)) -> np.ndarray:
    """Add white or pink noise at an SNR uniform in ``snr_db`` (dB, relative to the clip's power)."""
    snr = float(rng.uniform(*snr_db))
    noise = colored_noise(len(x), float(rng.choice([0.0, 1.0])), rng)
    p_sig = float(np.mean(x**2)) or 1e-12
    p_noise = float(np.mean(noise**2)) or 1e-12
    return (x + noise * np.sqrt(p_sig / (p_noise * 10 ** (snr / 10)))).astype(np.float32)


@_each
def reverb(x: np.ndarray, rng: np.random.Generator, rt60_s: tuple[float, float] = (0.1, 0.5),
           sample_rate: int = 16000) -> np.ndarray:
    """Convolve with decaying noise of RT60 uniform in ``rt60_s`` seconds; RMS matched to the input."""
    rt60 = float(rng.uniform(*rt60_s))
    n = int(rt60 * sample_rate)
    t = np.arange(n) / sample_rate
    ir = rng.standard_normal(n) * np.exp(-6.9 * t / rt60)
    ir[0] = 1.0
    y = fftconvolve(x, ir)[: len(x)]
    rms_in, rms_out = np.sqrt(np.mean(x**2)), np.sqrt(np.mean(y**2))
    return (y * (rms_in / rms_out if rms_out > 0 else 1.0)).astype(np.float32)


def augment_clip(x: np.ndarray, rng: np.random.Generator, sample_rate: int = 16000) -> np.ndarray:
    """Time shift, speed/pitch perturbation, reverberation (half the time) and noise, in that order."""
    y = speed_perturb(time_shift(x, rng, sample_rate=sample_rate), rng)
    if rng.random() < 0.5:
        y = reverb(y, rng, sample_rate=sample_rate)
    return add_noise(y, rng)


def augment_set(audio: np.ndarray, copies: int, seed: int = 0, sample_rate: int = 16000) -> np.ndarray:
    """``copies`` augmented versions of every clip: (n * copies, samples), clip-major order."""
    rng = np.random.default_rng(seed)
    a = np.asarray(audio, dtype=np.float32)
    return np.stack([augment_clip(row, rng, sample_rate) for row in a for _ in range(copies)]) if copies else a[:0]
