"""Synthetic spoken words and phrases: the embedded default of the speech papers (P1, P4).

:func:`synth_speech_set` turns a :class:`SpeechSetSpec` (texts, language, clip
count, speaker pool, jitter ranges, noise, seed) into an :class:`~oodlib.data.audioset.AudioSet`
of fixed-length 16 kHz clips. Each clip is said by one of ``n_speakers``
pseudo-speakers (an eSpeak voice variant with its own base pitch, intonation
range and speaking rate), with per-clip rate and pitch jitter, a random position
in the window, background noise of a random colour at a random SNR, and a
random gain. The same spec always gives the same int16-quantised clips; results
are cached on disk (``$OODLIB_CACHE_DIR`` or the user cache folder) so a second
run only reads a file.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import platformdirs
import torch
import torchaudio.functional as AF

from ..data.audioset import AudioSet
from .espeak import Request, Voice, synth_many
from .noise import add_noise, colored_noise, peak_normalise

GENERATOR_VERSION = 2  # bump when the generated audio changes, to invalidate caches
VARIANTS = ("m1", "m2", "m3", "m4", "m5", "m6", "m7", "f1", "f2", "f3", "f4", "f5", "klatt", "klatt2", "croak")


@dataclass(frozen=True)
class SpeechSetSpec:
    """What to synthesise. Every field is part of the cache key.

    Attributes:
        texts: one class per entry (a word or a phrase).
        classes: class names (default: ``texts``).
        language: eSpeak language code (``"en"``, ``"es"``, ``"de"``...).
        n_per_class: clips per text.
        n_speakers: size of the pseudo-speaker pool.
        speaker_offset: first pseudo-speaker index (disjoint pools for train/test sets).
        duration: clip length in seconds; sample_rate: Hz.
        rate_wpm: range of speakers' base speaking rates (words per minute).
        pitch: range of speakers' base pitch (eSpeak 0-100).
        intonation: range of speakers' intonation (pitch range, eSpeak 0-100).
        jitter: relative per-clip jitter of rate and pitch.
        snr_db: range of background-noise SNRs (dB); ``None`` for clean clips.
        gain_db: range of output gains (dB below 0.9 peak).
        variants: eSpeak voice variants to draw speakers from.
        seed: fixes every random choice.
    """

    texts: tuple[str, ...]
    classes: tuple[str, ...] | None = None
    language: str = "en"
    n_per_class: int = 40
    n_speakers: int = 30
    speaker_offset: int = 0
    duration: float = 1.0
    sample_rate: int = 16000
    rate_wpm: tuple[int, int] = (130, 240)
    pitch: tuple[int, int] = (20, 80)
    intonation: tuple[int, int] = (20, 80)
    jitter: float = 0.08
    snr_db: tuple[float, float] | None = (15.0, 40.0)
    gain_db: tuple[float, float] = (-10.0, 0.0)
    variants: tuple[str, ...] = VARIANTS
    seed: int = 0

    def key(self) -> str:
        """Cache key: a hash of every field and the generator version."""
        payload = json.dumps({"v": GENERATOR_VERSION, **dataclasses.asdict(self)}, sort_keys=True)
        return hashlib.sha256(payload.encode()).hexdigest()[:20]


def cache_dir() -> Path:
    """``$OODLIB_CACHE_DIR`` or the per-user cache folder, plus ``synthetic/``."""
    base = os.environ.get("OODLIB_CACHE_DIR") or platformdirs.user_cache_dir("oodlib")
    return Path(base) / "synthetic"


def _speakers(spec: SpeechSetSpec) -> pd.DataFrame:
    rng = np.random.default_rng([spec.seed, spec.speaker_offset, 7919])
    n = spec.n_speakers
    return pd.DataFrame({
        "speaker": [f"{spec.language}-spk{spec.speaker_offset + i:03d}" for i in range(n)],
        "variant": rng.choice(spec.variants, n),
        "base_rate": rng.integers(spec.rate_wpm[0], spec.rate_wpm[1] + 1, n),
        "base_pitch": rng.integers(spec.pitch[0], spec.pitch[1] + 1, n),
        "intonation": rng.integers(spec.intonation[0], spec.intonation[1] + 1, n),
    })


def _trim(x: np.ndarray, threshold: float = 0.01) -> np.ndarray:
    loud = np.flatnonzero(np.abs(x) > threshold * (np.abs(x).max() + 1e-9))
    return x[loud[0] : loud[-1] + 1] if loud.size else x


def _generate(spec: SpeechSetSpec) -> tuple[np.ndarray, pd.DataFrame]:
    rng = np.random.default_rng([spec.seed, spec.speaker_offset, 104729])
    speakers = _speakers(spec)
    n_out = int(round(spec.duration * spec.sample_rate))
    rows, requests = [], []
    for c in range(len(spec.texts)):
        for _ in range(spec.n_per_class):
            spk = speakers.iloc[int(rng.integers(len(speakers)))]
            rate = int(spk.base_rate * (1 + spec.jitter * rng.uniform(-1, 1)))
            pitch = int(np.clip(spk.base_pitch * (1 + spec.jitter * rng.uniform(-1, 1)), 0, 99))
            requests.append(Request(spec.texts[c], Voice(spec.language, spk.variant), rate, pitch,
                                    int(spk.intonation), int(rng.integers(2**31))))
            rows.append({"text": spec.texts[c], "label": c, "speaker": spk.speaker,
                         "voice": f"{spec.language}+{spk.variant}", "rate_wpm": rate, "pitch": pitch})
    engine_rate, pcms = synth_many(requests, chunk=200)  # the chunk size is part of the output: keep it fixed
    for r, pcm in zip(requests, pcms):
        if pcm.size == 0:
            raise RuntimeError(f"eSpeak produced no audio for {r.text!r} in {spec.language!r}")
    raw = [pcm.astype(np.float32) / 32768.0 for pcm in pcms]
    audio = np.zeros((len(raw), n_out), dtype=np.float32)
    for start in range(0, len(raw), 256):  # batched resampling, eSpeak's rate -> sample_rate
        block = raw[start : start + 256]
        width = max(len(x) for x in block)
        padded = torch.zeros((len(block), width))
        for j, x in enumerate(block):
            padded[j, : len(x)] = torch.from_numpy(x)
        res = AF.resample(padded, engine_rate, spec.sample_rate).numpy()
        for j, x in enumerate(block):
            y = _trim(res[j, : int(np.ceil(len(x) * spec.sample_rate / engine_rate))])
            if len(y) > n_out:
                y = y[(len(y) - n_out) // 2 :][:n_out]
            offset = int(rng.integers(0, n_out - len(y) + 1))
            audio[start + j, offset : offset + len(y)] = y
    for i, row in enumerate(rows):
        row["offset_s"] = float(np.argmax(np.abs(audio[i]) > 0) / spec.sample_rate)
        if spec.snr_db is not None:
            snr = float(rng.uniform(*spec.snr_db))
            colour = str(rng.choice(["white", "pink", "brown"]))
            audio[i] = add_noise(audio[i], colored_noise(n_out, colour, rng), snr)
            row.update(snr_db=snr, noise=colour)
        gain = float(rng.uniform(*spec.gain_db))
        audio[i] = peak_normalise(audio[i], gain)
        row["gain_db"] = gain
    pcm16 = np.clip(np.round(audio * 32767), -32768, 32767).astype(np.int16)
    return pcm16, pd.DataFrame(rows)


def _meta_arrays(meta: pd.DataFrame) -> dict[str, np.ndarray]:
    """Metadata columns as plain NumPy arrays (text as fixed-width unicode): exact and pickle-free."""
    return {c: meta[c].to_numpy() if pd.api.types.is_numeric_dtype(meta[c]) else meta[c].to_numpy(dtype=str) for c in meta}


def _meta_frame(arrays: dict[str, np.ndarray]) -> pd.DataFrame:
    return pd.DataFrame({c: a.tolist() if a.dtype.kind == "U" else a for c, a in arrays.items()})


def _write_cache(path: Path, pcm16: np.ndarray, meta: pd.DataFrame) -> None:
    """One .npz with the int16 audio and every metadata column; written atomically."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.stem + f".{os.getpid()}.tmp.npz")
    arrays = _meta_arrays(meta)
    np.savez(tmp, audio=pcm16, meta_columns=np.array(list(arrays)), **{f"meta__{c}": a for c, a in arrays.items()})
    tmp.replace(path)  # the cache file appears whole or not at all


def _read_cache(path: Path) -> tuple[np.ndarray, pd.DataFrame]:
    with np.load(path, allow_pickle=False) as z:
        arrays = {c: z[f"meta__{c}"] for c in z["meta_columns"].tolist()}
        return z["audio"], _meta_frame(arrays)


def synth_speech_set(spec: SpeechSetSpec, use_cache: bool = True, name: str = "") -> AudioSet:
    """Generate (or read from the cache) the clips described by ``spec``.

    Returns an :class:`AudioSet` whose ``meta`` has ``text``, ``speaker``, ``voice``,
    ``rate_wpm``, ``pitch``, ``offset_s``, ``snr_db``, ``noise`` and ``gain_db`` per clip.
    """
    if not spec.texts:
        raise ValueError("SpeechSetSpec.texts is empty")
    classes = list(spec.classes or spec.texts)
    if len(classes) != len(spec.texts):
        raise ValueError(f"{len(classes)} class names for {len(spec.texts)} texts")
    path = cache_dir() / f"speech-{spec.key()}.npz"
    if use_cache and path.is_file():
        pcm16, meta = _read_cache(path)
    else:
        pcm16, meta = _generate(spec)
        meta = _meta_frame(_meta_arrays(meta))  # the same column types as a cache read
        if use_cache:
            _write_cache(path, pcm16, meta)
    audio = pcm16.astype(np.float32) / 32767.0
    return AudioSet(audio, meta["label"].to_numpy(np.int64), classes, spec.sample_rate, meta, name or f"speech ({spec.language})")
