"""EfficientAT mn04_as: architecture = checkpoint, strict loading with clear errors, EfficientAT's
log-mel input, time-major feature grids, and the pretrained tagger naming real sounds."""

from __future__ import annotations

import math
import re
import shutil
import time

import numpy as np
import pandas as pd
import pytest
import soundfile as sf
import torch

from oodlib.data.audio import read_audio
from oodlib.models import efficientat as eat
from oodlib.models.efficientat import (SAMPLE_RATE, WEIGHTS_ORIGIN, EfficientAT, LogMel, audioset_labels,
                                       load_efficientat)
from oodlib.papers.p2_genrep import load_check as lc

SHA256 = "899a8c6217063f6941793102a2780b3dd788ab11fce468d9cf5f0577c453321c"


@pytest.fixture(scope="module")
def model() -> EfficientAT:
    return load_efficientat()


@pytest.fixture(scope="module")
def checkpoint() -> dict[str, torch.Tensor]:
    return torch.load(eat.WEIGHTS_FILE, map_location="cpu", weights_only=True)


# ----------------------------------------------------------------------------- architecture and loading
def test_architecture_matches_the_vendored_checkpoint(checkpoint):
    own = EfficientAT().state_dict()
    assert {k: tuple(v.shape) for k, v in own.items()} == {k: tuple(v.shape) for k, v in checkpoint.items()}
    assert len(own) == 312 and sum(v.numel() for v in own.values()) == 993_485  # incl. BN buffers
    assert sum(p.numel() for p in EfficientAT().parameters()) == 983_599  # trainable parameters
    assert eat.file_sha256(eat.WEIGHTS_FILE) == SHA256 and SHA256 in WEIGHTS_ORIGIN


@pytest.mark.shared_data
def test_architecture_matches_the_released_key_list(shared_data):
    keys = shared_data / "efficientat_mn04_as" / "mn04_as_mAP_432.pt.keys.txt"
    if not keys.is_file():
        pytest.skip(f"{keys} is absent")
    listed = {}
    for line in keys.read_text().splitlines():
        if line and not line.startswith("#"):
            name, shape, _ = line.split("\t")
            listed[name] = tuple(int(d) for d in re.findall(r"\d+", shape))
    assert {k: tuple(v.shape) for k, v in EfficientAT().state_dict().items()} == listed


def test_strict_load_and_errors_name_the_file_and_keys(model, checkpoint, tmp_path):
    for k, v in checkpoint.items():
        assert torch.equal(model.state_dict()[k], v), k
    assert not model.training and all(not m.training for m in model.modules())
    state = dict(checkpoint)
    state["features.4.block.2.fc1.weight"] = state.pop("features.4.block.2.conc_se_layers.0.fc1.weight")
    bad = tmp_path / "renamed.pt"
    torch.save(state, bad)
    with pytest.raises(ValueError, match=r"renamed\.pt.*conc_se_layers\.0\.fc1\.weight.*block\.2\.fc1\.weight"):
        load_efficientat(bad)
    del state["features.4.block.2.fc1.weight"]
    state["classifier.5.weight"] = state["classifier.5.weight"][:10]
    torch.save(state, bad)
    with pytest.raises(ValueError, match=r"classifier\.5\.weight: file \(10, 512\) vs model \(527, 512\)"):
        load_efficientat(bad)
    fake = tmp_path / "mn04_as_mAP_432.pt"  # a known release name with other bytes
    torch.save(checkpoint, fake)
    with pytest.raises(ValueError, match="sha256"):
        load_efficientat(fake)
    renamed = tmp_path / "copy.pt"
    shutil.copy(eat.WEIGHTS_FILE, renamed)
    assert torch.equal(load_efficientat(renamed).classifier[5].bias, checkpoint["classifier.5.bias"])
    with pytest.raises(FileNotFoundError, match="missing.pt"):
        load_efficientat(tmp_path / "missing.pt")


def test_random_init_differs_from_the_pretrained_model(model):
    rand = EfficientAT(seed=0)
    assert torch.equal(rand.features[3].block[0][0].weight, EfficientAT(seed=0).features[3].block[0][0].weight)
    assert not torch.equal(rand.features[3].block[0][0].weight, model.features[3].block[0][0].weight)
    x = torch.randn(2, SAMPLE_RATE) * 0.1
    with torch.no_grad():
        assert (model(x) - rand(x)).abs().max() > 1.0


def test_labels_and_mapping_use_exact_audioset_names():
    labels = audioset_labels()
    assert len(labels) == 527 and labels[0] == "Speech" and labels[-1] == "Field recording"
    missing = {c: n for c, names in lc.ESC50_TO_AUDIOSET.items() for n in names if n not in labels}
    assert not missing
    assert len(lc.ESC50_TO_AUDIOSET) == 46


# ----------------------------------------------------------------------------- input features
def test_logmel_shape_silence_and_pipeline():
    mel = LogMel()
    assert mel(torch.zeros(3, SAMPLE_RATE)).shape == (3, 128, 100) == (3, 128, eat.mel_frames(SAMPLE_RATE))
    assert eat.mel_frames(10 * SAMPLE_RATE) == 1000
    assert torch.allclose(mel(torch.zeros(1, SAMPLE_RATE)), torch.tensor((math.log(1e-5) + 4.5) / 5))
    # one frame recomputed by hand: pre-emphasis, 800-sample Hann window centred in 1024, power, mel, log, scale
    x = torch.randn(1, SAMPLE_RATE, generator=torch.Generator().manual_seed(0)).double() * 0.1
    y = (x[0, 1:] - 0.97 * x[0, :-1]).numpy()
    k = 10
    window = np.zeros(1024)
    window[112:912] = np.hanning(800)
    power = np.abs(np.fft.rfft(y[k * 320 - 512 : k * 320 + 512] * window)) ** 2
    expected = (np.log(mel.mel_banks.double().numpy() @ power + 1e-5) + 4.5) / 5
    np.testing.assert_allclose(mel(x.float())[0, :, k].numpy(), expected, atol=1e-4)
    # Kaldi mel bands from 0 Hz to 15 kHz: nothing above 15 kHz (FFT bin 480 of 512) contributes
    hz = np.arange(513) * SAMPLE_RATE / 1024
    assert mel.mel_banks.shape == (128, 513) and not mel.mel_banks[:, hz > 15000].any()
    assert mel.mel_banks[0, 1] > 0 and mel.mel_banks[-1, hz > 14000].any()


# ----------------------------------------------------------------------------- feature grids
def test_layer_grids_are_time_major_and_match_grid_shapes(model):
    assert model.n_layers == 17
    n = 4 * 10240  # 1.28 s: 128 frames, 4 time steps at the end
    x = torch.randn(2, n) * 0.1
    grids = model.layer_grids(x)
    assert [tuple(g.shape[1:]) for g in grids] == model.grid_shapes(n) and len(grids) == 17
    assert model.grid_shapes(n)[0] == (64, 64, 8) and model.grid_shapes(n)[-1] == (4, 4, 384)
    longer = model.grid_shapes(2 * n)
    assert longer[-1] == (8, 4, 384)  # twice as long: T' doubles, F' (mel) stays
    assert [tuple(g.shape[1:]) for g in model.layer_grids(torch.randn(1, 2 * n) * 0.1, n_layers=3)] == longer[:3]
    assert model.grid_shapes(10 * SAMPLE_RATE)[-1] == (32, 4, 384)
    # the last grid is what the classifier pools: logits from it equal forward()
    with torch.no_grad():
        pooled = grids[-1].mean(dim=(1, 2))
        torch.testing.assert_close(model.classifier[2:](pooled), model(x), atol=1e-4, rtol=1e-4)
    # axis 1 is time: silencing the second half of a clip leaves stage 4's first time steps unchanged and
    # changes its last ones (stages 1-4 are local; from stage 5 on, squeeze-excitation pools the whole clip)
    y = x.clone()
    y[:, n // 2 :] = 0
    a, b = model.layer_grids(x, n_layers=4)[-1], model.layer_grids(y, n_layers=4)[-1]
    t = a.shape[1]
    assert (a[:, : t // 4] - b[:, : t // 4]).abs().max() < 1e-4 < (a[:, -t // 4 :] - b[:, -t // 4 :]).abs().max()
    with pytest.raises(ValueError, match="n_layers"):
        model.layer_grids(x, n_layers=18)


# ----------------------------------------------------------------------------- load check helpers
def test_esc50_clips_accepts_wav_or_flac_and_names_the_folder(tmp_path):
    (tmp_path / "meta").mkdir()
    (tmp_path / "audio").mkdir()
    pd.DataFrame({"filename": ["1-1-A-0.wav", "1-2-A-1.wav", "1-3-A-0.wav"], "fold": 1, "target": [0, 1, 0],
                  "category": ["dog", "rooster", "dog"]}).to_csv(tmp_path / "meta" / "esc50.csv", index=False)
    with pytest.raises(FileNotFoundError, match=str(tmp_path / "audio")):
        lc.esc50_clips(tmp_path)
    sf.write(tmp_path / "audio" / "1-1-A-0.flac", np.zeros(16000, dtype=np.float32), 16000)
    sf.write(tmp_path / "audio" / "1-2-A-1.wav", np.zeros(16000, dtype=np.float32), 16000)
    clips = lc.esc50_clips(tmp_path)
    assert [p.rsplit("/", 1)[-1] for p in clips["path"]] == ["1-1-A-0.flac", "1-2-A-1.wav"]
    assert len(lc.esc50_clips(tmp_path, fold=1)) == 2 and len(lc.esc50_clips(tmp_path, fold=4)) == 2  # absent fold: all
    with pytest.raises(FileNotFoundError, match="meta"):
        lc.esc50_clips(tmp_path / "audio")


def test_pass_rule_and_figure():
    table = pd.DataFrame({"category": list("abcde"), "clips": 8, "hits": [8, 4, 4, 3, 0]})
    table["hit_rate"] = table["hits"] / table["clips"]
    assert lc.load_check_passes(table)  # 3 of 5 classes at >= 50%: exactly 60%
    assert not lc.load_check_passes(table.assign(hit_rate=[1, 0.5, 0.4, 0.4, 0]))
    assert lc.summary(table) == {"classes": 5, "clips": 40, "classes_at_min_hit_rate": 3, "share_of_classes": 0.6, "passed": 1}
    assert lc.verdict_text(table).startswith("PASSED: 3 of 5")
    assert lc.verdict_text(table.assign(hit_rate=0.0)).startswith("FAILED: 0 of 5")
    fig = lc.load_check_figure(table)
    assert len(fig.axes[0].patches) >= 5 and "3/5" in fig.axes[0].get_title()
    import matplotlib.pyplot as plt

    plt.close(fig)


# ----------------------------------------------------------------------------- real sounds
@pytest.mark.shared_data
def test_speech_commands_yes_clips_are_speech(model, shared_data):
    files = sorted((shared_data / "speech_commands_v0.02_test" / "yes").glob("*.wav"))[:10]
    if len(files) < 10:
        pytest.skip("fewer than 10 Speech Commands 'yes' clips")
    x = torch.from_numpy(np.stack([read_audio(f, SAMPLE_RATE, SAMPLE_RATE) for f in files]))
    with torch.no_grad():
        top1 = [audioset_labels()[i] for i in model(x).argmax(dim=1).tolist()]
    assert top1.count("Speech") >= 8, top1


@pytest.mark.shared_data
def test_esc50_load_check_passes_its_rule(model, shared_data):
    root = shared_data / "esc50_subset"
    if not root.is_dir():
        pytest.skip("esc50_subset is absent")
    clips = lc.esc50_clips(root)
    clips = clips[clips["fold"] == 4].groupby("category").head(8)
    start = time.perf_counter()
    table = lc.esc50_label_check(model, clips)
    seconds = time.perf_counter() - start
    passing = int((table["hit_rate"] >= lc.PASS_MIN_HIT_RATE).sum())
    print(f"\nESC-50 fold 4 load check ({seconds:.1f} s): {passing}/{len(table)} classes pass; "
          f"overall hit rate {table['hits'].sum() / table['clips'].sum():.2f}\n{table.to_string()}")
    assert len(table) == 46 and (table["clips"] == 8).all()
    assert lc.load_check_passes(table), lc.PASS_RULE
