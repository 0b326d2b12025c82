"""``oodlib data list | info NAME | where NAME | fetch NAME [--replace] | verify NAME [--deep]``."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from .fetch import DownloadError, ManualDownloadRequired, fetch, manual_steps_message, verify
from .manifests import list_manifests, load_manifest
from .paths import dataset_dir, resolve_data_dir


def _list(args: argparse.Namespace) -> int:
    for name in list_manifests():
        m = load_manifest(name)
        where = dataset_dir(name, args.data_dir, must_exist=False)
        state = "present" if where.is_dir() else "absent"
        print(f"{name:32s} {m.kind:10s} {','.join(m.papers):12s} {m.obtain:8s} {state}")
    return 0


def _info(args: argparse.Namespace) -> int:
    m = load_manifest(args.name)
    print(f"{m.title} ({m.name})\n  papers: {', '.join(m.papers)}\n  homepage: {m.homepage}\n  license: {m.license}")
    print(f"  citation: {m.citation}\n  size: {m.size}\n  folder names: {', '.join(m.local_names)}\n  usage: {m.usage.strip()}")
    if m.checksum_note:
        print(f"  checksums: {m.checksum_note.strip()}")
    print(f"  how to obtain ({m.obtain}):\n    " + manual_steps_message(m).replace("\n", "\n    "))
    return 0


def _where(args: argparse.Namespace) -> int:
    print(dataset_dir(args.name, args.data_dir, must_exist=False))
    return 0


def _fetch(args: argparse.Namespace) -> int:
    try:
        path = fetch(args.name, args.data_dir, replace=args.replace, notify=print)
    except (ManualDownloadRequired, DownloadError) as err:
        print(f"oodlib data fetch {args.name}: {err}", file=sys.stderr)
        return 1
    print(f"{args.name} is ready at {path}")
    return 0


def _verify(args: argparse.Namespace) -> int:
    report = verify(args.name, args.data_dir, deep=args.deep)
    for pattern, n in report.counts.items():
        print(f"  {pattern}: {n} files")
    for note in report.notes:
        print(f"  note: {note}")
    if report.ok:
        print(f"{args.name}: OK at {report.path}")
        return 0
    print(f"{args.name}: FAILED at {report.path}", file=sys.stderr)
    for p in report.problems:
        print(f"  - {p}", file=sys.stderr)
    return 1


def add_data_parser(sub: Any) -> None:
    """Attach ``data`` and its sub-commands to the ``oodlib`` parser."""
    data = sub.add_parser("data", help="list, describe, fetch and verify datasets")
    data.add_argument("--data-dir", default=None, help=f"default: $OODLIB_DATA_DIR or {resolve_data_dir(None)}")
    dsub = data.add_subparsers(dest="data_command", required=True)
    dsub.add_parser("list", help="all manifests and whether each is present").set_defaults(func=_list)
    for name, func, text in (
        ("info", _info, "source, licence, size, layout and how to obtain"),
        ("where", _where, "the folder the dataset is (or would be) in"),
        ("fetch", _fetch, "download, verify and extract"),
        ("verify", _verify, "check a local copy's layout and files"),
    ):
        p = dsub.add_parser(name, help=text)
        p.add_argument("name")
        p.set_defaults(func=func)
        if name == "fetch":
            p.add_argument("--replace", action="store_true",
                           help="restore the archive's files into a folder that differs from it (other files are kept)")
        if name == "verify":
            p.add_argument("--deep", action="store_true",
                           help="also hash every file against the checksums recorded at fetch and decode "
                                "every audio file")
