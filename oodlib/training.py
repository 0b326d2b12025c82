"""One training loop and one batched inference, shared by every paper.

* :func:`train_loop` - the epoch/batch plumbing: which sample indices each step gets (a seeded
  permutation per epoch, or batches drawn with replacement), per-epoch means of what the steps
  return, the progress bar, an LR scheduler per epoch and early stopping on a validation value.
  What a step *does* (losses, one or several optimiser updates) is the caller's ``step``.
* :func:`make_optimizer` and :func:`optimizer_step` - Adam/AdamW from names and numbers;
  ``zero_grad``, ``backward``, ``step`` (and a per-batch scheduler step) in one call.
* :func:`train_classifier` - cross-entropy + Adam on :func:`train_loop` (the tour, P1, P3's MLPs).
* :func:`infer` - batched, no-grad inference returning NumPy arrays; :func:`predict` on top.
* :func:`recalibrate_batchnorm` - exact batch-norm statistics after training.

Randomness: the loop draws batch indices from the ``torch.Generator`` it is given; a step
draws anything else it needs (augmentation, noise, negatives) from the same generator. Global
PyTorch randomness (initial weights, dropout masks) belongs inside
:func:`oodlib.seeding.seeded`; :func:`train_classifier` enters one itself.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import torch
from torch import nn

from .device import resolve_device
from .progress import progress
from .seeding import seeded, torch_generator

Step = Callable[[torch.Tensor], Mapping[str, float]]
Outputs = Any  # a tensor, a tuple of tensors or a dict of tensors (see :func:`infer`)


# ---------------------------------------------------------------------------- optimisation
def make_optimizer(params: Iterable[nn.Parameter] | Iterable[dict], name: str = "adam", lr: float = 1e-3,
                   weight_decay: float = 0.0, betas: tuple[float, float] = (0.9, 0.999)) -> torch.optim.Optimizer:
    """``"adam"`` (L2 ``weight_decay`` added to the gradient) or ``"adamw"`` (decoupled decay).

    Args:
        params: parameters or parameter groups, as for any ``torch.optim`` optimiser.
        lr: learning rate (> 0); weight_decay: >= 0; betas: Adam's moment decay rates in [0, 1).
    """
    if not lr > 0:
        raise ValueError(f"lr must be positive, got {lr}")
    if weight_decay < 0:
        raise ValueError(f"weight_decay must be >= 0, got {weight_decay}")
    if len(betas) != 2 or not all(0.0 <= b < 1.0 for b in betas):
        raise ValueError(f"betas must be two numbers in [0, 1), got {betas}")
    optimizers = {"adam": torch.optim.Adam, "adamw": torch.optim.AdamW}
    if name not in optimizers:
        raise ValueError(f"optimizer name must be one of {sorted(optimizers)}, got {name!r}")
    return optimizers[name](params, lr=lr, betas=tuple(betas), weight_decay=weight_decay)


def optimizer_step(loss: torch.Tensor, optimizer: torch.optim.Optimizer, scheduler: Any = None) -> None:
    """``optimizer.zero_grad()``, ``loss.backward()``, ``optimizer.step()``, then ``scheduler.step()`` if given.

    The scheduler here is a per-batch one (e.g. ``OneCycleLR``); per-epoch schedulers go to
    :func:`train_loop`.
    """
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    if scheduler is not None:
        scheduler.step()


# ---------------------------------------------------------------------------- the loop
@dataclass
class LoopHistory:
    """What one :func:`train_loop` run did.

    ``metrics[name]``: one value per epoch, the epoch's average of what the steps returned
    under ``name`` (NaN for an epoch without it). ``validation``: the validation value after
    each epoch (empty without ``validate``). ``best_epoch``: 0-based epoch of the best
    validation value (``None`` without ``validate``); ``stopped_early``: patience ran out.
    """

    metrics: dict[str, list[float]] = field(default_factory=dict)
    validation: list[float] = field(default_factory=list)
    best_epoch: int | None = None
    stopped_early: bool = False
    epochs_run: int = 0

    def __getitem__(self, name: str) -> list[float]:
        return self.metrics[name]


def _epoch_batches(n: int, batch_size: int, generator: torch.Generator,
                   steps_per_epoch: int | None) -> Iterator[torch.Tensor]:
    """One epoch's index batches. Permutation: drawn now, sliced lazily; with replacement:
    each batch drawn just before its step (so a step's own draws interleave in a fixed order)."""
    if steps_per_epoch is None:
        perm = torch.randperm(n, generator=generator)
        return (perm[s : s + batch_size] for s in range(0, n, batch_size))
    return (torch.randint(0, n, (batch_size,), generator=generator) for _ in range(steps_per_epoch))


@dataclass
class _Best:
    """The best validation value so far, its epoch, the model's weights then, and the epochs since."""

    mode: str
    min_delta: float
    keep_weights: bool
    value: float | None = None
    epoch: int | None = None
    state: dict[str, torch.Tensor] | None = None
    since: int = 0

    def update(self, value: float, epoch: int, model: nn.Module | None) -> None:
        """Record one epoch's validation value (NaN never improves)."""
        better = not math.isnan(value) and (
            self.value is None
            or (value < self.value - self.min_delta if self.mode == "min" else value > self.value + self.min_delta))
        if not better:
            self.since += 1
            return
        self.value, self.epoch, self.since = value, epoch, 0
        if self.keep_weights and model is not None:
            self.state = {k: v.detach().clone() for k, v in model.state_dict().items()}


def _check_loop_args(n: int, epochs: int, batch_size: int, steps_per_epoch: int | None, min_batch: int,
                     average: str, mode: str, patience: int | None, validate: Any, restore_best: bool,
                     model: nn.Module | None, scheduler: Any) -> None:
    if n < 0 or (n == 0 and epochs > 0):
        raise ValueError(f"n (the number of training samples) must be >= 1, got {n}")
    if epochs < 0:
        raise ValueError(f"epochs must be >= 0, got {epochs}")
    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1, got {batch_size}")
    if steps_per_epoch is not None and steps_per_epoch < 1:
        raise ValueError(f"steps_per_epoch must be >= 1 (or None for a permutation), got {steps_per_epoch}")
    if min_batch < 1:
        raise ValueError(f"min_batch must be >= 1, got {min_batch}")
    if average not in ("steps", "samples"):
        raise ValueError(f"average must be 'steps' or 'samples', got {average!r}")
    if mode not in ("min", "max"):
        raise ValueError(f"mode must be 'min' or 'max', got {mode!r}")
    if patience is not None and patience < 1:
        raise ValueError(f"patience must be >= 1 (or None: no early stopping), got {patience}")
    if patience is not None and validate is None:
        raise ValueError("patience needs a validate callable (early stopping watches its value)")
    if validate is not None and restore_best and model is None:
        raise ValueError("restore_best needs the model whose best weights to keep (pass model=...)")
    plateau = isinstance(scheduler, torch.optim.lr_scheduler.ReduceLROnPlateau)
    if plateau and validate is None:
        raise ValueError("a ReduceLROnPlateau scheduler needs a validate callable")


def train_loop(step: Step, n: int, epochs: int, batch_size: int, generator: torch.Generator, *,
               steps_per_epoch: int | None = None, min_batch: int = 1,
               average: Literal["steps", "samples"] = "steps", model: nn.Module | None = None,
               epoch_start: Callable[[int], None] | None = None, scheduler: Any = None,
               validate: Callable[[], float] | None = None, patience: int | None = None,
               mode: Literal["min", "max"] = "min", min_delta: float = 0.0, restore_best: bool = True,
               desc: str = "train") -> LoopHistory:
    """Run ``epochs`` epochs of ``step(batch_indices)`` over ``n`` training samples.

    Each epoch: ``model.train()`` (if given); the epoch's batches are drawn from ``generator``
    (see below); ``epoch_start(epoch)`` runs (after the permutation is drawn, so what it
    draws follows it in the stream); every batch of at least ``min_batch`` indices goes to
    ``step``, smaller ones are skipped; then the averages, ``validate``, the scheduler and the
    early-stopping check.

    Args:
        step: ``step(idx) -> {name: value}`` for an int64 CPU tensor of sample indices; it does
            the forward pass, the update(s) (:func:`optimizer_step`) and returns plain floats.
        n: number of training samples (indices ``0..n-1``).
        batch_size: indices per step.
        generator: the seeded source of the batch indices.
        steps_per_epoch: ``None`` (default): a fresh ``randperm(n)`` per epoch, cut into
            ``ceil(n / batch_size)`` batches, the last one possibly smaller. An integer: that
            many batches of ``batch_size`` indices drawn uniformly with replacement, each just
            before its step.
        min_batch: skip batches smaller than this (2 for models with batch norm).
        average: ``"steps"``: an epoch value is the mean over its steps of what they returned;
            ``"samples"``: each step returns *totals* over its batch (e.g. loss x batch size,
            number correct) and the epoch value is their sum divided by the samples seen.
        model: put in train mode each epoch, in eval mode for ``validate``; the weights
            early stopping keeps.
        scheduler: stepped once per epoch, after ``validate``; a ``ReduceLROnPlateau`` gets
            the validation value. (Per-batch schedulers: step them in ``step``.)
        validate: ``validate() -> float`` after each epoch, run under ``torch.no_grad()``.
        patience: stop after this many epochs without improvement of the validation value
            (``None``: run every epoch).
        mode, min_delta: improvement means ``value < best - min_delta`` (``"min"``) or
            ``value > best + min_delta`` (``"max"``); NaN never improves.
        restore_best: with ``validate``, load the best epoch's weights into ``model`` at the end.
        desc: progress-bar label.
    Returns:
        The :class:`LoopHistory`.
    """
    _check_loop_args(n, epochs, batch_size, steps_per_epoch, min_batch, average, mode, patience, validate,
                     restore_best, model, scheduler)
    log = LoopHistory()
    best = _Best(mode, min_delta, restore_best)
    for epoch in progress(range(epochs), desc=desc):
        if model is not None:
            model.train()
        batches = _epoch_batches(n, batch_size, generator, steps_per_epoch)
        if epoch_start is not None:
            epoch_start(epoch)
        sums: dict[str, float] = {}
        seen = 0
        for idx in batches:
            if len(idx) < min_batch:
                continue
            for name, value in step(idx).items():
                sums[name] = sums.get(name, 0.0) + float(value)
            seen += len(idx) if average == "samples" else 1
        _append_epoch(log, sums, seen, epoch)
        log.epochs_run = epoch + 1
        if validate is not None:
            log.validation.append(_validation_value(validate, model))
            best.update(log.validation[-1], epoch, model)
            log.best_epoch = best.epoch
        if isinstance(scheduler, torch.optim.lr_scheduler.ReduceLROnPlateau):
            scheduler.step(log.validation[-1])
        elif scheduler is not None:
            scheduler.step()
        if patience is not None and best.since >= patience:
            log.stopped_early = True
            break
    if best.state is not None and model is not None:
        model.load_state_dict(best.state)
    return log


def _append_epoch(log: LoopHistory, sums: Mapping[str, float], seen: int, epoch: int) -> None:
    """Append one epoch's averages; a name new this epoch gets NaN for the earlier ones."""
    for name in sums:
        log.metrics.setdefault(name, [float("nan")] * epoch)
    for name, values in log.metrics.items():
        values.append(sums[name] / seen if name in sums and seen else float("nan"))


def _validation_value(validate: Callable[[], float], model: nn.Module | None) -> float:
    if model is not None:
        model.eval()
    with torch.no_grad():
        return float(validate())


# ---------------------------------------------------------------------------- classifier
@dataclass
class TrainHistory:
    """Mean training loss and accuracy per epoch."""

    loss: list[float] = field(default_factory=list)
    accuracy: list[float] = field(default_factory=list)


def train_classifier(
    model: nn.Module,
    x: Any,
    y: Any,
    epochs: int,
    lr: float = 1e-3,
    batch_size: int = 128,
    seed: int = 0,
    device: str = "auto",
    weight_decay: float = 0.0,
    desc: str = "train",
    recalibrate_bn: bool = True,
    augment: Callable[[torch.Tensor, torch.Generator], torch.Tensor] | None = None,
) -> TrainHistory:
    """Train ``model`` with cross-entropy and Adam; batches shuffled by a seeded generator.

    Randomness: batch order and ``augment`` draw from ``torch_generator(seed)``; the body runs
    in ``seeded(seed, device)``, so dropout masks start from ``seed`` whatever ran before, and
    the caller's global generator is unchanged afterwards. Build the model under its own
    ``seeded(child_seed(...))`` (not ``seed`` itself, which the body reuses).

    Args:
        x: inputs, array or tensor (n, ...); y: integer labels (n,).
        epochs: passes over the data.
        recalibrate_bn: after training, re-estimate batch-norm statistics on the
            training inputs (see :func:`recalibrate_batchnorm`); needed for the
            short CPU runs, harmless for long ones.
        augment: optional ``f(batch, generator) -> batch`` applied to each
            training batch (on the CPU, before moving to ``device``), seeded.
    Returns:
        The per-epoch history (sample-weighted means). The model is left on ``device`` in eval mode.
    """
    if epochs < 0:
        raise ValueError(f"epochs must be >= 0, got {epochs}")
    dev = resolve_device(device)
    xt = torch.as_tensor(np.asarray(x), dtype=torch.float32)
    yt = torch.as_tensor(np.asarray(y), dtype=torch.long)
    if xt.shape[0] != yt.shape[0]:
        raise ValueError(f"x has {xt.shape[0]} samples but y has {yt.shape[0]}")
    model.to(dev)
    opt = make_optimizer(model.parameters(), "adam", lr=lr, weight_decay=weight_decay)
    gen = torch_generator(seed)

    def step(idx: torch.Tensor) -> dict[str, float]:
        xb = augment(xt[idx], gen) if augment is not None else xt[idx]
        xb, yb = xb.to(dev), yt[idx].to(dev)
        logits = model(xb)
        loss = nn.functional.cross_entropy(logits, yb)
        optimizer_step(loss, opt)
        return {"loss": float(loss.detach()) * len(idx), "accuracy": int((logits.argmax(1) == yb).sum())}

    with seeded(seed, dev):
        log = train_loop(step, xt.shape[0], epochs, batch_size, gen, average="samples", model=model, desc=desc)
        if recalibrate_bn and epochs > 0:
            recalibrate_batchnorm(model, xt, batch_size=batch_size, device=dev)
    model.eval()
    return TrainHistory(list(log.metrics.get("loss", [])), list(log.metrics.get("accuracy", [])))


# ---------------------------------------------------------------------------- inference
def _batches(x: Any, batch_size: int, device: torch.device,
             prepare: Callable[[Any], torch.Tensor] | None) -> Iterator[torch.Tensor]:
    """Consecutive slices of ``x`` on ``device``: float32 tensors, or ``prepare(slice)`` if given."""
    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1, got {batch_size}")
    data = x if prepare is not None else torch.as_tensor(x if isinstance(x, torch.Tensor) else np.asarray(x),
                                                          dtype=torch.float32)
    for start in range(0, len(data), batch_size):
        chunk = data[start : start + batch_size]
        yield (prepare(chunk) if prepare is not None else chunk).to(device)


def _to_cpu(out: Outputs) -> Outputs:
    if isinstance(out, torch.Tensor):
        return out.detach().cpu()
    if isinstance(out, Mapping):
        return {k: _to_cpu(v) for k, v in out.items()}
    if isinstance(out, Sequence) and not isinstance(out, str):
        return tuple(_to_cpu(v) for v in out)
    raise TypeError(f"fn must return a tensor, a tuple of tensors or a dict of tensors, got {type(out).__name__}")


def _concat(parts: list[Outputs]) -> Outputs:
    first = parts[0]
    if isinstance(first, torch.Tensor):
        return torch.cat(parts).numpy()
    if isinstance(first, Mapping):
        return {k: torch.cat([p[k] for p in parts]).numpy() for k in first}
    return tuple(torch.cat([p[i] for p in parts]).numpy() for i in range(len(first)))


def infer(fn: Callable[[torch.Tensor], Outputs], x: Any, batch_size: int = 512, device: str | torch.device = "auto",
          prepare: Callable[[Any], torch.Tensor] | None = None) -> Outputs:
    """``fn`` over ``x`` in batches without gradients; outputs concatenated along dim 0 as NumPy.

    Args:
        fn: batch (b, ...) on ``device`` -> a tensor (b, ...), a tuple of such tensors or a dict
            of them. Put models in eval mode first; ``infer`` does not change modes.
        x: (n, ...) array or tensor; by default each slice is converted to float32.
        prepare: instead of the float32 conversion, ``prepare(x[s:e]) -> tensor`` on the CPU
            (e.g. uint8 images -> normalised float); its result is then moved to ``device``.
    Returns:
        An array (n, ...), a tuple of arrays or a dict of arrays, matching what ``fn`` returns,
        in the tensors' dtypes.
    Raises:
        ValueError: ``x`` is empty or ``batch_size`` < 1.
    """
    dev = resolve_device(device)
    if len(x) == 0:
        raise ValueError("x is empty: nothing to run inference on")
    with torch.no_grad():
        parts = [_to_cpu(fn(xb)) for xb in _batches(x, batch_size, dev, prepare)]
    return _concat(parts)


def predict(model: nn.Module, x: Any, batch_size: int = 512, device: str = "auto") -> tuple[np.ndarray, np.ndarray]:
    """Logits (n, C) and penultimate features (n, d) of ``model`` (needs ``features`` and ``fc``)."""
    dev = resolve_device(device)
    model.to(dev).eval()

    def logits_and_features(xb: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        f = model.features(xb)
        return model.fc(f), f

    return infer(logits_and_features, x, batch_size, dev)


def recalibrate_batchnorm(model: nn.Module, x: Any, batch_size: int = 128, device: str | torch.device = "auto",
                          forward: Callable[[torch.Tensor], Any] | None = None) -> int:
    """Replace batch-norm running statistics by their average over one pass of ``x``.

    Running statistics are an exponential average (momentum 0.1 by default); after a few
    dozen steps of fast-changing weights they still remember early batches, and an eval-mode
    model can collapse to one class. One pass over the training inputs in train mode with
    ``momentum=None`` (PyTorch's cumulative average: the plain mean of the batches' means and
    unbiased variances; the exact mean of ``x`` when the batches are of equal size) and no
    weight updates fixes that. Every layer's own momentum is put back afterwards (also on an
    error).

    Args:
        x: (n, ...) inputs of ``forward`` (float32 array or tensor).
        forward: what to run on each batch (default ``model``); e.g. ``model.head`` when ``x``
            holds cached outputs of a fixed front end (P4).
    Returns:
        The number of batch-norm layers reset. The model is left on ``device`` in eval mode.
    """
    layers = [m for m in model.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]
    if not layers:
        return 0
    dev = resolve_device(device)
    run = model if forward is None else forward
    saved = [m.momentum for m in layers]
    model.to(dev).train()
    try:
        for m in layers:
            m.reset_running_stats()
            m.momentum = None
        with torch.no_grad():
            for xb in _batches(x, batch_size, dev, None):
                run(xb)
    finally:
        for m, momentum in zip(layers, saved):
            m.momentum = momentum
        model.eval()
    return len(layers)
