"""The kNN benchmark's machinery (no timed assertions: speed is reported, never asserted)."""

from __future__ import annotations

import numpy as np
import pytest

from oodlib import benchmark as bm
from oodlib.cli import build_parser
from oodlib.records import RunRecord


FP32_UNIT, TF32_UNIT = 2.0**-24, 2.0**-11  # unit roundoffs: IEEE float32 and a 10-bit-mantissa product


def _rounding_bound(bank, q, idx, product_unit):
    """Bound on |computed - exact| of squared distances (n, k) for ``|q|^2 + |b|^2 - 2 q.b`` in float32.

    Inputs of the product rounded to ``product_unit`` (0 for an IEEE float32 product, 2^-11 for a
    TF32-class one), sums accumulated in float32 (gamma_n = n u / (1 - n u) per dot product), and
    sum |q_i b_i| <= (|q|^2 + |b|^2) / 2: error <= (2 product_unit + 2 gamma_n) (|q|^2 + |b|^2).
    """
    dim = q.shape[1]
    gamma = (dim + 2) * FP32_UNIT / (1 - (dim + 2) * FP32_UNIT)
    norms = (q.astype(np.float64) ** 2).sum(1)[:, None] + (bank.astype(np.float64) ** 2).sum(1)[idx]
    return (2 * product_unit + 2 * gamma) * norms


def test_all_backends_find_the_true_neighbours_within_rounding():
    bank, q = bm.data(3000, 32, 0), bm.data(50, 32, 1)
    exact_all = ((q[:, None, :].astype(np.float64) - bank[None].astype(np.float64)) ** 2).sum(-1)
    kth = np.sort(exact_all, axis=1)[:, 4]
    for backend in bm.BACKENDS:
        _, _, d, idx = bm._search(backend, bank, q, 5)
        assert d.shape == idx.shape == (50, 5), backend
        assert all(len(set(row)) == 5 for row in idx), backend
        exact = np.take_along_axis(exact_all, idx, axis=1)
        # Raw torch.cdist runs its float32 product at the library's default precision, which was
        # TF32-class on one CI machine (2.6e-4 relative); faiss, scikit-learn and oodlib's scorer
        # are held to IEEE float32.
        unit = TF32_UNIT if backend == "torch" else 0.0
        bound = _rounding_bound(bank, q, idx, unit)
        assert np.all(np.abs(d - exact) <= bound), backend
        assert np.all(exact <= kth[:, None] + 2 * bound), backend  # the true 5 nearest, up to rounding ties
        assert bm.distance_error(bank, q, d, idx) == pytest.approx(np.max(np.abs(d - exact) / exact))
    with pytest.raises(ValueError, match="unknown backend"):
        bm._search("annoy", bank, q, 5)


def test_run_case_reports_throughput_and_memory():
    case = bm.run_case("oodlib", 2000, 16, 100, 5)
    assert case["qps"] > 0 and case["gflops"] == pytest.approx(2 * 100 * 2000 * 16 / case["search_s"] / 1e9)
    assert case["peak_rss_mb"] > 10
    assert 0 <= case["dist_rel_err"] < 1e-5  # oodlib's scorer (faiss, IEEE float32) on 16-d Gaussians


def test_streaming_is_exact_and_approximate_recall_is_bounded():
    st = bm.streaming_exactness(5000, 16, n_query=50, chunk=700)
    assert st["same_neighbours"] == 1.0 and st["max_rel_distance_error"] < 1e-4
    rows = bm.approximate_indexes(3000, 16, n_query=50)
    assert rows[0]["recall"] == 1.0 and all(0.0 <= r["recall"] <= 1.0 for r in rows)
    assert {r["index"].split(",")[0].split(" ")[0] for r in rows} >= {"Flat", "HNSW32", "SQfp16"}


def test_page_markdown_from_a_result_and_records(tmp_path):
    res = bm.BenchmarkResult("small", {"cpu": "TestCPU", "cores": 2}, 100.0)
    res.cases = [dict(bm.run_case("faiss", 1000, 8, 10, 5), peak_fraction=0.5)]
    res.streaming = bm.streaming_exactness(1000, 8, n_query=10, chunk=300)
    res.approximate = bm.approximate_indexes(2000, 8, n_query=10)
    res.dense = bm.dense_image(64, 8, 1000)
    rec = RunRecord("nb", {}, seed=0, data_source="synthetic").to_dict()
    assert rec["timings"]["peak_rss_mb"] > 0
    from dataclasses import asdict

    md = bm.benchmark_markdown(asdict(res), [rec], figure="f.png")
    assert "TestCPU" in md and "| faiss | 1,000 | 8 |" in md and "f.png" in md and "| nb | synthetic |" in md
    assert "No benchmark ran" in bm.benchmark_markdown(None, [])
    assert bm.qps_figure(asdict(res), tmp_path / "q.png").stat().st_size > 0


def test_unknown_config_and_cli():
    with pytest.raises(ValueError, match="unknown benchmark config"):
        bm.run_benchmark("huge")
    args = build_parser().parse_args(["bench", "--config", "small", "--out", "x.json"])
    assert args.config == "small" and args.out == "x.json"
    with pytest.raises(SystemExit):
        build_parser().parse_args(["bench", "--config", "huge"])
