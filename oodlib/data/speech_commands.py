"""Google Speech Commands v0.02: the full release and the test-set layout.

* Full release: ``<word>/<speaker>_nohash_<n>.wav`` for 35 words,
  ``_background_noise_/``, and ``validation_list.txt`` / ``testing_list.txt``
  (the official split; everything else is training).
* Test-set layout (``speech_commands_test_set_v0.02`` and the subset in
  ``../shared/data``): the 10 command words, ``_unknown_/<word>_<speaker>_nohash_<n>.wav``
  (doubled ``.wav.wav`` names accepted) and ``_silence_/<n>.wav``.

The speaker id is the 8-hex-digit part of the file name; use
:func:`speaker_disjoint_split` to keep a speaker's clips on one side of a split.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path

import numpy as np
import pandas as pd

from .folders import is_audio_file

TEN_WORDS = ("yes", "no", "up", "down", "left", "right", "on", "off", "stop", "go")
UNKNOWN, SILENCE = "_unknown_", "_silence_"
_SPEAKER = re.compile(r"([0-9a-f]{8})_nohash_(\d+)")


def parse_speaker(path: str | Path) -> str | None:
    """Speaker id from a Speech Commands file name, or ``None`` (e.g. silence clips)."""
    m = _SPEAKER.search(Path(path).name)
    return m.group(1) if m else None


def _rows(folder: Path, label: str, word: str | None, split: str) -> list[dict]:
    rows = []
    for p in sorted(folder.iterdir()):
        if not is_audio_file(p):
            continue
        w = word if word is not None else p.name.split("_")[0]
        rows.append({"path": p, "label": label, "word": w, "speaker": parse_speaker(p), "split": split})
    return rows


def load_speech_commands(root: str | Path, words: tuple[str, ...] = TEN_WORDS) -> pd.DataFrame:
    """Index a Speech Commands folder (either layout).

    Returns:
        DataFrame with columns ``path``, ``label`` (one of ``words``, ``_unknown_``
        or ``_silence_``), ``word`` (the spoken word; ``_silence_`` for noise),
        ``speaker`` (None for silence) and ``split`` (``train``/``validation``/
        ``test`` in the full release, ``test`` in the test-set layout).
        ``df.attrs["layout"]`` is ``"full"`` or ``"test"``.
    """
    root = Path(root)
    if not root.is_dir():
        raise FileNotFoundError(f"Speech Commands folder {root} does not exist")
    missing = [w for w in words if not (root / w).is_dir()]
    if missing:
        raise FileNotFoundError(f"{root} lacks the word folder(s) {missing}: is this a Speech Commands v0.02 folder?")
    if (root / "testing_list.txt").is_file() and (root / "validation_list.txt").is_file():
        df = _load_full(root, words)
        df.attrs["layout"] = "full"
    elif (root / UNKNOWN).is_dir():
        rows = [r for w in words for r in _rows(root / w, w, w, "test")]
        rows += _rows(root / UNKNOWN, UNKNOWN, None, "test")
        if (root / SILENCE).is_dir():
            rows += _rows(root / SILENCE, SILENCE, SILENCE, "test")
        df = pd.DataFrame(rows)
        df.attrs["layout"] = "test"
    else:
        raise FileNotFoundError(
            f"{root} has neither testing_list.txt/validation_list.txt (full release) nor {UNKNOWN}/ (test-set layout)"
        )
    df.attrs["root"] = str(root)
    return df


def _load_full(root: Path, words: tuple[str, ...]) -> pd.DataFrame:
    lists = {s: set((root / f"{s}ing_list.txt" if s == "test" else root / "validation_list.txt").read_text().split())
             for s in ("test", "validation")}
    rows = []
    for folder in sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith("_")):
        label = folder.name if folder.name in words else UNKNOWN
        for r in _rows(folder, label, folder.name, "train"):
            rel = f"{folder.name}/{r['path'].name}"
            r["split"] = "test" if rel in lists["test"] else "validation" if rel in lists["validation"] else "train"
            rows.append(r)
    return pd.DataFrame(rows)


def speaker_disjoint_split(df: pd.DataFrame, fractions: Mapping[str, float], seed: int = 0) -> pd.Series:
    """Assign each clip to a split so that no speaker appears in two splits.

    Speakers are shuffled with ``seed`` and cut by the cumulative ``fractions``
    (e.g. ``{"train": 0.7, "test": 0.3}``; they must sum to 1). Clips without a
    speaker (silence) are split clip by clip with the same seed.

    Returns:
        A Series of split names aligned with ``df.index``.
    """
    names, fr = list(fractions), np.array(list(fractions.values()), dtype=float)
    if np.any(fr < 0) or not np.isclose(fr.sum(), 1.0):
        raise ValueError(f"fractions must be non-negative and sum to 1, got {dict(fractions)}")
    rng = np.random.default_rng(seed)
    edges = np.cumsum(fr)

    def assign(keys: np.ndarray) -> dict:
        order = rng.permutation(len(keys))
        pos = (np.argsort(order) + 0.5) / max(len(keys), 1)
        return {k: names[int(np.searchsorted(edges, p))] for k, p in zip(keys, pos)}

    out = pd.Series(index=df.index, dtype=object)
    has = df["speaker"].notna()
    speakers = np.array(sorted(df.loc[has, "speaker"].unique()))
    mapping = assign(speakers)
    out[has] = df.loc[has, "speaker"].map(mapping)
    if (~has).any():
        clip_map = assign(np.array(df.index[~has]))
        out[~has] = [clip_map[i] for i in df.index[~has]]
    return out
