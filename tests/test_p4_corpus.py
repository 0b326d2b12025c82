"""P4 on the paper's corpus: Speech Commands v0.01 in its own layout, the official lists, half unknown."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from oodlib.papers import p4_vae_auggan as p4
from oodlib.papers.p4_vae_auggan.data import load_open_set

V001_WORDS = ("yes", "no", "up", "down", "left", "right", "on", "off", "stop", "go", "zero", "one", "two", "three",
              "four", "five", "six", "seven", "eight", "nine", "bed", "bird", "cat", "dog", "happy", "house", "marvin",
              "sheila", "tree", "wow")
TRAIN, VALIDATION, TEST = ("a0", "a1", "a2", "a3", "a4"), ("b0",), ("c0", "c1")


def make_v001(root: Path) -> Path:
    """A Speech Commands v0.01 layout: 30 word folders, 8 speakers (5 train, 1 validation, 2 test)."""
    folder = root / "speech_commands_v0.01"
    rng = np.random.default_rng(0)
    lists = {"validation": [], "testing": []}
    for w in V001_WORDS:
        (folder / w).mkdir(parents=True)
        for spk in (*TRAIN, *VALIDATION, *TEST):
            name = f"{spk}{'0' * 6}_nohash_0.wav"
            sf.write(folder / w / name, 0.05 * rng.standard_normal(16000), 16000)
            if spk in VALIDATION:
                lists["validation"].append(f"{w}/{name}")
            elif spk in TEST:
                lists["testing"].append(f"{w}/{name}")
    (folder / "_background_noise_").mkdir()
    for kind, names in lists.items():
        (folder / f"{kind}_list.txt").write_text("\n".join(names) + "\n")
    return root


def test_v001_follows_the_official_lists_with_half_unknown(tmp_path):
    root = make_v001(tmp_path)
    ds = load_open_set("speech_commands_v0.01", root, seed=0, small_fraction=0.4)
    s = ds.summary()
    assert (s["train_full_known"], s["train_full_unknown"]) == (10 * len(TRAIN), 0)
    assert (s["dev_known"], s["dev_unknown"]) == (10, 10)  # as many unknown as known from the validation list
    assert (s["test_known"], s["test_unknown"]) == (20, 20)  # half of the test set unknown
    assert set(ds.train_speakers) == {f"{spk}{'0' * 6}" for spk in TRAIN}
    assert "official lists" in ds.note and "unknown share dev 50%, test 50%" in ds.note and "20 words" in ds.note


def test_the_ten_percent_regime_by_speakers(tmp_path):
    root = make_v001(tmp_path)
    by_clip = load_open_set("speech_commands_v0.01", root, seed=0, small_fraction=0.4)
    by_speaker = load_open_set("speech_commands_v0.01", root, seed=0, small_fraction=0.4, small_by="speakers")
    assert len(by_clip.train_small[1]) == len(by_speaker.train_small[1]) == 20  # 2 of 5 clips / speakers per word
    assert "drawn by speaker" in by_speaker.note and "within each word" in by_clip.note
    with pytest.raises(ValueError, match="small_by must be one of"):
        load_open_set("speech_commands_v0.01", root, small_by="words")


def test_a_missing_v001_folder_says_how_to_get_it(tmp_path):
    with pytest.raises(FileNotFoundError, match="oodlib data fetch speech_commands_v0.01"):
        load_open_set("speech_commands_v0.01", tmp_path)


@pytest.mark.slow
def test_p4_notebook_runs_on_a_v001_fixture_by_parameters_alone(tmp_path):
    from oodlib.runner import run_notebook

    root = make_v001(tmp_path / "data")
    nb = Path(__file__).resolve().parents[1] / "notebooks" / "p4_vae_auggan.ipynb"
    params = {"data": "speech_commands_v0.01", "data_dir": str(root), "epochs": 1, "width": 4, "aug_copies": 1,
              "small_fraction": 0.4, "ablation": False, "batch_size": 8}
    run_notebook(nb, params, output_dir=tmp_path / "nb", records_dir=tmp_path / "rec")
    rec = json.loads((tmp_path / "rec" / "p4_vae_auggan.json").read_text())
    assert rec["data_source"] == "speech_commands_v0.01" and rec["metrics"]["test_unknown_share"] == 0.5
    assert "official lists" in rec["data_note"]
    verdicts = {c["id"]: c["verdict"] for c in rec["claims"]}
    assert verdicts["p4/vae_input_beats_noise"] == "not run" and len(verdicts) == 6
