"""Where datasets live on disk.

Resolution order for the data directory: an explicit ``data_dir`` argument or
notebook parameter > the ``OODLIB_DATA_DIR`` environment variable > a per-user
cache folder (``~/.cache/oodlib/data`` on Linux). A dataset sits in a sub-folder
named by its manifest's ``local_names`` (the first one that exists is used, so
``../shared/data``'s folder names work as they are).
"""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs

ENV_VAR = "OODLIB_DATA_DIR"


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
    data when ``must_exist`` and none of the manifest's ``local_names`` exists.
    """
    from .manifests import load_manifest

    manifest = load_manifest(name)
    root = resolve_data_dir(data_dir)
    tried = [root / n for n in manifest.local_names]
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
