"""``oodlib book``'s notebook runs: several at once without oversubscribing the cores, checked first, failing clearly."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from oodlib.book import NotebookRun, default_jobs, run_notebooks
from oodlib.params import ParameterError
from oodlib.sweep.cluster import threads_per_worker
from test_sweep import tiny_notebook


def _runs(tmp_path: Path, modes: dict[str, str]) -> list[NotebookRun]:
    """The tiny notebook once per name, each in its own folder with its ``mode``."""
    runs = []
    for name, mode in modes.items():
        (tmp_path / name).mkdir()
        nb = tiny_notebook(tmp_path / name)
        runs.append(NotebookRun(nb, {"mode": mode, "sleep_s": 1.0}, tmp_path / name / "out",
                                tmp_path / name / "records", "test"))
    return runs


def test_default_jobs_never_exceeds_the_cores():
    assert default_jobs(1) == 1
    assert default_jobs(2) == 2
    assert default_jobs(16) == 2


@pytest.mark.slow
def test_two_at_a_time_each_with_its_share_of_the_threads(tmp_path):
    seconds = run_notebooks(_runs(tmp_path, {"a": "ok", "b": "ok", "c": "ok"}), jobs=2)
    assert len(seconds) == 3 and all(s >= 1.0 for s in seconds)
    for name in "abc":
        record = json.loads((tmp_path / name / "records" / "tiny.json").read_text())
        assert record["metrics"]["threads"] == threads_per_worker(2)
        assert (tmp_path / name / "out" / "tiny.ipynb").is_file()


@pytest.mark.slow
def test_a_failing_notebook_is_raised_and_the_others_kept(tmp_path):
    with pytest.raises(Exception, match="bad data"):
        run_notebooks(_runs(tmp_path, {"good": "ok", "bad": "error"}), jobs=2)
    assert (tmp_path / "good" / "records" / "tiny.json").is_file()
    assert not (tmp_path / "bad" / "records" / "tiny.json").exists()


def test_bad_parameters_fail_before_any_notebook_runs(tmp_path):
    runs = _runs(tmp_path, {"first": "ok"})
    nb = runs[0].notebook
    runs.append(NotebookRun(nb, {"sleep_seconds": 1.0}, tmp_path / "out2", tmp_path / "records2", "test"))
    with pytest.raises(ParameterError, match="sleep_seconds"):
        run_notebooks(runs, jobs=2)
    assert not (tmp_path / "first" / "records").exists() and not (tmp_path / "first" / "out").exists()
    with pytest.raises(ValueError, match="jobs"):
        run_notebooks(runs[:1], jobs=0)
