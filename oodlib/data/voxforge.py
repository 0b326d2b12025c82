"""VoxForge language-ID subset (P1 OOD set: 6 languages), as defined by TensorFlow Datasets ``voxforge``.

TFDS's ``voxforge`` (v1.0.0) takes the 16 kHz/16-bit submission archives of six languages, ``de en es fr
it ru``, from ``www.repository.voxforge1.org/downloads/<lang>/Trunk/Audio/Main/16kHz_16bit/`` (its
``voxforge_urls.txt`` list, recordings before 2020-01-01). Each archive ``<speaker>-<yyyymmdd>-<id>.tgz``
extracts to ``<archive>/wav/*.wav`` plus ``<archive>/etc/`` (README, PROMPTS). This module indexes the
extracted archives under ``root``: every audio file whose path (relative to ``root``) contains a language
folder (one of :data:`LANGUAGES`; VoxForge's English folder ``SpeechCorpus`` counts as ``en``)::

    <root>/[...]/<lang>/[...]/<archive>/wav/<clip>.wav     (``flac/`` and other audio extensions accepted)

Split: TFDS publishes no split lists; it computes a speaker-disjoint split (train 0.7 / validation 0.1 /
test 0.2 of the sorted speaker ids, shuffled with ``numpy.random.RandomState(0)``, speaker = archive name
before the first ``-``, over all languages together). That rule is applied here to the speakers found; it
reproduces TFDS's assignment only when the same archives (all of ``voxforge_urls.txt``) are present.
Split list files, when present, take precedence: ``split_lists`` or, by default, ``<root>/splits/
{train,validation,test}.txt`` (a project convention, not a TFDS file), one archive name per line (a
``.tgz`` name or URL also works). TFDS's ``validation`` maps to ``"dev"``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from .native_index import INDEX_EXTENSIONS, SHOW_MISSING, check_splits, dataset_root, finish_index

LANGUAGES = ("de", "en", "es", "fr", "it", "ru")
NATIVE = {"train": "train", "dev": "validation", "test": "test"}
TFDS_FRACTIONS = (("train", 0.7), ("validation", 0.1), ("test", 0.2))
_FOLDER_LANGUAGE = {**{lang: lang for lang in LANGUAGES}, "SpeechCorpus": "en"}
_AUDIO_FOLDERS = {"wav", "flac", "mp3", "ogg"}


def _clip_rows(root: Path) -> pd.DataFrame:
    """One row per audio file under ``root``: path, language, archive, speaker."""
    rows = []
    for p in sorted(root.rglob("*")):
        if p.suffix.lower() not in INDEX_EXTENSIONS or not p.is_file():
            continue
        parts = p.relative_to(root).parts
        language = next((_FOLDER_LANGUAGE[q] for q in parts[:-1] if q in _FOLDER_LANGUAGE), None)
        if language is None:
            raise ValueError(
                f"VoxForge: {p} lies in no language folder ({'/'.join(LANGUAGES)} or SpeechCorpus) under {root}"
            )
        archive = parts[-3] if len(parts) >= 3 and parts[-2].lower() in _AUDIO_FOLDERS else parts[-2]
        rows.append({"path": str(p), "language": language, "archive": archive, "speaker": archive.split("-")[0]})
    return pd.DataFrame(rows, columns=["path", "language", "archive", "speaker"])


def _tfds_rule(speakers: Sequence[str], seed: int) -> dict[str, str]:
    """Speaker -> TFDS split name: sorted ids shuffled by ``RandomState(seed)``, cut at 0.7 / 0.8 of the count."""
    groups = sorted(set(speakers))
    np.random.RandomState(seed).shuffle(groups)
    out, acc = {}, 0.0
    for i, (name, fraction) in enumerate(TFDS_FRACTIONS):
        start = int(acc * len(groups))
        acc += fraction
        stop = len(groups) if i == len(TFDS_FRACTIONS) - 1 else int(acc * len(groups))
        out.update((g, name) for g in groups[start:stop])
    return out


def _archive_name(line: str) -> str:
    name = line.strip().replace("\\", "/").rstrip("/").split("/")[-1]
    return name[: -len(".tgz")] if name.endswith(".tgz") else name


def _read_lists(lists: Mapping[str, str | Path], archives: set[str]) -> dict[str, str]:
    """Archive -> TFDS split name from the list files; errors name the file and the first missing archives."""
    out: dict[str, str] = {}
    for name, file in lists.items():
        if name not in NATIVE.values():
            raise ValueError(f"VoxForge: split list key {name!r} is not one of {list(NATIVE.values())}")
        file = Path(file)
        if not file.is_file():
            raise FileNotFoundError(f"VoxForge split list {file} does not exist")
        listed = [_archive_name(x) for x in file.read_text().splitlines() if x.strip() and not x.startswith("#")]
        missing = [a for a in listed if a not in archives]
        if missing:
            raise FileNotFoundError(
                f"{len(missing)} of {len(listed)} archive(s) listed in {file} are not under the data folder, "
                f"e.g. {missing[:SHOW_MISSING]}"
            )
        twice = [a for a in listed if out.get(a, name) != name]
        if twice:
            raise ValueError(f"VoxForge: archive(s) {twice[:SHOW_MISSING]} in {file} are listed in another split too")
        out.update((a, name) for a in listed)
    return out


def voxforge_index(
    root: str | Path,
    splits: Sequence[str] | None = ("test",),
    languages: Sequence[str] = LANGUAGES,
    split_lists: Mapping[str, str | Path] | None = None,
    seed: int = 0,
) -> pd.DataFrame:
    """Index extracted VoxForge archives (file listing only; no audio is read).

    Args:
        root: folder holding the language folders (at any depth, e.g. the ``wget -x`` tree
            ``www.repository.voxforge1.org/downloads/<lang>/...``).
        splits: splits to return (``None``: all).
        languages: language codes to keep (the split is computed over every language found first).
        split_lists: ``{"train"|"validation"|"test": file}`` of archive names; default ``root/splits/
            {train,validation,test}.txt`` when any exists, else the TFDS speaker rule with ``seed``.
        seed: seed of the TFDS rule (TFDS uses 0).

    Returns:
        One row per clip: ``path``, ``label`` (= ``language``, e.g. ``"de"``), ``split``, ``split_native``
        (train/validation/test), ``speaker`` (archive name before the first ``-``; ``anonymous`` is one
        speaker, as in TFDS), ``language``, ``archive``.

    Raises:
        FileNotFoundError: ``root`` missing; a split list file or a listed archive is missing.
        ValueError: bad ``splits``/``languages``; an audio file outside any language folder; no clips.
    """
    wanted = check_splits(splits, "VoxForge")
    bad = [lang for lang in languages if lang not in LANGUAGES]
    if bad or not languages:
        raise ValueError(f"VoxForge: unknown language(s) {bad or languages}; expected some of {list(LANGUAGES)}")
    base = dataset_root(root, "VoxForge", lambda p: True, "language folders")
    clips = _clip_rows(base)
    if clips.empty:
        raise ValueError(f"VoxForge: no audio files ({', '.join(INDEX_EXTENSIONS)}) under {base}")
    if split_lists is None:
        found = {n: base / "splits" / f"{n}.txt" for n in NATIVE.values()}
        split_lists = {n: f for n, f in found.items() if f.is_file()}
    if split_lists:
        by_archive = _read_lists(split_lists, set(clips["archive"]))
        native = clips["archive"].map(by_archive)
        unlisted = sorted(set(clips.loc[native.isna(), "archive"]))
        source = "split lists " + ", ".join(str(f) for f in split_lists.values()) + (
            f"; {len(unlisted)} archive(s) listed in none of them are in no split (first: {', '.join(unlisted[:3])})"
            if unlisted else "")
    else:
        native = clips["speaker"].map(_tfds_rule(clips["speaker"], seed))
        source = f"TFDS voxforge rule: speaker-disjoint 0.7/0.1/0.2, RandomState({seed}) over the speakers found"
    dev = {v: k for k, v in NATIVE.items()}
    clips = clips.assign(split_native=native, split=native.map(dev), label=clips["language"])
    clips = clips[clips["split"].isin(wanted) & clips["language"].isin(list(languages))]
    cols = ["path", "label", "split", "split_native", "speaker", "language", "archive"]
    return finish_index(clips[cols], "voxforge", source, base, wanted)
