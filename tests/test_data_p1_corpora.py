"""P1 corpora index loaders: native-layout fixtures (tiny real audio files), error cases, shared subsets."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
import soundfile as sf

from oodlib.data.audio import AUDIO_EXTENSIONS, read_audio
from oodlib.data.crema_d import crema_d_index
from oodlib.data.esc50 import esc50_index
from oodlib.data.fluent_speech import fluent_speech_index
from oodlib.data.mswc import mswc_index
from oodlib.data.speech_commands import TEN_WORDS, speech_commands_ood_index
from oodlib.data.vocalsound import vocalsound_index
from oodlib.data.voxforge import voxforge_index

BASE_COLUMNS = ["path", "label", "split", "speaker"]


def _audio(path, seconds=0.3, rate=16000, channels=1, **kw):
    """Write a short tone; the format follows the extension (``.opus``: Ogg Opus)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    t = np.arange(int(seconds * rate)) / rate
    x = 0.3 * np.sin(2 * np.pi * 440.0 * t)
    data = np.stack([x] * channels, 1) if channels > 1 else x
    if path.suffix == ".opus":
        kw = {"format": "OGG", "subtype": "OPUS", **kw}
    sf.write(path, data, rate, **kw)
    return path


def _check(df, dataset, n, classes):
    assert df.columns[:3].tolist() == BASE_COLUMNS[:3] and "speaker" in df.columns
    assert len(df) == n and df.attrs["dataset"] == dataset and df.attrs["classes"] == sorted(classes)
    assert df.attrs["split_source"] and df["path"].is_monotonic_increasing
    assert all(p.startswith("/") for p in df["path"]) and set(df["split"]) <= {"train", "dev", "test"}
    x = read_audio(df["path"].iloc[-1], 16000)
    assert x.dtype == np.float32 and x.size > 0


# --- ESC-50 ----------------------------------------------------------------------------------------------

ESC_ROWS = [  # filename, fold, target, category, esc10, src_file, take
    ("1-100032-A-0.wav", 1, 0, "dog", True, 100032, "A"),
    ("2-100038-A-14.wav", 2, 14, "chirping_birds", False, 100038, "A"),
    ("4-102844-B-49.wav", 4, 49, "hand_saw", False, 102844, "B"),
    ("4-110389-A-0.wav", 4, 0, "dog", True, 110389, "A"),
]


@pytest.fixture
def esc50(tmp_path):
    base = tmp_path / "ESC-50-master"  # the wrapper of the repository zip
    formats = [(".wav", 44100, 1, 5.0), (".flac", 16000, 1, 1.0), (".wav", 48000, 2, 0.5), (".wav", 8000, 1, 0.3)]
    for row, (ext, rate, ch, sec) in zip(ESC_ROWS, formats):
        _audio(base / "audio" / row[0].replace(".wav", ext), sec, rate, ch)
    cols = ["filename", "fold", "target", "category", "esc10", "src_file", "take"]
    (base / "meta").mkdir()
    pd.DataFrame(ESC_ROWS, columns=cols).to_csv(base / "meta" / "esc50.csv", index=False)
    return tmp_path


def test_esc50_fixture(esc50):
    df = esc50_index(esc50)
    _check(df, "esc50", 4, ["dog", "chirping_birds", "hand_saw"])
    assert set(df["split"]) == {"test"} and df["speaker"].isna().all()
    assert df["fold"].tolist() == [1, 2, 4, 4] and df["target"].tolist() == [0, 14, 49, 0]
    assert df["path"].iloc[1].endswith("2-100038-A-14.flac")  # listed as .wav, present as .flac
    assert df["esc10"].tolist() == [True, False, False, True]
    cv = esc50_index(esc50, splits=None, test_fold=4)
    assert cv.groupby("split")["fold"].apply(set).to_dict() == {"test": {4}, "train": {1, 2}}
    assert len(esc50_index(esc50, folds=(1, 2))) == 2


def test_esc50_errors(esc50, tmp_path):
    base = esc50 / "ESC-50-master"
    with pytest.raises(FileNotFoundError, match="does not exist"):
        esc50_index(tmp_path / "nope")
    with pytest.raises(ValueError, match=r"unknown split.*'validation'"):
        esc50_index(esc50, splits=("validation",))
    with pytest.raises(ValueError, match="no clips"):
        esc50_index(esc50, folds=(3,))
    with pytest.raises(ValueError, match="folds"):
        esc50_index(esc50, test_fold=6)
    (base / "audio" / "4-110389-A-0.wav").unlink()
    with pytest.raises(FileNotFoundError, match=r"1 of 4 file\(s\) listed in .*esc50.csv.*4-110389-A-0.wav"):
        esc50_index(esc50)
    meta = pd.read_csv(base / "meta" / "esc50.csv")
    meta.drop(columns="category").to_csv(base / "meta" / "esc50.csv", index=False)
    with pytest.raises(ValueError, match=r"esc50.csv: missing column\(s\) \['category'\]"):
        esc50_index(esc50)
    meta.assign(filename=["dog_bark.wav"] * 4).to_csv(base / "meta" / "esc50.csv", index=False)
    with pytest.raises(ValueError, match="'dog_bark.wav' is not <fold>-<clip_id>-<take>-<target>"):
        esc50_index(esc50)
    (base / "meta" / "esc50.csv").unlink()
    with pytest.raises(FileNotFoundError, match="holds meta/esc50.csv and audio/"):
        esc50_index(esc50)


def test_esc50_shared_subset(shared_data):
    root = shared_data / "esc50_subset"
    if not root.is_dir():
        pytest.skip(f"ESC-50 subset {root} not found")
    df = esc50_index(root)
    assert len(df) == 731 and len(df.attrs["classes"]) == 50 and set(df["fold"]) == {1, 2, 3, 4, 5}
    assert (df["fold"] == 4).sum() == 400 and df["path"].str.endswith(".flac").all()
    with pytest.raises(FileNotFoundError, match=r"1269 of 2000 file\(s\) listed in .*esc50.csv"):
        esc50_index(root, meta_file="esc50.csv")  # the full list names clips the subset lacks


# --- CREMA-D ---------------------------------------------------------------------------------------------

CREMA = ["1001_DFA_ANG_XX", "1001_IEO_HAP_HI", "1002_TIE_NEU_XX", "1003_IWW_SAD_LO", "1091_MTI_FEA_MD",
         "1091_WSI_DIS_XX"]


@pytest.fixture
def crema(tmp_path):
    base = tmp_path / "CREMA-D"
    seconds, rates = [0.3, 2.5, 1.0, 6.0, 0.4, 0.8], [16000, 8000, 44100, 16000, 48000, 16000]
    for i, name in enumerate(CREMA):
        _audio(base / "AudioWAV" / f"{name}.wav", seconds[i], rates[i], 1 + i % 2)
    (base / "AudioWAV" / ".DS_Store").write_bytes(b"\0")
    (base / "VideoDemographics.csv").write_text(
        '"ActorID","Age","Sex","Race","Ethnicity"\n1001,51,"Male","Caucasian","Not Hispanic"\n'
        '1002,21,"Female","Caucasian","Not Hispanic"\n'
    )
    return tmp_path


def test_crema_d_fixture(crema):
    df = crema_d_index(crema)
    _check(df, "crema_d", 6, ["anger", "happy", "neutral", "sad", "fear", "disgust"])
    assert set(df["split"]) == {"test"} and df["speaker"].tolist() == ["1001", "1001", "1002", "1003", "1091", "1091"]
    assert df["emotion"].tolist()[:2] == ["ANG", "HAP"] and df["level"].tolist()[:2] == ["XX", "HI"]
    assert df["sentence"].iloc[0] == "DFA" and df["sex"].tolist()[:3] == ["male", "male", "female"]
    assert df["sex"].iloc[-1] is None
    held = crema_d_index(crema, splits=None, test_fraction=0.25)  # 4 actors: the last one (1091) is test
    assert set(held.loc[held.split == "test", "actor"]) == {"1091"} and (held.split == "train").sum() == 4
    assert "actor-disjoint" in held.attrs["split_source"]


def test_crema_d_errors(crema, tmp_path):
    with pytest.raises(FileNotFoundError, match="AudioWAV/"):
        crema_d_index(tmp_path / "CREMA-D" / "AudioWAV")
    with pytest.raises(ValueError, match="test_fraction"):
        crema_d_index(crema, test_fraction=1.5)
    with pytest.raises(ValueError, match="no clips"):
        crema_d_index(crema, splits=("train",))
    _audio(tmp_path / "CREMA-D" / "AudioWAV" / "1001_XYZ_ANG_XX.wav")
    with pytest.raises(ValueError, match="'1001_XYZ_ANG_XX.wav'.* is not <actor>_<sentence>_<emotion>_<level>"):
        crema_d_index(crema)


# --- Fluent Speech Commands ------------------------------------------------------------------------------

FSC = {
    "train": [("spkA", "Turn on the lights", "activate", "lights", "none"),
              ("spkA", "Bring me my shoes", "bring", "shoes", "none")],
    "valid": [("spkB", "Switch to Korean", "change language", "Korean", "none")],
    "test": [("spkC", "Turn up the heat in the kitchen", "increase", "heat", "kitchen"),
             ("spkC", "Lights off in the bedroom", "deactivate", "lights", "bedroom")],
}


@pytest.fixture
def fsc(tmp_path):
    base = tmp_path / "fluent_speech_commands_dataset"
    (base / "data").mkdir(parents=True)
    rates = iter([16000, 8000, 44100, 16000, 48000])
    for split, rows in FSC.items():
        table = []
        for i, (spk, text, action, obj, loc) in enumerate(rows):
            rel = f"wavs/speakers/{spk}/{split}-{i}-0a1b2c3d.wav"
            _audio(base / rel, 0.3 + i, next(rates), 1 + i)
            table.append({"path": rel, "speakerId": spk, "transcription": text, "action": action, "object": obj,
                          "location": loc})
        pd.DataFrame(table).to_csv(base / "data" / f"{split}_data.csv")  # keeps the unnamed index column
    return tmp_path


def test_fluent_speech_fixture(fsc):
    df = fluent_speech_index(fsc)
    _check(df, "fluent_speech_commands", 2, ["increase", "deactivate"])
    assert df["speaker"].tolist() == ["spkC", "spkC"] and df["location"].tolist() == ["kitchen", "bedroom"]
    both = fluent_speech_index(fsc, splits=None)
    assert both["split"].value_counts().to_dict() == {"train": 2, "test": 2, "dev": 1}
    assert set(both.loc[both.split == "dev", "split_native"]) == {"valid"}
    assert "change language" in both.attrs["classes"] and "Unnamed: 0" not in both.columns
    intents = fluent_speech_index(fsc, splits=("dev",), label="intent")
    assert intents["label"].tolist() == ["change language_Korean_none"]


def test_fluent_speech_errors(fsc):
    data = fsc / "fluent_speech_commands_dataset" / "data"
    with pytest.raises(ValueError, match="label must be one of"):
        fluent_speech_index(fsc, label="slot")
    table = pd.read_csv(data / "test_data.csv", index_col=0)
    table.drop(columns="action").to_csv(data / "test_data.csv")
    with pytest.raises(ValueError, match=r"test_data.csv: missing column\(s\) \['action'\]"):
        fluent_speech_index(fsc)
    pd.concat([table, table.assign(path="wavs/speakers/spkC/gone.wav")]).to_csv(data / "test_data.csv")
    with pytest.raises(FileNotFoundError, match=r"2 of 4 file\(s\) listed in .*test_data.csv.*gone.wav"):
        fluent_speech_index(fsc)
    (data / "valid_data.csv").unlink()
    with pytest.raises(FileNotFoundError, match="valid_data.csv does not exist"):
        fluent_speech_index(fsc, splits=("dev",))


# --- VocalSound ------------------------------------------------------------------------------------------

VS_MIDS = {"laughter": "/m/01j3sz", "sigh": "/m/07plz5l", "cough": "/m/01b_21", "throatclearing": "/m/0dl9sf8",
           "sneeze": "/m/01hsr_", "sniff": "/m/07ppn3j"}
VS_DISPLAY = {"laughter": "Laughter", "sigh": "Sigh", "cough": "Cough", "throatclearing": "Throat clearing",
              "sneeze": "Sneeze", "sniff": "Sniff"}
VS_SPLITS = {"tr": ["f0003_0_cough", "f0003_0_laughter", "m0011_0_sigh"], "val": ["f0004_0_sneeze"],
             "te": ["m0012_1_throatclearing", "f0020_0_sniff"]}


@pytest.fixture
def vocalsound(tmp_path):
    base = tmp_path / "vs_release_16k"
    rates = iter([16000, 44100, 8000, 16000, 48000, 16000])
    for native, names in VS_SPLITS.items():
        for i, name in enumerate(names):
            _audio(base / "audio_16k" / f"{name}.wav", [0.4, 3.0, 6.0][i % 3], next(rates), 1 + i % 2)
        entries = [{"wav": f"/data/sls/scratch/yuangong/vocalsound/data/audio_16k/{n}.wav",
                    "labels": VS_MIDS[n.split("_")[2]]} for n in names]
        (base / "datafiles").mkdir(exist_ok=True)
        (base / "datafiles" / f"{native}.json").write_text(json.dumps({"data": entries}, indent=1))
    pd.DataFrame({"index": range(6), "mid": list(VS_MIDS.values()), "display_name": list(VS_DISPLAY.values())}
                 ).to_csv(base / "class_labels_indices_vs.csv", index=False)
    return tmp_path


def test_vocalsound_fixture(vocalsound):
    df = vocalsound_index(vocalsound)
    _check(df, "vocalsound", 2, ["throatclearing", "sniff"])
    assert df["speaker"].tolist() == ["f0020", "m0012"] and df["gender"].tolist() == ["female", "male"]
    assert df["path"].str.contains("/vs_release_16k/audio_16k/").all() and set(df["split_native"]) == {"te"}
    full = vocalsound_index(vocalsound, splits=None)
    assert full["split"].value_counts().to_dict() == {"train": 3, "test": 2, "dev": 1}
    assert full.attrs["classes"] == sorted(VS_MIDS)
    # names instead of mids need no label CSV
    base = vocalsound / "vs_release_16k"
    (base / "class_labels_indices_vs.csv").unlink()
    (base / "datafiles" / "val.json").write_text(json.dumps({"data": [{"wav": "x/f0004_0_sneeze.wav",
                                                                       "labels": "sneeze"}]}))
    assert vocalsound_index(vocalsound, splits=("dev",))["label"].tolist() == ["sneeze"]
    with pytest.raises(FileNotFoundError, match="class_labels_indices_vs.csv is missing"):
        vocalsound_index(vocalsound, splits=("train",))


def test_vocalsound_errors(vocalsound):
    files = vocalsound / "vs_release_16k" / "datafiles"
    (files / "te.json").write_text(json.dumps({"data": [{"wav": "/a/f0020_0_sniff.wav", "labels": "/m/0zzzz"}]}))
    with pytest.raises(ValueError, match="te.json: label '/m/0zzzz' is not in class_labels_indices_vs.csv"):
        vocalsound_index(vocalsound)
    (files / "te.json").write_text(json.dumps({"data": [{"wav": "/a/f0020_0_sniff.wav"}]}))
    with pytest.raises(ValueError, match="te.json: entry 0 lacks"):
        vocalsound_index(vocalsound)
    (files / "te.json").write_text(json.dumps({"data": [{"wav": "/a/f9999_0_sniff.wav", "labels": "/m/07ppn3j"}]}))
    with pytest.raises(FileNotFoundError, match=r"1 of 1 file\(s\) listed in .*te.json.*f9999_0_sniff.wav"):
        vocalsound_index(vocalsound)
    (files / "val.json").unlink()
    with pytest.raises(FileNotFoundError, match="val.json does not exist"):
        vocalsound_index(vocalsound, splits=None)


# --- MSWC ------------------------------------------------------------------------------------------------

MSWC_EN = [("TRAIN", "aachen/common_voice_en_1.opus", "aachen", "True", "spk1", "MALE"),
           ("DEV", "aachen/common_voice_en_2.opus", "aachen", "True", "spk2", "FEMALE"),
           ("TEST", "aachen/common_voice_en_3.opus", "aachen", "True", "spk3", "NAN"),
           ("TEST", "zero/common_voice_en_4.opus", "zero", "False", "", "OTHER"),
           ("TRAIN", "zero/common_voice_en_5.opus", "zero", "True", "spk1", "MALE")]


def _mswc(tmp_path, language, rows):
    clips = tmp_path / language / "clips"
    for i, (_, link, *_rest) in enumerate(rows):
        if i == 3:  # converted to wav: the CSV still names the .opus file
            _audio(clips / link.replace(".opus", ".wav"), 1.0, 16000, 2)
        else:
            _audio(clips / link, 1.0, 48000)
    cols = ["SET", "LINK", "WORD", "VALID", "SPEAKER", "GENDER"]
    pd.DataFrame(rows, columns=cols).to_csv(tmp_path / f"{language}_splits.csv", index=False)
    return tmp_path


def test_opus_is_an_audio_extension_and_decodes(tmp_path):
    assert ".opus" in AUDIO_EXTENSIONS
    x = read_audio(_audio(tmp_path / "a.opus", 0.5, 48000), 16000)
    assert x.shape == (8000,) and np.abs(x).max() > 0.1


def test_mswc_fixture(tmp_path):
    root = _mswc(tmp_path, "en", MSWC_EN)
    df = mswc_index(root)
    _check(df, "mswc_en", 2, ["aachen", "zero"])
    assert df["path"].iloc[0].endswith("/en/clips/aachen/common_voice_en_3.opus")
    assert df["path"].iloc[1].endswith("common_voice_en_4.wav") and df["speaker"].tolist() == ["spk3", None]
    assert df["valid"].tolist() == [True, False] and set(df["split_native"]) == {"TEST"}
    assert read_audio(df["path"].iloc[0], 16000).size == 16000  # 1 s opus clip at 16 kHz
    full = mswc_index(root / "en", splits=None, keywords=["aachen"])  # the language folder itself works too
    assert full["split"].tolist() == ["train", "dev", "test"] and full.attrs["classes"] == ["aachen"]
    es = _mswc(tmp_path / "es_release", "es", [("TEST", "hola/common_voice_es_9.opus", "hola", "True", "s", "MALE")])
    assert mswc_index(es, language="es").attrs["dataset"] == "mswc_es"


def test_mswc_errors(tmp_path):
    root = _mswc(tmp_path, "en", MSWC_EN)
    with pytest.raises(ValueError, match=r"keyword\(s\) \['marvin'\] do not occur in .*en_splits.csv"):
        mswc_index(root, keywords=["aachen", "marvin"])
    with pytest.raises(FileNotFoundError, match="es/clips"):
        mswc_index(root, language="es")
    table = pd.read_csv(root / "en_splits.csv", dtype=str, keep_default_na=False)
    table.assign(SET=["TRAIN", "VALIDATION", "TEST", "TEST", "TRAIN"]).to_csv(root / "en_splits.csv", index=False)
    with pytest.raises(ValueError, match=r"unknown SET value\(s\) \['VALIDATION'\]"):
        mswc_index(root)
    table.drop(columns="SPEAKER").to_csv(root / "en_splits.csv", index=False)
    with pytest.raises(ValueError, match=r"en_splits.csv: missing column\(s\) \['SPEAKER'\]"):
        mswc_index(root)
    table.to_csv(root / "en_splits.csv", index=False)
    (root / "en" / "clips" / "aachen" / "common_voice_en_3.opus").unlink()
    with pytest.raises(FileNotFoundError, match=r"1 of 2 file\(s\) listed in .*en_splits.csv.*common_voice_en_3"):
        mswc_index(root)
    (root / "en_splits.csv").unlink()
    with pytest.raises(FileNotFoundError, match="en_splits.csv not found"):
        mswc_index(root)


# --- VoxForge --------------------------------------------------------------------------------------------

VOX_ARCHIVES = {"de": ["anonymous-20100101-abc", "ralfherzog-20071220-de34"],
                "es": ["carlos-20120101-xyz", "maria-20130202-qqq"],
                "SpeechCorpus": ["john-20080101-aaa", "anonymous-20090303-bbb", "kim-20100404-ccc"],
                "fr": ["luc-20110505-ddd"], "it": ["gio-20120606-eee"], "ru": ["ivan-20130707-fff"]}


@pytest.fixture
def voxforge(tmp_path):
    downloads = tmp_path / "www.repository.voxforge1.org" / "downloads"
    rates = [16000, 8000, 48000, 44100]
    k = 0
    for folder, archives in VOX_ARCHIVES.items():
        for archive in archives:
            base = downloads / folder / "Trunk" / "Audio" / "Main" / "16kHz_16bit" / archive
            for j in range(2):
                _audio(base / "wav" / f"a{j:04d}.wav", 0.3 + j, rates[k % 4], 1 + k % 2)
                k += 1
            (base / "etc").mkdir()
            (base / "etc" / "PROMPTS").write_text("a0000 HELLO\n")
    return tmp_path


def test_voxforge_tfds_rule(voxforge):
    df = voxforge_index(voxforge, splits=None)
    _check(df, "voxforge", 20, ["de", "en", "es", "fr", "it", "ru"])
    assert set(df.loc[df.language == "en", "archive"]) == set(VOX_ARCHIVES["SpeechCorpus"])
    per_speaker = df.groupby("speaker")["split"].nunique()
    assert (per_speaker == 1).all()  # speaker-disjoint, "anonymous" (de and en) included
    speakers = df.groupby("split_native")["speaker"].nunique().to_dict()
    assert speakers == {"train": 6, "validation": 1, "test": 2}  # 9 speakers: cuts at int(0.7*9), int(0.8*9)
    assert df.equals(voxforge_index(voxforge, splits=None))  # deterministic
    test = voxforge_index(voxforge, languages=["de", "en"])
    assert set(test["split"]) == {"test"} and set(test["language"]) <= {"de", "en"}


def test_voxforge_split_lists(voxforge):
    (voxforge / "splits").mkdir()
    lines = "luc-20110505-ddd.tgz\nhttp://x/de/Trunk/ralfherzog-20071220-de34.tgz\n"  # .tgz names and URLs work
    (voxforge / "splits" / "test.txt").write_text(lines)
    (voxforge / "splits" / "validation.txt").write_text("ivan-20130707-fff\n")
    df = voxforge_index(voxforge, splits=None)
    assert df.groupby("split")["archive"].apply(set).to_dict() == {
        "test": {"luc-20110505-ddd", "ralfherzog-20071220-de34"}, "dev": {"ivan-20130707-fff"}}
    assert "split lists" in df.attrs["split_source"]
    (voxforge / "splits" / "test.txt").write_text("luc-20110505-ddd\nnobody-20000101-zzz\n")
    with pytest.raises(FileNotFoundError, match=r"1 of 2 archive\(s\) listed in .*test.txt.*nobody-20000101-zzz"):
        voxforge_index(voxforge)
    with pytest.raises(FileNotFoundError, match="train.txt does not exist"):
        voxforge_index(voxforge, split_lists={"train": voxforge / "splits" / "train.txt"})


def test_voxforge_errors(voxforge):
    with pytest.raises(ValueError, match=r"unknown language\(s\) \['pt'\]"):
        voxforge_index(voxforge, languages=["pt"])
    _audio(voxforge / "stray" / "x.wav")
    with pytest.raises(ValueError, match="stray/x.wav lies in no language folder"):
        voxforge_index(voxforge)


# --- Speech Commands as OOD ------------------------------------------------------------------------------


def test_speech_commands_ood_full_release(tmp_path):
    for w in (*TEN_WORDS, "bed"):
        for s in ("0a0b0c0d", "1a1b1c1d"):
            _audio(tmp_path / w / f"{s}_nohash_0.wav", 1.0, 16000)
    _audio(tmp_path / "_background_noise_" / "white_noise.wav", 6.0, 16000)
    (tmp_path / "testing_list.txt").write_text("yes/0a0b0c0d_nohash_0.wav\nbed/1a1b1c1d_nohash_0.wav\n")
    (tmp_path / "validation_list.txt").write_text("no/0a0b0c0d_nohash_0.wav\n")
    df = speech_commands_ood_index(tmp_path)
    _check(df, "speech_commands_v0.02", 3, ["yes", "_unknown_", "_silence_"])
    assert df.set_index("label")["long_file"].to_dict() == {"yes": False, "_unknown_": False, "_silence_": True}
    assert df.loc[df.label == "_unknown_", "word"].item() == "bed" and set(df["split_native"]) == {"testing_list.txt"}
    with pytest.raises(ValueError, match="classes must be 'paper12'"):
        speech_commands_ood_index(tmp_path, classes="words10")
    with pytest.raises(ValueError, match="only the test split"):
        speech_commands_ood_index(tmp_path, splits=("train",))


def test_speech_commands_ood_shared_test_set(shared_data):
    root = shared_data / "speech_commands_v0.02_test"
    if not root.is_dir():
        pytest.skip(f"Speech Commands test set {root} not found")
    df = speech_commands_ood_index(root)
    assert len(df.attrs["classes"]) == 12 and set(df["split"]) == {"test"} and not df["long_file"].any()
    assert {"_unknown_", "_silence_", *TEN_WORDS} == set(df.attrs["classes"])
    assert read_audio(df["path"].iloc[0], 16000).shape == (16000,)


# --- every loader: the same argument checks ---------------------------------------------------------------

LOADERS = [esc50_index, crema_d_index, fluent_speech_index, vocalsound_index, mswc_index, voxforge_index]


@pytest.mark.parametrize("index", LOADERS, ids=lambda f: f.__name__)
def test_missing_root_and_unknown_split_are_named(index, tmp_path):
    with pytest.raises(FileNotFoundError, match=f"folder {tmp_path / 'absent'} does not exist"):
        index(tmp_path / "absent")
    with pytest.raises(ValueError, match=r"unknown split name\(s\) \['valid'\]"):
        index(tmp_path / "absent", splits=("test", "valid"))  # checked before the folder is looked at
