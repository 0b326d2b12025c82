"""Any "folder per class" audio set: ``<root>/<class>/<clip>.wav``.

Users pass their own ID and OOD sets to the notebooks this way. Files that are
not audio are never dropped silently: they are listed in ``df.attrs["ignored"]``
and a warning says how many there were.
"""

from __future__ import annotations

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
    """
    root = Path(root)
    if not root.is_dir():
        raise FileNotFoundError(f"audio folder {root} does not exist")
    found = sorted(p.name for p in root.iterdir() if p.is_dir() and not p.name.startswith("."))
    classes = found if classes is None else list(classes)
    missing = [c for c in classes if c not in found]
    if missing:
        raise FileNotFoundError(f"class folder(s) {missing} not found in {root} (found: {found})")
    if not classes:
        raise ValueError(f"{root} has no class sub-folders")
    rows, ignored = [], []
    for label_id, cls in enumerate(classes):
        files = sorted(p for p in (root / cls).rglob("*") if p.is_file() and not p.name.startswith("."))
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
