"""Noise and gain helpers shared by the audio generators."""

from __future__ import annotations

import numpy as np

COLOURS = {"white": 0.0, "pink": 1.0, "brown": 2.0, "blue": -1.0}


def colored_noise(n: int, colour: str | float, rng: np.random.Generator) -> np.ndarray:
    """Unit-RMS noise with power spectrum ~ 1/f^beta (``white`` 0, ``pink`` 1, ``brown`` 2, ``blue`` -1)."""
    beta = COLOURS[colour] if isinstance(colour, str) else float(colour)
    spectrum = rng.standard_normal(n // 2 + 1) + 1j * rng.standard_normal(n // 2 + 1)
    f = np.arange(n // 2 + 1, dtype=np.float64)
    f[0] = 1.0
    x = np.fft.irfft(spectrum / f ** (beta / 2), n)
    return (x / (np.sqrt(np.mean(x**2)) + 1e-12)).astype(np.float32)


def rms(x: np.ndarray) -> float:
    """Root-mean-square of a signal."""
    return float(np.sqrt(np.mean(np.square(x, dtype=np.float64))))


def add_noise(signal: np.ndarray, noise: np.ndarray, snr_db: float) -> np.ndarray:
    """``signal + noise`` with the noise scaled to the given signal-to-noise ratio (dB)."""
    scale = rms(signal) / (rms(noise) + 1e-12) / (10 ** (snr_db / 20))
    return (signal + scale * noise).astype(np.float32)


def peak_normalise(x: np.ndarray, gain_db: float = 0.0, peak: float = 0.9) -> np.ndarray:
    """Scale to ``peak`` times ``10^(gain_db/20)`` at the largest absolute sample."""
    m = float(np.max(np.abs(x))) if x.size else 0.0
    if m == 0:
        return x.astype(np.float32)
    return (x * (peak * 10 ** (gain_db / 20) / m)).astype(np.float32)
