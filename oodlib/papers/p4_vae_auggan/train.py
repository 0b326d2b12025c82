"""Training the P4 systems and scoring them.

One loop serves every system (:class:`SystemConfig`):

* conventional smart speaker: plain ResNet (``scattering=False``), no augmentation, no GAN;
* Posterior-AugGAN: scattering ResNet trained on real + physically augmented clips
  (``gan=False``: with no confident loss the GAN cannot affect the classifier, so we do
  not train one; in the AugGAN paper its samples also enter as an extra class, which
  this paper does not describe);
* OpVAEAugGAN: the same classifier trained jointly with the VAE-GAN, minimising the
  losses alternately per batch (eq. 9): detector (eq. 7), then encoder + generator
  (eq. 5 adversarial + eq. 8 with L2 reconstruction and feature matching + eq. 6 KL),
  then classifier (eq. 1 cross-entropy + lambda * confident loss, eq. 2) on outliers
  ``G(mu + outlier_scale * sigma * eps)`` drawn from the encoded real batch.

Ablations switch ``latent_input`` ("vae" or "noise": ``z ~ N(0, I)``) and
``confident`` ("sinkhorn", "kl" or "none").
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
import torch
from torch import nn

from ...device import resolve_device
from ...progress import progress
from ...seeding import torch_generator
from .losses import confident_loss, sinkhorn_score
from .models import LATENT, Detector, Generator, ScatResNet, VAEEncoder, kl_divergence, reparameterize


@dataclass(frozen=True)
class SystemConfig:
    """How one system is built and trained (paper: Adam lr 2e-4, batch 100, 150 epochs, lambda 0.1)."""

    scattering: bool = True
    gan: bool = True
    latent_input: str = "vae"
    confident: str = "sinkhorn"
    lam: float = 0.1
    epochs: int = 20
    lr: float = 1e-3
    gan_lr: float = 2e-4
    batch_size: int = 32
    outlier_batch: int = 32
    outlier_scale: float = 2.0
    alpha: float = 1.0
    beta: float = 1.0
    width: int = 32

    def __post_init__(self) -> None:
        if self.latent_input not in ("vae", "noise"):
            raise ValueError(f"latent_input must be 'vae' or 'noise', got {self.latent_input!r}")
        if self.confident not in ("sinkhorn", "kl", "none"):
            raise ValueError(f"confident must be 'sinkhorn', 'kl' or 'none', got {self.confident!r}")

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class TrainedSystem:
    config: SystemConfig
    classifier: ScatResNet
    generator: Generator | None
    encoder: VAEEncoder | None
    history: dict[str, list[float]]
    device: torch.device


def _gan_step(cfg: SystemConfig, xb: torch.Tensor, E: VAEEncoder, G: Generator, D: Detector,
              opt_d: torch.optim.Optimizer, opt_g: torch.optim.Optimizer, gen: torch.Generator) -> tuple[dict, torch.Tensor]:
    """One detector and one encoder/generator update; returns losses and a batch of outliers (detached)."""
    bce = nn.functional.binary_cross_entropy_with_logits
    dev = xb.device
    eps = torch.randn(len(xb), LATENT, generator=gen).to(dev)
    if cfg.latent_input == "vae":
        mu, logvar = E(xb)
        z = reparameterize(mu, logvar, eps)
    else:
        z = eps
    fake = G(z)
    loss_d = bce(D(xb), torch.ones(len(xb), device=dev)) + bce(D(fake.detach()), torch.zeros(len(xb), device=dev))
    opt_d.zero_grad()
    loss_d.backward()
    opt_d.step()
    fm = (D.features(xb).mean(0) - D.features(fake).mean(0)).pow(2).sum()
    loss_g = bce(D(fake), torch.ones(len(xb), device=dev)) + 0.5 * cfg.beta * fm
    if cfg.latent_input == "vae":
        loss_g = loss_g + 0.5 * cfg.alpha * (xb - fake).pow(2).flatten(1).sum(1).mean() + kl_divergence(mu, logvar)
    opt_g.zero_grad()
    loss_g.backward()
    opt_g.step()
    with torch.no_grad():
        m = min(cfg.outlier_batch, len(xb))
        e2 = torch.randn(m, LATENT, generator=gen).to(dev)
        if cfg.latent_input == "vae":
            mu, logvar = E(xb[:m])
            z_out = mu + cfg.outlier_scale * torch.exp(0.5 * logvar) * e2
        else:
            z_out = e2
        outliers = G(z_out)
    return {"detector": float(loss_d.detach()), "generator": float(loss_g.detach())}, outliers


def train_system(cfg: SystemConfig, x: np.ndarray, y: np.ndarray, n_classes: int = 10, seed: int = 0,
                 device: str = "auto", desc: str = "train") -> TrainedSystem:
    """Train one system on images ``x`` (n, 1, 32, 32) in [-1, 1] with labels ``y`` (n,)."""
    dev = resolve_device(device)
    gen = torch_generator(seed)
    torch.manual_seed(seed)
    xt = torch.as_tensor(np.array(x, dtype=np.float32))
    yt = torch.as_tensor(np.array(y, dtype=np.int64))
    C = ScatResNet(n_classes, cfg.width, cfg.scattering).to(dev)
    ft = torch.cat([C.front_end(xt[s : s + 256].to(dev)).cpu() for s in range(0, len(xt), 256)])  # cached scattering
    opt_c = torch.optim.Adam(C.parameters(), lr=cfg.lr)
    use_gan = cfg.gan and (cfg.confident != "none" or cfg.latent_input == "vae")
    E = G = D = None
    if use_gan:
        E, G, D = VAEEncoder(width=cfg.width).to(dev), Generator(width=cfg.width).to(dev), Detector(cfg.width).to(dev)
        opt_d = torch.optim.Adam(D.parameters(), lr=cfg.gan_lr, betas=(0.5, 0.999))
        opt_g = torch.optim.Adam([*E.parameters(), *G.parameters()], lr=cfg.gan_lr, betas=(0.5, 0.999))
    hist: dict[str, list[float]] = {"classifier": [], "confident": [], "detector": [], "generator": []}
    for _ in progress(range(cfg.epochs), desc=desc):
        C.train()
        sums = dict.fromkeys(hist, 0.0)
        perm = torch.randperm(len(xt), generator=gen)
        steps = 0
        for s in range(0, len(xt), cfg.batch_size):
            idx = perm[s : s + cfg.batch_size]
            if len(idx) < 2:
                continue
            xb, fb, yb = xt[idx].to(dev), ft[idx].to(dev), yt[idx].to(dev)
            conf = torch.zeros((), device=dev)
            if use_gan:
                losses, outliers = _gan_step(cfg, xb, E, G, D, opt_d, opt_g, gen)
                for k, v in losses.items():
                    sums[k] += v
                if cfg.confident != "none":
                    conf = confident_loss(C.head(C.front_end(outliers)), cfg.confident)
            ce = nn.functional.cross_entropy(C.head(fb), yb)
            loss = ce + cfg.lam * conf
            opt_c.zero_grad()
            loss.backward()
            opt_c.step()
            sums["classifier"] += float(ce.detach())
            sums["confident"] += float(conf.detach())
            steps += 1
        for k in hist:
            hist[k].append(sums[k] / max(steps, 1))
    _recalibrate_head(C, ft, cfg.batch_size, dev)
    return TrainedSystem(cfg, C.eval(), G, E, hist, dev)


@torch.no_grad()
def _recalibrate_head(C: ScatResNet, ft: torch.Tensor, batch_size: int, dev: torch.device) -> None:
    """Exact batch-norm statistics of the trainable head over the cached front-end outputs (see
    :func:`oodlib.training.recalibrate_batchnorm`)."""
    layers = [m for m in C.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]
    for m in layers:
        m.reset_running_stats()
        m.momentum = None
    C.train()
    for s in range(0, len(ft), batch_size):
        C.head(ft[s : s + batch_size].to(dev))
    for m in layers:
        m.momentum = 0.1
    C.eval()


@torch.no_grad()
def logits_of(system: TrainedSystem, x: np.ndarray, batch_size: int = 256) -> np.ndarray:
    """Classifier logits (n, K) of images ``x``."""
    C = system.classifier.eval()
    xt = torch.as_tensor(x, dtype=torch.float32)
    return torch.cat([C(xt[s : s + batch_size].to(system.device)).cpu() for s in range(0, len(xt), batch_size)]).numpy()


def scores(logits: np.ndarray) -> dict[str, np.ndarray]:
    """OOD scores (higher = more OOD): ``"max-softmax"`` (minus the max probability) and ``"sinkhorn"``."""
    t = torch.as_tensor(logits, dtype=torch.float32)
    return {"max-softmax": -torch.softmax(t, 1).max(1).values.numpy().astype(np.float64),
            "sinkhorn": sinkhorn_score(t).numpy().astype(np.float64)}
