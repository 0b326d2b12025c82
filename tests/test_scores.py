"""Post-hoc scorers and classical detectors: orientation, reference formulas, toy cases."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from oodlib import scores


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
    s = scores.odin(model, x, temperature=1.0, epsilon=0.0)
    np.testing.assert_allclose(s, scores.msp(model(x).detach()), rtol=1e-6)  # epsilon=0: plain MSP
    assert s[1] > s[0]
    # the perturbation moves each input towards its predicted class: confidence rises
    s_eps = scores.odin(model, x, temperature=1.0, epsilon=0.1)
    assert np.all(s_eps < s)


@pytest.mark.parametrize("name", sorted(scores.PRESETS))
def test_classical_detectors_orientation(name):
    rng = np.random.default_rng(0)
    train = rng.normal(size=(300, 8))
    near, far = rng.normal(size=(50, 8)), rng.normal(size=(50, 8)) * 0.5 + 6
    det = scores.ClassicalDetector(name, seed=0).fit(train)
    assert det.score(far).mean() > det.score(near).mean()
    assert det.score(near).shape == (50,)


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
