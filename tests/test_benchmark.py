"""The kNN benchmark's machinery (no timed assertions: speed is reported, never asserted)."""

from __future__ import annotations

import numpy as np
import pytest

from oodlib import benchmark as bm
from oodlib.cli import build_parser
from oodlib.records import RunRecord


def test_all_backends_find_the_same_neighbour_distances():
    bank, q = bm.data(3000, 32, 0), bm.data(50, 32, 1)
    ref = None
    for backend in bm.BACKENDS:
        _, _, d = bm._search(backend, bank, q, 5)
        d = np.sort(np.asarray(d, dtype=np.float64), axis=1)
        if ref is None:
            ref = d
        assert np.allclose(d, ref, rtol=1e-4, atol=1e-3), backend
    with pytest.raises(ValueError, match="unknown backend"):
        bm._search("annoy", bank, q, 5)


def test_run_case_reports_throughput_and_memory():
    case = bm.run_case("oodlib", 2000, 16, 100, 5)
    assert case["qps"] > 0 and case["gflops"] == pytest.approx(2 * 100 * 2000 * 16 / case["search_s"] / 1e9)
    assert case["peak_rss_mb"] > 10


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
