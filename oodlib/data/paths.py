"""Where datasets live on disk.

Resolution order for the data directory: an explicit ``data_dir`` argument or
notebook parameter > the ``OODLIB_DATA_DIR`` environment variable > a per-user
cache folder (``~/.cache/oodlib/data`` on Linux). A dataset sits in a sub-folder
named by its manifest's ``local_names`` (the first one that exists is used, so
``../shared/data``'s folder names work as they are).
"""

from __future__ import annotations

import os
import re
from pathlib import Path, PurePosixPath, PureWindowsPath

import platformdirs

ENV_VAR = "OODLIB_DATA_DIR"
NAME_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")


def check_dataset_name(name: str) -> str:
    """Return ``name`` if it is a plain dataset (manifest) name; else raise ``ValueError`` naming it.

    A plain name is letters, digits, ``_``, ``.`` and ``-``, starting with a letter or digit: no
    ``/``, no ``..``, nothing that could point outside the manifests or data folder.
    """
    if not isinstance(name, str) or not NAME_PATTERN.match(name) or ".." in name:
        raise ValueError(
            f"dataset name {name!r} is not a plain name: expected letters, digits, '_', '.' or '-' "
            "(no '/', '\\' or '..'), such as 'esc50'"
        )
    return name


def check_relative(value: str, what: str, single: bool = False) -> str:
    """Return ``value`` if it is a relative path that stays inside its folder; else raise ``ValueError``.

    Args:
        value: the path from a manifest (a file name, a sub-folder).
        what: how the error names the field (``"downloads[0].filename"``).
        single: require one path component (a plain file or folder name, no ``/``).
    """
    parts = PurePosixPath(value).parts if isinstance(value, str) else ()
    bad = (
        not isinstance(value, str)
        or "\\" in value
        or "\0" in value
        or PurePosixPath(value).is_absolute()
        or PureWindowsPath(value).anchor != ""
        or ".." in parts
        or (single and (len(parts) != 1 or value in (".", "")))
    )
    if bad:
        kind = ("a plain name (no '/', '\\' or '..')" if single
                else "a relative path inside the data folder (no leading '/', no '..')")
        raise ValueError(f"{what} {value!r} is not {kind}")
    return value


def inside(root: Path, relative: str, what: str, single: bool = False) -> Path:
    """``root / relative`` after :func:`check_relative` (a lexical check: a dataset folder that is a
    symbolic link the user made to another disk stays usable)."""
    return root / check_relative(relative, what, single)


def resolve_data_dir(data_dir: str | Path | None = None) -> Path:
    """The data directory: ``data_dir`` if given, else ``$OODLIB_DATA_DIR``, else the user cache."""
    if data_dir not in (None, ""):
        return Path(data_dir).expanduser()
    env = os.environ.get(ENV_VAR)
    if env:
        return Path(env).expanduser()
    return Path(platformdirs.user_cache_dir("oodlib")) / "data"


def dataset_dir(name: str, data_dir: str | Path | None = None, must_exist: bool = True) -> Path:
    """The folder of dataset ``name`` (a manifest name) inside the data directory.

    Raises ``FileNotFoundError`` naming the folders tried and how to get the
    data when ``must_exist`` and none of the manifest's ``local_names`` exists,
    and ``ValueError`` for a name or folder name that would leave the data folder.
    """
    from .manifests import load_manifest

    manifest = load_manifest(check_dataset_name(name))
    root = resolve_data_dir(data_dir)
    tried = [inside(root, n, f"{name}: local_names entry", single=True) for n in manifest.local_names]
    for folder in tried:
        if folder.is_dir():
            return folder
    if must_exist:
        raise FileNotFoundError(
            f"dataset {name!r} not found: looked for {', '.join(str(t) for t in tried)}. "
            f"Set data_dir or ${ENV_VAR}, or get it with `oodlib data fetch {name}` "
            f"(`oodlib data info {name}` shows the manual steps)."
        )
    return tried[0]
