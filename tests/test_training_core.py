"""The shared core: named child seeds, ``seeded`` blocks, the training loop, batched inference,
batch-norm recalibration; and the frozen pre-refactor classifier loop it must reproduce bit for bit."""

from __future__ import annotations

import hashlib
import math

import numpy as np
import pytest
import torch
from torch import nn

from oodlib.models import MLPClassifier
from oodlib.seeding import child_seed, seeded, torch_generator
from oodlib.training import (LoopHistory, infer, make_optimizer, optimizer_step, predict, recalibrate_batchnorm,
                             train_classifier, train_loop)


# ---------------------------------------------------------------------------- child_seed
def test_child_seed_is_stable_and_documented():
    # pinned: a change of the derivation would silently change every run's numbers
    assert child_seed(0, "p3/detector/entropy") == 5892012582025916711
    assert child_seed(1, "p3/detector/entropy") == 7575947436491190523
    digest = hashlib.blake2b(b"7/p5/data/train", digest_size=8).digest()
    assert child_seed(7, "p5/data/train") == int.from_bytes(digest, "big") >> 1
    assert child_seed(np.int64(7), "p5/data/train") == child_seed(7, "p5/data/train")


def test_child_seeds_are_distinct_per_name_and_seed_and_in_range():
    names = ["a", "b", "p1/keywords", "p1/vocal sounds", "p3/detector/entropy", "p3/detector/binary"]
    seeds = {child_seed(s, n) for s in range(20) for n in names}
    assert len(seeds) == 20 * len(names)
    assert all(0 <= s < 2**63 for s in seeds)
    assert child_seed(0, "a/b") != child_seed(0, "a") and child_seed(child_seed(0, "a"), "b") != child_seed(0, "a/b")


@pytest.mark.parametrize("seed, name", [(True, "a"), (1.0, "a"), ("1", "a"), (1, ""), (1, 3)])
def test_child_seed_rejects_bad_arguments(seed, name):
    with pytest.raises(ValueError, match="seed|name"):
        child_seed(seed, name)


# ---------------------------------------------------------------------------- seeded
def test_seeded_seeds_inside_and_restores_the_global_generator():
    torch.manual_seed(123)
    torch.rand(5)
    state = torch.random.get_rng_state()
    with seeded(42):
        inside = torch.rand(4)
    assert torch.equal(torch.random.get_rng_state(), state)
    torch.manual_seed(42)
    assert torch.equal(inside, torch.rand(4))  # inside = the stream of manual_seed(42)


def test_seeded_restores_after_an_exception_and_nests():
    state = torch.random.get_rng_state()
    with pytest.raises(RuntimeError):
        with seeded(1):
            with seeded(2):
                torch.rand(3)
            torch.rand(3)
            raise RuntimeError("boom")
    assert torch.equal(torch.random.get_rng_state(), state)
    with pytest.raises(ValueError, match="seed"):
        with seeded(1.5):
            pass


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_seeded_on_cuda_seeds_and_restores_the_device_generator():
    torch.cuda.manual_seed(5)
    torch.rand(3, device="cuda")
    cuda_state, cpu_state = torch.cuda.get_rng_state(), torch.random.get_rng_state()
    with seeded(9, "cuda"):
        inside = torch.rand(4, device="cuda")
    assert torch.equal(torch.cuda.get_rng_state(), cuda_state) and torch.equal(torch.random.get_rng_state(), cpu_state)
    torch.cuda.manual_seed(9)
    assert torch.equal(inside, torch.rand(4, device="cuda"))


def test_initial_weights_do_not_depend_on_what_ran_before():
    def build() -> dict[str, torch.Tensor]:
        with seeded(child_seed(3, "a")):
            return MLPClassifier(6, 3, hidden=(8,)).state_dict()

    first = build()
    torch.rand(1000)  # another component consumes the global stream ...
    with seeded(child_seed(3, "b")):
        MLPClassifier(6, 5, hidden=(32, 32))  # ... or builds a model of other settings first
    second = build()
    assert all(torch.equal(first[k], second[k]) for k in first)
    with seeded(child_seed(4, "a")):
        other = MLPClassifier(6, 3, hidden=(8,)).state_dict()
    assert not all(torch.equal(first[k], other[k]) for k in first)


def test_a_trainer_neither_depends_on_nor_changes_the_global_stream():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(40, 5)).astype(np.float32)
    y = rng.integers(0, 3, 40)

    def run() -> dict[str, torch.Tensor]:
        with seeded(child_seed(0, "model")):
            m = MLPClassifier(5, 3, hidden=(8,), dropout=0.3)
        train_classifier(m, x, y, epochs=2, batch_size=8, seed=child_seed(0, "train"), device="cpu")
        return m.state_dict()

    torch.manual_seed(1)
    a = run()
    before = torch.random.get_rng_state()
    b = run()
    assert torch.equal(torch.random.get_rng_state(), before)
    torch.manual_seed(99)
    c = run()
    assert all(torch.equal(a[k], b[k]) and torch.equal(a[k], c[k]) for k in a)


# ---------------------------------------------------------------------------- train_classifier vs the old loop
def _old_train_classifier(model, x, y, epochs, lr=1e-3, batch_size=128, seed=0, weight_decay=0.0, augment=None):
    """Frozen copy of ``oodlib.training.train_classifier`` before the shared loop (CPU, with BN recalibration)."""
    xt = torch.as_tensor(np.asarray(x), dtype=torch.float32)
    yt = torch.as_tensor(np.asarray(y), dtype=torch.long)
    opt = torch.optim.Adam(model.parameters(), lr=lr, weight_decay=weight_decay)
    gen = torch_generator(seed)
    losses, accs = [], []
    for _ in range(epochs):
        model.train()
        perm = torch.randperm(xt.shape[0], generator=gen)
        total, correct, loss_sum = 0, 0, 0.0
        for start in range(0, xt.shape[0], batch_size):
            idx = perm[start : start + batch_size]
            xb = augment(xt[idx], gen) if augment is not None else xt[idx]
            yb = yt[idx]
            logits = model(xb)
            loss = nn.functional.cross_entropy(logits, yb)
            opt.zero_grad()
            loss.backward()
            opt.step()
            loss_sum += float(loss.detach()) * len(idx)
            correct += int((logits.argmax(1) == yb).sum())
            total += len(idx)
        losses.append(loss_sum / total)
        accs.append(correct / total)
    layers = [m for m in model.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]
    saved = [m.momentum for m in layers]
    with torch.no_grad():
        for m in layers:
            m.reset_running_stats()
            m.momentum = None
        model.train()
        for start in range(0, xt.shape[0], batch_size):
            model(xt[start : start + batch_size])
        for m, mom in zip(layers, saved):
            m.momentum = mom
    model.eval()
    return losses, accs


def _net() -> nn.Module:
    return nn.Sequential(nn.Linear(6, 16), nn.BatchNorm1d(16), nn.ReLU(), nn.Dropout(0.3), nn.Linear(16, 3))


def test_train_classifier_is_bit_identical_to_the_old_loop():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(50, 6)).astype(np.float32)  # 50 / 16: a short last batch
    y = rng.integers(0, 3, 50)
    augment = lambda b, g: b + 0.1 * torch.randn(b.shape, generator=g)  # noqa: E731
    torch.manual_seed(3)
    old = _net()
    new = _net()
    new.load_state_dict(old.state_dict())
    kw = dict(epochs=3, lr=1e-2, batch_size=16, seed=7, weight_decay=1e-4, augment=augment)
    torch.manual_seed(7)  # the old loop drew dropout from the global stream; the new one from seeded(seed)
    old_loss, old_acc = _old_train_classifier(old, x, y, **kw)
    torch.manual_seed(555)  # whatever the caller's global state, the new loop is the same
    hist = train_classifier(new, x, y, device="cpu", **kw)
    for k, v in old.state_dict().items():
        assert torch.equal(v, new.state_dict()[k]), k
    assert hist.loss == old_loss and hist.accuracy == old_acc
    assert not new.training


def test_train_classifier_checks_its_inputs():
    with pytest.raises(ValueError, match="epochs"):
        train_classifier(_net(), np.zeros((4, 6)), np.zeros(4), epochs=-1, device="cpu")
    with pytest.raises(ValueError, match="samples"):
        train_classifier(_net(), np.zeros((4, 6)), np.zeros(3), epochs=1, device="cpu")
    assert train_classifier(_net(), np.zeros((4, 6)), np.zeros(4), epochs=0, device="cpu").loss == []


# ---------------------------------------------------------------------------- train_loop
def test_permutation_batches_cover_every_sample_once_per_epoch_and_are_seeded():
    seen: list[list[int]] = []
    log = train_loop(lambda idx: seen.append(idx.tolist()) or {"n": len(idx)}, n=10, epochs=2, batch_size=4,
                     generator=torch_generator(0))
    assert [len(b) for b in seen] == [4, 4, 2, 4, 4, 2]
    assert sorted(sum(seen[:3], [])) == list(range(10)) and sorted(sum(seen[3:], [])) == list(range(10))
    g = torch_generator(0)
    assert seen[0] == torch.randperm(10, generator=g)[:4].tolist()
    assert log["n"] == [10 / 3, 10 / 3] and log.epochs_run == 2 and log.best_epoch is None


def test_replacement_sampling_min_batch_and_sample_averages():
    seen: list[torch.Tensor] = []
    log = train_loop(lambda idx: seen.append(idx) or {"sum": float(len(idx))}, n=5, epochs=1, batch_size=3,
                     generator=torch_generator(1), steps_per_epoch=4, average="samples")
    g = torch_generator(1)
    assert all(torch.equal(b, torch.randint(0, 5, (3,), generator=g)) for b in seen) and len(seen) == 4
    assert log["sum"] == [1.0]  # totals / samples seen
    calls: list[int] = []
    train_loop(lambda idx: calls.append(len(idx)) or {}, n=9, epochs=1, batch_size=4, generator=torch_generator(0),
               min_batch=2)
    assert calls == [4, 4]  # the batch of one is skipped


def test_epoch_start_runs_after_the_permutation_is_drawn():
    g = torch_generator(5)
    drawn: list[torch.Tensor] = []
    train_loop(lambda idx: {}, n=6, epochs=1, batch_size=6, generator=g,
               epoch_start=lambda e: drawn.append(torch.rand(2, generator=g)))
    ref = torch_generator(5)
    torch.randperm(6, generator=ref)
    assert torch.equal(drawn[0], torch.rand(2, generator=ref))


class _Scalar(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.w = nn.Parameter(torch.zeros(()))


def test_early_stopping_restores_the_best_weights():
    model = _Scalar()
    values = iter([3.0, 1.0, 2.0, 4.0, 0.5])

    def step(idx):
        with torch.no_grad():
            model.w += 1.0  # after epoch e the weight is e + 1
        return {}

    log = train_loop(step, n=1, epochs=5, batch_size=1, generator=torch_generator(0), model=model,
                     validate=lambda: next(values), patience=2)
    assert log.stopped_early and log.epochs_run == 4 and log.best_epoch == 1
    assert log.validation == [3.0, 1.0, 2.0, 4.0]
    assert model.w.item() == 2.0  # the weights after epoch 1, not after epoch 3


def test_validation_mode_max_nan_and_no_restore():
    model = _Scalar()
    values = iter([0.1, float("nan"), 0.3])
    log = train_loop(lambda idx: {}, n=1, epochs=3, batch_size=1, generator=torch_generator(0), model=model,
                     validate=lambda: next(values), mode="max", restore_best=False)
    assert log.best_epoch == 2 and not log.stopped_early and math.isnan(log.validation[1])


def test_validate_runs_in_eval_mode_without_gradients_and_training_resumes():
    model = nn.Sequential(nn.Linear(2, 2))
    modes: list[tuple[bool, bool]] = []

    def step(idx):
        modes.append((model.training, torch.is_grad_enabled()))
        return {}

    def validate():
        modes.append((model.training, torch.is_grad_enabled()))
        return 0.0

    train_loop(step, n=1, epochs=2, batch_size=1, generator=torch_generator(0), model=model, validate=validate)
    assert modes == [(True, True), (False, False), (True, True), (False, False)]


def test_schedulers_step_once_per_epoch():
    p = nn.Parameter(torch.zeros(1))
    opt = make_optimizer([p], lr=1.0)
    sched = torch.optim.lr_scheduler.StepLR(opt, step_size=1, gamma=0.5)
    step = lambda idx: optimizer_step((p - 1).pow(2).sum(), opt) or {}  # noqa: E731
    train_loop(step, n=4, epochs=3, batch_size=2, generator=torch_generator(0), scheduler=sched)
    assert opt.param_groups[0]["lr"] == pytest.approx(0.125)  # 3 epochs x 2 steps: 3 halvings, not 6
    plateau = torch.optim.lr_scheduler.ReduceLROnPlateau(opt, patience=0, factor=0.1)
    train_loop(step, n=1, epochs=3, batch_size=1, generator=torch_generator(0), validate=lambda: 1.0,
               scheduler=plateau, restore_best=False)
    assert opt.param_groups[0]["lr"] == pytest.approx(0.125 * 0.01)  # no improvement after the first epoch


@pytest.mark.parametrize("kwargs, match", [
    (dict(n=0), "n "), (dict(epochs=-1), "epochs"), (dict(batch_size=0), "batch_size"),
    (dict(steps_per_epoch=0), "steps_per_epoch"), (dict(min_batch=0), "min_batch"), (dict(average="x"), "average"),
    (dict(mode="best"), "mode"), (dict(patience=2), "validate"), (dict(validate=lambda: 0.0), "model="),
    (dict(patience=0), "patience"),
])
def test_train_loop_argument_errors(kwargs, match):
    args = dict(n=4, epochs=1, batch_size=2, generator=torch_generator(0)) | kwargs
    with pytest.raises(ValueError, match=match):
        train_loop(lambda idx: {}, **args)


def test_loop_history_pads_names_that_appear_late():
    calls = iter([{}, {"a": 1.0}])
    log = train_loop(lambda idx: next(calls), n=1, epochs=2, batch_size=1, generator=torch_generator(0))
    assert isinstance(log, LoopHistory) and math.isnan(log["a"][0]) and log["a"][1] == 1.0


# ---------------------------------------------------------------------------- optimiser helpers
def test_make_optimizer_and_optimizer_step():
    p = nn.Parameter(torch.ones(2))
    adam = make_optimizer([p], "adam", lr=0.1, weight_decay=0.01, betas=(0.5, 0.9))
    assert isinstance(adam, torch.optim.Adam) and adam.defaults["betas"] == (0.5, 0.9)
    assert isinstance(make_optimizer([p], "adamw", lr=0.1, weight_decay=0.05), torch.optim.AdamW)
    sched = torch.optim.lr_scheduler.StepLR(adam, step_size=1, gamma=0.5)
    optimizer_step((p**2).sum(), adam, sched)
    assert torch.all(p < 1) and adam.param_groups[0]["lr"] == pytest.approx(0.05)
    for kw, match in ((dict(name="sgd"), "optimizer name"), (dict(lr=0), "lr"), (dict(weight_decay=-1), "weight_decay"),
                      (dict(betas=(0.9, 1.0)), "betas")):
        with pytest.raises(ValueError, match=match):
            make_optimizer([p], **kw)


# ---------------------------------------------------------------------------- infer / predict
def test_infer_returns_arrays_for_tensor_tuple_and_dict_outputs():
    x = np.arange(10, dtype=np.float64).reshape(5, 2)
    single = infer(lambda b: b * 2, x, batch_size=2, device="cpu")
    assert isinstance(single, np.ndarray) and single.dtype == np.float32 and np.array_equal(single, 2 * x)
    a, b = infer(lambda t: (t.sum(1), t[:, :1].long()), x, batch_size=3, device="cpu")
    assert np.array_equal(a, x.sum(1)) and b.dtype == np.int64 and b.shape == (5, 1)
    d = infer(lambda t: {"neg": -t, "first": t[:, 0]}, torch.as_tensor(x), batch_size=4, device="cpu")
    assert set(d) == {"neg", "first"} and np.array_equal(d["neg"], -x) and np.array_equal(d["first"], x[:, 0])


def test_infer_runs_without_gradients_and_uses_prepare():
    lin = nn.Linear(2, 1)
    flags: list[bool] = []
    infer(lambda t: flags.append(torch.is_grad_enabled()) or lin(t), np.zeros((3, 2)), batch_size=2, device="cpu")
    assert flags == [False, False]
    imgs = np.full((3, 2, 2, 3), 255, np.uint8)
    out = infer(lambda t: t, imgs, batch_size=2, device="cpu", prepare=lambda a: torch.from_numpy(a).float() / 255)
    assert out.shape == (3, 2, 2, 3) and np.all(out == 1.0)


def test_infer_errors():
    with pytest.raises(ValueError, match="empty"):
        infer(lambda t: t, np.zeros((0, 2)), device="cpu")
    with pytest.raises(ValueError, match="batch_size"):
        infer(lambda t: t, np.zeros((2, 2)), batch_size=0, device="cpu")
    with pytest.raises(TypeError, match="tensor"):
        infer(lambda t: 3.0, np.zeros((2, 2)), device="cpu")


def test_predict_gives_logits_and_features():
    torch.manual_seed(0)
    m = MLPClassifier(4, 3, hidden=(5,))
    x = np.random.default_rng(0).normal(size=(7, 4)).astype(np.float32)
    logits, feats = predict(m, x, batch_size=3, device="cpu")
    with torch.no_grad():
        f = m.features(torch.from_numpy(x))
        assert np.allclose(feats, f.numpy()) and np.allclose(logits, m.fc(f).numpy())


# ---------------------------------------------------------------------------- batch norm
def test_recalibrate_batchnorm_restores_each_layers_momentum():
    model = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4, momentum=0.3), nn.Linear(4, 2), nn.BatchNorm1d(2))
    x = torch.randn(32, 3) * 2 + 1
    assert recalibrate_batchnorm(model, x, batch_size=8, device="cpu") == 2
    assert model[1].momentum == 0.3 and model[3].momentum == 0.1 and not model.training
    with torch.no_grad():
        h = model[0](x)
    assert torch.allclose(model[1].running_mean, h.mean(0), atol=1e-5)
    batch_vars = torch.stack([h[s : s + 8].var(0, unbiased=True) for s in range(0, 32, 8)])
    assert torch.allclose(model[1].running_var, batch_vars.mean(0), atol=1e-4)  # the average of the batches' variances


def test_recalibrate_batchnorm_with_a_head_forward_and_after_an_error():
    front, bn = nn.Linear(3, 4), nn.BatchNorm1d(4, momentum=0.7)
    model = nn.Sequential(front, bn)
    cached = front(torch.randn(20, 3)).detach()
    recalibrate_batchnorm(model, cached, batch_size=5, device="cpu", forward=bn)  # only the head runs
    assert torch.allclose(bn.running_mean, cached.mean(0), atol=1e-5) and bn.momentum == 0.7

    def broken(x):
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        recalibrate_batchnorm(model, cached, device="cpu", forward=broken)
    assert bn.momentum == 0.7 and not model.training
    assert recalibrate_batchnorm(nn.Linear(2, 2), torch.zeros(2, 2), device="cpu") == 0
