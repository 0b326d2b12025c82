"""The ``oodlib`` console script.

    oodlib run NOTEBOOK [-p NAME VALUE]... [-f params.yaml]   run one notebook, checked
    oodlib params NOTEBOOK                                     list its parameters
    oodlib book [--profile default|real|real-smoke] [--only STEM]...  run all notebooks, render the book
    oodlib check-site [_build/html]                             open every page in headless Chromium, list what is broken
    oodlib check-records FOLDER [--smoke]                  every claim names its data (CI, after real-smoke)
    oodlib sweep NOTEBOOK --seeds 0-4 [--workers N] [--scheduler tcp://host:8786]   many runs on Dask, one verdict
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


def _cmd_check_site(args: argparse.Namespace) -> int:
    """``oodlib check-site``: exit 1 listing every page problem, 0 when every page is fine."""
    import time

    from .sitecheck import check_site

    t = time.perf_counter()
    reports = check_site(args.site, None if args.screenshots == "none" else args.screenshots, args.chromium)
    bad = [(r.page, p) for r in reports for p in r.problems]
    for page, problem in bad:
        print(f"{page}: {problem}")
    print(f"[check-site] {len(reports)} pages, {len(bad)} problems, {time.perf_counter() - t:.0f} s")
    return 1 if bad else 0


def _cmd_book(args: argparse.Namespace) -> int:
    from .book import build_book

    sweep_bench = args.sweep_benchmark if args.sweep_benchmark is not None else args.profile == "default" and not args.only
    build_book(args.root, profile=args.profile, build_dir=args.build_dir, only=args.only,
               benchmark=None if args.benchmark == "none" else args.benchmark, sweep_benchmark=sweep_bench,
               jobs=args.jobs)
    return 0


def _cmd_check_records(args: argparse.Namespace) -> int:
    from .records import check_records, load_records

    records = load_records(args.folder)
    if not records:
        print(f"oodlib: error: no results records in {args.folder}", file=sys.stderr)
        return 1
    problems = check_records(records)
    if args.smoke:
        problems += [f"{r['notebook']}: not marked as a smoke run" for r in records if not r.get("smoke")]
    for p in problems:
        print(f"oodlib: record problem: {p}", file=sys.stderr)
    n_claims = sum(len(r["claims"]) for r in records)
    print(f"{len(records)} records, {n_claims} claims checked: {'OK' if not problems else f'{len(problems)} problem(s)'}")
    return 1 if problems else 0


def _cmd_bench(args: argparse.Namespace) -> None:
    if args.sweep:
        from .sweep import benchmark_sweep, format_benchmark

        out = Path(args.out).with_name("sweep_benchmark.json")
        print(format_benchmark(benchmark_sweep("notebooks/00_tour.ipynb", n_runs=4, workers=2, out=out)))
        print(f"sweep benchmark written to {out}")
        return
    from .benchmark import run_benchmark

    run_benchmark(args.config, args.out)
    print(f"benchmark written to {args.out}")


def _cmd_sweep(args: argparse.Namespace) -> int:
    """``oodlib sweep``: run a notebook over seeds / a grid on Dask, or time that path (``--benchmark``)."""
    from . import sweep

    if args.benchmark:
        nb = args.notebook or "notebooks/00_tour.ipynb"
        out = Path(args.build_dir) / "records" / "sweep_benchmark.json" if args.build_dir else None
        result = sweep.benchmark_sweep(nb, n_runs=4, workers=args.workers or 2, out=out)
        print(sweep.format_benchmark(result))
        return 0
    if not args.notebook:
        raise ParameterError("oodlib sweep needs a NOTEBOOK (or --benchmark)")
    nb = Path(args.notebook)
    seeds = sweep.parse_seeds(args.seeds) if args.seeds else None
    overrides = _collect_overrides(nb, args.parameter or [], [])
    grid = sweep.load_grid(args.grid) if args.grid else None
    try:
        result = sweep.run_sweep(nb, seeds, overrides, grid, profile=args.profile or "", name=args.name,
                                 scheduler=args.scheduler, workers=args.workers, retries=args.retries,
                                 build_dir=args.build_dir)
    except sweep.SweepConflictError as err:
        print(f"oodlib: error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("oodlib: interrupted; run the same command again to resume", file=sys.stderr)
        return 130
    for path in result.summaries:
        print(f"summary record: {path}")
    if result.interrupted:
        return 130
    return 1 if result.counts["failed"] or result.counts["pending"] else 0


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
    book.add_argument("--jobs", type=int, default=None, metavar="N",
                      help="notebooks run at once, each with cores/N torch threads (default: 2 on 2+ cores)")
    book.add_argument("--benchmark", default="small", choices=["small", "full", "none"],
                      help="kNN benchmark configuration run after the notebooks (default: small)")
    book.add_argument("--sweep-benchmark", action=argparse.BooleanOptionalAction, default=None,
                      help="time 4 tour runs on 2 Dask workers vs sequential (about 2 min) and show that "
                      "4-seed sweep (default: on for the default profile without --only)")
    book.set_defaults(func=_cmd_book)

    site = sub.add_parser("check-site", help="open every page of the built book in headless Chromium and list what is broken")
    site.add_argument("site", nargs="?", default="_build/html", help="the built site (default: _build/html)")
    site.add_argument("--screenshots", default="default", help="folder for one screenshot per page "
                      "(default: <site>/../screenshots; 'none' for no screenshots)")
    site.add_argument("--chromium", default=None, help="Chromium executable (default: $OODLIB_CHROMIUM or chromium on PATH)")
    site.set_defaults(func=_cmd_check_site)

    check = sub.add_parser("check-records", help="check a folder of results records (every claim names its data)")
    check.add_argument("folder", help="e.g. _build/real-smoke/records")
    check.add_argument("--smoke", action="store_true", help="also require every record to be marked as a smoke run")
    check.set_defaults(func=_cmd_check_records)

    bench = sub.add_parser("bench", help="run the kNN speed benchmark (oodlib.benchmark)")
    bench.add_argument("--config", default="small", choices=["small", "full"])
    bench.add_argument("--out", default="_build/records/benchmark.json", help="where the JSON goes "
                       "(with --sweep: sweep_benchmark.json beside it)")
    bench.add_argument("--sweep", action="store_true", help="instead, time 4 tour runs on 2 Dask workers vs 4 "
                       "sequential runs (as oodlib sweep --benchmark)")
    bench.set_defaults(func=_cmd_bench)

    sweep = sub.add_parser("sweep", help="run a notebook over seeds / a parameter grid on Dask, "
                           "judge the claims across runs")
    sweep.add_argument("notebook", nargs="?", help="path to the .ipynb file (default with --benchmark: the tour)")
    sweep.add_argument("--seeds", metavar="SEEDS", help="one run per seed: 0-4, 0,2,5 or 0-2,7 "
                       "(default: the notebook's seed)")
    sweep.add_argument("-p", "--parameter", nargs=2, action="append", metavar=("NAME", "VALUE"),
                       help="a parameter fixed for every run (YAML value syntax)")
    sweep.add_argument("--grid", metavar="GRID.yaml", help="name: [values] per parameter; every combination is run")
    sweep.add_argument("--profile", help="start from this profile's parameters (notebooks/profiles.yaml)")
    sweep.add_argument("--scheduler", metavar="ADDRESS", help="an existing Dask scheduler, e.g. tcp://host:8786 "
                       "(default: an embedded LocalCluster)")
    sweep.add_argument("--workers", type=int, help="embedded cluster's worker processes (default: the cores); "
                       "each gets cores // workers torch/BLAS threads")
    sweep.add_argument("--name", help="the sweep's folder _build/sweeps/NAME (default: the notebook's stem)")
    sweep.add_argument("--retries", type=int, default=2, help="retries of a run whose worker died (default 2); "
                       "a cell error is reported, not retried")
    sweep.add_argument("--build-dir", help="default: <project root>/_build")
    sweep.add_argument("--benchmark", action="store_true", help="time 4 tour runs on 2 workers vs 4 sequential "
                       "runs; write _build/records/sweep_benchmark.json")
    sweep.set_defaults(func=_cmd_sweep)

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
