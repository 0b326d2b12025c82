"""Build the Jupyter Book: run every notebook with papermill, then render HTML.

``oodlib book`` (the Makefile's ``book`` target) does, for one *profile*:

1. read ``_toc.yml`` for the notebooks, and ``notebooks/profiles.yaml`` for the
   profile's parameters (``default`` = embedded synthetic data, ``real`` = the
   real-data parameters of each notebook);
2. run each notebook through :func:`oodlib.runner.run_notebook` into
   ``<build>/notebooks/``, records into ``<build>/records/``;
3. assemble a staging copy of the book sources with the executed notebooks
   and a results page generated from the records;
4. run ``jupyter-book build`` on it (execution off: notebooks are already run)
   and put the site in ``<build>/html``.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from .records import load_records
from .runner import run_notebook

RESULTS_MARKER = "<!-- RECORDS -->"
MANIFESTS_MARKER = "<!-- MANIFESTS -->"
BENCHMARK_MARKER = "<!-- BENCHMARK -->"
BENCHMARK_FILE = "benchmark.json"
SWEEP_BENCHMARK_MARKER = "<!-- SWEEP_BENCHMARK -->"
SWEEP_BENCHMARK_FILE = "sweep_benchmark.json"
#: the book build's 4-seed tour sweep (the sweep benchmark's Dask runs), shown on the results page
BENCHMARK_SWEEP = "tour-benchmark"
COURSE_MARKER = "<!-- COURSE_TIMES -->"


@dataclass(frozen=True)
class NotebookRun:
    """One notebook of a build: its path, checked-to-be parameters and where its outputs go."""

    notebook: Path
    parameters: dict[str, Any]
    output_dir: Path
    records_dir: Path
    profile: str


def default_jobs(cores: int | None = None) -> int:
    """Notebooks a build runs at once: 2 where there are 2 or more cores, else 1.

    Not more by default: each run holds up to ~4 GB (P1's peak), and on 2 cores two single-threaded
    runs side by side take the build from ~23 to ~15 minutes (see the Performance page).
    """
    from .sweep.cluster import available_cores

    return 2 if (cores or available_cores()) >= 2 else 1


def _run_one(run: NotebookRun, threads: int | None) -> float:
    """Run one notebook with ``threads`` torch/BLAS threads (``None``: the defaults); return its seconds."""
    from .sweep.worker import thread_env

    t = time.perf_counter()
    print(f"[oodlib book] running {run.notebook.stem} ({run.profile} profile) ...", flush=True)
    with thread_env(threads):
        run_notebook(run.notebook, run.parameters, output_dir=run.output_dir, records_dir=run.records_dir,
                     profile=run.profile)
    seconds = time.perf_counter() - t
    print(f"[oodlib book] {run.notebook.stem} done in {seconds:.1f} s", flush=True)
    return seconds


def run_notebooks(runs: list[NotebookRun], jobs: int | None = None) -> list[float]:
    """Run ``runs`` in their order, ``jobs`` at a time; return each run's wall time (s), in that order.

    ``jobs=1`` runs them one after another in this process with the default thread counts. With
    ``jobs > 1`` each runs in a worker process of a :class:`~concurrent.futures.ProcessPoolExecutor`
    with ``cores // jobs`` torch/BLAS threads, so the runs never oversubscribe the cores (two
    default-threaded PyTorch runs side by side are many times slower than one). Every notebook's
    parameters are checked before the first one starts; the first failure cancels the runs not yet
    started and is raised once the running ones end (their outputs are kept).
    """
    from concurrent.futures import FIRST_EXCEPTION, ProcessPoolExecutor, wait
    from multiprocessing import get_context

    from .runner import check_parameters
    from .sweep.cluster import threads_per_worker

    jobs = default_jobs() if jobs is None else int(jobs)
    if jobs < 1:
        raise ValueError(f"jobs must be at least 1, got {jobs}")
    for run in runs:
        check_parameters(run.notebook, run.parameters)
    if jobs == 1 or len(runs) <= 1:
        return [_run_one(run, None) for run in runs]
    threads = threads_per_worker(jobs)
    print(f"[oodlib book] running {len(runs)} notebooks {jobs} at a time, {threads} thread(s) each", flush=True)
    with ProcessPoolExecutor(max_workers=jobs, mp_context=get_context("spawn")) as pool:
        futures = [pool.submit(_run_one, run, threads) for run in runs]
        done, pending = wait(futures, return_when=FIRST_EXCEPTION)
        for f in pending:
            f.cancel()
        failed = [f for f in done if f.exception() is not None]
        if failed:
            wait([f for f in pending if not f.cancelled()])
            raise failed[0].exception()
    return [f.result() for f in futures]


def toc_notebooks(root: Path) -> list[str]:
    """Notebook paths (``notebooks/<stem>``, no suffix) listed in ``_toc.yml``, in order."""
    toc = yaml.safe_load((root / "_toc.yml").read_text(encoding="utf-8"))
    found: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            f = node.get("file")
            if isinstance(f, str) and f.startswith("notebooks/"):
                found.append(f)
            for v in node.values():
                walk(v)
        elif isinstance(node, list):
            for v in node:
                walk(v)

    walk(toc)
    return found


def profile_parameters(root: Path, profile: str) -> dict[str, dict[str, Any]]:
    """``{notebook stem: parameters}`` of ``profile`` from ``notebooks/profiles.yaml``."""
    profiles = yaml.safe_load((root / "notebooks" / "profiles.yaml").read_text(encoding="utf-8"))
    if profile not in profiles:
        raise ValueError(f"unknown profile {profile!r}; notebooks/profiles.yaml defines {sorted(profiles)}")
    return profiles[profile] or {}


def results_markdown(records: list[dict[str, Any]]) -> str:
    """The results page body: the runs, then the claims scoreboard (:mod:`oodlib.claims.scoreboard`)."""
    from .claims.scoreboard import scoreboard_markdown
    from .sweep.report import sweeps_markdown

    if not records:
        return "No records were found: run `make book` to produce them.\n"
    lines = ["## Runs", "", "| notebook | data | seed | device | wall time (s) | claims supported | record | created |",
             "|---|---|---|---|---|---|---|---|"]
    for r in sorted(records, key=lambda r: (r["notebook"], r["data_source"])):
        n_sup = sum(c["verdict"] == "supported" for c in r["claims"])
        lines.append(
            f"| {r['notebook']} | {r['data_source']} | {r['seed']} | {r.get('device', '')} | "
            f"{r['timings']['total_s']:.1f} | {n_sup} / {len(r['claims'])} | {r.get('_build', 'this build')} | "
            f"{r.get('created', '')} |"
        )
    notes = [f"* **{r.get('title') or r['notebook']}** ({r['data_source']}): {r['data_note']}"
             for r in records if r.get("data_note")]
    if notes:
        lines += ["", "### What the data were", "", *notes]
    return "\n".join(lines) + "\n\n" + sweeps_markdown(records) + scoreboard_markdown(records)


def collect_records(rec_dir: Path, root: Path) -> list[dict[str, Any]]:
    """This build's records, plus those of the project's other builds (``_build/records``,
    ``_build/<profile>/records``) and sweeps (``_build/sweeps/<name>/records``: one summary record
    per sweep, its claims judged over every seed), each marked with the folder it came from."""
    records = load_records(rec_dir) if rec_dir.is_dir() else []
    found = {root / "_build" / "records", *(root / "_build").glob("*/records"),
             *(root / "_build" / "sweeps").glob("*/records"), *(rec_dir.parent / "sweeps").glob("*/records")}
    for folder in sorted(found):
        if folder.resolve() == rec_dir.resolve() or not folder.is_dir():
            continue
        try:
            others = load_records(folder)
        except Exception as err:  # a broken record of another build must not break this one
            print(f"[oodlib book] skipping records in {folder}: {err}", flush=True)
            continue
        for r in others:
            r["_build"] = str(folder.relative_to(root)) if folder.is_relative_to(root) else str(folder)
        records += others
    return records


def manifests_markdown() -> str:
    """A table of every dataset manifest (the data page's generated part)."""
    from .data.manifests import list_manifests, load_manifest

    lines = ["## Manifests", "", "| name | what | papers | licence | size | obtain |", "|---|---|---|---|---|---|"]
    for name in list_manifests():
        m = load_manifest(name)
        lines.append(f"| `{m.name}` | [{m.title}]({m.homepage}) | {', '.join(m.papers)} | {m.license} | {m.size} | {m.obtain} |")
    return "\n".join(lines) + "\n"


def _fill(page: Path, marker: str, text: str) -> None:
    content = page.read_text(encoding="utf-8")
    if marker not in content:
        raise ValueError(f"{page.name} must contain the line {marker}")
    page.write_text(content.replace(marker, text), encoding="utf-8")


def stage_sources(root: Path, build: Path, executed: Path, records: list[dict[str, Any]], profile: str = "") -> Path:
    """Copy book sources and executed notebooks to ``build/book_src``; decorate every notebook page
    (:func:`decorate_pages`) and fill the generated parts of the results, data, course and
    performance pages."""
    src = build / "book_src"
    if src.exists():
        shutil.rmtree(src)
    src.mkdir(parents=True)
    for name in ("_config.yml", "_toc.yml", "references.bib"):
        shutil.copy2(root / name, src / name)
    shutil.copytree(root / "book", src / "book")
    shutil.copytree(executed, src / "notebooks")
    own = {r["notebook"]: r for r in records if not r.get("_build")}  # this build's runs (collect_records)
    downloads = decorate_pages(root, src, build / "records", own, profile)
    _fill(src / "book" / "results.md", RESULTS_MARKER, results_markdown(records)
          + claims_figures(records, src / "book") + downloads_markdown(downloads))
    _fill(src / "book" / "course.md", COURSE_MARKER, course_times_markdown(own, root))
    _fill(src / "book" / "data.md", MANIFESTS_MARKER, manifests_markdown())
    perf = src / "book" / "performance.md"
    if perf.exists():
        from .benchmark import benchmark_markdown, qps_figure

        bench_json = build / "records" / BENCHMARK_FILE
        result = json.loads(bench_json.read_text(encoding="utf-8")) if bench_json.exists() else None
        figure = None
        if result is not None and result["cases"]:
            qps_figure(result, src / "book" / "performance_knn.png")
            figure = "performance_knn.png"
        _fill(perf, BENCHMARK_MARKER, benchmark_markdown(result, records, figure))
        sweep_json = build / "records" / SWEEP_BENCHMARK_FILE
        if SWEEP_BENCHMARK_MARKER in perf.read_text(encoding="utf-8"):
            from .sweep.bench import sweep_benchmark_markdown

            swept = json.loads(sweep_json.read_text(encoding="utf-8")) if sweep_json.exists() else None
            _fill(perf, SWEEP_BENCHMARK_MARKER, sweep_benchmark_markdown(swept))
    return src


def decorate_pages(root: Path, src: Path, records_dir: Path, records: dict[str, dict[str, Any]],
                   profile: str) -> dict[str, list[Any]]:
    """Give every staged notebook page its provenance box, downloads and verdicts
    (:func:`oodlib.book_pages.decorate_page`) from this build's record (``records``, by notebook);
    return the downloads per page. ``records_dir`` holds the files the downloads copy.

    Raises:
        FileNotFoundError: a staged notebook has no record in this build (its run did not finish).
    """
    from .book_pages import decorate_page, write_downloads

    out: dict[str, list[Any]] = {}
    for page in sorted((src / "notebooks").glob("*.ipynb")):
        if page.stem not in records:
            raise FileNotFoundError(f"{page.name} has no record in {records_dir}: its run did not finish")
        out[page.stem] = write_downloads(records[page.stem], records_dir, src)
        decorate_page(page, records[page.stem], root / "notebooks" / page.name, out[page.stem], profile)
    return out


def downloads_markdown(downloads: dict[str, list[Any]]) -> str:
    """The results page's list of every page's downloadable files."""
    if not downloads:
        return ""
    lines = ["", "## Downloads", "",
             "The numbers behind every page of this build: each run's record (JSON, the schema is "
             "`oodlib/schemas/record.schema.json`), its score file (the per-sample scores every claim's "
             "bootstrap resamples) and every table as CSV, ours and the paper's.", ""]
    for stem, files in downloads.items():
        links = " · ".join(f"{{download}}`{d.label} <../{d.path}>`" for d in files)
        lines.append(f"* [{stem}](../notebooks/{stem}.ipynb): {links}")
    return "\n".join(lines) + "\n"


def course_times_markdown(records: dict[str, dict[str, Any]], root: Path) -> str:
    """A table of this build's notebooks (``records``, by notebook) in ``_toc.yml`` order: wall time,
    torch threads and peak memory of each run."""
    rows = ["| notebook | data | wall time (this build) | torch threads | peak memory |", "|---|---|---|---|---|"]
    for entry in toc_notebooks(root):
        r = records.get(Path(entry).name)
        if r is None:
            continue
        t = r["timings"]
        rows.append(f"| [{r.get('title') or r['notebook']}](../{entry}.ipynb) | {r['data_source']} | "
                    f"{t['total_s'] / 60:.1f} min | {r.get('threads') or '-'} | {t.get('peak_rss_mb', 0) / 1024:.1f} GB |")
    return "\n".join(rows) + "\n"


def claims_figures(records: list[dict[str, Any]], folder: Path) -> str:
    """One figure per paper of this build's claims (our interval, the margin, the paper's value),
    saved in ``folder``; the markdown section that shows them (empty without such claims)."""
    import matplotlib.pyplot as plt

    from .plots import claims_summary_figure, headline_figure
    from .tables import headline_values

    intro = ["## Ours vs the paper, claim by claim", "",
             "For each run of this build, every claim judged with an interval: our 95% bootstrap interval "
             "(bar) and estimate (dot; green supported, red not supported, grey inconclusive), the margin "
             "fixed before the run (dashed) and the paper's own value of the same effect (blue diamond) "
             "where it reports one. Each row has its own axis, in the claim's units. A run whose claims are "
             "still point comparisons shows the paper's headline numbers beside ours instead (declared in "
             "`oodlib/paper_numbers/<paper>.yaml`).", ""]
    parts: list[str] = []
    for r in sorted(records, key=lambda r: r["notebook"]):
        if r.get("_build"):
            continue  # this build's own runs only
        name, caption = f"claims_{r['notebook']}.png", ""
        if any(c.get("interval") for c in r["claims"]):
            fig = claims_summary_figure(r)
        else:  # point-comparison claims: the paper's headline numbers beside ours instead
            units, rows = headline_values(r["notebook"].split("_")[0], r["metrics"])
            if not rows:
                continue
            fig = headline_figure(rows, units)
            caption = ("This paper's claims are still point comparisons without an interval, so the figure shows "
                       f"its headline numbers beside ours ({r['data_source']} data) instead.")
        fig.savefig(folder / name, dpi=110, bbox_inches="tight")
        plt.close(fig)
        parts += [f"### {r.get('title') or r['notebook']}", "", *([caption, ""] if caption else []),
                  f"![Claims of {r['notebook']}: ours vs the paper]({name})", ""]
    return "\n".join(intro + parts) + "\n" if parts else ""


def _jupyter_book() -> str:
    """The ``jupyter-book`` executable of this environment (beside the running Python)."""
    beside = Path(sys.executable).parent / "jupyter-book"
    found = str(beside) if beside.is_file() else shutil.which("jupyter-book")
    if not found:
        raise FileNotFoundError("jupyter-book is not installed in this environment (pip install -r requirements.txt)")
    return found


def build_book(root: str | Path = ".", profile: str = "default", build_dir: str | Path | None = None,
               only: list[str] | None = None, benchmark: str | None = "small",
               sweep_benchmark: bool = False, jobs: int | None = None) -> Path:
    """Run the notebooks of ``profile`` and render the site; return the HTML folder.

    ``benchmark``: the kNN benchmark configuration run after the notebooks (its
    JSON goes to ``records/benchmark.json`` and onto the Performance page), or
    ``None`` to skip it. ``sweep_benchmark``: also time 4 tour runs on 2 Dask workers against 4
    sequential runs (:func:`oodlib.sweep.benchmark_sweep` without the running-cluster part, about 2
    minutes; JSON in
    ``records/sweep_benchmark.json``, onto the Performance page) and keep that sweep as
    ``sweeps/tour-benchmark``, whose 4-seed verdicts the results page shows. ``jobs``: notebooks
    run at once (default :func:`default_jobs`), see :func:`run_notebooks`.
    """
    root = Path(root).resolve()
    build = Path(build_dir).resolve() if build_dir else root / ("_build" if profile == "default" else f"_build/{profile}")
    params = profile_parameters(root, profile)
    executed, rec_dir = build / "notebooks", build / "records"
    runs = [NotebookRun(root / f"{entry}.ipynb", params.get(Path(entry).name, {}), executed, rec_dir, profile)
            for entry in toc_notebooks(root) if not only or Path(entry).name in only]
    run_notebooks(runs, jobs)
    if benchmark is not None:
        from .benchmark import run_benchmark

        t = time.perf_counter()
        print(f"[oodlib book] kNN benchmark ({benchmark}) ...", flush=True)
        run_benchmark(benchmark, rec_dir / BENCHMARK_FILE)
        print(f"[oodlib book] benchmark done in {time.perf_counter() - t:.1f} s", flush=True)
    if sweep_benchmark:
        from .sweep import benchmark_sweep, format_benchmark

        t = time.perf_counter()
        print("[oodlib book] sweep benchmark (4 tour runs: sequential vs 2 Dask workers) ...", flush=True)
        result = benchmark_sweep(root / "notebooks" / "00_tour.ipynb", out=rec_dir / SWEEP_BENCHMARK_FILE,
                                 keep_sweep=build / "sweeps" / BENCHMARK_SWEEP, cli=False, warm_cluster=False)
        print(format_benchmark(result), flush=True)
        print(f"[oodlib book] sweep benchmark done in {time.perf_counter() - t:.1f} s", flush=True)
    src = stage_sources(root, build, executed, collect_records(rec_dir, root), profile)
    subprocess.run([_jupyter_book(), "build", str(src), "--warningiserror", "--keep-going"], check=True)
    html = build / "html"
    if html.exists():
        shutil.rmtree(html)
    shutil.copytree(src / "_build" / "html", html)
    print(f"[oodlib book] site written to {html}/index.html", flush=True)
    return html
