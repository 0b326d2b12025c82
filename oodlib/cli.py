"""The ``oodlib`` console script.

    oodlib run NOTEBOOK [-p NAME VALUE]... [-f params.yaml]   run one notebook, checked
    oodlib params NOTEBOOK                                     list its parameters
    oodlib book [--profile default|real] [--only STEM]...      run all notebooks, render the book
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

import yaml

from .params import ParameterError, notebook_parameters, parse_cli_value


def _collect_overrides(nb: Path, pairs: list[list[str]], files: list[str]) -> dict[str, Any]:
    specs = notebook_parameters(nb)
    values: dict[str, Any] = {}
    for f in files:
        try:
            loaded = yaml.safe_load(Path(f).read_text(encoding="utf-8")) or {}
        except (OSError, yaml.YAMLError) as err:
            raise ParameterError(f"cannot read parameter file {f}: {err}") from err
        if not isinstance(loaded, dict):
            raise ParameterError(f"parameter file {f} must hold a mapping of name: value")
        values.update(loaded)
    for name, text in pairs:
        values[name] = parse_cli_value(specs.get(name), text)
    return values


def _cmd_run(args: argparse.Namespace) -> int:
    from .runner import run_notebook

    nb = Path(args.notebook)
    overrides = _collect_overrides(nb, args.parameter or [], args.file or [])
    out = run_notebook(nb, overrides, output_dir=args.output_dir, records_dir=args.records_dir, log_output=args.log_output)
    print(f"executed notebook: {out}\nrecord: {Path(args.records_dir) / (nb.stem + '.json')}")
    return 0


def _cmd_params(args: argparse.Namespace) -> int:
    for spec in notebook_parameters(args.notebook).values():
        print(f"{spec.name}: {spec.annotation} = {spec.default!r}")
    return 0


def _cmd_book(args: argparse.Namespace) -> int:
    from .book import build_book

    build_book(args.root, profile=args.profile, build_dir=args.build_dir, only=args.only,
               benchmark=None if args.benchmark == "none" else args.benchmark)
    return 0


def _cmd_bench(args: argparse.Namespace) -> None:
    from .benchmark import run_benchmark

    run_benchmark(args.config, args.out)
    print(f"benchmark written to {args.out}")


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``oodlib`` command."""
    parser = argparse.ArgumentParser(prog="oodlib", description="Run and build the OOD replication book.")
    sub = parser.add_subparsers(dest="command", required=True)

    run = sub.add_parser("run", help="execute a notebook with checked parameters")
    run.add_argument("notebook", help="path to the .ipynb file")
    run.add_argument("-p", "--parameter", nargs=2, action="append", metavar=("NAME", "VALUE"),
                     help="set a parameter (YAML value syntax: 3, 0.1, true, [a, b])")
    run.add_argument("-f", "--file", action="append", metavar="PARAMS.yaml", help="parameters from a YAML file")
    run.add_argument("--output-dir", default="_build/notebooks", help="where the executed copy goes")
    run.add_argument("--records-dir", default="_build/records", help="where the results record goes")
    run.add_argument("--log-output", action="store_true", help="stream the notebook's output to this terminal")
    run.set_defaults(func=_cmd_run)

    params = sub.add_parser("params", help="list a notebook's parameters, types and defaults")
    params.add_argument("notebook")
    params.set_defaults(func=_cmd_params)

    book = sub.add_parser("book", help="run every notebook and render the HTML book")
    book.add_argument("--profile", default="default", help="parameter profile from notebooks/profiles.yaml")
    book.add_argument("--root", default=".", help="the project folder (holds _toc.yml)")
    book.add_argument("--build-dir", default=None, help="default: _build (or _build/<profile>)")
    book.add_argument("--only", action="append", metavar="STEM", help="run only these notebooks")
    book.add_argument("--benchmark", default="small", choices=["small", "full", "none"],
                      help="kNN benchmark configuration run after the notebooks (default: small)")
    book.set_defaults(func=_cmd_book)

    bench = sub.add_parser("bench", help="run the kNN speed benchmark (oodlib.benchmark)")
    bench.add_argument("--config", default="small", choices=["small", "full"])
    bench.add_argument("--out", default="_build/records/benchmark.json", help="where the JSON goes")
    bench.set_defaults(func=_cmd_bench)

    _add_data_commands(sub)
    return parser


def _add_data_commands(sub: Any) -> None:
    """``oodlib data ...`` (see :mod:`oodlib.data.cli`), when the data layer is installed."""
    try:
        from .data.cli import add_data_parser
    except ImportError:
        return
    add_data_parser(sub)


def main(argv: list[str] | None = None) -> int:
    """Entry point of the console script; bad input exits 2 with a one-line message."""
    parser = build_parser()
    args = parser.parse_args(argv)
    from .runner import RunInProgressError

    try:
        return int(args.func(args) or 0)
    except (ParameterError, FileNotFoundError, ValueError, KeyError, RunInProgressError) as err:
        message = err.args[0] if isinstance(err, KeyError) and err.args else err
        print(f"oodlib: error: {message}", file=sys.stderr)
        return 2
    except Exception as err:  # a cell failed: the notebook's own message first, one line
        if type(err).__name__ != "PapermillExecutionError":
            raise
        first = str(getattr(err, "evalue", "")).strip().splitlines()[:1]
        print(f"oodlib: error: {getattr(err, 'ename', 'Error')}: {first[0] if first else ''} "
              f"(cell {getattr(err, 'exec_count', '?')}; the executed notebook shows where)", file=sys.stderr)
        print(str(err), file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
