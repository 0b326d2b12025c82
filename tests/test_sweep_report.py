"""Sweep summaries on the book's pages: metrics over seeds beside the paper, the sweep benchmark."""

from __future__ import annotations

import copy

import pytest

from oodlib.book import results_markdown
from oodlib.sweep import paper_metrics
from oodlib.sweep.bench import sweep_benchmark_markdown
from oodlib.sweep.report import metric_rows, metrics_table, sweeps_markdown
from oodlib.sweep.summary import aggregate_metrics


def _summary(metrics_runs, paper=None):
    rec = {"notebook": "p3_av_ood", "title": "P3 (sweep s: 3 seeds)", "data_source": "synthetic", "seed": 0,
           "parameters": {"dataset": "UCF", "seeds": [0, 1, 2]}, "device": "cpu", "timings": {"total_s": 3.0},
           "claims": [], "metrics": aggregate_metrics(metrics_runs)}
    if paper is not None:
        rec["paper_metrics"] = paper
    return rec


RUNS = [{"table1": {"AV-OOD": {"HM": h, "S": 50.0}, "AVCA-style": {"HM": h - 5}}, "training": {"beta": 0.4},
         "curve": [1.0, 2.0]} for h in (40.0, 42.0, 44.0)]


def test_metric_rows_are_the_scalar_leaves_in_order():
    rows = [(path, agg["mean"]) for path, agg in metric_rows(aggregate_metrics(RUNS))]
    assert rows == [(("table1", "AV-OOD", "HM"), 42.0), (("table1", "AV-OOD", "S"), 50.0),
                    (("table1", "AVCA-style", "HM"), 37.0), (("training", "beta"), pytest.approx(0.4))]


def test_metrics_table_puts_the_paper_beside_the_same_cell_only():
    md = metrics_table(_summary(RUNS, {"table1": {"AV-OOD": {"HM": 37.89}, "AVCA": {"HM": 27.15}}}))
    lines = md.splitlines()
    hm = next(line for line in lines if line.startswith("| table1 / AV-OOD / HM |"))
    # paper 37.89; mean 42; t(0.975, 2) * 2 / sqrt(3) = 4.968 -> [37.03, 46.97]; sd 2; 3 runs
    assert hm == "| table1 / AV-OOD / HM | 37.89 | 42.00 | [37.03, 46.97] | 2.00 | 3 |"
    # our "AVCA-style" row is not the paper's "AVCA": no published value beside it
    assert "| table1 / AVCA-style / HM | - | 37.00 |" in md
    assert "| table1 / AV-OOD / S | - | 50.00 | [50.00, 50.00] | 0.00 | 3 |" in md
    assert not any("curve" in line for line in lines)


def test_one_run_sweep_has_no_interval():
    md = metrics_table(_summary(RUNS[:1]))
    assert "| table1 / AV-OOD / HM | - | 40.00 | - | - | 1 |" in md


def test_results_page_shows_sweeps_only_when_there_are_some():
    single = {k: v for k, v in _summary(RUNS).items() if k != "parameters"} | {"parameters": {"seed": 0}}
    assert sweeps_markdown([single]) == ""
    assert "Sweeps: metrics over seeds" not in results_markdown([single])
    page = results_markdown([single, _summary(RUNS)])
    assert "## Sweeps: metrics over seeds" in page and "### P3 (sweep s: 3 seeds)" in page
    assert "seeds 0, 1, 2; parameters: dataset=UCF" in page


def test_p3_paper_metrics_follow_the_datasets_parameter():
    ucf, vgg = paper_metrics("p3_av_ood", {"datasets": ["UCF"]}), paper_metrics("p3_av_ood", {"datasets": ["VGGSound"]})
    assert ucf["table1"]["AV-OOD"]["UCF HM"] == 37.89 and vgg["table1"]["AV-OOD"]["VGGSound HM"] == 11.16
    assert ucf["table2"]["OOD-entropy"] == {"UCF AUC": 87.66, "UCF FPR": 8.68, "UCF HM": 37.03}
    every = paper_metrics("p3_av_ood", {})  # the default: all three, in the paper's order
    assert list(every["table1"]["AV-OOD"])[:2] == ["VGGSound S", "VGGSound U"] and len(every["table1"]["AV-OOD"]) == 12
    assert "AVCA-style" not in ucf["table1"]
    assert paper_metrics("00_tour", {}) == {} and paper_metrics("p1_audio_knn", {}) == {}


BENCH = {"notebook": "notebooks/00_tour.ipynb", "parameters": {"epochs": 5, "n_per_class": 50}, "n_runs": 4,
         "workers": 2, "cores": 2, "threads_per_worker": 1,
         "sequential": {"threads": 2, "total_s": 66.0},
         "dask_cold": {"total_s": 40.0, "cluster_start_s": 3.0, "speedup": 1.65, "efficiency": 0.825},
         "dask_warm": {"total_s": 33.0, "cluster_start_s": 0.0, "speedup": 2.0, "efficiency": 1.0},
         "overhead_per_run_s": 0.1, "single_run": {"plain_1_thread_s": 16.0, "warm_cluster_sweep_s": 16.1},
         "targets": {"speedup": 1.7, "overhead_per_run_s": 5.0},
         "meets_targets": {"speedup": False, "speedup_warm": True, "overhead_per_run_s": True}}


def test_sweep_benchmark_section_reports_what_was_measured():
    md = sweep_benchmark_markdown(BENCH)
    assert "| Dask, new embedded cluster (`oodlib sweep`) | 2 workers x 1 thread(s) | 40.0 | 1.65x | 82% |" in md
    assert "| one after another, without Dask | 2 threads per run | 66.0 | 1.00x | - |" in md
    assert "not met from scratch and met on a running cluster" in md and "+0.1 s" in md
    met = copy.deepcopy(BENCH)
    met["meets_targets"]["speedup"] = True
    assert "1.7x, met from scratch" in sweep_benchmark_markdown(met)
    assert "did not run in this build" in sweep_benchmark_markdown(None)


def test_sweep_benchmark_section_without_the_running_cluster():
    quick = copy.deepcopy(BENCH)
    quick.update(dask_warm=None, speedup_warm=None, overhead_per_run_s=0.6,
                 overhead_method="the new cluster's wall time minus its start and the busiest worker's notebook time")
    quick["meets_targets"]["speedup_warm"] = None
    quick["single_run"] = {"plain_1_thread_s": None, "warm_cluster_sweep_s": None}
    md = sweep_benchmark_markdown(quick)
    assert "running cluster" not in md and "1.7x, not met from scratch." in md
    assert "+0.6 s (the new cluster's wall time minus its start" in md
