"""DCASE Task 2 file-name parsing and folder loading (P2's data layer)."""

from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf

from oodlib.data.dcase import load_dcase, parse_dcase_name


@pytest.mark.parametrize("name, expected", [
    ("section_00_source_train_normal_0362_car_C2_spd_31V_mic_1.wav", ("00", "source", "normal", 362, "car_C2_spd_31V_mic_1")),
    ("section_00_target_test_anomaly_0015_vel_9_loc_A.wav", ("00", "target", "anomaly", 15, "vel_9_loc_A")),
    ("section_01_source_test_normal_0003.wav", ("01", "source", "normal", 3, "")),
    ("section_00_0042.wav", ("00", None, None, 42, "")),
    ("anomaly_id_04_00000012.wav", ("04", "source", "anomaly", 12, "")),
])
def test_parse_dcase_names(name, expected):
    p = parse_dcase_name(name)
    assert (p.section, p.domain, p.label, p.index, p.attributes) == expected


@pytest.mark.parametrize("bad", ["section_00_source_valid_normal_0001.wav", "normal_00.wav", "clip.wav"])
def test_unparsable_names_raise_with_the_name(bad):
    with pytest.raises(ValueError, match="not a DCASE Task 2 file name"):
        parse_dcase_name(bad)


def _wav(path):
    path.parent.mkdir(parents=True, exist_ok=True)
    sf.write(path, np.zeros(160, np.float32), 16000)


def test_load_dcase_on_a_fixture(tmp_path):
    _wav(tmp_path / "fan" / "train" / "section_00_source_train_normal_0000_m-n_W.wav")
    _wav(tmp_path / "fan" / "test" / "section_00_target_test_anomaly_0001_m-n_X.wav")
    _wav(tmp_path / "valve" / "test" / "section_00_0007.wav")
    df = load_dcase(tmp_path)
    assert df["machine"].tolist() == ["fan", "fan", "valve"]
    assert df["split"].tolist() == ["test", "train", "test"]
    assert df["is_anomaly"].tolist()[:2] == [True, False] and df["is_anomaly"].isna().tolist()[2]
    assert len(load_dcase(tmp_path, machines=["valve"])) == 1
    with pytest.raises(FileNotFoundError, match="no machine folder"):
        load_dcase(tmp_path, machines=["pump"])
    _wav(tmp_path / "fan" / "train" / "oops.wav")
    with pytest.raises(ValueError, match="oops.wav"):
        load_dcase(tmp_path)


def test_load_dcase_on_the_shared_mini_dev_set(shared_data):
    root = shared_data / "dcase2023t2_dev_mini"
    if not root.is_dir():
        pytest.skip(f"{root} is absent")
    df = load_dcase(root)
    assert len(df) == 28 and df["machine"].nunique() == 7
    assert (df.groupby(["machine", "split"]).size() == 2).all()
    assert set(df["domain"]) <= {"source", "target"} and df["is_anomaly"].notna().all()
    assert (df.loc[df["split"] == "train", "label"] == "normal").all()
