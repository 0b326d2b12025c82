"""The parameters of ``notebooks/00_synthetic_audio.ipynb`` (listening to the embedded data), validated."""

from __future__ import annotations

from dataclasses import dataclass

from ..config import RunConfig, at_least, one_of

SOURCES = ("synthetic", "speech_commands_v0.02_test")
TIMING_WORDS = 10  # the timing set speaks the ten command words, timing_clips // 10 clips each


@dataclass(frozen=True)
class SyntheticAudioConfig(RunConfig):
    """Parameters of ``notebooks/00_synthetic_audio.ipynb`` (see its parameters cell)."""

    clips_per_class: int = 2  # clips shown per class
    timing_clips: int = 3000  # clips generated (uncached) to measure the generator's speed

    def check(self) -> None:
        super().check()
        one_of("data", self.data, SOURCES)
        at_least("clips_per_class", self.clips_per_class, 1, 100)
        at_least("timing_clips", self.timing_clips, TIMING_WORDS, 100_000)


__all__ = ["SOURCES", "SyntheticAudioConfig"]
