"""P4's open-set speech-command data: 10 known words, unknown words, a full and a 10% regime.

Both sources give the same :class:`OpenSetData`: waveforms of the known-word
training set (full) and the 10% subset drawn from it (seeded, stratified by word),
a development set (known words and unknown words, to choose thresholds) and a test
set (known words and *other* unknown words) with about half of its clips unknown.

* ``"synthetic"``: the ten words and unknown words spoken by eSpeak NG; train,
  development and test speakers are disjoint pseudo-speaker pools; development
  and test unknown words are disjoint word lists.
* ``"speech_commands_v0.02_test"`` / ``"speech_commands_v0.02"``: real clips,
  speaker-disjoint train/dev/test splits (60/10/30 % of speakers) of the ten
  words; ``_unknown_`` words split by word into development and test halves.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ...data.audio import load_clips
from ...data.paths import dataset_dir
from ...data.speech_commands import TEN_WORDS, UNKNOWN, load_speech_commands, speaker_disjoint_split
from ...synthetic.speech import SpeechSetSpec, synth_speech_set
from ...synthetic.vocab import EN_KEYWORDS, SPEECH_COMMANDS_WORDS
from .config import SOURCES

DEV_UNKNOWN = tuple(w for w in SPEECH_COMMANDS_WORDS if w not in TEN_WORDS)  # 25 other command words
TEST_UNKNOWN = EN_KEYWORDS[:25]  # everyday English words


@dataclass
class OpenSetData:
    """Waveforms (n, samples) at ``sample_rate`` and labels 0..9 (known) or -1 (unknown)."""

    train_full: tuple[np.ndarray, np.ndarray]
    train_small: tuple[np.ndarray, np.ndarray]
    dev: tuple[np.ndarray, np.ndarray]
    test: tuple[np.ndarray, np.ndarray]
    classes: tuple[str, ...]
    sample_rate: int
    note: str

    def summary(self) -> dict[str, int]:
        out = {}
        for name in ("train_full", "train_small", "dev", "test"):
            y = getattr(self, name)[1]
            out[f"{name}_known"] = int((y >= 0).sum())
            out[f"{name}_unknown"] = int((y < 0).sum())
        return out


def small_subset(y: np.ndarray, fraction: float, seed: int) -> np.ndarray:
    """Indices of a stratified ``fraction`` of each class (at least one clip per class), sorted."""
    if not 0 < fraction <= 1:
        raise ValueError(f"fraction must be in (0, 1], got {fraction}")
    rng = np.random.default_rng(seed)
    keep = [rng.choice(np.flatnonzero(y == c), max(1, int(round(fraction * np.sum(y == c)))), replace=False)
            for c in np.unique(y)]
    return np.sort(np.concatenate(keep))


def _synthetic(n_train: int, n_eval: int, seed: int) -> tuple[dict, str]:
    def speak(texts, n, offset, label):
        s = synth_speech_set(SpeechSetSpec(texts=tuple(texts), n_per_class=n, speaker_offset=offset, seed=seed))
        return s.audio, (s.labels if label is None else np.full(len(s.labels), label))

    n_unknown = max(1, round(10 * n_eval / 25))  # about as many unknown clips as known ones
    parts = {
        "train": speak(TEN_WORDS, n_train, 0, None),
        "dev_known": speak(TEN_WORDS, n_eval, 300, None),
        "dev_unknown": speak(DEV_UNKNOWN, n_unknown, 300, -1),
        "test_known": speak(TEN_WORDS, n_eval, 600, None),
        "test_unknown": speak(TEST_UNKNOWN, n_unknown, 600, -1),
    }
    return parts, ("Synthetic: the ten command words and unknown words spoken by eSpeak NG; disjoint pseudo-speakers "
                   "for train, development and test; development unknowns are the other 25 Speech Commands words, "
                   "test unknowns 25 everyday English words.")


def _real(root: Path, seed: int, max_per_word: int) -> tuple[dict, str]:
    df = load_speech_commands(root)
    df = df[df["label"] != "_silence_"].reset_index(drop=True)
    known = df[df["label"] != UNKNOWN].copy()
    known["part"] = speaker_disjoint_split(known, {"train": 0.6, "dev": 0.1, "test": 0.3}, seed=seed).to_numpy()
    if max_per_word:
        known = known.groupby(["label", "part"], group_keys=False).head(max_per_word)
    unk = df[df["label"] == UNKNOWN]
    words = sorted(unk["word"].unique())
    rng = np.random.default_rng(seed)
    dev_words = set(rng.choice(words, len(words) // 2, replace=False))
    load = lambda d: load_clips(d["path"].tolist(), sample_rate=16000, num_samples=16000)  # noqa: E731
    lab = lambda d: np.array([TEN_WORDS.index(w) for w in d["label"]], dtype=np.int64)  # noqa: E731
    parts = {}
    for p in ("train", "dev", "test"):
        d = known[known["part"] == p]
        parts[p if p == "train" else f"{p}_known"] = (load(d), lab(d))
    for p, sel in (("dev_unknown", unk["word"].isin(dev_words)), ("test_unknown", ~unk["word"].isin(dev_words))):
        d = unk[sel]
        parts[p] = (load(d), np.full(len(d), -1, dtype=np.int64))
    note = (f"Real Speech Commands ({root.name}): the ten words split 60/10/30 by speaker into train/dev/test; "
            f"unknown words split by word: {len(dev_words)} for development, {len(words) - len(dev_words)} for test.")
    return parts, note


def load_open_set(data: str = "synthetic", data_dir: str | Path | None = None, seed: int = 0,
                  small_fraction: float = 0.1, n_train: int = 100, n_eval: int = 20,
                  max_per_word: int = 0) -> OpenSetData:
    """The open-set data for ``data`` (see the module docstring).

    Args:
        small_fraction: size of the limited-data regime relative to the full training set.
        n_train, n_eval: synthetic clips per known word for training and per evaluation set.
        max_per_word: real data: cap clips per word and split (0 = all).
    """
    if data == "synthetic":
        parts, note = _synthetic(n_train, n_eval, seed)
    elif data in SOURCES:
        parts, note = _real(dataset_dir(data, data_dir), seed, max_per_word)
    else:
        raise ValueError(f"parameter 'data' must be one of {SOURCES}, got {data!r}")
    xa, ya = parts["train"]
    small = small_subset(ya, small_fraction, seed)
    cat = lambda a, b: (np.concatenate([a[0], b[0]]), np.concatenate([a[1], b[1]]))  # noqa: E731
    return OpenSetData((xa, ya), (xa[small], ya[small]), cat(parts["dev_known"], parts["dev_unknown"]),
                       cat(parts["test_known"], parts["test_unknown"]), TEN_WORDS, 16000, note)
