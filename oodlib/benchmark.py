"""kNN speed benchmark: oodlib's scorer against raw faiss, scikit-learn and torch.

Run it with ``oodlib bench --config small|full`` (writes ``_build/records/benchmark.json``,
which the book's Performance page renders). Never used for timed assertions in tests.

What is measured, per (backend, bank size, dimension):

* wall time of fitting and of scoring ``n_query`` queries (exact k nearest, float32),
  queries per second, and achieved GFLOP/s counting the ``2 * n_query * n_bank * dim``
  multiply-adds of the distance matrix;
* the fraction of the machine's float32 peak, where the **peak is estimated** by
  the best of a few large ``torch.mm`` (2048 x 2048) products on all cores: a
  practical BLAS ceiling, not the vendor's theoretical number;
* peak resident memory of a fresh process that ran only that case (each case runs
  in its own subprocess, so the numbers do not bleed into each other).

Also: exactness of a streamed bank (oodlib's torch backend in bank chunks against
one exact faiss search), recall@k and speed of approximate faiss indexes (IVF,
HNSW, float16 scalar quantiser) against exact search, and a dense per-image case
(one full-resolution image's patch tokens against a large bank).
"""

from __future__ import annotations

import json
import platform
import resource
import subprocess
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

BACKENDS = ("oodlib", "faiss", "sklearn", "torch")
_IMPORTS = {"oodlib": ("faiss", "oodlib.knn"), "faiss": ("faiss",), "sklearn": ("sklearn.neighbors",), "torch": ("torch",)}


@dataclass(frozen=True)
class Config:
    """One benchmark configuration (sizes in vectors, dimensions in floats)."""

    banks: tuple[int, ...]
    dims: tuple[int, ...]
    n_query: int
    k: int = 5
    max_bank_gb: float = 8.0  # skip cases whose bank alone exceeds this
    backends: tuple[str, ...] = BACKENDS
    approx: tuple[int, int] = (100_000, 768)  # bank, dim of the approximate-index comparison
    dense: tuple[int, int, int] = (8_192, 768, 100_000)  # patches, dim, bank of the dense case
    streaming: tuple[int, int] = (200_000, 768)
    sklearn_max_bank: int = 100_000  # scikit-learn brute force is skipped beyond this (minutes per case)


CONFIGS = {
    "small": Config(banks=(10_000, 50_000), dims=(128, 768), n_query=1_000, approx=(50_000, 128),
                    dense=(2_048, 768, 20_000), streaming=(60_000, 128), sklearn_max_bank=50_000),
    "full": Config(banks=(10_000, 100_000, 1_000_000), dims=(128, 768, 1024, 6144), n_query=1_000),
}


def data(n: int, dim: int, seed: int) -> np.ndarray:
    """Gaussian float32 vectors (n, dim), seeded."""
    return np.random.default_rng(seed).standard_normal((n, dim), dtype=np.float32)


def matmul_peak_gflops(n: int = 2048, repeats: int = 5) -> float:
    """Best float32 GEMM throughput of ``torch.mm`` (n x n) in GFLOP/s: the peak estimate."""
    import torch

    a, b = torch.randn(n, n), torch.randn(n, n)
    torch.mm(a, b)
    best = 0.0
    for _ in range(repeats):
        t = time.perf_counter()
        torch.mm(a, b)
        best = max(best, 2 * n**3 / (time.perf_counter() - t) / 1e9)
    return best


def _search(backend: str, bank: np.ndarray, q: np.ndarray, k: int) -> tuple[float, float, np.ndarray, np.ndarray]:
    """(fit seconds, search seconds, squared distances (n, k), bank indices (n, k)) for one backend.

    Imports are not timed. Each backend runs as a user would call it, with the library's defaults
    (raw ``torch.cdist`` included, whose float32 product may run at reduced precision on some CPUs;
    :func:`distance_error` measures it).
    """
    import importlib

    for module in _IMPORTS.get(backend, ()):  # only this backend's libraries: subprocess start-up stays short
        importlib.import_module(module)
    t0 = time.perf_counter()
    if backend == "oodlib":
        from .knn import KNNScorer

        s = KNNScorer(k=k, squared=True, backend="faiss").fit(bank)
        t1 = time.perf_counter()
        d, i = s.kneighbors(q)
    elif backend == "faiss":
        import faiss

        index = faiss.IndexFlatL2(bank.shape[1])
        index.add(bank)
        t1 = time.perf_counter()
        d, i = index.search(q, k)
    elif backend == "sklearn":
        from sklearn.neighbors import NearestNeighbors

        nn = NearestNeighbors(n_neighbors=k, algorithm="brute").fit(bank)
        t1 = time.perf_counter()
        d, i = nn.kneighbors(q)
        d = d**2
    elif backend == "torch":
        import torch

        b = torch.from_numpy(bank)
        t1 = time.perf_counter()
        top = torch.cdist(torch.from_numpy(q), b).topk(k, largest=False)
        d, i = top.values.numpy() ** 2, top.indices.numpy()
    else:
        raise ValueError(f"unknown backend {backend!r}; expected one of {BACKENDS}")
    t2 = time.perf_counter()
    return t1 - t0, t2 - t1, np.asarray(d), np.asarray(i)


def distance_error(bank: np.ndarray, q: np.ndarray, dist: np.ndarray, idx: np.ndarray) -> float:
    """Largest relative error of reported squared distances (n, k) against float64 ones of the same pairs."""
    q64 = q.astype(np.float64)
    exact = np.stack([((q64 - bank[idx[:, j]]) ** 2).sum(1) for j in range(idx.shape[1])], axis=1)
    return float(np.max(np.abs(dist - exact) / np.maximum(exact, 1e-12)))


def run_case(backend: str, n_bank: int, dim: int, n_query: int, k: int, seed: int = 0) -> dict[str, Any]:
    """Time one exact search in this process; returns timings, throughput, peak RSS and distance error."""
    bank, q = data(n_bank, dim, seed), data(n_query, dim, seed + 1)
    fit_s, search_s, dist, idx = _search(backend, bank, q, k)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # before the float64 check below
    flops = 2.0 * n_query * n_bank * dim
    return {"backend": backend, "n_bank": n_bank, "dim": dim, "n_query": n_query, "k": k, "fit_s": fit_s,
            "search_s": search_s, "qps": n_query / search_s, "gflops": flops / search_s / 1e9,
            "dist_rel_err": distance_error(bank, q, dist, idx), "peak_rss_mb": peak_mb}


def run_case_subprocess(backend: str, n_bank: int, dim: int, n_query: int, k: int) -> dict[str, Any]:
    """:func:`run_case` in a fresh interpreter, so that peak memory is this case's alone."""
    args = [sys.executable, "-m", "oodlib.benchmark", backend, str(n_bank), str(dim), str(n_query), str(k)]
    out = subprocess.run(args, capture_output=True, text=True)
    if out.returncode != 0:
        raise RuntimeError(f"benchmark case {args[3:]} failed:\n{out.stderr[-2000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def streaming_exactness(n_bank: int, dim: int, n_query: int = 500, k: int = 5, chunk: int = 8_192) -> dict[str, Any]:
    """oodlib's torch backend over bank chunks of ``chunk`` vectors vs one exact faiss search."""
    from .knn import KNNScorer

    bank, q = data(n_bank, dim, 0), data(n_query, dim, 1)
    t = time.perf_counter()
    d_stream, i_stream = KNNScorer(k=k, squared=True, backend="torch", device="cpu", bank_chunk=chunk,
                                   query_chunk=256).fit(bank).kneighbors(q)
    stream_s = time.perf_counter() - t
    d_flat, i_flat = KNNScorer(k=k, squared=True, backend="faiss").fit(bank).kneighbors(q)
    return {"n_bank": n_bank, "dim": dim, "bank_chunk": chunk, "seconds": stream_s,
            "max_rel_distance_error": float(np.max(np.abs(d_stream - d_flat) / np.maximum(d_flat, 1e-12))),
            "same_neighbours": float(np.mean(i_stream == i_flat))}


def approximate_indexes(n_bank: int, dim: int, n_query: int = 1_000, k: int = 5) -> list[dict[str, Any]]:
    """Recall@k and speed of faiss IVF-Flat, HNSW and float16 scalar quantiser against exact search."""
    import faiss

    bank, q = data(n_bank, dim, 0), data(n_query, dim, 1)
    exact = faiss.IndexFlatL2(dim)
    exact.add(bank)
    t = time.perf_counter()
    _, truth = exact.search(q, k)
    rows = [{"index": "Flat (exact)", "build_s": 0.0, "search_s": time.perf_counter() - t, "recall": 1.0}]
    nlist = int(4 * np.sqrt(n_bank))
    builders = {
        f"IVF{nlist},Flat nprobe=16": lambda: faiss.index_factory(dim, f"IVF{nlist},Flat"),
        "HNSW32 efSearch=64": lambda: faiss.IndexHNSWFlat(dim, 32),
        "SQfp16 (exact scan, float16)": lambda: faiss.IndexScalarQuantizer(dim, faiss.ScalarQuantizer.QT_fp16),
    }
    for name, make in builders.items():
        index = make()
        t = time.perf_counter()
        if not index.is_trained:
            index.train(bank[np.random.default_rng(0).choice(n_bank, min(n_bank, 40 * nlist), replace=False)])
        index.add(bank)
        build = time.perf_counter() - t
        if "IVF" in name:
            faiss.extract_index_ivf(index).nprobe = 16
        if "HNSW" in name:
            index.hnsw.efSearch = 64
        t = time.perf_counter()
        _, got = index.search(q, k)
        search = time.perf_counter() - t
        recall = float(np.mean([len(set(a) & set(b)) / k for a, b in zip(got, truth)]))
        rows.append({"index": name, "build_s": build, "search_s": search, "recall": recall})
    for r in rows:
        r["qps"] = n_query / r["search_s"] if r["search_s"] > 0 else float("nan")
    return rows


def dense_image(n_patches: int, dim: int, n_bank: int, k: int = 3) -> dict[str, Any]:
    """One image's patch features (n_patches, dim) scored against a bank (P5's mean of 3 distances)."""
    from .knn import KNNScorer

    bank, q = data(n_bank, dim, 0), data(n_patches, dim, 1)
    t = time.perf_counter()
    s = KNNScorer(k=k, reduction="mean").fit(bank)
    fit = time.perf_counter() - t
    t = time.perf_counter()
    s.score(q)
    return {"n_patches": n_patches, "dim": dim, "n_bank": n_bank, "fit_s": fit, "score_s": time.perf_counter() - t}


@dataclass
class BenchmarkResult:
    config: str
    machine: dict[str, Any]
    peak_gflops: float
    cases: list[dict[str, Any]] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    streaming: dict[str, Any] = field(default_factory=dict)
    approximate: list[dict[str, Any]] = field(default_factory=list)
    dense: dict[str, Any] = field(default_factory=dict)


def machine_info() -> dict[str, Any]:
    """CPU model, core count, memory and library versions of this machine."""
    import os

    import torch

    info = {"python": platform.python_version(), "cores": os.cpu_count(), "torch": torch.__version__,
            "torch_threads": torch.get_num_threads(), "platform": platform.platform()}
    try:
        cpu = [ln for ln in Path("/proc/cpuinfo").read_text().splitlines() if ln.startswith("model name")]
        info["cpu"] = cpu[0].split(":", 1)[1].strip() if cpu else platform.processor()
        mem = [ln for ln in Path("/proc/meminfo").read_text().splitlines() if ln.startswith("MemTotal")]
        info["memory_gb"] = round(int(mem[0].split()[1]) / 1024**2, 1) if mem else None
    except OSError:
        info["cpu"] = platform.processor()
    try:
        import faiss

        info["faiss"] = faiss.__version__
    except ImportError:
        pass
    return info


def run_benchmark(config: str = "small", out: str | Path | None = None, log=print) -> BenchmarkResult:
    """Run a configuration (see :data:`CONFIGS`); write JSON to ``out`` when given."""
    if config not in CONFIGS:
        raise ValueError(f"unknown benchmark config {config!r}; expected one of {sorted(CONFIGS)}")
    cfg = CONFIGS[config]
    res = BenchmarkResult(config, machine_info(), matmul_peak_gflops())
    log(f"[bench] float32 GEMM peak estimate: {res.peak_gflops:.1f} GFLOP/s")
    for n_bank in cfg.banks:
        for dim in cfg.dims:
            if n_bank * dim * 4 / 1e9 > cfg.max_bank_gb:
                res.skipped.append(f"{n_bank} x {dim}: bank over {cfg.max_bank_gb} GB")
                continue
            for backend in cfg.backends:
                if backend == "sklearn" and n_bank > cfg.sklearn_max_bank:
                    res.skipped.append(f"sklearn at {n_bank} x {dim}: beyond sklearn_max_bank")
                    continue
                case = run_case_subprocess(backend, n_bank, dim, cfg.n_query, cfg.k)
                case["peak_fraction"] = case["gflops"] / res.peak_gflops
                res.cases.append(case)
                log(f"[bench] {backend:8s} {n_bank:>9d} x {dim:<5d} {case['qps']:10.0f} q/s "
                    f"{case['gflops']:7.1f} GFLOP/s  {case['peak_rss_mb']:8.0f} MB")
    res.streaming = streaming_exactness(*cfg.streaming)
    res.approximate = approximate_indexes(*cfg.approx)
    res.dense = dense_image(*cfg.dense)
    if out is not None:
        Path(out).parent.mkdir(parents=True, exist_ok=True)
        Path(out).write_text(json.dumps(asdict(res), indent=2) + "\n")
    return res



def _md_table(rows: list[dict[str, Any]], columns: dict[str, str]) -> str:
    """A Markdown table of ``rows`` with ``columns`` (key -> format spec or "")."""
    head = "| " + " | ".join(columns) + " |\n|" + "---|" * len(columns) + "\n"
    body = ""
    for r in rows:
        cells = []
        for key, fmt in columns.items():
            v = r.get(key)
            cells.append("-" if v is None else format(v, fmt) if fmt else str(v))
        body += "| " + " | ".join(cells) + " |\n"
    return head + body


def benchmark_markdown(result: dict[str, Any] | None, records: list[dict[str, Any]], figure: str | None = None) -> str:
    """The Performance page's measured part: machine, kNN table, streaming, approximate, dense, notebooks."""
    out = []
    if result is None:
        out.append("*No benchmark ran in this build* (`oodlib book --benchmark none`).\n")
    else:
        m = result["machine"]
        out.append(f"Measured in this build (`{result['config']}` configuration) on: {m.get('cpu', '?')}, "
                   f"{m.get('cores')} cores, {m.get('memory_gb')} GB memory, torch {m.get('torch')} "
                   f"({m.get('torch_threads')} threads), faiss {m.get('faiss', 'absent')}. "
                   f"Float32 peak estimate (best `torch.mm` 2048x2048): **{result['peak_gflops']:.1f} GFLOP/s**.\n")
        rows = [{**c, "peak_pct": 100 * c["peak_fraction"]} for c in result["cases"]]
        out.append(_md_table(rows, {"backend": "", "n_bank": ",d", "dim": "d", "n_query": ",d", "fit_s": ".2f",
                                    "search_s": ".2f", "qps": ",.0f", "gflops": ".1f", "peak_pct": ".0f",
                                    "peak_rss_mb": ",.0f", "dist_rel_err": ".1e"}))
        out.append("\n`dist_rel_err`: largest relative error of the reported squared distances against float64 "
                   "ones of the same pairs (float32 gives about 1e-6; TF32-class products about 1e-4).\n")
        if figure:
            out.append(f"\n```{{figure}} {figure}\nQueries per second against bank size, per backend and dimension "
                       "(exact search, k = 5).\n```\n")
        if result["skipped"]:
            out.append("\nSkipped: " + "; ".join(result["skipped"]) + ".\n")
        st = result["streaming"]
        out.append(f"\n**Streaming.** A {st['n_bank']:,} x {st['dim']} bank searched in chunks of {st['bank_chunk']:,} "
                   f"vectors (torch backend) gives the same neighbours as one exact faiss search for "
                   f"{100 * st['same_neighbours']:.2f}% of them, with a largest relative distance difference of "
                   f"{st['max_rel_distance_error']:.1e} (float32 rounding), in {st['seconds']:.2f} s.\n")
        out.append("\n**Approximate indexes** (faiss, recall@5 against exact search; random Gaussian vectors are "
                   "the hardest case for partition- and graph-based indexes, real embeddings cluster and do better):\n\n")
        out.append(_md_table(result["approximate"], {"index": "", "build_s": ".2f", "search_s": ".3f", "qps": ",.0f",
                                                     "recall": ".3f"}))
        d = result["dense"]
        out.append(f"\n**Dense scoring.** {d['n_patches']:,} patch features of one image ({d['dim']}-d) against a "
                   f"{d['n_bank']:,}-vector bank, mean of 3 nearest distances: {d['score_s']:.2f} s "
                   f"(bank indexing {d['fit_s']:.2f} s).\n")
    nb = notebook_costs_from(records)
    if nb:
        out.append("\n**Notebooks in this build** (wall time inside the notebook; torch threads of the run; peak "
                   "resident memory of its kernel). `make book` runs two notebooks at a time on 2+ cores, each "
                   "with its share of the threads, so the build takes less than the sum:\n\n")
        out.append(_md_table(nb, {"notebook": "", "data_source": "", "threads": "", "total_s": ".0f",
                                  "peak_rss_mb": ",.0f"}))
        out.append(f"\nSum of notebook times: {sum(r['total_s'] for r in nb):.0f} s.\n")
    return "".join(out)


def notebook_costs_from(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Wall time and peak memory of each loaded results record."""
    return [{"notebook": r["notebook"], "data_source": r["data_source"], "threads": r.get("threads") or "-",
             "total_s": r["timings"]["total_s"], "peak_rss_mb": r["timings"].get("peak_rss_mb")} for r in records]


def qps_figure(result: dict[str, Any], path: str | Path) -> Path:
    """Queries per second vs bank size, one line per backend and dimension; saved as PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len({c["dim"] for c in result["cases"]}) or 1, figsize=(9, 3.2), squeeze=False)
    for ax, dim in zip(axes[0], sorted({c["dim"] for c in result["cases"]})):
        for b in BACKENDS:
            pts = sorted((c["n_bank"], c["qps"]) for c in result["cases"] if c["dim"] == dim and c["backend"] == b)
            if pts:
                ax.plot(*zip(*pts), marker="o", label=b)
        ax.set(xscale="log", yscale="log", xlabel="bank size", title=f"dim {dim}")
    axes[0][0].set_ylabel("queries / s")
    axes[0][-1].legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return Path(path)


if __name__ == "__main__":  # one case in a fresh process: backend n_bank dim n_query k
    b, n, d, nq, kk = sys.argv[1:6]
    print(json.dumps(run_case(b, int(n), int(d), int(nq), int(kk))))
