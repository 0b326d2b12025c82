"""The sweep benchmark's bookkeeping, with the runs faked (no timed assertions: speed is reported,
never asserted): the order of its rounds and what it reports from them."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest

from oodlib import runner
from oodlib.sweep import bench
from oodlib.sweep.execute import SweepResult

NB = Path(__file__).resolve().parents[1] / "notebooks" / "00_tour.ipynb"


class FakeMachine:
    """A clock that each fake run advances; the machine slows down by ``drift`` per call."""

    def __init__(self, plain_s: float, sweep_s: float, drift: float) -> None:
        self.now, self.calls, self.log = 0.0, 0, []
        self.plain_s, self.sweep_s, self.drift = plain_s, sweep_s, drift

    def _spend(self, seconds: float) -> float:
        self.calls += 1
        spent = seconds * (1 + self.drift * self.calls)
        self.now += spent
        return spent

    def run_notebook(self, nb, params, output_dir, records_dir):
        self.log.append(("plain", params["seed"]))
        self._spend(self.plain_s)

    def run_sweep(self, nb, seeds, params, name, workers, build_dir, summarize, quiet):
        self.log.append(("sweep", tuple(seeds)))
        spent = self._spend(self.sweep_s)
        plan = [SimpleNamespace(run_id=f"r{s}") for s in seeds]
        tasks = {f"r{s}": {"host": "h", "worker_pid": s % workers, "run_s": spent / 2 - 0.5, "task_s": spent / 2 - 0.4}
                 for s in seeds}
        return SweepResult(name, Path(build_dir), plan, {f"r{s}": {"state": "done"} for s in seeds},
                           tasks=tasks, timings={"cluster_start_s": 0.5})


@pytest.fixture
def machine(monkeypatch):
    m = FakeMachine(plain_s=6.0, sweep_s=14.0, drift=0.0)
    monkeypatch.setattr(runner, "run_notebook", m.run_notebook)
    monkeypatch.setattr(bench, "run_sweep", m.run_sweep)
    monkeypatch.setattr(bench.time, "perf_counter", lambda: m.now)
    return m


def test_rounds_alternate_which_goes_first_and_report_means(machine, tmp_path):
    res = bench.benchmark_sweep(NB, n_runs=4, workers=2, out=tmp_path / "b.json", cli=False, warm_cluster=False,
                                rounds=2)
    kinds = [k for k, _ in machine.log]
    assert kinds == ["plain"] + ["plain"] * 4 + ["sweep", "sweep"] + ["plain"] * 4  # warm-up, A B, B A
    assert res["sequential"]["total_s"] == pytest.approx(24.0) and res["dask_cold"]["total_s"] == pytest.approx(14.0)
    assert res["speedup"] == pytest.approx(24 / 14) and res["meets_targets"]["speedup"] is True
    assert [r["dask_cold_speedup"] for r in res["rounds"]] == pytest.approx([24 / 14, 24 / 14])
    assert len(res["dask_cold"]["runs_s"]) == 8 and len(res["sequential"]["runs_s"]) == 8
    # the timeline's overhead: 14 s wall - 0.5 s start - 2 runs x 6.5 s busiest worker, over its 2 runs
    assert res["overhead_per_run_s"] == pytest.approx((14 - 0.5 - 13) / 2)
    assert (tmp_path / "b.json").is_file()
    assert "means of 2 rounds" in bench.format_benchmark(res) and "per round: 1.71x, 1.71x" in bench.format_benchmark(res)
    assert "means of 2 rounds" in bench.sweep_benchmark_markdown(res)


def test_alternating_rounds_cancel_a_steady_drift(machine, tmp_path):
    machine.drift = 0.02  # the machine gets 2% slower with every run
    one = bench.benchmark_sweep(NB, out=tmp_path / "1.json", cli=False, warm_cluster=False, rounds=1)
    machine.now, machine.calls = 0.0, 0
    two = bench.benchmark_sweep(NB, out=tmp_path / "2.json", cli=False, warm_cluster=False, rounds=2)
    true = 24 / 14
    assert one["speedup"] < true  # one round: the sweep always runs last, on the slowest machine
    assert abs(two["speedup"] - true) < abs(one["speedup"] - true) / 3
    assert "means of" not in bench.sweep_benchmark_markdown(one) and "means of 2 rounds" in bench.format_benchmark(two)


def test_rounds_must_be_positive(tmp_path):
    with pytest.raises(ValueError, match="rounds must be at least 1"):
        bench.benchmark_sweep(NB, out=tmp_path / "b.json", rounds=0)
