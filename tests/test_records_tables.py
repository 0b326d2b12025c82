"""Results records (schema) and paper-vs-ours tables."""

from __future__ import annotations

import json

import jsonschema
import numpy as np
import pandas as pd
import pytest

from oodlib.records import RunRecord, load_records, validate_record
from oodlib.tables import paper_table, side_by_side


def _record() -> RunRecord:
    rec = RunRecord("99_test", {"seed": 1, "k": np.int64(5)}, seed=1, data_source="synthetic")
    with rec.stage("train"):
        pass
    rec.add_metrics({"auroc": np.float32(0.5), "per_set": {"a": [np.float64(1.0), 2]}})
    rec.add_claim("a claim", "supported", "numbers")
    return rec


def test_record_roundtrip(tmp_path):
    path = _record().write(tmp_path)
    data = json.loads(path.read_text())
    assert data["notebook"] == "99_test" and data["parameters"]["k"] == 5
    assert data["metrics"]["per_set"]["a"] == [1.0, 2]
    assert set(data["timings"]["stages"]) == {"train"}
    assert data["versions"]["python"].startswith("3.")
    assert load_records(tmp_path)[0]["claims"][0]["verdict"] == "supported"


def test_record_rejects_bad_content():
    rec = _record()
    with pytest.raises(ValueError, match="verdict"):
        rec.add_claim("x", "true", "y")
    with pytest.raises(ValueError, match="finite"):
        rec.add_metrics({"bad": float("nan")})
    data = rec.to_dict()
    for broken in ({**data, "seed": "1"}, {k: v for k, v in data.items() if k != "claims"}, {**data, "extra": 1}):
        with pytest.raises(jsonschema.ValidationError):
            validate_record(broken)


def test_record_dir_from_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("OODLIB_RECORDS_DIR", str(tmp_path / "r"))
    assert _record().write().parent == tmp_path / "r"


def test_paper_table_and_side_by_side(tmp_path):
    (tmp_path / "px.yaml").write_text(
        "tables:\n  t1:\n    caption: demo\n    units: percent\n    index: ood_set\n"
        "    columns: [fpr95, auroc]\n    rows:\n      A: [10.0, 90.0]\n      B: [null, 80.0]\n"
    )
    paper = paper_table("px", "t1", folder=tmp_path)
    assert paper.attrs["caption"] == "demo" and np.isnan(paper.loc["B", "fpr95"])
    ours = pd.DataFrame({"auroc": [91.0, 70.0]}, index=["A", "C"])
    both = side_by_side(paper, ours)
    assert list(both.columns) == [("fpr95", "paper"), ("fpr95", "ours"), ("auroc", "paper"), ("auroc", "ours")]
    assert both.loc["A", ("auroc", "ours")] == 91.0
    assert np.isnan(both.loc["C", ("auroc", "paper")])
    with pytest.raises(KeyError, match="no table"):
        paper_table("px", "t2", folder=tmp_path)
    with pytest.raises(FileNotFoundError, match="no published numbers"):
        paper_table("nope", "t1", folder=tmp_path)


def test_as_record_joins_labels_and_leaves_out_nan(tmp_path):
    from oodlib.tables import as_record

    df = pd.DataFrame({"AUROC": [90.0, np.nan], "FPR": [np.float32(10.0), np.float32("nan")]},
                      index=pd.MultiIndex.from_tuples([("far", "kNN"), ("near", "MSP")]))
    assert as_record(df) == {"far/kNN": {"AUROC": 90.0, "FPR": 10.0}, "near/MSP": {}}
    rec = RunRecord("99_t", {}, seed=0, data_source="synthetic")
    rec.add_table("ood", df)
    assert json.loads(rec.write(tmp_path).read_text())["metrics"]["ood"]["far/kNN"]["AUROC"] == 90.0


def test_a_model_at_chance_makes_point_claims_inconclusive(tmp_path):
    rec = RunRecord("99_chance", {}, seed=0, data_source="synthetic")
    assert rec.require_learned("mlp", accuracy=0.95, chance=0.1)
    rec.add_claim("fine", "supported", "kNN 90 vs MSP 80")
    assert not rec.require_learned("cnn", accuracy=0.12, chance=0.1)
    rec.add_claim("kNN beats MSP", "supported", "kNN 60 vs MSP 50")
    first, second = json.loads(rec.write(tmp_path).read_text())["claims"]
    assert first["verdict"] == "supported"
    assert second["verdict"] == "inconclusive" and "did not learn" in second["reason"] and "cnn" in second["evidence"]
