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
from collections.abc import Mapping, Sequence
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


def speech_commands_ood_index(
    root: str | Path,
    splits: Sequence[str] | None = ("test",),
    classes: str = "paper12",
) -> pd.DataFrame:
    """Speech Commands v0.02 test clips as an OOD set with P1's 12 classes (file listing only, no audio read).

    The 12 classes ("spoken commands detection, 12 classes"): the 10 words of :data:`TEN_WORDS`,
    ``_unknown_`` (the other 25 words) and ``_silence_``. Only the test split exists here:

    * full release: the clips named in ``testing_list.txt``. It has no silence clips, only the long
      recordings in ``_background_noise_/``; these are listed with label ``_silence_`` and
      ``long_file=True`` (cutting them into 1 s clips is left to the caller).
    * test-set layout: every clip; ``_silence_/`` holds ready 1 s noise clips (``long_file=False``).

    Args:
        root: a Speech Commands v0.02 folder in either layout (see :func:`load_speech_commands`).
        splits: must be ``("test",)`` (or ``None``, the same).
        classes: ``"paper12"`` (the only class set).

    Returns:
        Columns ``path`` (absolute str), ``label``, ``split`` ("test"), ``split_native`` (``testing_list.txt``
        or ``test set``), ``speaker`` (None for noise), ``word`` and ``long_file`` (bool).
    """
    if classes != "paper12":
        raise ValueError(f"speech_commands_ood_index: classes must be 'paper12', got {classes!r}")
    if splits is not None and list(splits) != ["test"]:
        raise ValueError(f"speech_commands_ood_index: only the test split is indexed, got splits={splits!r}")
    df = load_speech_commands(root)
    full = df.attrs["layout"] == "full"
    rows = df[df["split"] == "test"].assign(long_file=False)
    noise = Path(root) / "_background_noise_"
    if full and noise.is_dir():
        long = [{"path": p, "label": SILENCE, "word": SILENCE, "speaker": None, "split": "test", "long_file": True}
                for p in sorted(noise.iterdir()) if is_audio_file(p)]
        rows = pd.concat([rows, pd.DataFrame(long)], ignore_index=True)
    if rows.empty:
        raise ValueError(f"speech_commands_ood_index: no test clips in {root} (is testing_list.txt empty?)")
    rows = rows.assign(path=[str(Path(p).absolute()) for p in rows["path"]],
                       split_native="testing_list.txt" if full else "test set")
    cols = ["path", "label", "split", "split_native", "speaker", "word", "long_file"]
    out = rows[cols].sort_values("path", ignore_index=True)
    out["speaker"] = out["speaker"].astype(object).where(out["speaker"].notna(), None)
    out.attrs.update(
        dataset="speech_commands_v0.02", classes=sorted(out["label"].unique()), root=str(Path(root).absolute()),
        layout=df.attrs["layout"],
        split_source="official testing_list.txt (+ _background_noise_ long files as _silence_)" if full
        else "official test-set archive (every clip)",
    )
    return out
