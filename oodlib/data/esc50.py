"""ESC-50 (P1 OOD set): index of the release layout.

Layout (the repository archive ``ESC-50-master.zip``; its wrapping ``ESC-50-master/`` folder is accepted)::

    audio/<fold>-<clip_id>-<take>-<target>.wav   2,000 five-second clips, 44.1 kHz
    meta/esc50.csv                               filename,fold,target,category,esc10,src_file,take

ESC-50 has no train/test split, only five cross-validation folds (clips of one source recording share a
fold). P1 uses it as an OOD test set, so by default every fold counts as ``"test"``; pass ``test_fold``
for the usual one-fold-out convention. The shared subset (``esc50_subset``: 731 clips as 16 kHz FLAC)
adds ``meta/esc50_available.csv`` listing the rows present; it is used when present (see ``meta_file``).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from .native_index import INDEX_EXTENSIONS, check_splits, dataset_root, finish_index, read_listing_csv, resolve_listed

FOLDS = (1, 2, 3, 4, 5)
META_COLUMNS = ("filename", "fold", "target", "category", "esc10", "src_file", "take")
_NAME = re.compile(r"^(?P<fold>[1-5])-(?P<clip>\d+)-(?P<take>[A-Z])-(?P<target>\d{1,2})$")


def _is_esc50_root(p: Path) -> bool:
    return (p / "meta" / "esc50.csv").is_file() and (p / "audio").is_dir()


def esc50_index(
    root: str | Path,
    splits: Sequence[str] | None = ("test",),
    folds: Sequence[int] = FOLDS,
    test_fold: int | None = None,
    meta_file: str | None = None,
) -> pd.DataFrame:
    """Index ESC-50 clips from ``meta/<meta_file>`` (no audio is read).

    Args:
        root: the ESC-50 folder (or the folder holding ``ESC-50-master/``).
        splits: splits to return (``None``: all).
        folds: folds (1-5) to include.
        test_fold: ``None`` (default): every fold is ``"test"`` (P1 uses ESC-50 only as an OOD test set);
            a fold number: that fold is ``"test"`` and the others ``"train"`` (the cross-validation
            convention; the ESC-50 release names no test fold).
        meta_file: CSV in ``meta/``; ``None``: ``esc50_available.csv`` when present (the shared subset's
            list of the clips it holds, a convention of that subset, not of the release), else ``esc50.csv``.

    Returns:
        One row per clip: ``path`` (absolute; a listed ``.wav`` may be found as ``.flac``/``.opus``),
        ``label`` (the ``category``, e.g. ``"dog"``), ``split``, ``speaker`` (None), ``fold`` (int),
        ``target`` (int 0-49), ``esc10`` (bool), ``src_file`` (Freesound clip id), ``take`` (A, B, ...).

    Raises:
        FileNotFoundError: no ESC-50 layout at ``root``; a listed clip is missing (count and first names).
        ValueError: bad ``splits``/``folds``/``test_fold``; missing CSV columns; a file name that is not
            ``<fold>-<clip_id>-<take>-<target>.<ext>`` or disagrees with its fold/target columns; no rows.
    """
    wanted = check_splits(splits, "ESC-50")
    if not folds or any(f not in FOLDS for f in folds) or (test_fold is not None and test_fold not in FOLDS):
        raise ValueError(f"ESC-50: folds and test_fold must be among {list(FOLDS)}, got {list(folds)}, {test_fold}")
    base = dataset_root(root, "ESC-50", _is_esc50_root, "meta/esc50.csv and audio/")
    if meta_file is None:
        meta_file = "esc50_available.csv" if (base / "meta" / "esc50_available.csv").is_file() else "esc50.csv"
    meta_path = base / "meta" / meta_file
    meta = read_listing_csv(meta_path, META_COLUMNS)
    _check_names(meta, meta_path)
    meta = meta.assign(fold=meta["fold"].astype(int), target=meta["target"].astype(int))
    meta = meta[meta["fold"].isin(list(folds))]
    split = "test" if test_fold is None else meta["fold"].map(lambda f: "test" if f == test_fold else "train")
    meta = meta.assign(split=split)
    meta = meta[meta["split"].isin(wanted)]
    paths = resolve_listed([base / "audio" / n for n in meta["filename"]], meta_path)
    rows = pd.DataFrame({
        "path": paths, "label": meta["category"].to_numpy(), "split": meta["split"].to_numpy(), "speaker": None,
        "fold": meta["fold"].to_numpy(), "target": meta["target"].to_numpy(),
        "esc10": (meta["esc10"].str.lower() == "true").to_numpy(), "src_file": meta["src_file"].to_numpy(),
        "take": meta["take"].to_numpy(),
    })
    source = (f"{meta_file}: every fold in {list(folds)} as test (ESC-50 has only CV folds)" if test_fold is None
              else f"{meta_file}: fold {test_fold} as test, the other folds as train (one-fold-out CV convention)")
    return finish_index(rows, "esc50", source, base, wanted)


def _check_names(meta: pd.DataFrame, meta_path: Path) -> None:
    """``ValueError`` naming the first file whose name does not parse or disagrees with its fold/target."""
    for name, fold, target in zip(meta["filename"], meta["fold"], meta["target"]):
        m = _NAME.match(Path(name).stem)
        if m is None or Path(name).suffix.lower() not in INDEX_EXTENSIONS:
            raise ValueError(f"{meta_path}: file name {name!r} is not <fold>-<clip_id>-<take>-<target>.wav")
        if m["fold"] != fold.strip() or m["target"] != target.strip():
            raise ValueError(f"{meta_path}: {name!r} disagrees with its row (fold={fold}, target={target})")
