"""P4 (VAE-AugGAN + Sinkhorn): front ends, networks, losses, augmentations, metrics and data."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from oodlib.papers import p4_vae_auggan as p4


def test_scattering_front_gives_81_channels_at_8x8():
    front = p4.ScatteringFront()
    out = front(torch.randn(3, 1, 32, 32))
    assert front.channels == 1 + 2 * 8 + 8 * 8 * 2 * 1 // 2 == 81
    assert out.shape == (3, 81, 8, 8)


@pytest.mark.parametrize("scattering", [True, False])
def test_classifier_output_shapes(scattering):
    m = p4.ScatResNet(10, width=8, scattering=scattering).eval()
    x = torch.randn(4, 1, 32, 32)
    assert m(x).shape == (4, 10) and m.features(x).shape == (4, 32)
    assert torch.allclose(m.head(m.front_end(x)), m(x), atol=1e-5)


def test_gan_network_shapes():
    mu, logvar = p4.VAEEncoder()(torch.randn(5, 1, 32, 32))
    assert mu.shape == logvar.shape == (5, p4.LATENT) == (5, 20)
    g = p4.Generator()(torch.randn(5, 20))
    assert g.shape == (5, 1, 32, 32) and g.abs().max() <= 1
    d = p4.Detector()
    assert d(g).shape == (5,) and d.features(g).shape == (5, 128, 4, 4)


def test_reparameterisation_passes_gradients_and_kl_has_known_values():
    mu = torch.tensor([[0.5, -1.0]], requires_grad=True)
    logvar = torch.tensor([[0.0, float(np.log(4.0))]], requires_grad=True)
    z = p4.reparameterize(mu, logvar, eps=torch.tensor([[1.0, 1.0]]))
    assert torch.allclose(z, torch.tensor([[1.5, 1.0]]))
    z.sum().backward()
    assert mu.grad is not None and logvar.grad is not None and torch.all(logvar.grad != 0)
    assert p4.kl_divergence(torch.zeros(3, 4), torch.zeros(3, 4)).item() == 0.0
    # 0.5 * (0.25 + 1 + 1 - 0 - 1 + 4 - log 4 - 1) = 0.5 * (4.25 - log 4)
    expected = 0.5 * (0.25 + 1 + 1 + 4 - np.log(4) - 2)
    assert p4.kl_divergence(mu.detach(), logvar.detach()).item() == pytest.approx(expected, rel=1e-6)


def test_sinkhorn_confident_loss_zero_at_uniform_positive_otherwise_finite_gradient():
    u = torch.full((2, 10), 0.1)
    assert torch.allclose(p4.sinkhorn_to_uniform(u), torch.zeros(2), atol=1e-6)
    logits = torch.randn(6, 10, requires_grad=True)
    loss = p4.confident_loss(logits, "sinkhorn")
    assert loss.item() > 0
    loss.backward()
    assert torch.isfinite(logits.grad).all() and logits.grad.abs().sum() > 0
    confident = p4.sinkhorn_to_uniform(torch.softmax(torch.tensor([[8.0] + [0.0] * 9]), 1))
    mild = p4.sinkhorn_to_uniform(torch.softmax(torch.tensor([[1.0] + [0.0] * 9]), 1))
    assert confident.item() > mild.item() > 0  # farther from uniform, larger divergence
    assert p4.confident_loss(logits, "none").item() == 0.0
    assert p4.kl_uniform_to(u).abs().max().item() < 1e-6
    with pytest.raises(ValueError, match="confident loss"):
        p4.confident_loss(logits, "wasserstein")


def test_sinkhorn_score_is_higher_for_flatter_predictions():
    s = p4.sinkhorn_score(torch.tensor([[9.0] + [0.0] * 9, [0.1] * 10]))
    assert s[1] > s[0]


@pytest.mark.parametrize("fn", [p4.time_shift, p4.speed_perturb, p4.add_noise, p4.reverb])
def test_augmentations_keep_length_and_are_seeded(fn):
    x = np.sin(2 * np.pi * 440 * np.arange(16000) / 16000).astype(np.float32)
    a = fn(x, np.random.default_rng(0))
    assert a.shape == x.shape and a.dtype == np.float32 and np.isfinite(a).all()
    assert np.array_equal(a, fn(x, np.random.default_rng(0)))
    batch = fn(np.stack([x, x]), np.random.default_rng(1))
    assert batch.shape == (2, 16000)


def test_speed_perturbation_changes_pitch_and_noise_hits_its_snr():
    sr = 16000
    x = np.sin(2 * np.pi * 1000 * np.arange(sr) / sr).astype(np.float32)
    y = p4.speed_perturb(x, np.random.default_rng(3), max_rate=0.1)
    peak = np.argmax(np.abs(np.fft.rfft(y)))  # 1 Hz bins
    assert 900 <= peak <= 1100 and peak != 1000
    clean = np.ones(sr, dtype=np.float32)
    noisy = p4.add_noise(clean, np.random.default_rng(0), snr_db=(10.0, 10.0))
    snr = 10 * np.log10(np.mean(clean**2) / np.mean((noisy - clean) ** 2))
    assert snr == pytest.approx(10.0, abs=0.01)
    assert p4.augment_set(np.stack([x, x]), copies=3).shape == (6, sr)


def test_segmented_mel_shape_and_range():
    rng = np.random.default_rng(0)
    img = p4.segmented_mel(rng.standard_normal((3, 16000)).astype(np.float32))
    assert img.shape == (3, 1, 32, 32) and img.min() == pytest.approx(-1) and img.max() == pytest.approx(1)
    with pytest.raises(ValueError, match="too short"):
        p4.segmented_mel(np.zeros((1, 10), dtype=np.float32))


def test_detection_metrics_against_sklearn_and_open_set_accuracy():
    from sklearn.metrics import average_precision_score, roc_auc_score

    rng = np.random.default_rng(0)
    unk = rng.random(200) < 0.5
    score = rng.normal(unk * 1.0, 1.0)
    m = p4.detection_metrics(score, unk)
    assert m["AUROC"] == pytest.approx(roc_auc_score(unk, score))
    assert m["AUPR-Out"] == pytest.approx(average_precision_score(unk, score))
    assert m["AUPR-In"] == pytest.approx(average_precision_score(~unk, -score))
    from oodlib.metrics import eer, ood_report

    rep = ood_report(score[~unk], score[unk], positive="ood")
    assert (m["AUROC"], m["AUPR-In"], m["AUPR-Out"]) == (rep["auroc"], rep["aupr_in"], rep["aupr_out"])
    assert m["EER"] == eer(unk.astype(int), score) and set(m) == {"AUROC", "AUPR-In", "AUPR-Out", "EER"}
    with pytest.raises(ValueError, match="shape"):
        p4.detection_metrics(score, unk[:-1])
    y = np.array([0, 1, -1, -1])
    pred, sc = np.array([0, 2, 1, 1]), np.array([0.1, 0.2, 0.9, 0.3])
    assert p4.open_set_accuracy(y, pred, sc, 0.5) == 0.5  # clip 0 right, 1 wrong word, 2 rejected, 3 accepted
    t = p4.best_threshold(y, pred, sc)
    assert p4.open_set_accuracy(y, pred, sc, t) == 0.75


def test_small_subset_is_stratified_and_seeded():
    y = np.repeat(np.arange(10), 50)
    idx = p4.small_subset(y, 0.1, seed=0)
    assert np.array_equal(np.bincount(y[idx]), np.full(10, 5))
    assert np.array_equal(idx, p4.small_subset(y, 0.1, seed=0))
    with pytest.raises(ValueError, match="fraction"):
        p4.small_subset(y, 0.0, seed=0)


def test_joint_training_runs_and_is_deterministic():
    rng = np.random.default_rng(0)
    x = np.tanh(rng.standard_normal((24, 1, 32, 32))).astype(np.float32)
    y = np.repeat(np.arange(3), 8)
    cfg = p4.SystemConfig(epochs=1, batch_size=8, outlier_batch=4, width=8)
    a, b = (p4.train_system(cfg, x, y, n_classes=3, seed=0, device="cpu") for _ in range(2))
    assert np.allclose(p4.logits_of(a, x), p4.logits_of(b, x))
    assert a.history["confident"][0] > 0 and a.generator is not None
    s = p4.scores(p4.logits_of(a, x))
    assert set(s) == {"max-softmax", "sinkhorn"} and s["sinkhorn"].shape == (24,)
    from oodlib.scores import msp

    assert np.array_equal(s["max-softmax"], msp(p4.logits_of(a, x)))  # the core scorer
    with pytest.raises(ValueError, match="latent_input"):
        p4.SystemConfig(latent_input="uniform")


def test_head_recalibration_keeps_batchnorm_momentum_and_training_ignores_the_global_stream():
    rng = np.random.default_rng(1)
    x = np.tanh(rng.standard_normal((12, 1, 32, 32))).astype(np.float32)
    y = np.repeat(np.arange(3), 4)
    cfg = p4.SystemConfig(scattering=False, gan=False, confident="none", epochs=1, batch_size=4, width=8)
    torch.manual_seed(0)
    a = p4.train_system(cfg, x, y, n_classes=3, seed=2, device="cpu")
    torch.rand(50)  # whatever ran before does not matter ...
    before = torch.random.get_rng_state()
    b = p4.train_system(cfg, x, y, n_classes=3, seed=2, device="cpu")
    assert all(torch.equal(v, b.classifier.state_dict()[k]) for k, v in a.classifier.state_dict().items())
    assert torch.equal(torch.random.get_rng_state(), before)  # ... and the caller's stream is untouched
    bns = [m for m in a.classifier.modules() if isinstance(m, torch.nn.BatchNorm2d)]
    assert bns and all(m.momentum == 0.1 for m in bns) and not a.classifier.training


def test_real_open_set_data(shared_data):
    d = p4.load_open_set("speech_commands_v0.02_test", shared_data, seed=0, max_per_word=20)
    s = d.summary()
    assert s["train_small_known"] < s["train_full_known"] and s["dev_unknown"] > 0 and s["test_unknown"] > 0
    assert d.test[0].shape[1] == 16000 and set(np.unique(d.test[1])) <= set(range(-1, 10))
