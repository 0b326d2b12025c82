"""Dataset and checkpoint manifests (``data_manifests/<name>.yaml``).

One YAML file per dataset or checkpoint, validated against
``oodlib/data/manifest.schema.json``: source, licence, citation, size, download
URLs and checksums (or manual steps for gated sets), the expected on-disk
layout, and how the notebooks use it.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from .paths import check_dataset_name, check_relative

SCHEMA_PATH = Path(__file__).parent / "manifest.schema.json"


def manifests_dir() -> Path:
    """``$OODLIB_MANIFESTS_DIR`` or the repository's ``data_manifests/`` folder."""
    env = os.environ.get("OODLIB_MANIFESTS_DIR")
    return Path(env) if env else Path(__file__).resolve().parents[2] / "data_manifests"


@dataclass(frozen=True)
class Download:
    """One file to download: URL, local name, optional checksums, extraction options."""

    url: str
    filename: str
    sha256: str | None = None
    md5: str | None = None
    extract: bool = True
    strip_components: int = 0
    subdir: str = ""


@dataclass(frozen=True)
class Manifest:
    """A parsed manifest. ``raw`` keeps the whole YAML mapping."""

    name: str
    title: str
    kind: str
    papers: tuple[str, ...]
    homepage: str
    license: str
    citation: str
    size: str
    local_names: tuple[str, ...]
    obtain: str
    layout: dict[str, Any]
    usage: str
    manual_steps: str = ""
    checksum_note: str = ""
    downloads: tuple[Download, ...] = field(default_factory=tuple)
    raw: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)


def manifest_schema() -> dict[str, Any]:
    """The manifest JSON schema."""
    return json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))


def parse_manifest(data: dict[str, Any], source: str = "<manifest>") -> Manifest:
    """Validate a manifest mapping and build a :class:`Manifest`; errors name ``source``."""
    import jsonschema

    try:
        jsonschema.validate(data, manifest_schema())
    except jsonschema.ValidationError as err:
        where = "/".join(str(p) for p in err.absolute_path) or "(top level)"
        raise ValueError(f"{source}: invalid manifest at {where}: {err.message}") from err
    _check_paths(data, source)
    fields = {k: v for k, v in data.items() if k not in ("downloads", "notes")}
    fields["papers"] = tuple(data["papers"])
    fields["local_names"] = tuple(data["local_names"])
    downloads = tuple(Download(**d) for d in data.get("downloads", []))
    return Manifest(**fields, downloads=downloads, raw=data)


def _check_paths(data: dict[str, Any], source: str) -> None:
    """Refuse names and paths that would point outside the manifests or data folder (``..``, ``/``)."""
    try:
        check_dataset_name(data["name"])
        for i, name in enumerate(data["local_names"]):
            check_relative(name, f"local_names[{i}]", single=True)
        for i, d in enumerate(data.get("downloads", [])):
            check_relative(d["filename"], f"downloads[{i}].filename", single=True)
            check_relative(d.get("subdir", ""), f"downloads[{i}].subdir")
    except ValueError as err:
        raise ValueError(f"{source}: {err}") from None


@lru_cache(maxsize=None)
def _load_cached(path: str, mtime: float) -> Manifest:
    data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    manifest = parse_manifest(data, source=path)
    if manifest.name != Path(path).stem:
        raise ValueError(f"{path}: name {manifest.name!r} must equal the file name {Path(path).stem!r}")
    return manifest


def list_manifests() -> list[str]:
    """Names of all manifests, sorted."""
    return sorted(p.stem for p in manifests_dir().glob("*.yaml"))


def load_manifest(name: str) -> Manifest:
    """The manifest called ``name``; ``KeyError`` lists the known names if it does not exist.

    ``ValueError`` for a name that is not plain (``../x``, ``/etc/x``): it could name a file elsewhere.
    """
    path = manifests_dir() / f"{check_dataset_name(name)}.yaml"
    if not path.is_file():
        raise KeyError(f"no manifest named {name!r}; known: {', '.join(list_manifests())}")
    return _load_cached(str(path), path.stat().st_mtime)
