"""User audio sets: "folder per class" ID sets (``<root>/<class>/<clip>.wav``) and OOD sets
of any layout (``audio_files``: a flat folder, nested folders, or class folders alike).

Users pass their own ID and OOD sets to the notebooks this way. Files that are
not audio are never dropped silently: they are listed in ``df.attrs["ignored"]``
and a warning says how many there were.
"""

from __future__ import annotations

import os
import warnings
from pathlib import Path

import pandas as pd

from .audio import AUDIO_EXTENSIONS


def is_audio_file(path: Path) -> bool:
    """True for known audio extensions, including doubled ones such as ``.wav.wav``."""
    return path.is_file() and path.suffix.lower() in AUDIO_EXTENSIONS


def folder_dataset(root: str | Path, classes: list[str] | None = None) -> pd.DataFrame:
    """Index a folder-per-class audio set.

    Args:
        root: folder whose sub-folders are classes.
        classes: the classes to take, in this order (default: every sub-folder, sorted).

    Returns:
        DataFrame with columns ``path``, ``label`` (class name) and ``label_id``
        (index into ``df.attrs["classes"]``), sorted by class then file name.

    Raises:
        FileNotFoundError: ``root`` or a requested class folder is missing.
        PermissionError: ``root`` or a folder below it cannot be read (named).
        ValueError: no class folders, or a class folder holds no audio files.
    """
    root = Path(root)
    if not root.is_dir():
        raise FileNotFoundError(f"audio folder {root} does not exist")
    try:
        found = sorted(p.name for p in root.iterdir() if p.is_dir() and not p.name.startswith("."))
    except PermissionError as err:
        raise PermissionError(f"cannot read folder {root}: {err.strerror or 'permission denied'}") from err
    classes = found if classes is None else list(classes)
    missing = [c for c in classes if c not in found]
    if missing:
        raise FileNotFoundError(f"class folder(s) {missing} not found in {root} (found: {found})")
    if not classes:
        raise ValueError(f"{root} has no class sub-folders")
    rows, ignored = [], []
    for label_id, cls in enumerate(classes):
        files = _walk(root / cls)  # an unreadable folder raises PermissionError, named (rglob would skip it)
        audio = [p for p in files if is_audio_file(p)]
        ignored += [p for p in files if not is_audio_file(p)]
        if not audio:
            raise ValueError(f"class folder {root / cls} holds no audio files ({', '.join(AUDIO_EXTENSIONS)})")
        rows += [{"path": p, "label": cls, "label_id": label_id} for p in audio]
    if ignored:
        warnings.warn(f"{len(ignored)} non-audio file(s) under {root} were not used (see df.attrs['ignored'])", stacklevel=2)
    df = pd.DataFrame(rows)
    df.attrs.update(classes=classes, ignored=[str(p) for p in ignored], root=str(root))
    return df


def _walk(root: Path) -> list[Path]:
    """Every non-hidden file under ``root`` (recursively), sorted; unreadable folders raise, named."""
    out = []
    for folder, dirs, files in os.walk(root, onerror=_raise_walk_error):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        out += [Path(folder) / f for f in files if not f.startswith(".")]
    return sorted(out)


def _raise_walk_error(err: OSError) -> None:
    raise PermissionError(f"cannot read folder {err.filename}: {err.strerror}") from err


def audio_files(root: str | Path) -> pd.DataFrame:
    """Index every audio file under ``root``: a flat folder, nested folders or class folders.

    An OOD set has no classes, so no layout is required. Returns a DataFrame with ``path`` and
    ``group`` (the file's folder relative to ``root``, ``"."`` for files directly in it), sorted
    by path; non-audio files are listed in ``df.attrs["ignored"]`` with a warning.
    """
    root = Path(root)
    if not root.is_dir():
        raise FileNotFoundError(f"audio folder {root} does not exist")
    files = _walk(root)
    audio = [p for p in files if is_audio_file(p)]
    ignored = [p for p in files if not is_audio_file(p)]
    if not audio:
        raise ValueError(f"{root} holds no audio files ({', '.join(AUDIO_EXTENSIONS)}) in it or below it")
    if ignored:
        warnings.warn(f"{len(ignored)} non-audio file(s) under {root} were not used (see df.attrs['ignored'])", stacklevel=2)
    df = pd.DataFrame({"path": audio, "group": [str(p.parent.relative_to(root)) for p in audio]})
    df.attrs.update(ignored=[str(p) for p in ignored], root=str(root))
    return df
