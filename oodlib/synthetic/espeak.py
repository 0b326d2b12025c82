"""Offline text-to-speech through eSpeak NG, from the ``espeakng-loader`` wheel.

The wheel ships ``libespeak-ng`` and its voice data, so no system package is
needed. The library is driven with ctypes in synchronous mode: samples arrive
in a callback and are collected into one int16 array per utterance.

Determinism: eSpeak keeps internal state from one utterance to the next (the
same call gives different samples depending on what was said before, even
after re-initialising), but a fresh process always starts from the same state.
:func:`synth_many` therefore splits the requests into fixed chunks and speaks
each chunk in a fresh worker process (``python -m oodlib.synthetic.espeak``): the output depends only on the requests,
never on what the calling process said earlier or on the number of workers.
"""

from __future__ import annotations

import ctypes
import io
import json
import os
import subprocess
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np

_AUDIO_OUTPUT_SYNCHRONOUS = 2
_POS_CHARACTER = 1
_CHARS_UTF8 = 1
_PARAM = {"rate": 1, "volume": 2, "pitch": 3, "range": 4, "wordgap": 7}
_CALLBACK = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.POINTER(ctypes.c_short), ctypes.c_int, ctypes.c_void_p)


@dataclass(frozen=True)
class Voice:
    """An eSpeak voice: language code (``"en"``, ``"es"``...) plus an optional variant (``"m3"``, ``"f2"``)."""

    language: str = "en"
    variant: str = ""

    @property
    def name(self) -> str:
        """eSpeak's voice name, e.g. ``"en+f2"``."""
        return f"{self.language}+{self.variant}" if self.variant else self.language


class EspeakEngine:
    """One initialised eSpeak NG library. Use :func:`get_engine` rather than this directly."""

    def __init__(self) -> None:
        try:
            import espeakng_loader
        except ImportError as err:  # pragma: no cover - listed in requirements
            raise ImportError("synthetic speech needs the espeakng-loader package (pip install espeakng-loader)") from err
        self.lib = ctypes.cdll.LoadLibrary(espeakng_loader.get_library_path())
        self.lib.espeak_Initialize.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_char_p, ctypes.c_int]
        self.lib.espeak_SetVoiceByName.argtypes = [ctypes.c_char_p]
        self.lib.espeak_SetParameter.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_int]
        self.lib.espeak_ng_SetRandSeed.argtypes = [ctypes.c_long]
        self._libc = ctypes.CDLL(None)  # eSpeak also calls libc's rand(): seed it too
        self.lib.espeak_Synth.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_uint, ctypes.c_int,
                                          ctypes.c_uint, ctypes.c_uint, ctypes.c_void_p, ctypes.c_void_p]
        rate = self.lib.espeak_Initialize(_AUDIO_OUTPUT_SYNCHRONOUS, 0, espeakng_loader.get_data_path().encode(), 0)
        if rate <= 0:
            raise RuntimeError(f"eSpeak NG failed to initialise (returned {rate})")
        self.sample_rate = int(rate)
        self._chunks: list[np.ndarray] = []
        self._callback = _CALLBACK(self._collect)  # keep a reference: ctypes must not free it
        self.lib.espeak_SetSynthCallback(self._callback)
        self._lock = threading.Lock()

    def _collect(self, wav: ctypes.POINTER(ctypes.c_short), n: int, events: ctypes.c_void_p) -> int:
        if n > 0:
            self._chunks.append(np.ctypeslib.as_array(wav, shape=(n,)).copy())
        return 0

    def synth(self, text: str, voice: Voice = Voice(), rate: int = 175, pitch: int = 50, pitch_range: int = 50,
              seed: int = 0) -> np.ndarray:
        """Speak ``text``; return int16 samples at :attr:`sample_rate`.

        Args:
            rate: words per minute (eSpeak: 80-450).
            pitch: base pitch 0-100; pitch_range: intonation range 0-100.
            seed: eSpeak varies its output at random (e.g. voice-variant jitter);
                the same seed and arguments give the same samples.

        Raises ``ValueError`` naming the voice if eSpeak does not know it.
        """
        with self._lock:
            if self.lib.espeak_SetVoiceByName(voice.name.encode()) != 0:
                raise ValueError(f"eSpeak NG has no voice {voice.name!r}")
            for key, value in (("rate", rate), ("pitch", pitch), ("range", pitch_range)):
                self.lib.espeak_SetParameter(_PARAM[key], int(value), 0)
            self.lib.espeak_ng_SetRandSeed(int(seed))
            self._libc.srand(ctypes.c_uint(int(seed) & 0xFFFFFFFF))
            self._chunks = []
            data = text.encode("utf-8") + b"\0"
            self.lib.espeak_Synth(data, len(data), 0, _POS_CHARACTER, 0, _CHARS_UTF8, None, None)
            self.lib.espeak_Synchronize()
            return np.concatenate(self._chunks) if self._chunks else np.zeros(0, dtype=np.int16)


_ENGINE: EspeakEngine | None = None


def get_engine() -> EspeakEngine:
    """The process's eSpeak engine, initialised on first use."""
    global _ENGINE
    if _ENGINE is None:
        _ENGINE = EspeakEngine()
    return _ENGINE


@dataclass(frozen=True)
class Request:
    """One utterance for :func:`synth_many`."""

    text: str
    voice: Voice = Voice()
    rate: int = 175
    pitch: int = 50
    pitch_range: int = 50
    seed: int = 0


def _speak_chunk(requests: list[Request]) -> tuple[int, list[np.ndarray]]:
    engine = get_engine()
    return engine.sample_rate, [engine.synth(r.text, r.voice, r.rate, r.pitch, r.pitch_range, r.seed) for r in requests]


def _encode(requests: list[Request]) -> bytes:
    return json.dumps([[r.text, r.voice.language, r.voice.variant, r.rate, r.pitch, r.pitch_range, r.seed]
                       for r in requests]).encode("utf-8")


def _decode(payload: bytes) -> list[Request]:
    return [Request(t, Voice(lang, var), rate, pitch, rng, seed) for t, lang, var, rate, pitch, rng, seed in json.loads(payload)]


def _worker_main() -> None:
    """``python -m oodlib.synthetic.espeak``: requests as JSON on stdin, an .npz on stdout."""
    rate, pcms = _speak_chunk(_decode(sys.stdin.buffer.read()))
    buf = io.BytesIO()
    np.savez(buf, rate=np.array(rate), lengths=np.array([len(p) for p in pcms]),
             samples=np.concatenate(pcms) if pcms else np.zeros(0, np.int16))
    sys.stdout.buffer.write(buf.getvalue())


def _collect_worker(proc: subprocess.Popen, payload: bytes) -> tuple[int, list[np.ndarray]]:
    out, err = proc.communicate(payload)
    if proc.returncode != 0:
        raise RuntimeError(f"eSpeak worker failed (exit {proc.returncode}): {err.decode(errors='replace')[-2000:]}")
    with np.load(io.BytesIO(out)) as z:
        bounds = np.cumsum(np.r_[0, z["lengths"]])
        return int(z["rate"]), [z["samples"][a:b].astype(np.int16) for a, b in zip(bounds[:-1], bounds[1:])]


def synth_many(requests: list[Request], chunk: int = 200, workers: int | None = None) -> tuple[int, list[np.ndarray]]:
    """Speak many utterances reproducibly; return eSpeak's sample rate and int16 arrays.

    Each block of ``chunk`` requests is spoken by a fresh ``python -m
    oodlib.synthetic.espeak`` process (at most ``workers`` at a time, default:
    the CPU count), so the same requests always give the same samples, from a
    notebook, a script or a test alike.
    """
    if not requests:
        return 0, []
    blocks = [requests[i : i + chunk] for i in range(0, len(requests), chunk)]
    workers = max(1, min(workers or os.cpu_count() or 1, len(blocks)))
    results: list[tuple[int, list[np.ndarray]]] = []
    cmd = [sys.executable, "-m", "oodlib.synthetic.espeak"]
    for start in range(0, len(blocks), workers):
        wave = blocks[start : start + workers]
        procs = [subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE) for _ in wave]
        with ThreadPoolExecutor(len(wave)) as pool:
            results += list(pool.map(_collect_worker, procs, [_encode(b) for b in wave]))
    return results[0][0], [pcm for _, out in results for pcm in out]


if __name__ == "__main__":
    _worker_main()
