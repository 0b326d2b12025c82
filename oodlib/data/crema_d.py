"""CREMA-D (P1 OOD set: emotion recognition, 6 classes): index of the release layout.

Layout (the CREMA-D repository, audio in git-lfs; a wrapping ``CREMA-D/`` folder is accepted)::

    AudioWAV/<actor>_<sentence>_<emotion>_<level>.wav   7,442 clips, 91 actors (1001-1091)
    VideoDemographics.csv                               "ActorID","Age","Sex","Race","Ethnicity" (optional)

``<sentence>`` is one of the 12 sentence codes (:data:`SENTENCES`), ``<emotion>`` one of ANG DIS FEA HAP
NEU SAD and ``<level>`` LO/MD/HI or XX (unspecified). CREMA-D ships no train/test split. Default rule
(``test_fraction=None``): every clip is ``"test"``, as P1 uses CREMA-D only as an OOD test set. With a
fraction, the split is actor-disjoint: actor ids sorted numerically, the last ``ceil(fraction * n)``
actors are ``"test"`` and the rest ``"train"``.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from .native_index import INDEX_EXTENSIONS, check_splits, dataset_root, finish_index

EMOTIONS = {"ANG": "anger", "DIS": "disgust", "FEA": "fear", "HAP": "happy", "NEU": "neutral", "SAD": "sad"}
LEVELS = ("LO", "MD", "HI", "XX")
SENTENCES = ("DFA", "IEO", "IOM", "ITH", "ITS", "IWL", "IWW", "MTI", "TAI", "TIE", "TSI", "WSI")
_NAME = re.compile(
    rf"^(?P<actor>\d{{4}})_(?P<sentence>{'|'.join(SENTENCES)})_(?P<emotion>{'|'.join(EMOTIONS)})"
    rf"_(?P<level>{'|'.join(LEVELS)})$"
)


def _parse(path: Path) -> dict:
    m = _NAME.match(path.stem)
    if m is None:
        raise ValueError(
            f"CREMA-D: file name {path.name!r} ({path}) is not <actor>_<sentence>_<emotion>_<level>.wav "
            f"(actor: 4 digits; sentence: {'/'.join(SENTENCES)}; emotion: {'/'.join(EMOTIONS)}; "
            f"level: {'/'.join(LEVELS)})"
        )
    return m.groupdict()


def _sexes(base: Path) -> dict[str, str]:
    """Actor id -> ``Sex`` from ``VideoDemographics.csv`` when the release holds it, else empty."""
    table = base / "VideoDemographics.csv"
    if not table.is_file():
        return {}
    demo = pd.read_csv(table, dtype=str, keep_default_na=False)
    if not {"ActorID", "Sex"} <= set(demo.columns):
        raise ValueError(f"{table}: missing column(s) ActorID/Sex; found {list(demo.columns)}")
    return dict(zip(demo["ActorID"].str.strip(), demo["Sex"].str.strip().str.lower()))


def crema_d_index(
    root: str | Path,
    splits: Sequence[str] | None = ("test",),
    test_fraction: float | None = None,
    audio_dir: str = "AudioWAV",
) -> pd.DataFrame:
    """Index the CREMA-D clips in ``<root>/<audio_dir>`` (file names only; no audio is read).

    Args:
        root: the CREMA-D folder (holding ``AudioWAV/``) or the folder directly above it.
        splits: splits to return (``None``: all).
        test_fraction: ``None`` (default): every clip is ``"test"``. A fraction in (0, 1): actor-disjoint
            split, the numerically last ``ceil(fraction * n_actors)`` actors are ``"test"``, the rest ``"train"``.
        audio_dir: ``AudioWAV`` (16 kHz WAV) or ``AudioMP3``.

    Returns:
        One row per clip: ``path``, ``label`` (emotion name: anger, disgust, fear, happy, neutral, sad),
        ``split``, ``speaker`` (= ``actor``, e.g. ``"1001"``), ``actor``, ``sentence`` (code), ``emotion``
        (code, e.g. ``"ANG"``), ``level`` (LO/MD/HI/XX), ``sex`` (from ``VideoDemographics.csv``, else None).
        Files that are not audio (e.g. ``.DS_Store``) are skipped.

    Raises:
        FileNotFoundError: no ``<audio_dir>/`` at ``root`` or one level below.
        ValueError: bad ``splits``/``test_fraction``; an audio file whose name does not parse (named); no clips.
    """
    wanted = check_splits(splits, "CREMA-D")
    if test_fraction is not None and not 0 < test_fraction < 1:
        raise ValueError(f"CREMA-D: test_fraction must be None or in (0, 1), got {test_fraction}")
    base = dataset_root(root, "CREMA-D", lambda p: (p / audio_dir).is_dir(), f"{audio_dir}/")
    files = sorted(p for p in (base / audio_dir).iterdir() if p.is_file() and p.suffix.lower() in INDEX_EXTENSIONS)
    rows = pd.DataFrame([{"path": str(p), **_parse(p)} for p in files],
                        columns=["path", "actor", "sentence", "emotion", "level"])
    actors = sorted(rows["actor"].unique(), key=int)
    if test_fraction is None:
        split, source = "test", "no official split: every clip as test (P1 uses CREMA-D only as OOD test data)"
    else:
        n_test = math.ceil(test_fraction * len(actors))
        test_actors = set(actors[len(actors) - n_test:])
        split = rows["actor"].map(lambda a: "test" if a in test_actors else "train")
        source = f"no official split: actor-disjoint, the last {n_test} of {len(actors)} sorted actor ids as test"
    sexes = _sexes(base)
    rows = rows.assign(
        label=rows["emotion"].map(EMOTIONS), split=split, speaker=rows["actor"],
        sex=[sexes.get(a) for a in rows["actor"]],
    )
    rows = rows[rows["split"].isin(wanted)]
    cols = ["path", "label", "split", "speaker", "actor", "sentence", "emotion", "level", "sex"]
    return finish_index(rows[cols], "crema_d", source, base, wanted)
