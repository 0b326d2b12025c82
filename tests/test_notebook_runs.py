"""Running notebooks end to end: records, determinism, and the guard under plain papermill."""

from __future__ import annotations

import json

import pytest

from oodlib.runner import run_notebook

pytestmark = pytest.mark.slow


def _run(root, tmp_path, name, params):
    out = run_notebook(root / "notebooks" / "00_tour.ipynb", params, output_dir=tmp_path / name / "nb",
                       records_dir=tmp_path / name / "rec")
    return out, json.loads((tmp_path / name / "rec" / "00_tour.json").read_text())


def test_tour_same_seed_gives_identical_results(root, tmp_path):
    params = {"epochs": 20, "n_per_class": 150, "seed": 3}
    out_a, rec_a = _run(root, tmp_path, "a", params)
    _, rec_b = _run(root, tmp_path, "b", params)
    assert rec_a["metrics"] == rec_b["metrics"]
    assert rec_a["claims"] == rec_b["claims"]
    assert rec_a["parameters"]["seed"] == 3 and rec_a["data_source"] == "synthetic"
    nb_a = json.loads(out_a.read_text())
    nb_b = json.loads((tmp_path / "b" / "nb" / "00_tour.ipynb").read_text())
    pngs = [[o["data"]["image/png"] for c in nb["cells"] for o in c.get("outputs", []) if "image/png" in o.get("data", {})]
            for nb in (nb_a, nb_b)]
    assert pngs[0] and pngs[0] == pngs[1]  # identical figures
    _, rec_c = _run(root, tmp_path, "c", {**params, "seed": 4})
    assert rec_c["metrics"] != rec_a["metrics"]  # the seed really changes the run


def test_plain_papermill_misspelt_parameter_fails_clearly(root, tmp_path):
    import papermill as pm

    with pytest.raises(pm.PapermillExecutionError, match=r"unknown parameter 'epoch'.*did you mean 'epochs'"):
        pm.execute_notebook(str(root / "notebooks" / "00_tour.ipynb"), str(tmp_path / "o.ipynb"),
                            parameters={"epoch": 3}, progress_bar=False, cwd=str(root / "notebooks"))
