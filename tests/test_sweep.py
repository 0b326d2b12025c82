"""``oodlib sweep``: planning, run ids, manifest states, and sweeps on Dask (resume, killed workers, failures).

The slow tests run real sweeps on an embedded LocalCluster: the tour over four seeds (small
parameters) and a tiny notebook (``tiny.ipynb``, written per test) that can sleep, raise its own
error or kill the worker that runs it.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import nbformat
import pytest

from oodlib import sweep
from oodlib.cli import main
from oodlib.params import ParameterError
from oodlib.records import validate_record

ROOT = Path(__file__).resolve().parents[1]
TOUR = ROOT / "notebooks" / "00_tour.ipynb"
SMALL = {"epochs": 5, "n_per_class": 50}

TINY_PARAMS = """seed: int = 0
mode: str = "ok"  # "ok", "error" (the notebook raises), "die" (kills the worker that runs it)
sleep_s: float = 0.0
"""

TINY_BODY = """import os, signal, time
from oodlib.records import RunRecord
if mode == "error":
    raise ValueError(f"bad data: clip {seed} is empty")
if mode == "die":
    os.kill(os.getppid(), signal.SIGKILL)
    time.sleep(60)
time.sleep(sleep_s)
record = RunRecord("tiny", {"seed": seed, "mode": mode, "sleep_s": sleep_s}, seed=seed, data_source="synthetic")
record.add_metrics({"value": float(seed), "threads": int(os.environ.get("OMP_NUM_THREADS", "0"))})
record.add_claim("the seed is below 5", "supported" if seed < 5 else "not supported", f"seed {seed}")
record.write()
"""


def tiny_notebook(folder: Path) -> Path:
    """A notebook that starts fast (no torch): sleeps, fails on its own, or kills its worker."""
    nb = nbformat.v4.new_notebook()
    params = nbformat.v4.new_code_cell(TINY_PARAMS)
    params.metadata["tags"] = ["parameters"]
    nb.cells = [params, nbformat.v4.new_code_cell(TINY_BODY)]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    path = folder / "tiny.ipynb"
    nbformat.write(nb, path)
    return path


def _no_cluster(*args, **kwargs):
    raise AssertionError("a cluster was started")


# ----------------------------------------------------------------------------------- unit tests


@pytest.mark.parametrize("text, seeds", [("0-4", [0, 1, 2, 3, 4]), ("0,2,5", [0, 2, 5]), ("3", [3]),
                                         ("0-2,7", [0, 1, 2, 7]), (" 1, 4-5 ", [1, 4, 5])])
def test_parse_seeds(text, seeds):
    assert sweep.parse_seeds(text) == seeds


@pytest.mark.parametrize("text", ["", "a", "4-0", "0,,1", "0-2,2", "-1", "1-"])
def test_parse_seeds_rejects(text):
    with pytest.raises(ParameterError):
        sweep.parse_seeds(text)


def test_expand_grid_is_the_cartesian_product_in_order():
    assert sweep.expand_grid(None) == [{}]
    assert sweep.expand_grid({"k": [1, 5], "epochs": [10, 20, 30]}) == [
        {"k": 1, "epochs": 10}, {"k": 1, "epochs": 20}, {"k": 1, "epochs": 30},
        {"k": 5, "epochs": 10}, {"k": 5, "epochs": 20}, {"k": 5, "epochs": 30}]
    with pytest.raises(ParameterError):
        sweep.expand_grid({"k": []})


def test_load_grid(tmp_path):
    (tmp_path / "grid.yaml").write_text("k: [1, 5]\nepochs: 20\n")
    assert sweep.load_grid(tmp_path / "grid.yaml") == {"k": [1, 5], "epochs": [20]}
    (tmp_path / "bad.yaml").write_text("[1, 2]\n")
    with pytest.raises(ParameterError):
        sweep.load_grid(tmp_path / "bad.yaml")


def test_grid_reads_yaml_exponents_as_floats(tmp_path):
    plan = sweep.plan_sweep(tiny_notebook(tmp_path), [0], grid={"sleep_s": ["1e-3", 2]})
    assert [s.values["sleep_s"] for s in plan] == [0.001, 2.0]


def test_run_ids_are_stable_and_differ_when_anything_differs():
    code = {"oodlib": "0.1.0", "git": "abc"}
    a = sweep.run_id("nb1", {"seed": 0, "epochs": 5}, code)
    assert a == sweep.run_id("nb1", {"epochs": 5, "seed": 0}, dict(code)) and len(a) == 12
    assert a != sweep.run_id("nb1", {"seed": 1, "epochs": 5}, code)
    assert a != sweep.run_id("nb2", {"seed": 0, "epochs": 5}, code)
    assert a != sweep.run_id("nb1", {"seed": 0, "epochs": 5}, {**code, "git": "abd"})
    assert a != sweep.run_id("nb1", {"seed": 0, "epochs": 5.5}, code)


def test_plan_validates_every_run_and_hashes_the_full_parameter_values():
    plan = sweep.plan_sweep(TOUR, [0, 1], SMALL)
    again = sweep.plan_sweep(TOUR, [0, 1], SMALL)
    assert [s.run_id for s in plan] == [s.run_id for s in again]
    assert [s.seed for s in plan] == [0, 1] and len({s.run_id for s in plan}) == 2
    assert len({s.group for s in plan}) == 1
    # the default value given explicitly is the same run; another value is another run
    assert sweep.plan_sweep(TOUR, [0], {**SMALL, "k": 10})[0].run_id == plan[0].run_id
    assert sweep.plan_sweep(TOUR, [0], {**SMALL, "k": 11})[0].run_id != plan[0].run_id
    grid = sweep.plan_sweep(TOUR, [0, 1], SMALL, grid={"k": [5, 10]})
    assert len(grid) == 4 and len({s.group for s in grid}) == 2
    with pytest.raises(ParameterError, match="epochs"):
        sweep.plan_sweep(TOUR, [0, 1], {"epochs": 0})
    with pytest.raises(ParameterError, match="'k'"):  # one bad grid point fails the whole plan
        sweep.plan_sweep(TOUR, [0], SMALL, grid={"k": [10, 100_000]})
    with pytest.raises(ParameterError, match="unknown parameter"):
        sweep.plan_sweep(TOUR, [0], {"epoch": 5})
    with pytest.raises(ParameterError, match="both"):
        sweep.plan_sweep(TOUR, [0], {"seed": 3})
    with pytest.raises(ParameterError, match="both"):
        sweep.plan_sweep(TOUR, [0], {"k": 3}, grid={"k": [5]})


def test_bad_parameter_fails_before_anything_is_submitted(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(sweep, "local_cluster", _no_cluster)
    code = main(["sweep", str(TOUR), "--seeds", "0-3", "-p", "epochs", "0", "--build-dir", str(tmp_path)])
    assert code == 2 and "epochs" in capsys.readouterr().err
    assert not (tmp_path / "sweeps").exists()


def test_manifest_states_come_from_the_run_folders(tmp_path):
    plan = sweep.plan_sweep(TOUR, [0, 1, 2], SMALL)
    for spec in plan:
        sweep.prepare_run_dir(spec, tmp_path)
    done, failed, pending = plan
    (tmp_path / done.run_id / "00_tour.json").write_text(json.dumps({"schema_version": 1}))
    (tmp_path / failed.run_id / "error.json").write_text(json.dumps({"error": "ValueError: bad clip (cell 3)"}))
    (tmp_path / pending.run_id / "00_tour.json").write_text("{half-writ")  # unreadable: not done
    states = {s.run_id: sweep.run_state(s, tmp_path) for s in plan}
    path = sweep.write_manifest(tmp_path, "t", plan, states)
    manifest = sweep.read_manifest(tmp_path)
    assert path.name == "sweep.json"
    assert [r["state"] for r in manifest["runs"]] == ["done", "failed", "pending"]
    assert manifest["runs"][1]["error"] == "ValueError: bad clip (cell 3)"
    assert manifest["counts"] == {"done": 1, "failed": 1, "pending": 1}
    assert manifest["runs"][0]["parameters"] == {**SMALL, "seed": 0}


def test_a_run_folder_holding_another_run_is_never_overwritten(tmp_path):
    spec = sweep.plan_sweep(TOUR, [0], SMALL)[0]
    run_dir = sweep.prepare_run_dir(spec, tmp_path)
    sweep.prepare_run_dir(spec, tmp_path)  # the same run again: fine
    held = json.loads((run_dir / "run.json").read_text())
    held["parameters"]["epochs"] = 6
    (run_dir / "run.json").write_text(json.dumps(held))
    with pytest.raises(sweep.SweepConflictError, match="different run"):
        sweep.prepare_run_dir(spec, tmp_path)


def test_threads_fill_the_cores_and_reach_the_environment(monkeypatch):
    assert sweep.threads_per_worker(2, cores=2) == 1
    assert sweep.threads_per_worker(1, cores=2) == 2
    assert sweep.threads_per_worker(4, cores=2) == 1
    monkeypatch.setenv("OMP_NUM_THREADS", "7")
    with sweep.thread_env(3):
        assert os.environ["OMP_NUM_THREADS"] == os.environ["MKL_NUM_THREADS"] == "3"
    assert os.environ["OMP_NUM_THREADS"] == "7"


def test_metrics_aggregate_to_mean_and_interval():
    runs = [{"a": {"auroc": 90.0, "flag": "x"}, "curve": [1.0, 2.0]},
            {"a": {"auroc": 92.0, "flag": "x"}, "curve": [3.0, 4.0]},
            {"a": {"auroc": 94.0, "flag": "x"}, "curve": [5.0, 6.0]}]
    agg = sweep.aggregate_metrics(runs)
    assert agg["a"]["auroc"]["mean"] == pytest.approx(92.0) and agg["a"]["auroc"]["n_runs"] == 3
    assert agg["a"]["auroc"]["low"] < 92.0 < agg["a"]["auroc"]["high"]
    assert agg["a"]["auroc"]["high"] - 92.0 == pytest.approx(4.303 * 2.0 / 3 ** 0.5, rel=1e-3)  # t(0.975, 2)
    assert agg["a"]["flag"] == "x"
    assert agg["curve"]["mean"] == pytest.approx([3.0, 4.0])
    assert "low" not in sweep.aggregate_metrics(runs[:1])["a"]["auroc"]


def test_legacy_claims_are_counted():
    def rec(verdict):
        return {"claims": [{"claim": "c", "verdict": verdict, "evidence": "e", "data": "synthetic"}]}

    assert sweep.count_legacy_claims([rec("supported")] * 3)[0]["verdict"] == "supported"
    mixed = sweep.count_legacy_claims([rec("supported"), rec("not supported"), rec("not run")])[0]
    assert mixed["verdict"] == "inconclusive" and mixed["n_seeds"] == 2 and "counted" in mixed["evidence"]
    assert sweep.count_legacy_claims([rec("not run")])[0]["verdict"] == "not run"


def test_claims_registry_resolves():
    from oodlib.papers import tour

    cls, fn = sweep.claims_for("00_tour")
    assert cls is tour.TourConfig and fn is tour.claims
    assert sweep.claims_for("p3_av_ood") is not None and sweep.claims_for("00_synthetic_audio") is None


# ---------------------------------------------------------------------------- sweeps on Dask


@pytest.fixture(scope="module")
def tour_sweep(tmp_path_factory):
    """``oodlib sweep notebooks/00_tour.ipynb --seeds 0-3 --workers 2`` (small parameters), once."""
    build = tmp_path_factory.mktemp("tour_sweep")
    t = time.perf_counter()
    code = main(["sweep", str(TOUR), "--seeds", "0-3", "--workers", "2", "-p", "epochs", "5",
                 "-p", "n_per_class", "50", "--build-dir", str(build)])
    return build / "sweeps" / "00_tour", code, time.perf_counter() - t


@pytest.mark.slow
def test_tour_sweep_completes_four_runs_and_judges_every_claim_on_four_seeds(tour_sweep):
    folder, code, _ = tour_sweep
    assert code == 0
    manifest = sweep.read_manifest(folder)
    assert manifest["counts"] == {"done": 4, "failed": 0, "pending": 0}
    assert sorted(r["seed"] for r in manifest["runs"]) == [0, 1, 2, 3]
    for run in manifest["runs"]:
        run_dir = folder / run["run_id"]
        files = {p.name for p in run_dir.iterdir()}
        assert {"00_tour.ipynb", "00_tour.json", "00_tour.scores.npz", "run.json"} <= files
        assert json.loads((run_dir / "00_tour.json").read_text())["seed"] == run["seed"]
        assert run["attempts"] == 1
    summary = json.loads((folder / "records" / "00_tour.json").read_text())
    validate_record(summary)
    assert summary["seed"] == 0 and summary["parameters"]["seeds"] == [0, 1, 2, 3]
    assert summary["parameters"]["epochs"] == 5 and "seed" not in summary["parameters"]
    assert summary["data_source"] == "synthetic"
    assert len(summary["claims"]) == 3 and all(c["n_seeds"] == 4 for c in summary["claims"])
    auroc = summary["metrics"]["ood"]["far/kNN"]["AUROC (%)"]
    assert auroc["n_runs"] == 4 and auroc["low"] <= auroc["mean"] <= auroc["high"]
    assert not any((folder / ".attempts").iterdir())
    from oodlib.sweep.report import sweeps_markdown

    page = sweeps_markdown([summary])
    assert f"| ood / far/kNN / AUROC (%) | - | {auroc['mean']:.2f} | [{auroc['low']:.2f}, {auroc['high']:.2f}] |" in page


@pytest.mark.slow
def test_second_invocation_skips_every_done_run(tour_sweep, monkeypatch):
    folder, _, _ = tour_sweep
    monkeypatch.setattr(sweep, "local_cluster", _no_cluster)
    runs = [folder / r["run_id"] / "00_tour.json" for r in sweep.read_manifest(folder)["runs"]]
    before = [p.stat().st_mtime_ns for p in runs]
    result = sweep.run_sweep(TOUR, range(4), SMALL, workers=2, build_dir=folder.parents[1], quiet=True)
    assert len(result.skipped) == 4 and result.executed == [] and result.counts["done"] == 4
    assert [p.stat().st_mtime_ns for p in runs] == before  # no run was touched
    assert all(c["n_seeds"] == 4 for c in json.loads(result.summaries[0].read_text())["claims"])


@pytest.mark.slow
def test_interrupted_sweep_resumes_and_completes(tmp_path):
    """Ctrl-C (SIGINT) after the first run is done; the same command then runs only the rest."""
    nb = tiny_notebook(tmp_path)
    # runs of 8 s: the interrupt lands while runs 2 and 3 are still to do
    argv = ["sweep", str(nb), "--seeds", "0-2", "-p", "sleep_s", "8", "--workers", "1", "--build-dir", str(tmp_path)]
    # Ctrl-C as a terminal delivers it: a job started in the background of a non-interactive shell
    # (nohup ... &) inherits SIGINT as ignored, and Python then installs no KeyboardInterrupt handler
    proc = subprocess.Popen([sys.executable, "-m", "oodlib.cli", *argv], cwd=tmp_path,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    manifest = tmp_path / "sweeps" / "tiny" / "sweep.json"
    deadline = time.time() + 120
    while time.time() < deadline and proc.poll() is None:
        if manifest.is_file() and json.loads(manifest.read_text())["counts"]["done"] >= 1:
            break
        time.sleep(0.2)
    assert proc.poll() is None, "the sweep ended before the test could interrupt it"
    proc.send_signal(signal.SIGINT)
    out, _ = proc.communicate(timeout=60)
    assert proc.returncode == 130, out
    states = json.loads(manifest.read_text())
    assert 1 <= states["counts"]["done"] < 3 and states["counts"]["pending"] >= 1, out
    done_before = {r["run_id"] for r in states["runs"] if r["state"] == "done"}
    result = sweep.run_sweep(nb, range(3), {"sleep_s": 8.0}, workers=1, build_dir=tmp_path, quiet=True)
    assert result.counts == {"done": 3, "failed": 0, "pending": 0}
    assert set(result.skipped) == done_before and not done_before & set(result.executed)
    for rid in done_before:
        assert result.states[rid]["attempts"] == 1
    for spec in result.plan:  # one worker: it and its notebooks get every core as threads
        record = json.loads((result.folder / spec.run_id / "tiny.json").read_text())
        assert record["metrics"]["threads"] == sweep.threads_per_worker(1)


@pytest.mark.slow
def test_killed_worker_run_is_retried_elsewhere_and_every_run_completes_once(tmp_path):
    nb = tiny_notebook(tmp_path)
    cluster = sweep.local_cluster(2, 1, retries=2)
    from distributed import Client

    client = Client(cluster)
    outcome: dict = {}

    def drive():
        try:
            outcome["result"] = sweep.run_sweep(nb, [0, 1], {"sleep_s": 8.0}, scheduler=cluster.scheduler_address,
                                                build_dir=tmp_path, quiet=True)
        except BaseException as err:  # pragma: no cover - reported below
            outcome["error"] = err

    try:
        thread = threading.Thread(target=drive)
        thread.start()
        folder = tmp_path / "sweeps" / "tiny"
        deadline = time.time() + 60
        while time.time() < deadline and sum(1 for _ in folder.glob("*/attempts.log")) < 2:
            time.sleep(0.2)
        time.sleep(2.0)  # both kernels are in their sleep now: mid-run
        pids = client.run(os.getpid)
        busy = [addr for addr, keys in client.processing().items() if keys]
        assert busy, "no worker is running a run"
        os.kill(pids[busy[0]], signal.SIGKILL)
        thread.join(timeout=120)
    finally:
        client.close()
        cluster.close()
    assert "error" not in outcome, outcome.get("error")
    result = outcome["result"]
    assert result.counts == {"done": 2, "failed": 0, "pending": 0}
    attempts = sorted(result.states[s.run_id]["attempts"] for s in result.plan)
    assert attempts == [1, 2]  # the killed run once more, the other unaffected
    for spec in result.plan:
        log = (folder / spec.run_id / "attempts.log").read_text().splitlines()
        assert sum(line.startswith("done") for line in log) == 1  # completed exactly once
        assert json.loads((folder / spec.run_id / "tiny.json").read_text())["seed"] == spec.seed


@pytest.mark.slow
def test_runs_failing_on_their_own_are_reported_and_not_retried_beyond_the_limit(tmp_path):
    nb = tiny_notebook(tmp_path)
    result = sweep.run_sweep(nb, [0], grid={"mode": ["ok", "error", "die"]}, workers=2, retries=1,
                             build_dir=tmp_path, quiet=True)
    by_mode = {s.values["mode"]: result.states[s.run_id] for s in result.plan}
    assert by_mode["ok"]["state"] == "done"
    assert by_mode["error"] == {"state": "failed", "attempts": 1,
                                "error": by_mode["error"]["error"]}  # a cell error is not retried
    assert by_mode["error"]["error"].startswith("ValueError: bad data: clip 0 is empty")
    assert by_mode["die"]["state"] == "failed" and "KilledWorker" in by_mode["die"]["error"]
    assert by_mode["die"]["attempts"] == 2  # retries=1: the first try and one retry, no more
    manifest = sweep.read_manifest(result.folder)
    assert manifest["counts"] == {"done": 1, "failed": 2, "pending": 0}
    assert {r["error"] for r in manifest["runs"] if r["state"] == "failed"} == {
        by_mode["error"]["error"], by_mode["die"]["error"]}
    ok = next(s for s in result.plan if s.values["mode"] == "ok")
    record = json.loads((result.folder / ok.run_id / "tiny.json").read_text())
    assert record["metrics"]["threads"] == sweep.threads_per_worker(2)  # workers x threads = cores
    # a grid gives one summary per grid point that has a done run (counted legacy claims here)
    assert [p.name for p in result.summaries] == [f"tiny.{ok.group}.json"]
    summary = json.loads(result.summaries[0].read_text())
    assert summary["claims"][0]["verdict"] == "supported" and "counted" in summary["claims"][0]["evidence"]
