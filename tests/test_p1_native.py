"""P1 on every real data set in its native layout: a fabricated data folder holding all eight of the
paper's sets (tiny clips at assorted rates, lengths and channel counts), each as the ID set with the
others as OOD (the paper's protocol), one run end to end, the notebook on it, and the real shared
data where present."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import soundfile as sf

from oodlib.claims import judge_all
from oodlib.papers import p1_audio_knn as p1
from oodlib.papers.p1_audio_knn import tables as p1t
from oodlib.papers.p1_audio_knn.config import P1Config
from oodlib.papers.p1_audio_knn.sets import NATIVE_NAMES, PAPER_SUITE

RATES = (16000, 8000, 44100, 48000)


def _tone(path: Path, i: int, seconds: float | None = None) -> str:
    """A short tone whose pitch follows ``i`` (so classes differ), at an assorted rate and length."""
    rate = RATES[i % 4]
    seconds = seconds if seconds is not None else (0.4, 1.0, 2.5, 5.0)[i % 4]
    t = np.arange(int(seconds * rate)) / rate
    x = 0.3 * np.sin(2 * np.pi * (200 + 150 * (i % 7)) * t)
    path.parent.mkdir(parents=True, exist_ok=True)
    kw = {"format": "OGG", "subtype": "OPUS"} if path.suffix == ".opus" else {}
    sf.write(path, np.stack([x, x], 1) if i % 3 == 0 else x, rate, **kw)
    return str(path)


def _vocalsound(root: Path) -> None:
    mids = {"laughter": "/m/01j3sz", "cough": "/m/01b_21"}
    splits = {"tr": [], "te": []}
    for c, label in enumerate(mids):
        for j in range(5):
            name = f"f{c}{j:03d}_0_{label}"
            _tone(root / "audio_16k" / f"{name}.wav", c)
            splits["tr" if j < 3 else "te"].append({"wav": f"/orig/audio_16k/{name}.wav", "labels": mids[label]})
    (root / "datafiles").mkdir()
    for native, entries in splits.items():
        (root / "datafiles" / f"{native}.json").write_text(json.dumps({"data": entries}))
    pd.DataFrame({"index": [0, 1], "mid": list(mids.values()), "display_name": ["Laughter", "Cough"]}).to_csv(
        root / "class_labels_indices_vs.csv", index=False)


def _mswc(root: Path, language: str, words: tuple[str, str]) -> None:
    rows = []
    for c, w in enumerate(words):
        for j in range(5):
            link = f"{w}/common_voice_{language}_{c}{j}.opus"
            _tone(root / language / "clips" / link, c, 1.0)
            rows.append(("TRAIN" if j < 3 else "TEST", link, w, "True", f"spk{j}", "MALE"))
    pd.DataFrame(rows, columns=["SET", "LINK", "WORD", "VALID", "SPEAKER", "GENDER"]).to_csv(
        root / f"{language}_splits.csv", index=False)


def _voxforge(root: Path) -> None:
    downloads = root / "www.repository.voxforge1.org" / "downloads"
    for c, lang in enumerate(("de", "fr")):
        for s in range(4):
            base = downloads / lang / "Trunk" / "Audio" / "Main" / "16kHz_16bit" / f"spk{lang}{s}-2010010{s}-abc"
            for j in range(2):
                _tone(base / "wav" / f"a{j:04d}.wav", c)
            (base / "etc").mkdir()
            (base / "etc" / "PROMPTS").write_text("a0000 HALLO\n")
    (root / "splits").mkdir()
    (root / "splits" / "test.txt").write_text("spkde3-20100103-abc\nspkfr3-20100103-abc\n")
    (root / "splits" / "train.txt").write_text("".join(f"spk{lang}{s}-2010010{s}-abc\n" for lang in ("de", "fr")
                                                       for s in range(3)))


def _crema(root: Path) -> None:
    for c, emotion in enumerate(("ANG", "SAD")):
        for actor in range(1001, 1006):
            _tone(root / "AudioWAV" / f"{actor}_DFA_{emotion}_XX.wav", c)


def _esc50(root: Path) -> None:
    rows = []
    for c, (target, category) in enumerate(((0, "dog"), (10, "rain"))):
        for fold in (1, 2, 3, 4, 5):
            name = f"{fold}-{100 + c}-A-{target}.flac"
            _tone(root / "audio" / name, c, 5.0)
            rows.append((name.replace(".flac", ".wav"), fold, target, category, True, 100 + c, "A"))
    (root / "meta").mkdir()
    pd.DataFrame(rows, columns=["filename", "fold", "target", "category", "esc10", "src_file", "take"]).to_csv(
        root / "meta" / "esc50.csv", index=False)


def _fluent(root: Path) -> None:
    (root / "data").mkdir(parents=True)
    for split, speakers in (("train", ("s1", "s2", "s3")), ("valid", ("s4",)), ("test", ("s5", "s6"))):
        table = []
        for s in speakers:
            for c, action in enumerate(("activate", "deactivate")):
                rel = f"wavs/speakers/{s}/{split}-{c}.wav"
                _tone(root / rel, c, 2.0)
                table.append({"path": rel, "speakerId": s, "transcription": f"{action} lights", "action": action,
                              "object": "lights", "location": "none"})
        pd.DataFrame(table).to_csv(root / "data" / f"{split}_data.csv")


def _speech_commands(root: Path) -> None:
    from oodlib.data.speech_commands import TEN_WORDS

    tests = []
    for c, w in enumerate((*TEN_WORDS, "bed")):
        for s in ("0a0b0c0d", "1a1b1c1d", "2a2b2c2d"):
            _tone(root / w / f"{s}_nohash_0.wav", c, 1.0)
        tests.append(f"{w}/2a2b2c2d_nohash_0.wav")
    _tone(root / "_background_noise_" / "white_noise.wav", 0, 6.0)
    (root / "testing_list.txt").write_text("\n".join(tests) + "\n")
    (root / "validation_list.txt").write_text(f"{TEN_WORDS[0]}/1a1b1c1d_nohash_0.wav\n")


@pytest.fixture(scope="module")
def native_dir(tmp_path_factory) -> Path:
    """A data folder with all eight of P1's sets in their native layouts, under their manifests' folder names."""
    root = tmp_path_factory.mktemp("p1_native")
    _vocalsound(root / "vocalsound")
    _mswc(root / "mswc_micro_en", "en", ("left", "right"))
    _mswc(root / "mswc_micro_es", "es", ("izquierda", "derecha"))
    _voxforge(root / "voxforge")
    _crema(root / "crema_d")
    _esc50(root / "ESC-50" / "ESC-50-master")  # the repository zip's wrapper folder is accepted
    _fluent(root / "fluent_speech_commands")
    _speech_commands(root / "speech_commands_v0.02")
    return root


@pytest.mark.parametrize("data", [d for d in PAPER_SUITE])
def test_every_native_set_is_an_id_set_with_the_others_as_ood(native_dir, data):
    cfg = P1Config(data=data, data_dir=str(native_dir), models=["mobilenet"], k_values=[1, 2],
                   k_vocal=2 if data == "vocalsound" else None)
    d = p1.load(cfg)
    others = {NATIVE_NAMES[o] for o in PAPER_SUITE if o != data}  # the paper's protocol: the other seven
    s = d.settings[0]
    if data == "speech_commands_v0.02":  # its 10 words as ID, its unknown words as one more OOD set
        assert s.name == "speech commands (10 words)" and set(d.ood) == others | {"unknown words"}
        assert len(s.train.classes) == 10
    else:
        assert s.name == NATIVE_NAMES[data] and set(d.ood) == others and len(s.train.classes) == 2
    assert not d.missing and len(s.train) and len(s.test)
    assert s.k == (2 if data == "vocalsound" else 5)  # the paper's k for keywords; ours for the tiny VocalSound
    assert P1Config(data=data).vocal_k == 100  # the paper's k for real VocalSound by default
    assert all(x.audio.shape[1] == 16000 for x in (s.train, s.test, *d.ood.values()))
    assert "loudest" in d.note and "official" in d.note


def test_windows_policy_scores_clips_not_windows(native_dir):
    cfg = P1Config(data="crema_d", data_dir=str(native_dir), ood_datasets=["esc50"], clip_policy="windows",
                   clip_hop_s=0.5)
    d = p1.load(cfg)
    esc = d.ood["ESC-50"]
    assert p1.clip_ids(esc).max() + 1 == 10 and len(esc) == 10 * 9  # ten 5-s clips, nine 1-s windows each
    assert d.summary().set_index("set").loc["ESC-50", "clips"] == "10 (90 windows)"


def test_a_native_run_end_to_end(native_dir):
    cfg = P1Config(data="mswc_micro_en", data_dir=str(native_dir), models=["mobilenet"], epochs=1, batch_size=4,
                   k_values=[1, 2], ood_datasets=["esc50", "crema_d", "mswc_micro_es"], device="cpu")
    result = p1.run(cfg, p1.load(cfg))
    tabs = p1t.build(result)
    t1 = tabs.table1["MSWC (Micro-EN)"]
    assert "what differs" in t1.caption and ("ESC-50", "ours") in [(r, "ours") for r in t1.frame.index]
    assert t1.frame.loc["ESC-50", ("kNN AUROC", "paper")] == pytest.approx(98.59)  # the paper's row beside ours
    assert np.isfinite(t1.frame.loc["ESC-50", ("kNN AUROC", "ours")])
    ev = result.evidence()
    assert set(ev) == {"mobilenet on MSWC (Micro-EN)"}
    assert set(ev["mobilenet on MSWC (Micro-EN)"].arrays["set"]) == {"ID test", "ESC-50", "CREMA-D", "MSWC (Micro-ES)"}
    verdicts = {v.claim.id: v.verdict for v in judge_all(p1.claims(cfg), ev, n_resamples=50)}
    assert verdicts["p1/fpr95_gain_17"] == "not run"  # a VocalSound claim in an MSWC run
    assert verdicts["p1/knn_best_mobilenet_mswc_micro_en"] in ("supported", "not supported", "inconclusive")


def test_bad_real_parameters_fail_before_any_work(native_dir, tmp_path):
    from oodlib.params import ParameterError

    with pytest.raises(ValueError, match=r"k=100 .* needs a training bank of at least k clips, got 6"):
        p1.load(P1Config(data="vocalsound", data_dir=str(native_dir)))  # the paper's k on a 6-clip training set
    with pytest.raises(ParameterError, match="'ood_datasets'"):
        P1Config(data="esc50", ood_datasets=["esc50"]).check()
    with pytest.raises(ParameterError, match="dataset_options"):
        P1Config(data="esc50", dataset_options={"esc50": {"fold": 1}}).check()
    with pytest.raises(ParameterError, match="clip_policy"):
        P1Config(clip_policy="middle").check()
    with pytest.raises(FileNotFoundError, match="dataset 'voxforge' not found"):
        p1.load(P1Config(data="voxforge", data_dir=str(tmp_path)))


def test_p1_real_profile_sets_on_the_shared_data(shared_data):
    """The real profile's data: Speech Commands' 10 words as ID, its unknown words and silence, the real
    ESC-50 clips and the DCASE machine clips as OOD (one clip-policy window per clip)."""
    cfg = P1Config(data="speech_commands_v0.02_test", data_dir=str(shared_data), max_per_class=3,
                   ood_datasets=["esc50", "dcase2023t2_dev_mini"])
    d = p1.load(cfg)
    assert set(d.ood) == {"unknown words", "silence / noise", "ESC-50", "machine sounds"}
    assert len(d.ood["unknown words"]) == 3 and len(d.ood["machine sounds"]) == 3  # max_per_class caps OOD sets too
    auto = p1.load(P1Config(data="speech_commands_v0.02_test", data_dir=str(shared_data), max_per_class=3))
    assert "machine sounds" not in auto.ood and "ESC-50" in auto.ood  # by default the paper's sets only
    assert p1.clip_ids(d.ood["ESC-50"]).max() + 1 == len(d.ood["ESC-50"]) == 150  # 50 classes x 3
    assert "ESC-50 (esc50)" in d.note


def test_odin_tuned_by_the_id_only_rule_on_the_validation_split(native_dir):
    """odin_tuning="id_only": T and epsilon from ODIN's grids, chosen on the ID set's validation clips
    (Fluent Speech has a validation split; Speech Commands' test subset has none: its training clips)."""
    from oodlib.scores.posthoc import ODIN_EPSILONS, ODIN_TEMPERATURES

    cfg = P1Config(data="fluent_speech_commands", data_dir=str(native_dir), models=["mobilenet"], epochs=1,
                   batch_size=4, k_values=[1], ood_datasets=["esc50"], odin_tuning="id_only", device="cpu")
    d = p1.load(cfg)
    assert d.settings[0].val is not None and len(d.settings[0].val) == 2
    r = p1.run(cfg, d).runs[("FluentSpeech", "mobilenet")]
    assert r.odin["temperature"] == max(ODIN_TEMPERATURES) and r.odin["epsilon"] in ODIN_EPSILONS
    assert r.odin["validation"] == "2 validation clips" and "Hsu" in r.odin["rule"]
    fixed = p1.load(P1Config(data="fluent_speech_commands", data_dir=str(native_dir), ood_datasets=["esc50"]))
    assert fixed.settings[0].val is None  # the validation split is read only when a method is tuned on it


@pytest.mark.slow
def test_the_notebook_runs_on_a_native_layout(native_dir, root, tmp_path):
    """``oodlib run notebooks/p1_audio_knn.ipynb -p data vocalsound`` on the fixture folder: the paper's
    protocol end to end (the other seven sets as OOD), a record with an interval for every judged claim."""
    from oodlib.runner import run_notebook

    params = {"data": "vocalsound", "data_dir": str(native_dir), "models": ["mobilenet"], "epochs": 1, "batch_size": 4,
              "k_vocal": 2, "k_values": [1, 2]}
    run_notebook(root / "notebooks" / "p1_audio_knn.ipynb", params, output_dir=tmp_path / "nb", records_dir=tmp_path / "rec")
    rec = json.loads((tmp_path / "rec" / "p1_audio_knn.json").read_text())
    assert rec["data_source"] == "vocalsound" and "Real Vocalsound" in rec["data_note"]
    table = rec["metrics"]["ood_tables"]["Vocalsound/mobilenet"]
    assert set(table) == {NATIVE_NAMES[o] for o in PAPER_SUITE if o != "vocalsound"} | {"Average"}
    judged = [c for c in rec["claims"] if c["verdict"] != "not run"]
    assert judged and all(c.get("interval") or c["verdict"] == "inconclusive" for c in judged)


def test_ood_clips_of_id_classes_are_left_out_and_long_noise_is_cut(native_dir):
    """With MSWC (every keyword) as ID, a Speech Commands clip of an ID keyword is no OOD clip: left out and
    counted; its long background-noise files become one-second clips, as its silence class is."""
    from oodlib.data.speech_commands import TEN_WORDS

    words = ("left", "right")  # the fixture's MSWC keywords, both Speech Commands words too
    cfg = P1Config(data="mswc_micro_en", data_dir=str(native_dir), ood_datasets=["speech_commands_v0.02"])
    d = p1.load(cfg)
    sc = d.ood["SpeechCommands"]
    assert not set(sc.meta["word"].dropna()) & set(words) and "2 SpeechCommands clips of the ID classes" in d.note
    noise = sc.meta[sc.meta["long_file"].fillna(False).astype(bool)]
    assert len(noise) == 6 and noise["clip"].nunique() == 6  # one 6 s file -> six one-second clips
    assert p1.clip_ids(sc).max() + 1 == len(sc) == len(TEN_WORDS) - 2 + 1 + 6  # 8 words left, bed, 6 noise seconds
    assert "every keyword of the split CSV" in d.note
    with pytest.raises(Exception, match="one Speech Commands release"):
        P1Config(data="esc50", ood_datasets=["speech_commands_v0.02", "speech_commands_v0.02_test"]).check()
    with pytest.raises(Exception, match="need a real ID set"):
        P1Config(ood_datasets=["esc50"]).check()
