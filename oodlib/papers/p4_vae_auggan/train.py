"""Training the P4 systems and scoring them.

One loop serves every system (:class:`SystemConfig`):

* conventional smart speaker: plain ResNet (``scattering=False``), no augmentation, no GAN;
* Posterior-AugGAN: scattering ResNet trained on real + physically augmented clips
  (``gan=False``: with no confident loss the GAN cannot affect the classifier, so we do
  not train one; in the AugGAN paper its samples also enter as an extra class, which
  this paper does not describe);
* OpVAEAugGAN: the same classifier trained jointly with the VAE-GAN, minimising the
  losses alternately per batch (eq. 9): detector (eq. 7), then encoder + generator
  (eq. 5 adversarial + eq. 8 with L2 reconstruction and per-clip detector feature matching
  + eq. 6 KL), then classifier (eq. 1 cross-entropy + lambda * confident loss, eq. 2) on outliers
  ``G(mu + outlier_scale * sigma * eps)`` drawn from the encoded real batch; the real and the
  outlier clips pass the classifier in one batch, so batch norm sees them together.

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
    blur: float = 0.05  # GeomLoss blur of the Sinkhorn confident loss
    alpha: float = 1.0
    beta: float = 1.0
    width: int = 32
    #: eq. 8's detector feature matching: "per_sample" compares each clip with its own reconstruction
    #: (the VAE input; with noise input there is no pairing and batch means are used), "batch_mean"
    #: compares the batches' mean features (the code's reading before 2026-12)
    feature_matching: str = "per_sample"
    #: who detects generated clips: "separate" (Fig. 1: a real/fake detector network that trains the
    #: GAN; the OOD score comes from the classifier) or "shared" (the text: the classifier's trunk with
    #: a K-class head and a real/fake head, trained on classification + detection together)
    discriminator: str = "separate"
    arch: str = "small"  # the classifier: "small" (5 blocks) or "resnet18" (ResNet-18's depth and widths)
    #: "joint": real and outlier clips pass the classifier in one batch (batch norm sees both);
    #: "separate": the outliers in a batch of their own (the code's reading before 2026-12)
    outlier_batchnorm: str = "joint"

    def __post_init__(self) -> None:
        if self.latent_input not in ("vae", "noise"):
            raise ValueError(f"latent_input must be 'vae' or 'noise', got {self.latent_input!r}")
        if self.confident not in ("sinkhorn", "kl", "none"):
            raise ValueError(f"confident must be 'sinkhorn', 'kl' or 'none', got {self.confident!r}")
        if self.outlier_batchnorm not in ("joint", "separate"):
            raise ValueError(f"outlier_batchnorm must be 'joint' or 'separate', got {self.outlier_batchnorm!r}")
        if self.arch not in ("small", "resnet18"):
            raise ValueError(f"arch must be 'small' or 'resnet18', got {self.arch!r}")
        if self.discriminator not in ("separate", "shared"):
            raise ValueError(f"discriminator must be 'separate' or 'shared', got {self.discriminator!r}")
        if self.feature_matching not in ("per_sample", "batch_mean"):
            raise ValueError(f"feature_matching must be 'per_sample' or 'batch_mean', got {self.feature_matching!r}")

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class TrainedSystem:
    """A trained system; ``detector`` is its real/fake detector (``None`` without a GAN): a separate
    network, or for ``discriminator="shared"`` the classifier's own real/fake head."""

    config: SystemConfig
    classifier: ScatResNet
    generator: Generator | None
    encoder: VAEEncoder | None
    history: dict[str, list[float]]
    device: torch.device
    detector: nn.Module | None = None


class SharedDetector(nn.Module):
    """The shared-discriminator reading: a real/fake head on the classifier's pooled trunk features.

    ``features(x)`` (n, d) are the classifier's pooled features (so the generator's feature matching and
    the detection loss train the same trunk as the classification); ``forward(x)`` the real logit (n,).
    """

    def __init__(self, classifier: ScatResNet):
        super().__init__()
        self.classifier = [classifier]  # a reference, not a submodule: its parameters stay the classifier's
        self.out = nn.Linear(classifier.fc.in_features, 1)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        c = self.classifier[0]
        return c.body(c.front(x))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.out(self.features(x)).squeeze(1)


def feature_matching(real: torch.Tensor, fake: torch.Tensor, per_sample: bool) -> torch.Tensor:
    """Squared feature distance, features (n, ...): ``per_sample``: the mean over clips of
    ``||f(x_i) - f(G(z(x_i)))||^2`` (eq. 8, each clip against its reconstruction); else
    ``||mean f(x) - mean f(G(z))||^2`` (batch feature matching, for unpaired noise inputs)."""
    if per_sample:
        return (real - fake).pow(2).flatten(1).sum(1).mean()
    return (real.mean(0) - fake.mean(0)).pow(2).sum()


def _latent(cfg: SystemConfig, xb: torch.Tensor, E: VAEEncoder, gen: torch.Generator):
    """The generator's input for batch ``xb``: ``(z, mu, logvar)`` (``mu``/``logvar`` None for noise)."""
    eps = torch.randn(len(xb), LATENT, generator=gen).to(xb.device)
    if cfg.latent_input == "vae":
        mu, logvar = E(xb)
        return reparameterize(mu, logvar, eps), mu, logvar
    return eps, None, None


def _with_vae_terms(cfg: SystemConfig, loss: torch.Tensor, xb: torch.Tensor, fake: torch.Tensor, mu, logvar) -> torch.Tensor:
    """``loss`` plus eq. 8's L2 reconstruction and eq. 6's KL (``loss`` itself for the noise input)."""
    if cfg.latent_input != "vae":
        return loss
    return loss + 0.5 * cfg.alpha * (xb - fake).pow(2).flatten(1).sum(1).mean() + kl_divergence(mu, logvar)


@torch.no_grad()
def _outliers(cfg: SystemConfig, xb: torch.Tensor, E: VAEEncoder, G: Generator, gen: torch.Generator) -> torch.Tensor:
    """A batch of outliers ``G(mu + outlier_scale * sigma * eps)`` from the encoded batch (or ``G(eps)``)."""
    m = min(cfg.outlier_batch, len(xb))
    e2 = torch.randn(m, LATENT, generator=gen).to(xb.device)
    if cfg.latent_input == "vae":
        mu, logvar = E(xb[:m])
        return G(mu + cfg.outlier_scale * torch.exp(0.5 * logvar) * e2)
    return G(e2)


def _gan_step(cfg: SystemConfig, xb: torch.Tensor, E: VAEEncoder, G: Generator, D: Detector,
              opt_d: torch.optim.Optimizer, opt_g: torch.optim.Optimizer, gen: torch.Generator) -> tuple[dict, torch.Tensor]:
    """Separate detector: one detector and one encoder/generator update; returns losses and a batch
    of outliers (detached)."""
    bce = nn.functional.binary_cross_entropy_with_logits
    dev = xb.device
    z, mu, logvar = _latent(cfg, xb, E, gen)
    fake = G(z)
    loss_d = bce(D(xb), torch.ones(len(xb), device=dev)) + bce(D(fake.detach()), torch.zeros(len(xb), device=dev))
    optimizer_step(loss_d, opt_d)
    fm = feature_matching(D.features(xb), D.features(fake),
                          cfg.feature_matching == "per_sample" and cfg.latent_input == "vae")
    loss_g = _with_vae_terms(cfg, bce(D(fake), torch.ones(len(xb), device=dev)) + 0.5 * cfg.beta * fm, xb, fake, mu, logvar)
    optimizer_step(loss_g, opt_g)
    return {"detector": float(loss_d.detach()), "generator": float(loss_g.detach())}, _outliers(cfg, xb, E, G, gen)


def _shared_gan_step(cfg: SystemConfig, xb: torch.Tensor, fb: torch.Tensor, E: VAEEncoder, G: Generator,
                     D: SharedDetector, opt_g: torch.optim.Optimizer,
                     gen: torch.Generator) -> tuple[dict, torch.Tensor, torch.Tensor]:
    """Shared discriminator: one encoder/generator update against the classifier's real/fake head;
    returns losses, outliers (detached) and the detection loss, which joins the classifier's update.

    ``fb``: the cached front end (scattering) of ``xb``; the fakes pass the front end once.
    """
    bce = nn.functional.binary_cross_entropy_with_logits
    dev = xb.device
    body, head = D.classifier[0].body, D.out
    z, mu, logvar = _latent(cfg, xb, E, gen)
    fake = G(z)
    fake_front = D.classifier[0].front(fake)
    h_real = body(fb)
    loss_d = (bce(head(h_real).squeeze(1), torch.ones(len(xb), device=dev))
              + bce(head(body(fake_front.detach())).squeeze(1), torch.zeros(len(xb), device=dev)))
    h_fake = body(fake_front)
    fm = feature_matching(h_real.detach(), h_fake, cfg.feature_matching == "per_sample" and cfg.latent_input == "vae")
    loss_g = _with_vae_terms(cfg, bce(head(h_fake).squeeze(1), torch.ones(len(xb), device=dev)) + 0.5 * cfg.beta * fm,
                             xb, fake, mu, logvar)
    optimizer_step(loss_g, opt_g)
    losses = {"detector": float(loss_d.detach()), "generator": float(loss_g.detach())}
    return losses, _outliers(cfg, xb, E, G, gen), loss_d


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
        C = ScatResNet(n_classes, cfg.width, cfg.scattering, cfg.arch).to(dev)
        ft = torch.from_numpy(infer(C.front_end, xt, 256, dev))  # cached scattering (fixed, no parameters)
        shared = use_gan and cfg.discriminator == "shared"
        E = G = D = opt_d = None
        if use_gan:
            E, G = VAEEncoder(width=cfg.width).to(dev), Generator(width=cfg.width).to(dev)
            D = SharedDetector(C).to(dev) if shared else Detector(cfg.width).to(dev)
            if not shared:
                opt_d = make_optimizer(D.parameters(), "adam", lr=cfg.gan_lr, betas=(0.5, 0.999))
            opt_g = make_optimizer([*E.parameters(), *G.parameters()], "adam", lr=cfg.gan_lr, betas=(0.5, 0.999))
        opt_c = make_optimizer([*C.parameters(), *(D.parameters() if shared else ())], "adam", lr=cfg.lr)

        def step(idx: torch.Tensor) -> dict[str, float]:
            xb, fb, yb = xt[idx].to(dev), ft[idx].to(dev), yt[idx].to(dev)
            conf = torch.zeros((), device=dev)
            gan_losses = {"detector": 0.0, "generator": 0.0}
            logits_real = None
            detection = torch.zeros((), device=dev)
            if shared:  # the shared discriminator learns detection with the classification
                gan_losses, outliers, detection = _shared_gan_step(cfg, xb, fb, E, G, D, opt_g, gen)
            elif use_gan:
                gan_losses, outliers = _gan_step(cfg, xb, E, G, D, opt_d, opt_g, gen)
            if use_gan:
                if cfg.confident != "none" and cfg.outlier_batchnorm == "joint":  # one batch-norm batch
                    both = C.head(torch.cat([fb, C.front_end(outliers)]))
                    logits_real, logits_out = both[: len(fb)], both[len(fb):]
                    conf = confident_loss(logits_out, cfg.confident, cfg.blur)
                elif cfg.confident != "none":
                    conf = confident_loss(C.head(C.front_end(outliers)), cfg.confident, cfg.blur)
            ce = nn.functional.cross_entropy(C.head(fb) if logits_real is None else logits_real, yb)
            optimizer_step(ce + cfg.lam * conf + detection, opt_c)
            return {"classifier": float(ce.detach()), "confident": float(conf.detach()), **gan_losses}

        log = train_loop(step, len(xt), cfg.epochs, cfg.batch_size, gen, min_batch=2, model=C, desc=desc)
        recalibrate_batchnorm(C, ft, cfg.batch_size, dev, forward=C.head)
    hist = {k: log.metrics.get(k, []) for k in ("classifier", "confident", "detector", "generator")}
    return TrainedSystem(cfg, C.eval(), G, E, hist, dev, None if D is None else D.eval())


def logits_of(system: TrainedSystem, x: np.ndarray, batch_size: int = 256) -> np.ndarray:
    """Classifier logits (n, K) of images ``x``."""
    C = system.classifier.eval()
    return infer(C, x, batch_size, system.device)


def detector_score(system: TrainedSystem, x: np.ndarray, batch_size: int = 256) -> np.ndarray | None:
    """OOD score (n,) of the system's real/fake detector: minus its "real" logit (higher = judged
    generated = more unknown); ``None`` for a system without one."""
    if system.detector is None:
        return None
    system.classifier.eval()
    return -infer(system.detector.eval(), x, batch_size, system.device).astype(np.float64)


def scores(logits: np.ndarray, blur: float = 0.05) -> dict[str, np.ndarray]:
    """OOD scores (higher = more OOD), float64 (n,): ``"max-softmax"`` (:func:`oodlib.scores.msp`,
    minus the max probability, computed in float64) and ``"sinkhorn"`` (GeomLoss ``blur``)."""
    t = torch.as_tensor(logits, dtype=torch.float32)
    return {"max-softmax": msp(logits), "sinkhorn": sinkhorn_score(t, blur).numpy().astype(np.float64)}
