"""The synthetic audio notebook's one claim, as tested code: the speech generator is deterministic and
its disk cache returns the clips it generated, sample for sample.

:func:`cache_round_trip` generates a set into a fresh cache and reads it back (timing both);
:func:`evidence` holds the per-clip largest absolute difference; :data:`CLAIM` is judged on it
like every paper claim (an interval over clips; any difference above float rounding refutes it).
"""

from __future__ import annotations

import os
import tempfile
import time
from dataclasses import dataclass

import numpy as np

from ..claims import Claim, Evidence, Statistic
from ..data.audioset import AudioSet
from .speech import SpeechSetSpec, synth_speech_set


@dataclass
class RoundTrip:
    """A set generated uncached (``first``, ``generate_s`` seconds) and read back (``second``, ``read_s``)."""

    first: AudioSet
    second: AudioSet
    generate_s: float
    read_s: float

    @property
    def identical(self) -> bool:
        return bool(np.array_equal(self.first.audio, self.second.audio))


def cache_round_trip(spec: SpeechSetSpec) -> RoundTrip:
    """Generate ``spec`` into a fresh temporary cache, read it again from there; the user's cache is untouched."""
    before = os.environ.get("OODLIB_CACHE_DIR")
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["OODLIB_CACHE_DIR"] = tmp
        try:
            t0 = time.perf_counter()
            first = synth_speech_set(spec)
            t1 = time.perf_counter()
            second = synth_speech_set(spec)
            t2 = time.perf_counter()
        finally:
            if before is None:
                os.environ.pop("OODLIB_CACHE_DIR", None)
            else:
                os.environ["OODLIB_CACHE_DIR"] = before
    return RoundTrip(first, second, t1 - t0, t2 - t1)


def evidence(trip: RoundTrip, data: str = "synthetic") -> dict[str, Evidence]:
    """``"cache"``: per clip, the largest absolute sample difference between generated and cached audio."""
    if trip.first.audio.shape != trip.second.audio.shape:
        diff = np.full(len(trip.first), np.inf)
    else:
        diff = np.abs(trip.first.audio.astype(np.float64) - trip.second.audio.astype(np.float64)).max(axis=1)
    return {"cache": Evidence("cache", {"max_abs_difference": np.nan_to_num(diff, posinf=1e9)}, unit="clip", data=data)}


CLAIM = Claim("synthetic_audio/cache_identical",
              "The speech generator is deterministic and its cache returns identical clips",
              "this project (the embedded default's premise)",
              Statistic(lambda a: float(np.max(a["max_abs_difference"])), "largest absolute sample difference"),
              "cache", "less", 1e-9, "identical means bit-equal; 1e-9 only absorbs float64 rounding of the comparison",
              units="amplitude")


__all__ = ["CLAIM", "RoundTrip", "cache_round_trip", "evidence"]
