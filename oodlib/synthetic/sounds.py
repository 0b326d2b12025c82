"""Procedural non-speech sounds: noise colours, tones, chirps, clicks, machine hums, sirens.

Used as far-OOD sets (standing in for environmental-sound datasets such as
ESC-50) and as background noise. Every clip is generated from the seed alone.
"""

from __future__ import annotations

import numpy as np

from ..data.audioset import AudioSet
from .noise import colored_noise, peak_normalise

SOUND_CLASSES = ("white_noise", "pink_noise", "brown_noise", "tone", "chirp", "clicks", "machine_hum", "siren")


def _sound(kind: str, n: int, sr: int, rng: np.random.Generator) -> np.ndarray:
    t = np.arange(n) / sr
    if kind.endswith("_noise"):
        return colored_noise(n, kind.split("_")[0], rng)
    if kind == "tone":
        f0 = rng.uniform(200, 3000)
        amps = rng.uniform(0, 1, 4) * np.array([1, 0.5, 0.3, 0.2])
        x = sum(a * np.sin(2 * np.pi * f0 * (h + 1) * t + rng.uniform(0, 2 * np.pi)) for h, a in enumerate(amps))
        return x * np.minimum(1, np.minimum(t, t[-1] - t) * 50)  # 20 ms fades
    if kind == "chirp":
        f0, f1 = rng.uniform(100, 1000), rng.uniform(2000, 7000)
        if rng.random() < 0.5:
            f0, f1 = f1, f0
        k = np.log(f1 / f0) / t[-1]
        return np.sin(2 * np.pi * f0 * (np.exp(k * t) - 1) / k)
    if kind == "clicks":
        x = np.zeros(n)
        for pos in rng.integers(0, n, rng.integers(3, 15)):
            x[pos] = rng.uniform(0.5, 1)
        ring = np.exp(-np.arange(int(0.01 * sr)) / (0.002 * sr)) * np.sin(2 * np.pi * rng.uniform(1000, 5000) * np.arange(int(0.01 * sr)) / sr)
        return np.convolve(x, ring)[:n]
    if kind == "machine_hum":
        f0 = rng.uniform(40, 150)
        x = sum(np.sin(2 * np.pi * f0 * h * t) / h for h in range(1, 12))
        x = x * (1 + 0.3 * np.sin(2 * np.pi * rng.uniform(0.5, 8) * t))
        return x + 0.2 * colored_noise(n, "pink", rng)
    if kind == "siren":
        fc, dev, rate = rng.uniform(600, 1200), rng.uniform(100, 400), rng.uniform(0.5, 3)
        phase = 2 * np.pi * np.cumsum(fc + dev * np.sin(2 * np.pi * rate * t)) / sr
        return np.sin(phase)
    raise ValueError(f"unknown sound class {kind!r}; choose from {SOUND_CLASSES}")


def make_sounds(
    classes: tuple[str, ...] = SOUND_CLASSES,
    n_per_class: int = 20,
    duration: float = 1.0,
    sample_rate: int = 16000,
    seed: int = 0,
) -> AudioSet:
    """``n_per_class`` clips of each procedural sound class, peak-normalised with random gain (-12..0 dB)."""
    rng = np.random.default_rng(seed)
    n = int(round(duration * sample_rate))
    audio = np.zeros((len(classes) * n_per_class, n), dtype=np.float32)
    labels = np.repeat(np.arange(len(classes)), n_per_class)
    for i, c in enumerate(labels):
        audio[i] = peak_normalise(_sound(classes[c], n, sample_rate, rng), rng.uniform(-12, 0))
    return AudioSet(audio, labels.astype(np.int64), list(classes), sample_rate, name="procedural sounds")
