"""VocalSound (P1 ID set, 6 classes): index of the 16 kHz release (``vs_release_16k.zip``).

Layout (a wrapping folder from the zip is accepted)::

    audio_16k/<speaker>_<n>_<label>.wav     e.g. f0003_0_cough.wav (f/m + id, n-th recording session)
    datafiles/{tr,val,te}.json              {"data": [{"wav": "<path>", "labels": "/m/01b_21"}, ...]}
    class_labels_indices_vs.csv             index,mid,display_name (AudioSet mids of the six classes)

The JSON files are the official train/validation/test split (``tr``/``val``/``te`` map to
``train``/``dev``/``test``). Their ``wav`` entries are absolute paths on the authors' machine, so each is
resolved by its file name under ``audio_16k/``. ``labels`` holds the class's AudioSet mid, mapped to a name
through the label CSV; a plain class name is accepted as well. Class names are the file-name spellings:
laughter, sigh, cough, throatclearing, sneeze, sniff (the CSV's ``display_name`` is lower-cased and its
spaces dropped, e.g. "Throat clearing" -> ``throatclearing``).
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from .native_index import check_splits, dataset_root, finish_index, read_listing_csv, resolve_listed

CLASSES = ("cough", "laughter", "sigh", "sneeze", "sniff", "throatclearing")
NATIVE = {"train": "tr", "dev": "val", "test": "te"}
LABEL_CSV = "class_labels_indices_vs.csv"
_FILE = re.compile(r"^(?P<speaker>(?P<gender>[fm])\d+)_(?P<session>\d+)_(?P<label>[a-z]+)$")


def _name(text: str) -> str:
    return re.sub(r"[\s_-]+", "", text.strip().lower())


def _mid_names(base: Path) -> dict[str, str]:
    """AudioSet mid -> class name from the release's label CSV; empty when the CSV is absent."""
    path = base / LABEL_CSV
    if not path.is_file():
        return {}
    table = read_listing_csv(path, ("mid", "display_name"))
    return {m.strip(): _name(d) for m, d in zip(table["mid"], table["display_name"])}


def _entries(path: Path) -> list[dict]:
    """The ``data`` list of one split JSON, each entry checked for ``wav`` and ``labels``."""
    if not path.is_file():
        raise FileNotFoundError(f"VocalSound split file {path} does not exist")
    try:
        data = json.loads(path.read_text())["data"]
    except (json.JSONDecodeError, KeyError, TypeError) as err:
        raise ValueError(f"{path}: expected JSON {{\"data\": [{{\"wav\": ..., \"labels\": ...}}]}} ({err!r})") from err
    bad = next((i for i, e in enumerate(data) if not isinstance(e, dict) or not {"wav", "labels"} <= set(e)), None)
    if bad is not None:
        raise ValueError(f"{path}: entry {bad} lacks the key(s) 'wav'/'labels': {data[bad]!r}")
    return data


def _label(raw: str, mids: dict[str, str], source: Path) -> str:
    codes = [c.strip() for c in str(raw).split(",") if c.strip()]
    if len(codes) != 1:
        raise ValueError(f"{source}: expected one label per clip, got {raw!r}")
    code = codes[0]
    if code.startswith(("/m/", "/t/")):
        if not mids:
            raise FileNotFoundError(f"{source} labels clips by AudioSet mid ({code}) but {LABEL_CSV} is missing")
        if code not in mids:
            raise ValueError(f"{source}: label {code!r} is not in {LABEL_CSV} (mids: {sorted(mids)})")
        code = mids[code]
    name = _name(code)
    if name not in CLASSES:
        raise ValueError(f"{source}: label {raw!r} is not one of the six VocalSound classes {list(CLASSES)}")
    return name


def vocalsound_index(
    root: str | Path,
    splits: Sequence[str] | None = ("test",),
    audio_dir: str = "audio_16k",
) -> pd.DataFrame:
    """Index VocalSound from ``datafiles/{tr,val,te}.json`` (no audio is read).

    Args:
        root: the release folder (holding ``datafiles/`` and ``audio_dir``) or the folder directly above it.
        splits: splits to return (``None``: all).
        audio_dir: ``audio_16k`` (default; P1 uses 16 kHz) or ``audio_44k``.

    Returns:
        One row per clip: ``path`` (``<audio_dir>/<file name of the JSON wav>``), ``label`` (one of
        :data:`CLASSES`), ``split``, ``split_native`` (tr/val/te), ``speaker`` (e.g. ``"f0003"``, None when
        the name does not follow ``<speaker>_<n>_<label>``), ``gender`` ("female"/"male"/None), ``session``.

    Raises:
        FileNotFoundError: no ``datafiles/`` + ``audio_dir`` at ``root``; a split JSON or the label CSV
            (needed for mids) is missing; a listed clip is missing (count and first names).
        ValueError: bad ``splits``; malformed JSON or an entry without ``wav``/``labels``; an unknown label.
    """
    wanted = check_splits(splits, "VocalSound")
    base = dataset_root(root, "VocalSound", lambda p: (p / "datafiles").is_dir() and (p / audio_dir).is_dir(),
                         f"datafiles/ and {audio_dir}/")
    mids = _mid_names(base)
    parts = []
    for split in wanted:
        source = base / "datafiles" / f"{NATIVE[split]}.json"
        data = _entries(source)
        names = [Path(str(e["wav"]).replace("\\", "/")).name for e in data]
        paths = resolve_listed([base / audio_dir / n for n in names], source)
        fields = [_FILE.match(Path(n).stem) for n in names]
        parts.append(pd.DataFrame({
            "path": paths, "label": [_label(e["labels"], mids, source) for e in data], "split": split,
            "split_native": NATIVE[split], "speaker": [m["speaker"] if m else None for m in fields],
            "gender": [{"f": "female", "m": "male"}[m["gender"]] if m else None for m in fields],
            "session": [m["session"] if m else None for m in fields],
        }))
    rows = pd.concat(parts, ignore_index=True)
    return finish_index(rows, "vocalsound", "official datafiles/{tr,val,te}.json", base, wanted)
