"""Post-hoc scorers and classical detectors: orientation, reference formulas, toy cases."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from oodlib import scores
from oodlib.knn import KNNScorer
from oodlib.metrics.ood import ood_report
from oodlib.scores import posthoc


def test_logit_scores_orientation_and_values():
    confident = [[10.0, 0.0, 0.0]]
    uniform = [[1.0, 1.0, 1.0]]
    for name, f in scores.LOGIT_SCORERS.items():
        if name == "max_logit":
            continue
        assert f(uniform)[0] > f(confident)[0], name  # uniform prediction = more OOD
    assert scores.msp(uniform)[0] == pytest.approx(-1 / 3)
    assert scores.entropy(uniform)[0] == pytest.approx(np.log(3))
    assert scores.energy([[0.0, 0.0]])[0] == pytest.approx(-np.log(2))
    assert scores.energy([[2.0, 0.0]], temperature=2.0)[0] == pytest.approx(-2 * np.log(np.exp(1) + 1))
    assert scores.max_logit([[3.0, 1.0]])[0] == -3.0


def test_tensor_forms_match_the_scorers_are_differentiable_and_take_a_class_dim():
    z = torch.randn(6, 4, dtype=torch.float64, requires_grad=True)
    assert np.array_equal(scores.softmax_entropy(z).detach().numpy(), scores.entropy(z.detach()))
    assert np.array_equal(scores.free_energy(z, 2.0).detach().numpy(), scores.energy(z.detach(), 2.0))
    (scores.softmax_entropy(z).sum() + scores.free_energy(z).sum()).backward()
    assert z.grad is not None and torch.isfinite(z.grad).all()
    maps = torch.randn(2, 5, 3, 3)  # (n, C, H, W) pixel logits, classes along dim 1
    assert scores.softmax_entropy(maps).shape == (2, 3, 3) and scores.free_energy(maps).dtype == torch.float32
    assert torch.allclose(scores.free_energy(maps), -torch.logsumexp(maps, 1))
    assert torch.allclose(scores.softmax_entropy(maps.movedim(1, -1), dim=-1), scores.softmax_entropy(maps))
    with pytest.raises(ValueError, match="temperature"):
        scores.free_energy(maps, temperature=0.0)


def test_logit_errors():
    with pytest.raises(ValueError, match="shape"):
        scores.msp([1.0, 2.0])
    with pytest.raises(ValueError, match="NaN"):
        scores.entropy([[np.nan, 1.0]])
    with pytest.raises(ValueError, match="temperature"):
        scores.msp([[1.0, 2.0]], temperature=0)


def test_gradnorm_closed_form_matches_autograd_reference():
    torch.manual_seed(0)
    fc = nn.Linear(8, 5)
    h = torch.randn(6, 8)
    expect = []
    for i in range(6):  # the reference loop: one sample, all-ones targets, L1 norm of fc.weight.grad
        fc.zero_grad()
        out = fc(h[i : i + 1]) / 2.0
        loss = torch.mean(torch.sum(-torch.ones_like(out) * torch.log_softmax(out, dim=-1), dim=-1))
        loss.backward()
        expect.append(fc.weight.grad.abs().sum().item())
    got = scores.gradnorm(h, fc, temperature=2.0)
    np.testing.assert_allclose(-got, expect, rtol=1e-5)


def test_odin_toy_case():
    torch.manual_seed(0)
    model = nn.Linear(2, 2)
    with torch.no_grad():
        model.weight.copy_(torch.tensor([[4.0, 0.0], [-4.0, 0.0]]))
        model.bias.zero_()
    x = torch.tensor([[2.0, 0.0], [0.05, 0.0]])  # confident vs ambiguous input
    s = scores.odin(model, x, temperature=1.0, epsilon=0.0, input_std=1.0)
    np.testing.assert_allclose(s, scores.msp(model(x).detach()), rtol=1e-6)  # epsilon=0: plain MSP
    assert s[1] > s[0]
    # the perturbation moves each input towards its predicted class: confidence rises
    s_eps = scores.odin(model, x, temperature=1.0, epsilon=0.1, input_std=1.0)
    assert np.all(s_eps < s)


@pytest.fixture(scope="module")
def trained_mlp():
    """A 3-class MLP trained for ~0.1 s (plain gradient descent) on separable blobs, 10-d, in eval mode."""
    g = torch.Generator().manual_seed(0)
    centres = 3 * torch.randn(3, 10, generator=g)
    y = torch.arange(3).repeat_interleave(100)
    x = centres[y] + torch.randn(300, 10, generator=g)
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(10, 32), nn.ReLU(), nn.Linear(32, 3))
    for _ in range(200):
        model.zero_grad()
        nn.functional.cross_entropy(model(x), y).backward()
        with torch.no_grad():
            for p in model.parameters():
                p -= 0.1 * p.grad
    model.eval()
    assert (model(x).argmax(1) == y).float().mean() > 0.95
    x_val = centres[y] + torch.randn(300, 10, generator=g)
    x_ood = 0.3 * centres.mean(0) + torch.randn(200, 10, generator=g)  # between the classes
    return model, x, x_val, x_ood


def test_odin_perturbation_moves_scores_on_a_trained_model(trained_mlp):
    model, x, x_val, _ = trained_mlp
    sd = posthoc.input_std(x)
    msp_t = scores.msp(model(x_val).detach(), temperature=1000.0)
    assert np.array_equal(scores.odin(model, x_val, 1000.0, 0.0, input_std=sd), msp_t)  # epsilon 0 = MSP at T
    s = scores.odin(model, x_val, 1000.0, input_std=sd)  # ODIN's 0.0014 on pixels = 0.0056 input stds
    delta = s - msp_t
    assert np.abs(delta).mean() > 0.01 * msp_t.std()  # the perturbation is not MSP in disguise
    assert delta.mean() < 0  # it raises the max softmax: scores fall
    np.testing.assert_allclose(scores.odin(model, x_val, 1000.0, 0.02, input_std=2.0),
                               scores.odin(model, x_val, 1000.0, 0.04, input_std=1.0), rtol=0, atol=1e-12)
    with pytest.raises(ValueError, match="input_std"):
        scores.odin(model, x_val, input_std=0.0)


def test_tune_odin_rules(trained_mlp):
    model, x, x_val, x_ood = trained_mlp
    sd = posthoc.input_std(x)
    t, eps = posthoc.tune_odin(model, x_val, input_std=sd)  # ID-only rule (Hsu et al. 2020)
    assert t == 1000.0 and eps in posthoc.ODIN_EPSILONS and eps > 0
    grid_t, grid_e = (1.0, 1000.0), (0.0, posthoc.ODIN_EPSILON, 0.05)
    t, eps = posthoc.tune_odin(model, x_val, input_std=sd, x_val_ood=x_ood, temperatures=grid_t, epsilons=grid_e)
    odin = lambda x_, a, b: scores.odin(model, x_, a, b, input_std=sd)  # noqa: E731
    fpr = {(a, b): ood_report(odin(x_val, a, b), odin(x_ood, a, b), positive="id")["fpr"]
           for a in grid_t for b in grid_e}
    assert fpr[(t, eps)] == min(fpr.values())  # ODIN's rule: lowest validation FPR95


def _far_case(seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """16-d; ID around 3 on the first 8 coordinates, OOD around 3 on the last 8: far in every
    coordinate and in direction (so L2-normalised kNN sees it too)."""
    rng = np.random.default_rng(seed)
    a = np.r_[np.full(8, 3.0), np.zeros(8)]
    return (a + rng.normal(size=(300, 16)) * 0.5, a + rng.normal(size=(100, 16)) * 0.5,
            a[::-1] + rng.normal(size=(100, 16)) * 0.5)


DETECTORS = {**{n: lambda n=n: scores.ClassicalDetector(n, seed=0) for n in scores.PRESETS},
             "knn": lambda: KNNScorer(k=5),
             "knn (P1: normalised, squared)": lambda: KNNScorer(k=5, normalize=True, squared=True)}


@pytest.mark.parametrize("name", sorted(DETECTORS))
def test_every_detector_flags_far_ood(name):
    train, id_test, far = _far_case()
    det = DETECTORS[name]().fit(train)
    assert ood_report(det.score(id_test), det.score(far), positive="ood")["auroc"] > 0.99
    assert det.score(id_test).shape == (100,)


def test_global_detectors_call_ood_between_class_clusters_normal():
    """P1's real run (IForest, OCSVM, LODA, PCA at AUROC 21-44; kNN 89) is this geometry plus two PyOD scores.

    ID embeddings: 10 sparse, non-negative class clusters (pooled ReLU features, coordinates
    ~0.1-1); OOD: a weak blend of the class means (no class evidence), near the training mean.
    IForest, OCSVM (gamma = 1/d, wider than the data) and LODA rank by distance from the bulk
    and call the blend more normal than ID test; so does PyOD's PCA score (about the distance to
    the mean). Shyu's PCA score, LOF and P1's kNN (L2-normalised) flag it.
    """
    rng = np.random.default_rng(2)
    means = rng.exponential(size=(10, 32)) * (rng.random((10, 32)) < 0.25)
    emb = lambda n: np.maximum(means[rng.integers(0, 10, n)] + rng.normal(size=(n, 32)) * 0.1, 0)  # noqa: E731
    train, id_test = emb(400), emb(200)
    ood = np.maximum(0.5 * means.mean(0) + rng.normal(size=(200, 32)) * 0.05, 0)
    mu = train.mean(0)
    assert np.linalg.norm(ood - mu, axis=1).mean() < 0.5 * np.linalg.norm(id_test - mu, axis=1).mean()

    def auroc(det) -> float:
        det.fit(train)
        return ood_report(det.score(id_test), det.score(ood), positive="ood")["auroc"]

    got = {n: auroc(DETECTORS[n]()) for n in DETECTORS}
    got.update({f"{n} (PyOD)": auroc(scores.ClassicalDetector(n, seed=0, pyod_scores=True)) for n in ("loda", "pca")})
    assert all(got[n] < 0.2 for n in ("iforest", "loda", "ocsvm", "loda (PyOD)", "pca (PyOD)")), got
    assert all(got[n] > 0.9 for n in ("pca", "lof", "knn (P1: normalised, squared)")), got
    # OCSVM's gamma="auto" (1/d) is scale-dependent: the same geometry 10x larger turns it local
    big = scores.ClassicalDetector("ocsvm").fit(10 * train)
    assert ood_report(big.score(10 * id_test), big.score(10 * ood), positive="ood")["auroc"] > 0.9


def test_loda_and_pca_scores_replace_pyods():
    rng = np.random.default_rng(0)
    x = np.r_[np.zeros(90), np.ones(10)][:, None] + rng.normal(size=(100, 1)) * 1e-3  # 1-d: dense first bin
    loda = scores.ClassicalDetector("loda", n_random_cuts=1).fit(x)
    dense, empty, last, beyond = loda.score(np.array([[0.0005], [0.5], [1.0], [100.0]]))
    assert dense < last < empty == pytest.approx(beyond)  # the dense bin is the most normal; beyond = empty bin
    assert dense == pytest.approx(-np.log(0.9), abs=1e-6)
    train = rng.normal(size=(300, 6)) * np.array([3.0, 2.0, 1.0, 1.0, 0.5, 0.1])
    pca = scores.ClassicalDetector("pca", n_components=3).fit(train)
    est = pca.estimator_
    z = (train - train.mean(0)) / train.std(0)
    y = (z - z.mean(0)) @ est.detector_.components_.T  # Shyu et al.: sum_j y_j^2 / lambda_j
    np.testing.assert_allclose(pca.score(train), (y**2 / est.detector_.explained_variance_).sum(1), rtol=1e-6)
    d = 4 * est.detector_.components_[2] * train.std(0)  # a step along the third component, in raw units
    s_plus, s_minus = pca.score(np.stack([train.mean(0) + d, train.mean(0) - d]))
    assert s_plus == pytest.approx(s_minus)  # symmetric about the mean (PyOD's score is not)


def test_classical_sklearn_estimator_is_negated():
    from sklearn.ensemble import IsolationForest

    rng = np.random.default_rng(0)
    train = rng.normal(size=(200, 4))
    det = scores.ClassicalDetector(IsolationForest(random_state=0)).fit(train)
    assert det.score(train + 8).mean() > det.score(train).mean()


def test_classical_errors():
    with pytest.raises(ValueError, match="unknown detector"):
        scores.ClassicalDetector("knn").fit(np.zeros((5, 2)))
    with pytest.raises(RuntimeError, match="not fitted"):
        scores.ClassicalDetector("lof").score(np.zeros((5, 2)))
