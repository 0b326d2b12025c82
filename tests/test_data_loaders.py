"""Audio reading, folder-per-class and Speech Commands loaders (fixtures and the real subset)."""

from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf

from oodlib.data.audio import fix_length, load_clips, read_audio
from oodlib.data.folders import folder_dataset
from oodlib.data.speech_commands import TEN_WORDS, load_speech_commands, parse_speaker, speaker_disjoint_split


def _wav(path, seconds=0.5, rate=16000, channels=1, freq=440.0):
    path.parent.mkdir(parents=True, exist_ok=True)
    t = np.arange(int(seconds * rate)) / rate
    x = 0.5 * np.sin(2 * np.pi * freq * t)
    sf.write(path, np.stack([x] * channels, 1) if channels > 1 else x, rate)
    return path


def test_read_audio_resamples_mixes_and_fixes_length(tmp_path):
    p = _wav(tmp_path / "a.wav", seconds=0.5, rate=44100, channels=2, freq=1000)
    x = read_audio(p, sample_rate=16000)
    assert x.dtype == np.float32 and x.shape == (8000,)
    spectrum = np.abs(np.fft.rfft(x))
    assert abs(np.argmax(spectrum) * 16000 / len(x) - 1000) < 5  # the tone survives resampling
    assert read_audio(p, 16000, num_samples=16000).shape == (16000,)
    np.testing.assert_array_equal(fix_length(np.arange(5.0), 3, "center"), [1, 2, 3])
    np.testing.assert_array_equal(fix_length(np.ones(2), 4, "center"), [0, 1, 1, 0])


def test_read_audio_errors_name_the_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="nope.wav"):
        read_audio(tmp_path / "nope.wav")
    bad = tmp_path / "bad.wav"
    bad.write_bytes(b"not audio at all")
    with pytest.raises(ValueError, match="cannot read audio file .*bad.wav"):
        read_audio(bad)
    empty = tmp_path / "empty.wav"
    sf.write(empty, np.zeros(0), 16000)
    with pytest.raises(ValueError, match="empty.wav is empty"):
        read_audio(empty)


def test_folder_dataset(tmp_path):
    for cls in ("dog", "cat"):
        for i in range(2):
            _wav(tmp_path / cls / f"{i}.wav")
    (tmp_path / "cat" / "notes.txt").write_text("x")
    with pytest.warns(UserWarning, match="1 non-audio file"):
        df = folder_dataset(tmp_path)
    assert df.attrs["classes"] == ["cat", "dog"] and len(df) == 4
    assert df.attrs["ignored"][0].endswith("notes.txt")
    assert load_clips(df["path"], num_samples=4000).shape == (4, 4000)
    with pytest.raises(FileNotFoundError, match="bird"):
        folder_dataset(tmp_path, classes=["bird"])
    (tmp_path / "empty").mkdir()
    with pytest.raises(ValueError, match="holds no audio"):
        folder_dataset(tmp_path)


def test_speech_commands_full_layout_fixture(tmp_path):
    spk = ["0a0b0c0d", "1a1b1c1d", "2a2b2c2d"]
    for w in (*TEN_WORDS, "bed"):
        for s in spk:
            _wav(tmp_path / w / f"{s}_nohash_0.wav", seconds=0.1)
    (tmp_path / "_background_noise_").mkdir()
    (tmp_path / "testing_list.txt").write_text("yes/0a0b0c0d_nohash_0.wav\nbed/1a1b1c1d_nohash_0.wav\n")
    (tmp_path / "validation_list.txt").write_text("no/2a2b2c2d_nohash_0.wav\n")
    df = load_speech_commands(tmp_path)
    assert df.attrs["layout"] == "full" and len(df) == 33
    assert set(df.loc[df.word == "bed", "label"]) == {"_unknown_"}
    assert df.split.value_counts().to_dict() == {"train": 30, "test": 2, "validation": 1}


def test_speaker_parsing_and_disjoint_split():
    import pandas as pd

    assert parse_speaker("backward_0c540988_nohash_0.wav.wav") == "0c540988"
    assert parse_speaker("12.wav") is None
    rng = np.random.default_rng(0)
    spk = [f"{i:08x}" for i in rng.integers(0, 2**31, 40)]
    df = pd.DataFrame({"speaker": [spk[i % 40] for i in range(400)] + [None] * 20})
    split = speaker_disjoint_split(df, {"train": 0.7, "test": 0.3}, seed=1)
    per_speaker = df.assign(split=split).dropna().groupby("speaker").split.nunique()
    assert (per_speaker == 1).all()
    assert 0.55 < (split == "train").mean() < 0.85
    assert split.equals(speaker_disjoint_split(df, {"train": 0.7, "test": 0.3}, seed=1))
    assert not split.equals(speaker_disjoint_split(df, {"train": 0.7, "test": 0.3}, seed=2))
    with pytest.raises(ValueError, match="sum to 1"):
        speaker_disjoint_split(df, {"train": 0.7, "test": 0.2})


def test_real_speech_commands_test_subset(shared_data):
    df = load_speech_commands(shared_data / "speech_commands_v0.02_test")
    assert df.attrs["layout"] == "test"
    counts = df.label.value_counts()
    assert all(counts[w] == 300 for w in TEN_WORDS)
    assert counts["_unknown_"] == 408 and counts["_silence_"] == 408
    unknown = df[df.label == "_unknown_"]
    assert unknown.word.nunique() == 25 and unknown.speaker.notna().all()
    assert "yes" not in set(unknown.word)
    clips = load_clips(df.path.iloc[[0, -1]], num_samples=16000)
    assert clips.shape == (2, 16000) and np.abs(clips).max() > 0


def test_real_dcase_and_camvid_read(shared_data):
    x = read_audio(next((shared_data / "dcase2023t2_dev_mini" / "fan" / "train").glob("*.wav")))
    assert x.ndim == 1 and 9.5 * 16000 < len(x) < 12.5 * 16000
