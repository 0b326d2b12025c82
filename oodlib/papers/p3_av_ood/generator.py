"""P3's feature generator: a conditional WGAN-GP on class text embeddings (paper Sec. 3.1).

* Generator ``G(z, t)``: ``[z (1024) ⊕ t (300)] -> 512 -> 512 -> 1024`` (audio ⊕ video), LeakyReLU 0.2.
* Critic ``D(x, t)``: ``[x ⊕ t] -> 662 -> 1``.
* Text decoder: ``x -> 662 -> 662 -> 300`` (the authors' code), with its own Adam optimiser,
  stepped in the critic step (``MSE(dec(x_real), t)``) and in the generator step, where it
  gives the reconstruction loss ``L_rec = MSE(dec(G(z, t)), t)`` on generated features.
* Embedding loss ``L_emb``: cosine-embedding loss on matched (same class,
  target +1) and unmatched (different class, target -1) real/synthetic pairs.

Total generator objective (eq. 2): ``-E[D(G(z,t),t)] + alpha L_rec + beta L_emb``;
the critic minimises ``E[D(fake)] - E[D(real)] + lambda GP`` (eq. 1), 5 critic
steps per generator step, ``steps_per_epoch`` generator steps (sampled batches) per epoch
(the authors' code: 500). The paper's text puts alpha = 0.1 on L_rec and
beta = 0.01 on L_emb; the authors' code swaps the two (0.1 on L_emb): pass
``rec_weight=0.01, emb_weight=0.1`` for the code's version.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from ...device import resolve_device
from ...seeding import seeded, torch_generator
from ...training import make_optimizer, train_loop


def _mlp(sizes: list[int], slope: float = 0.2) -> nn.Sequential:
    layers: list[nn.Module] = []
    for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
        layers.append(nn.Linear(a, b))
        if i < len(sizes) - 2:
            layers.append(nn.LeakyReLU(slope))
    return nn.Sequential(*layers)


class Generator(nn.Module):
    """``G(z, t)``: noise (n, z_dim) and class embeddings (n, text_dim) -> features (n, out_dim)."""

    def __init__(self, z_dim: int = 1024, text_dim: int = 300, out_dim: int = 1024, hidden: tuple[int, ...] = (512, 512)):
        super().__init__()
        self.z_dim = z_dim
        self.net = _mlp([z_dim + text_dim, *hidden, out_dim])

    def forward(self, z: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        return self.net(torch.cat([z, t], dim=1))


class Critic(nn.Module):
    """``D(x, t)``: features (n, in_dim) and class embeddings (n, text_dim) -> scores (n,)."""

    def __init__(self, in_dim: int = 1024, text_dim: int = 300, hidden: int = 662):
        super().__init__()
        self.net = _mlp([in_dim + text_dim, hidden, 1])

    def forward(self, x: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        return self.net(torch.cat([x, t], dim=1)).squeeze(1)


def gradient_penalty(critic: Critic, real: torch.Tensor, fake: torch.Tensor, t: torch.Tensor,
                     gen: torch.Generator | None = None) -> torch.Tensor:
    """``E[(||grad_xhat D(xhat, t)||_2 - 1)^2]`` at random interpolates of real and fake (scalar)."""
    eps = torch.rand(real.shape[0], 1, generator=gen).to(real.device)
    xhat = (eps * real + (1 - eps) * fake).requires_grad_(True)
    grad = torch.autograd.grad(critic(xhat, t).sum(), xhat, create_graph=True)[0]
    return ((grad.norm(2, dim=1) - 1) ** 2).mean()


@dataclass
class FeatureGenerator:
    """A trained generator with the class embeddings it is conditioned on."""

    generator: Generator
    text: np.ndarray
    device: torch.device
    decoder: nn.Module | None = None  # the text decoder trained beside it (L_rec), kept for inspection

    @torch.no_grad()
    def sample(self, classes: np.ndarray, n_per_class: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
        """``n_per_class`` synthetic features per class id: ``(x (n, out_dim), y (n,))``."""
        self.generator.eval()
        y = np.repeat(np.asarray(classes, dtype=np.int64), n_per_class)
        gen = torch_generator(seed)
        z = torch.randn(len(y), self.generator.z_dim, generator=gen).to(self.device)
        t = torch.as_tensor(self.text[y], dtype=torch.float32, device=self.device)
        return self.generator(z, t).cpu().numpy(), y


def _step_all(loss: torch.Tensor, *optimizers: torch.optim.Optimizer) -> None:
    """Zero every optimiser's gradients, back-propagate ``loss`` once, step every optimiser."""
    for opt in optimizers:
        opt.zero_grad()
    loss.backward()
    for opt in optimizers:
        opt.step()


def _unmatched(y: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
    """For each position, the index of a batch sample of a *different* class (itself if none exists)."""
    n = len(y)
    idx = torch.randperm(n, generator=gen)
    for _ in range(3):  # re-draw positions that landed on their own class
        same = y[idx] == y
        if not same.any():
            break
        idx[same] = torch.randint(0, n, (int(same.sum()),), generator=gen)
    return idx


def train_feature_generator(x: np.ndarray, y: np.ndarray, text: np.ndarray, epochs: int = 5, lr: float = 1e-4,
                            batch_size: int = 64, rec_weight: float = 0.1, emb_weight: float = 0.01,
                            gp_lambda: float = 10.0, critic_steps: int = 5, z_dim: int = 1024, seed: int = 0,
                            device: str = "auto", steps_per_epoch: int | None = None,
                            decoder_hidden: tuple[int, ...] = (662, 662),
                            ) -> tuple[FeatureGenerator, dict[str, list[float]]]:
    """Train the conditional WGAN-GP on real seen features.

    Args:
        x: real features (n, d); y: their class ids (n,) indexing ``text`` (C, 300).
        epochs: epochs of ``steps_per_epoch`` generator steps, each on a batch of ``batch_size``
            drawn with replacement (``None``: ``max(1, n // batch_size)`` steps, one pass's worth).
        decoder_hidden: hidden widths of the text decoder ``x -> ... -> 300``.
        critic_steps: critic updates per generator update (>= 1).
        seed: every real batch (drawn with replacement), noise vector and unmatched pair comes
            from ``torch_generator(seed)``; initial weights from ``seeded(seed)``.
    Returns:
        The :class:`FeatureGenerator` and per-epoch means of ``critic``, ``wasserstein``,
        ``rec`` and ``emb`` losses (each over the epoch's generator steps; the critic values
        are those of each step's last critic update).
    """
    if critic_steps < 1:
        raise ValueError(f"critic_steps must be >= 1, got {critic_steps}")
    dev = resolve_device(device)
    gen = torch_generator(seed)
    xt = torch.as_tensor(x, dtype=torch.float32)
    yt = torch.as_tensor(y, dtype=torch.long)
    tt = torch.as_tensor(text, dtype=torch.float32)
    n = len(xt)
    m = min(batch_size, n)
    with seeded(seed, dev):
        G = Generator(z_dim, tt.shape[1], xt.shape[1]).to(dev)
        D = Critic(xt.shape[1], tt.shape[1]).to(dev)
        dec = _mlp([xt.shape[1], *decoder_hidden, tt.shape[1]]).to(dev)
        opt_g, opt_d, opt_dec = (make_optimizer(m.parameters(), "adam", lr=lr, betas=(0.5, 0.999)) for m in (G, D, dec))
        cos = nn.CosineEmbeddingLoss()

        def real_batch(idx: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
            return xt[idx].to(dev), tt[yt[idx]].to(dev)

        def critic_update(idx: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
            real, t = real_batch(idx)
            z = torch.randn(len(real), z_dim, generator=gen).to(dev)
            fake = G(z, t).detach()
            w = D(real, t).mean() - D(fake, t).mean()
            loss_d = -w + gp_lambda * gradient_penalty(D, real, fake, t, gen)
            _step_all(loss_d + nn.functional.mse_loss(dec(real), t), opt_d, opt_dec)  # disjoint parameters
            return loss_d, w

        def step(idx: torch.Tensor) -> dict[str, float]:
            # the loop's batch is the first critic batch; the others are drawn here, in the same order
            for i in range(critic_steps):
                loss_d, w = critic_update(idx if i == 0 else torch.randint(0, n, (m,), generator=gen))
            idx_g = torch.randint(0, n, (m,), generator=gen)
            real, t = real_batch(idx_g)
            z = torch.randn(len(real), z_dim, generator=gen).to(dev)
            fake = G(z, t)
            rec = nn.functional.mse_loss(dec(fake), t)
            other = _unmatched(yt[idx_g], gen).to(dev)
            ones = torch.ones(len(real), device=dev)
            emb = cos(fake, real, ones) + cos(fake, real[other], -ones)
            loss_g = -D(fake, t).mean() + rec_weight * rec + emb_weight * emb
            _step_all(loss_g, opt_g, opt_dec)  # the decoder learns from L_rec on generated features too
            return {"critic": float(loss_d.detach()), "wasserstein": float(w.detach()), "rec": float(rec.detach()),
                    "emb": float(emb.detach())}

        log = train_loop(step, n, epochs, m, gen, steps_per_epoch=steps_per_epoch or max(1, n // batch_size),
                         desc="WGAN-GP")
    hist = {k: log.metrics.get(k, []) for k in ("critic", "wasserstein", "rec", "emb")}
    return FeatureGenerator(G.eval(), np.asarray(text, dtype=np.float32), dev, dec.eval()), hist
