"""Multilingual Spoken Words Corpus (P1: Micro-EN as ID set, Micro-ES as OOD set): per-language release index.

Layout of one language (``audio/<lang>.tar.gz`` and ``splits/<lang>.tar.gz`` from MLCommons, extracted into
one folder; the audio archive's wrapping ``<lang>/`` folder is accepted)::

    <lang>/clips/<word>/<clip>.opus     e.g. en/clips/aachen/common_voice_en_18833718.opus (Ogg Opus)
    <lang>_splits.csv                   SET,LINK,WORD,VALID,SPEAKER,GENDER (SET: TRAIN/DEV/TEST;
                                        LINK: <word>/<clip>.opus, relative to clips/)
    <lang>_{train,dev,test}.csv, version.txt   (per-split copies; not read)

``SET`` is the official split. Clips converted to ``.wav`` (or ``.flac``) beside or instead of the opus
files are found by stem. Ogg Opus decodes through soundfile (libsndfile >= 1.0.29), so
:func:`oodlib.data.audio.read_audio` reads the opus clips as they are.

P1's Micro-EN (31 keywords) and Micro-ES (20 keywords) lists are not published in the paper, so
``keywords`` is a parameter: pass the subset's list; ``None`` takes every keyword in the split CSV.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from .native_index import check_splits, dataset_root, finish_index, read_listing_csv, resolve_listed

COLUMNS = ("SET", "LINK", "WORD", "VALID", "SPEAKER", "GENDER")
NATIVE = {"train": "TRAIN", "dev": "DEV", "test": "TEST"}
LANGUAGES = ("en", "es")


def _splits_csv(root: Path, base: Path, clips: Path, language: str) -> Path:
    name = f"{language}_splits.csv"
    folders = [root, root / "splits", base, base / "splits", clips.parent]
    if clips.parent.name == language:  # both archives extracted side by side: <lang>/ and <lang>_splits.csv
        folders.append(clips.parent.parent)
    tried = list(dict.fromkeys(f / name for f in folders))
    found = next((p for p in tried if p.is_file()), None)
    if found is None:
        raise FileNotFoundError(
            f"MSWC ({language}): split file {name} not found (tried {', '.join(map(str, tried))}); "
            f"extract splits/{language}.tar.gz from MLCommons there or pass splits_csv"
        )
    return found


def mswc_index(
    root: str | Path,
    splits: Sequence[str] | None = ("test",),
    language: str = "en",
    keywords: Sequence[str] | None = None,
    splits_csv: str | Path | None = None,
) -> pd.DataFrame:
    """Index one MSWC language from ``<lang>_splits.csv`` (no audio is read).

    Args:
        root: folder holding ``clips/`` or ``<language>/clips/`` (and the split CSV).
        splits: splits to return (``None``: all).
        language: ``"en"`` (Micro-EN) or ``"es"`` (Micro-ES); any other MSWC code is accepted as well.
        keywords: the keywords (``WORD`` values) to keep; ``None`` = every keyword in the split CSV (P1 does
            not list its 31 Micro-EN / 20 Micro-ES keywords, so pass the subset's list to reproduce it).
        splits_csv: the split CSV; default ``<language>_splits.csv`` found in ``root``, ``root/splits/``,
            the dataset folder (or its ``splits/``), beside ``clips/`` or beside the ``<language>/`` folder.

    Returns:
        One row per clip: ``path`` (``clips/<LINK>``, or the same stem as ``.wav``/``.flac``), ``label``
        (keyword), ``split``, ``split_native`` (TRAIN/DEV/TEST), ``speaker`` (``SPEAKER``, None when empty),
        ``gender`` (``GENDER``), ``valid`` (bool, ``VALID``), ``language``.

    Raises:
        FileNotFoundError: no ``clips/`` folder; no split CSV; a listed clip is missing (count, first names).
        ValueError: bad ``splits``/``language``; CSV columns missing or an unknown ``SET`` value; a requested
            keyword absent from the CSV; no rows.
    """
    wanted = check_splits(splits, "MSWC")
    if not (isinstance(language, str) and language.isalpha() and 2 <= len(language) <= 3):
        raise ValueError(f"MSWC: language must be an MSWC language code such as {list(LANGUAGES)}, got {language!r}")
    given = Path(root).expanduser().absolute()

    def is_root(p: Path) -> bool:  # a bare clips/ counts in root itself or in a folder named after the language
        return (p / language / "clips").is_dir() or ((p == given or p.name == language) and (p / "clips").is_dir())

    base = dataset_root(root, f"MSWC ({language})", is_root, f"{language}/clips/ (or clips/ in {given})")
    clips = base / "clips" if (base / "clips").is_dir() else base / language / "clips"
    csv = Path(splits_csv) if splits_csv is not None else _splits_csv(given, base, clips, language)
    table = read_listing_csv(csv, COLUMNS)
    bad_sets = sorted(set(table["SET"].str.upper()) - set(NATIVE.values()))
    if bad_sets:
        raise ValueError(f"{csv}: unknown SET value(s) {bad_sets}; expected {list(NATIVE.values())}")
    if keywords is not None:
        absent = sorted(set(keywords) - set(table["WORD"]))
        if absent:
            raise ValueError(f"MSWC ({language}): keyword(s) {absent} do not occur in {csv}")
        table = table[table["WORD"].isin(list(keywords))]
    native = table["SET"].str.upper()
    table = table[native.isin([NATIVE[s] for s in wanted])]
    paths = resolve_listed([clips / link for link in table["LINK"]], csv)
    rows = pd.DataFrame({
        "path": paths, "label": table["WORD"].to_numpy(),
        "split": table["SET"].str.lower().to_numpy(), "split_native": table["SET"].str.upper().to_numpy(),
        "speaker": [s or None for s in table["SPEAKER"]], "gender": table["GENDER"].to_numpy(),
        "valid": (table["VALID"].str.lower() == "true").to_numpy(), "language": language,
    })
    chosen = "every keyword" if keywords is None else f"{len(set(keywords))} given keywords"
    return finish_index(rows, f"mswc_{language}", f"official {csv.name} (SET column); {chosen}", base, wanted)
