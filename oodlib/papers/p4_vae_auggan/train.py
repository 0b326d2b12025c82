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
from ...scores.posthoc import msp
from ...seeding import seeded, torch_generator
from ...training import infer, make_optimizer, optimizer_step, recalibrate_batchnorm, train_loop
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
    optimizer_step(loss_d, opt_d)
    fm = (D.features(xb).mean(0) - D.features(fake).mean(0)).pow(2).sum()
    loss_g = bce(D(fake), torch.ones(len(xb), device=dev)) + 0.5 * cfg.beta * fm
    if cfg.latent_input == "vae":
        loss_g = loss_g + 0.5 * cfg.alpha * (xb - fake).pow(2).flatten(1).sum(1).mean() + kl_divergence(mu, logvar)
    optimizer_step(loss_g, opt_g)
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
    """Train one system on images ``x`` (n, 1, 32, 32) in [-1, 1] with labels ``y`` (n,).

    Batches of one clip are skipped (batch norm). ``seed``: batch order and every latent draw
    (``torch_generator(seed)``); initial weights of every network inside ``seeded(seed)``.
    After training, the classifier's batch-norm statistics are recomputed in one pass over the
    cached front-end outputs (:func:`oodlib.training.recalibrate_batchnorm` on ``C.head``).
    """
    dev = resolve_device(device)
    gen = torch_generator(seed)
    xt = torch.as_tensor(np.array(x, dtype=np.float32))
    yt = torch.as_tensor(np.array(y, dtype=np.int64))
    use_gan = cfg.gan and (cfg.confident != "none" or cfg.latent_input == "vae")
    with seeded(seed, dev):
        C = ScatResNet(n_classes, cfg.width, cfg.scattering).to(dev)
        ft = torch.from_numpy(infer(C.front_end, xt, 256, dev))  # cached scattering (fixed, no parameters)
        opt_c = make_optimizer(C.parameters(), "adam", lr=cfg.lr)
        E = G = D = None
        if use_gan:
            E, G, D = VAEEncoder(width=cfg.width).to(dev), Generator(width=cfg.width).to(dev), Detector(cfg.width).to(dev)
            opt_d = make_optimizer(D.parameters(), "adam", lr=cfg.gan_lr, betas=(0.5, 0.999))
            opt_g = make_optimizer([*E.parameters(), *G.parameters()], "adam", lr=cfg.gan_lr, betas=(0.5, 0.999))

        def step(idx: torch.Tensor) -> dict[str, float]:
            xb, fb, yb = xt[idx].to(dev), ft[idx].to(dev), yt[idx].to(dev)
            conf = torch.zeros((), device=dev)
            gan_losses = {"detector": 0.0, "generator": 0.0}
            if use_gan:
                gan_losses, outliers = _gan_step(cfg, xb, E, G, D, opt_d, opt_g, gen)
                if cfg.confident != "none":
                    conf = confident_loss(C.head(C.front_end(outliers)), cfg.confident)
            ce = nn.functional.cross_entropy(C.head(fb), yb)
            optimizer_step(ce + cfg.lam * conf, opt_c)
            return {"classifier": float(ce.detach()), "confident": float(conf.detach()), **gan_losses}

        log = train_loop(step, len(xt), cfg.epochs, cfg.batch_size, gen, min_batch=2, model=C, desc=desc)
        recalibrate_batchnorm(C, ft, cfg.batch_size, dev, forward=C.head)
    hist = {k: log.metrics.get(k, []) for k in ("classifier", "confident", "detector", "generator")}
    return TrainedSystem(cfg, C.eval(), G, E, hist, dev)


def logits_of(system: TrainedSystem, x: np.ndarray, batch_size: int = 256) -> np.ndarray:
    """Classifier logits (n, K) of images ``x``."""
    C = system.classifier.eval()
    return infer(C, x, batch_size, system.device)


def scores(logits: np.ndarray) -> dict[str, np.ndarray]:
    """OOD scores (higher = more OOD), float64 (n,): ``"max-softmax"`` (:func:`oodlib.scores.msp`,
    minus the max probability, computed in float64) and ``"sinkhorn"``."""
    t = torch.as_tensor(logits, dtype=torch.float32)
    return {"max-softmax": msp(logits), "sinkhorn": sinkhorn_score(t).numpy().astype(np.float64)}
