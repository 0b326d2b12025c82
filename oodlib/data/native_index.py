"""What the native-layout index loaders of P1's data sets share (:mod:`~oodlib.data.esc50`,
:mod:`~oodlib.data.vocalsound`, :mod:`~oodlib.data.mswc`, :mod:`~oodlib.data.voxforge`,
:mod:`~oodlib.data.crema_d`, :mod:`~oodlib.data.fluent_speech`): finding the dataset folder (or the
one folder a release zip wraps it in), checking split names and CSV columns, resolving listed files
(any audio extension), and the common ``attrs`` of an index.

Every index has one row per clip with at least ``path`` (absolute), ``label``, ``split`` (``train``,
``dev`` or ``test``) and ``speaker`` (None where unknown); ``attrs`` holds ``dataset``, ``classes``,
``split_source`` and ``root``. No audio is decoded here.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

import pandas as pd

from .audio import AUDIO_EXTENSIONS

SPLITS = ("train", "dev", "test")
INDEX_EXTENSIONS = tuple(dict.fromkeys((*AUDIO_EXTENSIONS, ".opus")))
SHOW_MISSING = 3  # how many missing files an error names



def dataset_root(root: str | Path, dataset: str, is_root: Callable[[Path], bool], expected: str) -> Path:
    """``root`` itself or its one sub-folder (a release zip's wrapper) for which ``is_root`` holds.

    Raises ``FileNotFoundError`` naming ``root`` and ``expected`` (the layout) when neither matches,
    ``ValueError`` when several sub-folders do.
    """
    root = Path(root).expanduser().absolute()
    if not root.is_dir():
        raise FileNotFoundError(f"{dataset}: folder {root} does not exist (expected {expected})")
    if is_root(root):
        return root
    inner = [p for p in sorted(root.iterdir()) if p.is_dir() and is_root(p)]
    if len(inner) > 1:
        raise ValueError(f"{dataset}: {root} holds several dataset folders {[p.name for p in inner]}; pass one")
    if not inner:
        raise FileNotFoundError(f"{dataset}: neither {root} nor a folder directly inside it holds {expected}")
    return inner[0]


def check_splits(splits: Sequence[str] | str | None, dataset: str) -> list[str]:
    """The requested split names (``None``: all three); ``ValueError`` for a name not in :data:`SPLITS`."""
    if splits is None:
        return list(SPLITS)
    wanted = [splits] if isinstance(splits, str) else list(splits)
    bad = [s for s in wanted if s not in SPLITS]
    if bad or not wanted:
        raise ValueError(
            f"{dataset}: unknown split name(s) {bad or wanted} in splits={splits!r}: expected some of {list(SPLITS)}"
            " (a dataset's own names such as 'valid'/'validation' map to 'dev'), or None for all"
        )
    return wanted


def check_columns(table: pd.DataFrame, required: Iterable[str], source: str | Path) -> None:
    """``ValueError`` naming ``source`` when ``table`` lacks one of the ``required`` columns."""
    missing = [c for c in required if c not in table.columns]
    if missing:
        raise ValueError(f"{source}: missing column(s) {missing}; found {list(table.columns)}")


def read_listing_csv(path: Path, required: Iterable[str]) -> pd.DataFrame:
    """A CSV read as strings (no NA guessing), checked for ``required`` columns; the file is named in errors."""
    if not path.is_file():
        raise FileNotFoundError(f"split/metadata file {path} does not exist")
    try:
        table = pd.read_csv(path, dtype=str, keep_default_na=False)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as err:
        raise ValueError(f"cannot parse {path} as CSV: {err}") from err
    check_columns(table, required, path)
    return table


def _listing(folder: Path, cache: dict[Path, set[str]]) -> set[str]:
    if folder not in cache:
        try:
            cache[folder] = set(os.listdir(folder))
        except (FileNotFoundError, NotADirectoryError):
            cache[folder] = set()
    return cache[folder]


def resolve_listed(paths: Sequence[Path], listed_in: str | Path) -> list[str]:
    """Absolute paths of the listed files, each as named or, when only that exists, with another audio extension.

    ``x.wav`` listed and only ``x.flac``/``x.opus`` present: the present file is used. Folders are listed
    once each (no per-file stat). Raises ``FileNotFoundError`` saying how many listed files are missing and
    naming the first few, so no row is dropped silently.
    """
    cache: dict[Path, set[str]] = {}
    out: list[str] = []
    missing: list[Path] = []
    for p in paths:
        names = _listing(p.parent, cache)
        if p.name in names:
            out.append(str(p))
            continue
        stem = p.name[: -len(p.suffix)] if p.suffix.lower() in INDEX_EXTENSIONS else p.name
        alt = next((stem + ext for ext in INDEX_EXTENSIONS if stem + ext in names), None)
        if alt is None:
            missing.append(p)
        out.append(str(p.with_name(alt)) if alt else "")
    if missing:
        shown = ", ".join(str(p) for p in missing[:SHOW_MISSING])
        raise FileNotFoundError(
            f"{len(missing)} of {len(paths)} file(s) listed in {listed_in} do not exist "
            f"(also tried {'/'.join(INDEX_EXTENSIONS)}), e.g. {shown}"
        )
    return out


def none_for_missing(df: pd.DataFrame) -> pd.DataFrame:
    """Text columns as ``object`` with ``None`` (not NaN) where a value is unknown (pandas 3 infers ``str``)."""
    for c in df.columns:
        if not (pd.api.types.is_numeric_dtype(df[c]) or pd.api.types.is_bool_dtype(df[c])):
            df[c] = df[c].astype(object).where(df[c].notna(), None)
    return df


def finish_index(rows: pd.DataFrame, dataset: str, split_source: str, where: str | Path, splits: list[str]) -> pd.DataFrame:
    """Sort by path, None for missing text, set ``attrs`` (dataset, classes, split_source, root); error when empty."""
    if rows.empty:
        raise ValueError(f"{dataset}: no clips for splits {splits} in {where}")
    df = none_for_missing(rows.sort_values("path", ignore_index=True))
    df.attrs.update(
        dataset=dataset, classes=sorted(df["label"].unique()), split_source=split_source, root=str(where)
    )
    return df
