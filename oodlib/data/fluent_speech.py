"""Fluent Speech Commands (P1 OOD set: "action recognition, 6 classes"): index of the release layout.

Layout (``fluent_speech_commands_dataset/`` as unpacked; the wrapping folder is accepted)::

    data/{train,valid,test}_data.csv   ,path,speakerId,transcription,action,object,location
    wavs/speakers/<speakerId>/<utterance>.wav   16 kHz mono

The CSVs are the official split (``valid`` maps to ``"dev"``); their first, unnamed column is a row index
and ``path`` is relative to the dataset folder. The six classes P1 counts are the ``action`` slot values.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from .native_index import check_splits, dataset_root, finish_index, read_listing_csv, resolve_listed

NATIVE = {"train": "train", "dev": "valid", "test": "test"}
COLUMNS = ("path", "speakerId", "transcription", "action", "object", "location")
LABELS = ("action", "object", "location", "intent")


def _is_root(p: Path) -> bool:
    return (p / "data").is_dir() and (p / "wavs").is_dir()


def fluent_speech_index(
    root: str | Path,
    splits: Sequence[str] | None = ("test",),
    label: str = "action",
) -> pd.DataFrame:
    """Index Fluent Speech Commands from ``data/<split>_data.csv`` (no audio is read).

    Args:
        root: the dataset folder (holding ``data/`` and ``wavs/``) or the folder directly above it.
        splits: splits to return (``None``: all); ``"dev"`` reads ``valid_data.csv``.
        label: which column is ``label``: ``"action"`` (default, P1's 6 classes), ``"object"``,
            ``"location"`` or ``"intent"`` (``<action>_<object>_<location>``, 31 intents).

    Returns:
        One row per utterance: ``path``, ``label``, ``split``, ``split_native`` (train/valid/test),
        ``speaker`` (``speakerId``), ``transcription``, ``action``, ``object``, ``location``.

    Raises:
        FileNotFoundError: no ``data/`` + ``wavs/`` at ``root``; a requested split CSV is missing; a listed
            wav is missing (count and first names).
        ValueError: bad ``splits`` or ``label``; a CSV lacks a column; no rows.
    """
    wanted = check_splits(splits, "Fluent Speech Commands")
    if label not in LABELS:
        raise ValueError(f"Fluent Speech Commands: label must be one of {list(LABELS)}, got {label!r}")
    base = dataset_root(root, "Fluent Speech Commands", _is_root, "data/*_data.csv and wavs/speakers/")
    parts = []
    for split in wanted:
        csv = base / "data" / f"{NATIVE[split]}_data.csv"
        table = read_listing_csv(csv, COLUMNS)
        paths = resolve_listed([base / p for p in table["path"]], csv)
        intent = table["action"] + "_" + table["object"] + "_" + table["location"]
        parts.append(pd.DataFrame({
            "path": paths, "label": intent if label == "intent" else table[label], "split": split,
            "split_native": NATIVE[split], "speaker": [s or None for s in table["speakerId"]],
            **{c: table[c] for c in ("transcription", "action", "object", "location")},
        }))
    rows = pd.concat(parts, ignore_index=True)
    return finish_index(rows, "fluent_speech_commands", "official data/{train,valid,test}_data.csv", base, wanted)
