"""Synthetic machine sounds in the DCASE Task 2 layouts (the offline default of P2).

Each machine type is a small physical recipe: a rotating or reciprocating source (a harmonic
series at a fundamental ``f0`` with a type-specific spectral envelope and modulation) plus
broadband flow or friction noise, mixed with factory background noise. A **section** is one
machine unit (its own ``f0``, harmonic weights and noise band, drawn from the seed).

* **Domains** (DCASE2023 style): the *target* domain runs the same unit at another operating
  speed (``f0`` x ``speed``) in another factory (different background noise and SNR); the source
  domain has many training clips, the target domain few.
* **Anomalies** (test clips only), all physically motivated and about as loud as DCASE's:
  ``extra_harmonics`` (inharmonic partials from rubbing or imbalance), ``impacts`` (periodic
  knocks of a loose or damaged part, ringing at a resonance), ``rattle`` (noise bursts at a
  rattling rate), ``frequency_drift`` (unstable speed: ``f0`` wanders by several percent).

:func:`write_machine_dataset` writes 16-bit WAVs named exactly like DCASE2023 Task 2 dev clips
(``section_00_<domain>_<split>_<label>_<idx>_<attributes>.wav``) or DCASE2020 Task 2 clips
(``<label>_id_<ss>_<idx>.wav``) under ``<root>/<machine>/{train,test}``, so
:func:`oodlib.data.dcase.load_dcase` reads both. Everything is deterministic for a seed.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np
import soundfile as sf

from .noise import colored_noise, rms

MACHINE_TYPES = ("fan", "pump", "gearbox", "valve", "slider", "bearing")
ANOMALY_KINDS = ("extra_harmonics", "impacts", "rattle", "frequency_drift")
SAMPLE_RATE = 16000

# f0 range (Hz), harmonics, harmonic decay, noise band (Hz), noise share, modulation rate range (Hz)
_RECIPES = {
    "fan":     dict(f0=(60, 120), n_harm=10, decay=0.75, band=(200, 4000), noise=0.6, mod=(2, 6)),
    "pump":    dict(f0=(40, 60), n_harm=14, decay=0.85, band=(500, 2500), noise=0.5, mod=(1, 4)),
    "gearbox": dict(f0=(300, 700), n_harm=4, decay=0.6, band=(100, 1500), noise=0.3, mod=(10, 25)),
    "valve":   dict(f0=(80, 160), n_harm=6, decay=0.6, band=(1000, 6000), noise=0.4, mod=(1.2, 3)),
    "slider":  dict(f0=(150, 300), n_harm=6, decay=0.7, band=(300, 3000), noise=0.5, mod=(0.5, 1.2)),
    "bearing": dict(f0=(1500, 3500), n_harm=3, decay=0.5, band=(2000, 7000), noise=0.6, mod=(15, 40)),
}


def _rng(*keys: object) -> np.random.Generator:
    """A generator seeded from the keys (stable across processes, unlike ``hash``)."""
    return np.random.default_rng([zlib.crc32(str(k).encode()) for k in keys])


@dataclass(frozen=True)
class MachineUnit:
    """One machine (a section): its fixed acoustic parameters."""

    machine: str
    section: int
    f0: float
    harmonics: tuple[float, ...]
    band: tuple[float, float]
    noise_share: float
    mod_rate: float
    resonance: float

    @classmethod
    def draw(cls, machine: str, section: int, seed: int) -> "MachineUnit":
        if machine not in _RECIPES:
            raise ValueError(f"unknown machine type {machine!r}; choose from {MACHINE_TYPES}")
        r, rng = _RECIPES[machine], _rng("unit", machine, section, seed)
        lo, hi = r["band"]
        centre = np.exp(rng.uniform(np.log(lo * 1.2), np.log(hi / 1.2)))
        harm = r["decay"] ** np.arange(r["n_harm"]) * rng.uniform(0.4, 1.0, r["n_harm"])
        return cls(machine, section, float(rng.uniform(*r["f0"])), tuple(np.round(harm, 4)),
                   (float(centre / 1.6), float(min(centre * 1.6, 7800))), float(r["noise"] * rng.uniform(0.7, 1.3)),
                   float(rng.uniform(*r["mod"])), float(rng.uniform(1500, 5000)))


@dataclass(frozen=True)
class Condition:
    """Operating condition of a domain: speed factor, background noise colour and SNR range."""

    name: str
    speed: float
    noise_colour: float
    snr_db: tuple[float, float]
    hum_hz: float


SOURCE = Condition("A", 1.0, 1.0, (8.0, 14.0), 50.0)
TARGET = Condition("B", 1.2, 2.0, (4.0, 10.0), 60.0)


def _band_noise(n: int, band: tuple[float, float], rng: np.random.Generator, sr: int) -> np.ndarray:
    """Unit-RMS noise with a smooth band-pass spectrum (Gaussian in log frequency)."""
    spec = rng.standard_normal(n // 2 + 1) + 1j * rng.standard_normal(n // 2 + 1)
    f = np.fft.rfftfreq(n, 1 / sr)
    lf = np.log(np.maximum(f, 1.0))
    centre, width = np.log(np.sqrt(band[0] * band[1])), np.log(band[1] / band[0]) / 2
    x = np.fft.irfft(spec * np.exp(-0.5 * ((lf - centre) / max(width, 0.1)) ** 2), n)
    return x / (rms(x) + 1e-12)


def _harmonic(f0_track: np.ndarray, weights: np.ndarray, rng: np.random.Generator, sr: int,
              partials: np.ndarray | None = None) -> np.ndarray:
    """Sum of partials (default 1, 2, 3, ...) of a time-varying f0; partials above 7.8 kHz are dropped."""
    phase = 2 * np.pi * np.cumsum(f0_track) / sr
    mult = np.arange(1, len(weights) + 1) if partials is None else partials
    x = np.zeros_like(f0_track)
    for m, w in zip(mult, weights):
        if m * f0_track.max() < 7800:
            x += w * np.sin(m * phase + rng.uniform(0, 2 * np.pi))
    return x


def _envelope(machine: str, t: np.ndarray, rate: float, rng: np.random.Generator) -> np.ndarray:
    """Type-specific amplitude pattern: steady with modulation, or cycles (valve, slider)."""
    ph = rng.uniform(0, 2 * np.pi)
    if machine == "valve":  # open/close cycles: sharp attacks, exponential decays
        period = 1 / rate
        return 0.25 + np.exp(-((t + ph / (2 * np.pi) * period) % period) / (0.15 * period))
    if machine == "slider":  # back and forth: smooth movement envelope
        return 0.3 + np.abs(np.sin(np.pi * rate * t + ph))
    return 1 + 0.25 * np.sin(2 * np.pi * rate * t + ph)


def render_clip(unit: MachineUnit, condition: Condition, anomaly: str | None, duration: float,
                rng: np.random.Generator, sr: int = SAMPLE_RATE, anomaly_db: float = -8.0) -> np.ndarray:
    """One clip (float32, peak <= 0.9) of ``unit`` running under ``condition``, optionally with an anomaly.

    ``anomaly_db`` sets the anomaly component's level relative to the machine's own RMS.
    """
    n = int(round(duration * sr))
    t = np.arange(n) / sr
    f0 = unit.f0 * condition.speed * (1 + rng.normal(0, 0.01))
    wander = np.cumsum(rng.normal(0, 1, n)) / np.sqrt(n) * 0.002  # slow natural speed jitter
    track = f0 * (1 + wander)
    if anomaly == "frequency_drift":
        depth = rng.uniform(0.04, 0.08)
        track = track * (1 + depth * np.sin(2 * np.pi * rng.uniform(0.2, 0.6) * t + rng.uniform(0, 2 * np.pi)))
    weights = np.asarray(unit.harmonics) * rng.uniform(0.9, 1.1, len(unit.harmonics))
    env = _envelope(unit.machine, t, unit.mod_rate, rng)
    tonal = _harmonic(track, weights, rng, sr)
    broad = _band_noise(n, unit.band, rng, sr)
    machine = env * (tonal / (rms(tonal) + 1e-12) + unit.noise_share * broad)
    level = rms(machine) * 10 ** (anomaly_db / 20)
    if anomaly not in (None, "frequency_drift"):
        machine = machine + level * _anomaly(anomaly, unit, track, n, rng, sr)  # raises for an unknown kind
    background = colored_noise(n, condition.noise_colour, rng) + 0.5 * np.sin(2 * np.pi * condition.hum_hz * t)
    snr = rng.uniform(*condition.snr_db)
    x = machine + background * rms(machine) / (rms(background) + 1e-12) / 10 ** (snr / 20)
    return (0.9 * x / (np.max(np.abs(x)) + 1e-12) * 10 ** (rng.uniform(-6, 0) / 20)).astype(np.float32)


def _anomaly(kind: str, unit: MachineUnit, track: np.ndarray, n: int, rng: np.random.Generator, sr: int) -> np.ndarray:
    """Unit-RMS anomaly component."""
    t = np.arange(n) / sr
    if kind == "extra_harmonics":
        partials = rng.choice([1.5, 2.5, 3.5, 4.5, 0.5], size=2, replace=False)
        x = _harmonic(track, np.array([1.0, 0.6]), rng, sr, partials)
        if not np.any(x):
            x = np.sin(2 * np.pi * unit.resonance * 0.37 * t)
    elif kind == "impacts":
        period = rng.uniform(0.15, 0.5)
        pulses = np.zeros(n)
        pos = np.arange(rng.uniform(0, period), n / sr, period) * sr
        pulses[np.minimum((pos + rng.normal(0, 0.003 * sr, pos.size)).astype(int), n - 1)] = rng.uniform(0.6, 1.0, pos.size)
        k = np.arange(int(0.03 * sr)) / sr
        ring = np.exp(-k / 0.006) * np.sin(2 * np.pi * unit.resonance * k)
        x = np.convolve(pulses, ring)[:n]
    elif kind == "rattle":
        gate = (np.sin(2 * np.pi * rng.uniform(15, 40) * t) > 0.3).astype(float)
        gate *= (np.sin(2 * np.pi * rng.uniform(0.5, 2) * t + rng.uniform(0, 6.28)) > -0.2)
        x = gate * _band_noise(n, (unit.resonance / 1.5, min(unit.resonance * 1.5, 7800)), rng, sr)
    else:
        raise ValueError(f"unknown anomaly {kind!r}; choose from {ANOMALY_KINDS}")
    return x / (rms(x) + 1e-12)


def _attributes(condition: Condition) -> str:
    return f"spd_{int(round(condition.speed * 100))}_noise_{condition.name}"


def write_machine_dataset(
    root: str | Path,
    style: Literal["dcase2023", "dcase2020"] = "dcase2023",
    machines: tuple[str, ...] = ("fan", "pump", "gearbox", "valve"),
    n_train: int = 100,
    n_target_train: int = 10,
    n_test: int = 25,
    n_sections: int = 1,
    duration: float = 4.0,
    anomaly_db: float = -8.0,
    seed: int = 0,
) -> Path:
    """Write a synthetic DCASE-style dataset and return ``root``.

    Args:
        style: ``"dcase2023"`` (section 00; source and target domains; labels, domain and
            attributes in the names) or ``"dcase2020"`` (sections ``00, 02, ...``, one domain).
        n_train: normal training clips per section (DCASE2023: source-domain clips).
        n_target_train: target-domain training clips (DCASE2023 only; must be 0 for dcase2020).
        n_test: test clips per (domain, label) cell (DCASE2023) or per (section, label) (DCASE2020).
        duration: clip length in seconds (16 kHz).
        anomaly_db: anomaly level relative to the machine sound (lower = harder).
    """
    if style not in ("dcase2023", "dcase2020"):
        raise ValueError(f"style must be 'dcase2023' or 'dcase2020', got {style!r}")
    if style == "dcase2020" and n_target_train:
        raise ValueError("dcase2020 has no target domain: n_target_train must be 0")
    if min(n_train, n_test) < 1 or n_target_train < 0 or n_sections < 1 or duration <= 0:
        raise ValueError(f"need n_train, n_test, n_sections >= 1 and duration > 0; got {n_train}, {n_test}, "
                         f"{n_sections}, {duration}")
    root = Path(root)
    for machine in machines:
        for section in range(n_sections):
            sec = 2 * section if style == "dcase2020" else section
            unit = MachineUnit.draw(machine, sec, seed)
            for split, domain, label, count in _plan(style, n_train, n_target_train, n_test):
                folder = root / machine / split
                folder.mkdir(parents=True, exist_ok=True)
                cond = TARGET if domain == "target" else SOURCE
                for i in range(count):
                    rng = _rng("clip", machine, sec, split, domain, label, i, seed)
                    kind = ANOMALY_KINDS[rng.integers(len(ANOMALY_KINDS))] if label == "anomaly" else None
                    x = render_clip(unit, cond, kind, duration, rng, anomaly_db=anomaly_db)
                    name = (f"{label}_id_{sec:02d}_{i:08d}.wav" if style == "dcase2020" else
                            f"section_{sec:02d}_{domain}_{split}_{label}_{i:04d}_{_attributes(cond)}.wav")
                    sf.write(folder / name, x, SAMPLE_RATE, subtype="PCM_16")
    return root


def _plan(style: str, n_train: int, n_target: int, n_test: int) -> list[tuple[str, str, str, int]]:
    """(split, domain, label, count) cells of one section."""
    if style == "dcase2020":
        return [("train", "source", "normal", n_train), ("test", "source", "normal", n_test),
                ("test", "source", "anomaly", n_test)]
    cells = [("train", "source", "normal", n_train), ("train", "target", "normal", n_target)]
    cells += [("test", d, lab, n_test) for d in ("source", "target") for lab in ("normal", "anomaly")]
    return [c for c in cells if c[3] > 0]
