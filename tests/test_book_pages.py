"""Book pages: the provenance box, the reproduce command, downloads and verdicts come from the record."""

from __future__ import annotations

import json
import re
import shlex
from pathlib import Path

import pandas as pd
import pytest

from oodlib.book_pages import decorate_page, provenance_markdown, record_tables, verdicts_markdown, write_downloads
from oodlib.params import notebook_parameters, parse_cli_value, validate
from oodlib.provenance import git_state, reproduce_command

ROOT = Path(__file__).resolve().parents[1]
TOUR = ROOT / "notebooks" / "00_tour.ipynb"
P5 = ROOT / "notebooks" / "p5_dense_knn.ipynb"


def _record(**changes) -> dict:
    defaults = {n: s.default for n, s in notebook_parameters(TOUR).items()}
    claim = {"id": "tour/knn", "claim": "kNN beats MSP", "verdict": "supported", "evidence": "e", "effect": 3.2,
             "interval": [1.5, 4.9], "direction": "greater", "margin": 1.0, "units": "AUROC points",
             "paper_effect": 2.0, "data": "synthetic"}
    return {"notebook": "00_tour", "title": "Tour", "parameters": {**defaults, **changes}, "seed": changes.get("seed", 0),
            "data_source": "synthetic", "data_note": "Gaussian blobs", "metrics": {}, "claims": [claim],
            "timings": {"total_s": 12.5, "peak_rss_mb": 900.0}, "versions": {"python": "3.11.7", "torch": "2.14.1"},
            "code": {"commit": "a" * 40, "uncommitted_changes": False}, "threads": 1, "device": "cpu", "created": "2026-12-01T00:00:00+00:00"}


def _parse_back(command: str, notebook: Path) -> dict:
    """The parameters ``oodlib run`` would receive from ``command`` (as the CLI parses them)."""
    words = shlex.split(command)
    specs = notebook_parameters(notebook)
    start = words.index("run") + 2
    pairs = words[start:]
    assert len(pairs) % 3 == 0 and all(p == "-p" for p in pairs[::3]), command
    values = {name: parse_cli_value(specs.get(name), text) for name, text in zip(pairs[1::3], pairs[2::3])}
    return validate(specs, values, where=notebook.name)


def test_the_reproduce_command_gives_back_every_non_default_parameter():
    record = _record(seed=3, epochs=7, k=25)
    command = reproduce_command(record, TOUR)
    assert command.startswith("OMP_NUM_THREADS=1 oodlib run notebooks/00_tour.ipynb ")
    assert _parse_back(command.split(" ", 1)[1], TOUR) == {"seed": 3, "epochs": 7, "k": 25}
    assert reproduce_command({**_record(), "threads": None}, TOUR) == "oodlib run notebooks/00_tour.ipynb"


def test_lists_dicts_and_real_data_survive_the_shell():
    specs = notebook_parameters(P5)
    record = {"parameters": {**{n: s.default for n, s in specs.items()}, "data": "camvid",
                             "image_size": [144, 192], "bank_sweep": [10000, 30000]}, "data_source": "camvid"}
    command = reproduce_command(record, P5)
    assert command.startswith("OODLIB_DATA_DIR=/path/to/data oodlib run notebooks/p5_dense_knn.ipynb")
    parsed = _parse_back(command.split(" ", 1)[1], P5)
    assert parsed == {"data": "camvid", "image_size": [144, 192], "bank_sweep": [10000, 30000]}


def test_synthetic_and_real_pages_say_which_in_their_first_line():
    synthetic = provenance_markdown(_record(), TOUR, [])
    assert synthetic.splitlines()[0] == (":::{admonition} Synthetic stand-in data: "
                                         "the numbers on this page are not the paper's numbers")
    real = provenance_markdown({**_record(), "data_source": "speech_commands_v0.02_test"}, TOUR, [])
    assert real.splitlines()[0] == ":::{admonition} Real data: speech_commands_v0.02_test"
    for expected in ("commit `aaaaaaaaaa`", "torch 2.14.1", "**Seed** 0 ·", "**device** cpu", "**wall time** 12 s",
                     "**peak memory** 0.9 GB", "**Reproduce** `OMP_NUM_THREADS=1 oodlib run notebooks/00_tour.ipynb`",
                     "**torch threads** 1"):
        assert expected in synthetic
    dirty = provenance_markdown({**_record(), "code": {"commit": "b" * 40, "uncommitted_changes": True}}, TOUR, [])
    assert "with uncommitted changes" in dirty


def test_verdicts_show_interval_rule_and_paper():
    text = verdicts_markdown(_record())
    assert "| kNN beats MSP | **supported** +3.20 [+1.50, +4.90] | > 1 AUROC points | +2.00 |" in text
    assert verdicts_markdown({**_record(), "claims": []}) == ""


def test_record_tables_finds_tables_at_any_depth_and_nothing_else():
    metrics = {"table1": {"kNN": {"AUROC": 90.0, "FPR": 10.0}, "MSP": {"AUROC": 80.0}},
               "sweep": {"keywords": {"1": {"AUROC": 85.0}}},
               "training": {"beta": 0.4, "last": {"loss": 0.1}}, "accuracy": 0.9}
    tables = record_tables(metrics)
    assert sorted(tables) == ["sweep/keywords", "table1"]  # "training" mixes a scalar with a row: no table
    assert tables["table1"].loc["MSP", "AUROC"] == 80.0 and pd.isna(tables["table1"].loc["MSP", "FPR"])


def test_downloads_copy_the_record_scores_and_tables(tmp_path):
    records = tmp_path / "records"
    records.mkdir()
    record = {**_record(), "notebook": "p3_av_ood", "scores_file": "p3_av_ood.scores.npz",
              "metrics": {"table2": {"OOD-entropy": {"AUC": 86.5}}}}
    (records / "p3_av_ood.json").write_text(json.dumps(record))
    (records / "p3_av_ood.scores.npz").write_bytes(b"npz")
    files = write_downloads(record, records, tmp_path / "src")
    labels = [d.label for d in files]
    assert labels[:3] == ["record (JSON)", "scores (NumPy .npz)", "table2 (CSV)"]
    assert any(label.startswith("paper's table1") for label in labels)
    for d in files:
        assert (tmp_path / "src" / d.path).is_file()
    ours = pd.read_csv(tmp_path / "src" / files[2].path, index_col=0)
    assert ours.loc["OOD-entropy", "AUC"] == 86.5


def test_decorate_keeps_the_title_first_and_verdicts_before_the_exercises(tmp_path):
    nb = json.loads(TOUR.read_text())
    nb["cells"].append({"cell_type": "markdown", "id": "ex0", "metadata": {}, "source": ["## Exercises\n"]})
    page = tmp_path / "00_tour.ipynb"
    page.write_text(json.dumps(nb))
    decorate_page(page, _record(), TOUR, [], profile="default")
    cells = json.loads(page.read_text())["cells"]
    assert "".join(cells[0]["source"]).startswith("# A tour of oodlib")
    assert "Synthetic stand-in data" in "".join(cells[1]["source"])
    assert "".join(cells[-2]["source"]).startswith("## Claims judged on this page")
    assert "".join(cells[-1]["source"]).startswith("## Exercises")
    assert len({c["id"] for c in cells}) == len(cells)


def test_records_name_the_commit_they_ran_from():
    state = git_state()
    if state["commit"] is None:
        pytest.skip("not a git checkout")
    assert re.fullmatch(r"[0-9a-f]{40}", state["commit"]) and isinstance(state["uncommitted_changes"], bool)


def test_the_claims_figure_has_one_row_per_claim_with_an_interval():
    from oodlib.plots import claims_summary_figure

    record = _record()
    record["claims"].append({"id": "tour/point", "claim": "no interval", "verdict": "supported", "evidence": "e"})
    fig = claims_summary_figure(record)
    assert [ax.get_title(loc="left") for ax in fig.axes] == ["tour/knn: supported"]
    ax = fig.axes[0]
    xs = sorted(float(x) for line in ax.get_lines() for x in line.get_xdata())
    assert 1.0 in xs  # the margin line
    assert {1.5, 4.9, 3.2, 2.0} <= set(xs)  # interval ends, estimate, paper


@pytest.mark.parametrize("paper", ["p1", "p2", "p5"])
def test_every_declared_headline_cell_exists_in_the_paper_tables(paper):
    from oodlib.tables import headline_values

    units, rows = headline_values(paper, {})
    assert units and len(rows) >= 3
    assert all(ours is None for _, _, ours in rows)  # an empty record holds none of ours
    assert any(value is not None for _, value, _ in rows)


def test_headline_values_read_ours_from_the_record_path():
    from oodlib.tables import headline_values

    metrics = {"features": {"ViT keys (kNN)": {"AP": 51.9}, "CNN stage3 (kNN)": {"AP": "n/a"}}}
    _, rows = headline_values("p5", metrics)
    by_label = {label: (paper, ours) for label, paper, ours in rows}
    assert by_label["ViT keys kNN (paper: Seg. ViT-B, RoadAnomaly)"] == (85.6, 51.9)
    assert by_label["CNN stage3 kNN (paper: none)"] == (None, None)
    assert headline_values("p3", metrics) == ("", [])
