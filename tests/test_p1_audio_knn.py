"""P1 pieces: model shapes and parameter counts, tables, k sweep, data settings, training helpers."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from oodlib.augment import ShiftAndGain
from oodlib.models import EfficientNetB0, MobileNetV1
from oodlib.papers import p1_audio_knn as p1
from oodlib.training import recalibrate_batchnorm, train_classifier


def n_params(m: nn.Module) -> int:
    return sum(p.numel() for p in m.parameters())


def test_mobilenet_matches_published_shapes_and_counts():
    # MobileNetV1 1.0 (ImageNet, 3 channels, 1000 classes): 4,231,976 trainable parameters (Keras reference)
    assert n_params(MobileNetV1(1000, in_channels=3)) == 4_231_976
    m = MobileNetV1(521)  # YAMNet: 1 channel, 521 AudioSet classes, "3.7M weights"
    assert n_params(m) == 3_740_425
    x = torch.zeros(2, 1, 64, 98)
    assert m.features(x).shape == (2, 1024) and m(x).shape == (2, 521)
    assert len([c for c in m.modules() if isinstance(c, nn.Conv2d)]) == 27  # 1 + 13 x (depthwise + pointwise)


def test_efficientnet_b0_counts_and_shapes():
    assert n_params(EfficientNetB0(1000, in_channels=3)) == 5_288_548  # torchvision's efficientnet_b0
    m = EfficientNetB0(31).eval()
    x = torch.zeros(2, 1, 64, 98)
    assert m.features(x).shape == (2, 1280) and m(x).shape == (2, 31)


def test_ood_table_orientation_and_average():
    rng = np.random.default_rng(0)
    scores = {"kNN": {"ID test": rng.normal(0, 1, 200), "far": rng.normal(50, 1, 100), "near": rng.normal(0, 1, 100)},
              "MSP": {"ID test": rng.normal(0, 1, 200), "far": rng.normal(-50, 1, 100), "near": rng.normal(0, 1, 100)}}
    t = p1.ood_table(scores)
    assert t.loc["far", "kNN AUROC"] == 100.0 and t.loc["far", "kNN FPR95"] == 0.0
    assert t.loc["far", "MSP AUROC"] == 0.0  # wrong orientation shows up as 0, not silently flipped
    assert 35 < t.loc["near", "kNN AUROC"] < 65
    assert t.loc["Average", "kNN AUROC"] == pytest.approx((t.loc["far", "kNN AUROC"] + t.loc["near", "kNN AUROC"]) / 2)
    avg = p1.average_table(t, ("MSP", "kNN"))
    assert p1.best_method(avg) == ("kNN", "kNN")


def test_k_sweep_skips_k_beyond_the_bank():
    rng = np.random.default_rng(0)
    e1, e2 = np.eye(8)[0], np.eye(8)[1]  # kNN runs on normalised features: OOD differs in direction
    train, test = rng.normal(size=(30, 8)) * 0.1 + e1, rng.normal(size=(20, 8)) * 0.1 + e1
    sw = p1.k_sweep(train, test, {"other direction": rng.normal(size=(20, 8)) * 0.1 + e2}, [1, 5, 50])
    assert list(sw.index) == [1, 5]
    assert (sw["AUROC"] > 90).all()


def test_synthetic_settings_and_suite(tmp_path, monkeypatch):
    monkeypatch.setenv("OODLIB_CACHE_DIR", str(tmp_path))
    monkeypatch.setenv("OODLIB_PROGRESS", "0")
    s = p1.synthetic_id_setting("vocal sounds", 6, 10, seed=0)
    assert s.k == 100 and s.train.classes == list(p1.VOCALISATIONS)
    assert not set(s.train.meta.speaker) & set(s.test.meta.speaker)  # speaker-disjoint
    suite = p1.synthetic_ood_suite(6, seed=0)
    assert set(suite) == set(p1.STANDS_IN_FOR) - {"keywords", "vocal sounds"}
    assert all(len(v) == 6 and v.audio.shape[1] == 16000 for v in suite.values())
    assert p1.logmel_inputs(suite["other words"]).shape == (6, 1, 64, 98)
    with pytest.raises(ValueError, match="unknown synthetic ID setting"):
        p1.synthetic_id_setting("music", 3, 3, 0)


def test_speech_commands_setting_on_real_subset(shared_data):
    setting, ood = p1.speech_commands_setting(shared_data / "speech_commands_v0.02_test", seed=0, max_per_class=4)
    assert setting.train.classes == list(p1.TEN_WORDS)
    assert not set(setting.train.meta.speaker) & set(setting.test.meta.speaker)
    assert set(ood) == {"unknown words", "silence / noise"}
    assert len(ood["unknown words"]) == len(ood["silence / noise"]) == 4  # max_per_class caps the OOD sets too
    _, two = p1.speech_commands_setting(shared_data / "speech_commands_v0.02_test", seed=0, max_per_class=2)
    assert len(two["unknown words"]) == 2
    _, full = p1.speech_commands_setting(shared_data / "speech_commands_v0.02_test", seed=0)
    assert len(full["unknown words"]) == 408
    assert np.bincount(setting.train.labels, minlength=10).max() <= 4
    machines = p1.folder_ood_set(shared_data / "dcase2023t2_dev_mini" / "fan", "m")  # 10 s clips, the loudest second
    assert machines.audio.shape == (4, 16000) and p1.clip_ids(machines).tolist() == [0, 1, 2, 3]


def test_recalibrate_batchnorm_uses_exact_data_statistics():
    model = nn.Sequential(nn.Conv2d(1, 2, 1), nn.BatchNorm2d(2))
    x = torch.randn(64, 1, 4, 4) * 3 + 5
    model[1].running_mean.fill_(100.0)
    assert recalibrate_batchnorm(model, x, batch_size=16, device="cpu") == 1
    with torch.no_grad():
        h = model[0](x)
    assert torch.allclose(model[1].running_mean, h.mean(dim=(0, 2, 3)), atol=1e-5)
    assert not model.training and model[1].momentum == 0.1


def test_augmentation_is_seeded_and_training_learns():
    aug = ShiftAndGain(max_shift=3, gain_std=0.5)
    x = torch.randn(4, 1, 8, 20)
    a = aug(x, torch.Generator().manual_seed(1))
    assert a.shape == x.shape and torch.equal(a, aug(x, torch.Generator().manual_seed(1)))
    rng = np.random.default_rng(0)
    xs = rng.normal(size=(200, 1, 4, 10)).astype(np.float32)
    ys = (xs.mean(axis=(1, 2, 3)) > 0).astype(int)
    xs[ys == 1] += 1.0
    from oodlib.models import MLPClassifier

    model = MLPClassifier(in_dim=40, n_classes=2, hidden=(16,))
    xs = xs.reshape(200, 40)
    hist = train_classifier(model, xs, ys, epochs=20, lr=0.05, batch_size=32, seed=0, device="cpu")
    assert hist.accuracy[-1] > 0.9 and hist.loss[-1] < hist.loss[0]


def test_folder_setting_reads_user_sets(tmp_path):
    import soundfile as sf

    for split in ("train", "test"):
        for cls in ("dog", "cat"):
            for i in range(2):
                (tmp_path / split / cls).mkdir(parents=True, exist_ok=True)
                sf.write(tmp_path / split / cls / f"{i}.wav", np.zeros(8000), 16000)
    s = p1.folder_setting(tmp_path / "train", tmp_path / "test", k=3)
    assert s.train.classes == ["cat", "dog"] and s.train.audio.shape == (4, 16000) and len(s.test) == 4
    ood = p1.folder_ood_set(tmp_path / "test", "mine")
    assert len(ood) == 4 and ood.classes == ["mine"]


def test_an_ood_set_may_be_a_flat_or_nested_folder_at_any_rate(tmp_path):
    """An OOD set has no classes: a flat folder (and nested ones) of audio at any sample rate is accepted."""
    import soundfile as sf

    flat = tmp_path / "flat"
    flat.mkdir()
    sf.write(flat / "a.wav", np.zeros(8000), 8000)
    sf.write(flat / "b.flac", np.zeros(44100 // 2), 44100)
    (flat / "deeper" / "more").mkdir(parents=True)
    sf.write(flat / "deeper" / "more" / "c.wav", np.zeros(4000), 16000)
    (flat / "notes.txt").write_text("not audio")
    with pytest.warns(UserWarning, match="1 non-audio"):
        ood = p1.folder_ood_set(flat, "mine")
    assert len(ood) == 3 and ood.audio.shape == (3, 16000)
    assert sorted(ood.meta.group) == [".", ".", "deeper/more"]
    (tmp_path / "empty").mkdir()
    with pytest.raises(ValueError, match="holds no audio files"):
        p1.folder_ood_set(tmp_path / "empty", "none")


def test_audio_sets_are_writable_and_ood_sets_count_their_own_classes():
    import warnings

    import pandas as pd

    from oodlib.data.audioset import AudioSet

    labels = pd.Series([-1, -1, -1], dtype="int64").to_numpy()
    labels.flags.writeable = False  # what pandas' copy-on-write hands over
    s = AudioSet(np.zeros((3, 16000), np.float32), labels, ["yes", "no"], 16000,
                 pd.DataFrame({"label": ["_unknown_"] * 3, "word": ["bed", "cat", "bed"]}), "unknown words")
    assert s.labels.flags.writeable and s.audio.flags.writeable
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        torch.as_tensor(s.labels)  # no "not writable" warning
    assert p1.ood_class_count(s) == 2  # the unknown set's own words, not the 2 ID classes
    assert p1.ood_class_count(AudioSet(np.zeros((1, 10), np.float32), np.zeros(1, np.int64), ["x"], 16000)) == "-"


def test_embedding_geometry_flags_ood_nearer_the_centre_than_id():
    from oodlib.papers.p1_audio_knn.pipeline import embedding_geometry

    rng = np.random.default_rng(0)
    means = 3 * np.eye(4, 16)  # four class clusters on separate axes
    emb = lambda n: np.maximum(means[rng.integers(0, 4, n)] + rng.normal(size=(n, 16)) * 0.2, 0)  # noqa: E731
    train = emb(200)
    feats = {"ID test": emb(100), "blend": np.maximum(0.5 * means.mean(0) + rng.normal(size=(50, 16)) * 0.1, 0),
             "far": 3 * np.eye(16)[8] + np.abs(rng.normal(size=(50, 16)))}
    g = embedding_geometry(train, feats)
    assert list(g.index) == ["ID test", "blend", "far"]
    assert list(g.columns) == ["norm", "centre distance", "centre AUROC"]
    assert g.loc["ID test", "centre distance"] == pytest.approx(1.0) and np.isnan(g.loc["ID test", "centre AUROC"])
    assert g.loc["blend", "centre distance"] < 0.5 and g.loc["blend", "centre AUROC"] < 10  # fools IForest, LODA, PCA
    assert g.loc["far", "centre distance"] > 1.5 and g.loc["far", "centre AUROC"] > 90


def test_other_words_never_hold_an_id_keyword(tmp_path, monkeypatch):
    """The Speech Commands stand-in shares "follow" with the 18th keyword: with 18+ keyword classes it is left out."""
    from oodlib.synthetic import vocab

    monkeypatch.setenv("OODLIB_CACHE_DIR", str(tmp_path))
    monkeypatch.setenv("OODLIB_PROGRESS", "0")
    assert "follow" in vocab.EN_KEYWORDS[:18] and "follow" in vocab.SPEECH_COMMANDS_WORDS
    suite = p1.synthetic_ood_suite(40, seed=0, id_words=tuple(vocab.EN_KEYWORDS[:18]))
    assert "follow" not in set(suite["other words"].meta["text"])
    assert "follow" in set(p1.synthetic_ood_suite(40, seed=0)["other words"].meta["text"])
