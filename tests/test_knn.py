"""KNNScorer against brute-force NumPy; faiss and torch backends agree."""

from __future__ import annotations

import numpy as np
import pytest

from oodlib.knn import KNNScorer, l2_normalize


def brute_force(bank: np.ndarray, q: np.ndarray, k: int) -> np.ndarray:
    d2 = ((q[:, None, :].astype(np.float64) - bank[None, :, :]) ** 2).sum(-1)
    return np.sort(d2, axis=1)[:, :k]


@pytest.fixture
def data():
    rng = np.random.default_rng(0)
    return rng.normal(size=(500, 16)).astype(np.float32), rng.normal(size=(70, 16)).astype(np.float32)


@pytest.mark.parametrize("backend", ["faiss", "torch"])
@pytest.mark.parametrize("reduction", ["kth", "mean"])
@pytest.mark.parametrize("squared", [False, True])
def test_matches_brute_force(data, backend, reduction, squared):
    bank, q = data
    k = 5
    ref = brute_force(bank, q, k)
    ref = ref if squared else np.sqrt(ref)
    expect = ref[:, -1] if reduction == "kth" else ref.mean(1)
    got = KNNScorer(k=k, reduction=reduction, squared=squared, backend=backend).fit(bank).score(q)
    np.testing.assert_allclose(got, expect, rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("backend", ["faiss", "torch"])
def test_normalized_matches_reference_recipe(data, backend):
    bank, q = data
    bn, qn = bank / (np.linalg.norm(bank, axis=1, keepdims=True) + 1e-10), q / (np.linalg.norm(q, axis=1, keepdims=True) + 1e-10)
    expect = brute_force(bn, qn, 5)[:, -1]  # P1: k-th squared distance of normalised features
    got = KNNScorer(k=5, normalize=True, squared=True, backend=backend).fit(bank).score(q)
    np.testing.assert_allclose(got, expect, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(np.linalg.norm(l2_normalize(bank), axis=1), 1.0, rtol=1e-5)


def test_backends_agree_and_chunking_is_exact(data):
    bank, q = data
    a = KNNScorer(k=7, backend="faiss", query_chunk=9).fit(bank)
    b = KNNScorer(k=7, backend="torch", query_chunk=13, bank_chunk=37).fit(bank)  # many small blocks
    da, ia = a.kneighbors(q)
    db, ib = b.kneighbors(q)
    np.testing.assert_allclose(da, db, rtol=1e-4, atol=1e-4)
    assert (ia == ib).mean() > 0.99  # only exact ties may order differently
    assert np.all(np.diff(da, axis=1) >= 0)  # nearest first


@pytest.mark.parametrize("backend", ["faiss", "torch"])
def test_self_distance_is_zero(data, backend):
    bank, _ = data
    # squared distances from ||q||^2 + ||b||^2 - 2 q.b in float32: rounding of order eps * ||x||^2
    s = KNNScorer(k=1, squared=True, backend=backend).fit(bank).score(bank)
    assert np.all(s < 1e-4)


def test_subsampling_is_seeded(data):
    bank, q = data
    a = KNNScorer(k=3, max_bank=100, seed=1).fit(bank)
    b = KNNScorer(k=3, max_bank=100, seed=1).fit(bank)
    c = KNNScorer(k=3, max_bank=100, seed=2).fit(bank)
    assert a.bank_.shape == (100, 16)
    np.testing.assert_array_equal(a.bank_indices_, b.bank_indices_)
    assert not np.array_equal(a.bank_indices_, c.bank_indices_)
    np.testing.assert_array_equal(a.score(q), b.score(q))


def test_orientation_far_points_score_higher(data):
    bank, q = data
    scorer = KNNScorer(k=5).fit(bank)
    assert scorer.score(q + 10).mean() > scorer.score(q).mean()


def test_errors(data):
    bank, q = data
    with pytest.raises(ValueError, match="k must be"):
        KNNScorer(k=0)
    with pytest.raises(ValueError, match="larger than the bank"):
        KNNScorer(k=600).fit(bank)
    with pytest.raises(RuntimeError, match="not fitted"):
        KNNScorer().score(q)
    with pytest.raises(ValueError, match="dimension 3"):
        KNNScorer().fit(bank).score(q[:, :3])
    with pytest.raises(ValueError, match="NaN"):
        KNNScorer().fit(np.full((3, 2), np.nan))
    with pytest.raises(ValueError, match="2-D"):
        KNNScorer().fit(np.zeros(5))
    with pytest.raises(ValueError, match="backend"):
        KNNScorer(backend="annoy")


def test_faiss_blas_switch_is_exact_and_restores_the_global_setting():
    faiss = pytest.importorskip("faiss")
    rng = np.random.default_rng(1)
    bank, q = rng.normal(size=(3000, 32)).astype(np.float32), rng.normal(size=(50, 32)).astype(np.float32)
    before = faiss.cvar.distance_compute_blas_threshold
    fast = KNNScorer(k=3, reduction="mean", backend="faiss").fit(bank).score(q)  # 50 queries: BLAS path
    assert faiss.cvar.distance_compute_blas_threshold == before
    slow = KNNScorer(k=3, reduction="mean", backend="faiss", query_chunk=5).fit(bank).score(q)  # 5 x 32 < 20 x 32
    np.testing.assert_allclose(fast, slow, rtol=1e-4)
    np.testing.assert_allclose(fast, np.sqrt(brute_force(bank, q, 3)).mean(1), rtol=1e-4)


def test_torch_backend_is_ieee_float32_under_a_faster_global_matmul_precision():
    import torch

    rng = np.random.default_rng(2)
    bank, q = rng.normal(size=(3000, 32)).astype(np.float32), rng.normal(size=(50, 32)).astype(np.float32)
    exact = np.sort(brute_force(bank, q, 5), axis=1)
    try:
        torch.set_float32_matmul_precision("medium")  # bfloat16 products on AMX CPUs, TF32 on CUDA
        got, _ = KNNScorer(k=5, squared=True, backend="torch", device="cpu").fit(bank).kneighbors(q)
        assert torch.get_float32_matmul_precision() == "medium"  # the user's choice is put back
    finally:
        torch.set_float32_matmul_precision("highest")
    # float32 rounding on ~64-magnitude sums is ~1e-5; bfloat16 products gave 0.1-0.2 here.
    np.testing.assert_allclose(got, exact, rtol=0, atol=1e-3)
