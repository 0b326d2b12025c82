"""P4's networks on 1 x 32 x 32 spectrograms (paper Sec. 3.2).

* :class:`VAEEncoder`: two 4x4 convolutions (stride 2, ReLU) and two linear heads
  giving the mean and log-variance of a 20-d latent; :func:`reparameterize`
  samples ``mu + exp(logvar / 2) * eps``; :func:`kl_divergence` is eq. 6,
  ``KL(N(mu, sigma^2) || N(0, I)) = 0.5 * sum(mu^2 + sigma^2 - log sigma^2 - 1)``.
* :class:`Generator`: latent -> 128 x 4 x 4 -> three 4x4 transposed convolutions
  (stride 2, LeakyReLU 0.2) -> 1 x 32 x 32 in [-1, 1] (tanh).
* :class:`Detector`: three 4x4 convolutions (stride 2, LeakyReLU 0.2) -> one logit
  (real vs generated); ``features`` is its last convolutional map (feature matching, eq. 8).
* :class:`ScatResNet`: a ResNet-18-like classifier whose first block is a
  2-layer Morlet scattering transform (kymatio, J = 2, L = 8: 81 channels at
  8 x 8), then ResNet basic blocks, 4x4 average pooling with stride 4 and a
  linear layer. ``scattering=False`` gives the plain ResNet of the conventional
  systems (a convolutional stem down to 8 x 8 instead of the scattering).
"""

from __future__ import annotations

import torch
from torch import nn

LATENT = 20


def reparameterize(mu: torch.Tensor, logvar: torch.Tensor, eps: torch.Tensor | None = None) -> torch.Tensor:
    """``mu + exp(logvar / 2) * eps`` with ``eps ~ N(0, I)`` unless given; differentiable in mu and logvar."""
    if eps is None:
        eps = torch.randn_like(mu)
    return mu + torch.exp(0.5 * logvar) * eps


def kl_divergence(mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """Mean over the batch of ``0.5 * sum(mu^2 + exp(logvar) - logvar - 1)`` (eq. 6)."""
    return 0.5 * (mu.pow(2) + logvar.exp() - logvar - 1).sum(dim=1).mean()


class VAEEncoder(nn.Module):
    """(n, 1, 32, 32) -> (mu, logvar), each (n, latent)."""

    def __init__(self, latent: int = LATENT, width: int = 32):
        super().__init__()
        self.conv = nn.Sequential(nn.Conv2d(1, width, 4, 2, 1), nn.ReLU(), nn.Conv2d(width, 2 * width, 4, 2, 1),
                                  nn.ReLU(), nn.Flatten())
        self.mu = nn.Linear(2 * width * 8 * 8, latent)
        self.logvar = nn.Linear(2 * width * 8 * 8, latent)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        h = self.conv(x)
        return self.mu(h), self.logvar(h)


class Generator(nn.Module):
    """(n, latent) -> (n, 1, 32, 32) in [-1, 1]."""

    def __init__(self, latent: int = LATENT, width: int = 32):
        super().__init__()
        self.width = width
        self.fc = nn.Linear(latent, 4 * width * 4 * 4)
        self.net = nn.Sequential(
            nn.LeakyReLU(0.2), nn.ConvTranspose2d(4 * width, 2 * width, 4, 2, 1), nn.LeakyReLU(0.2),
            nn.ConvTranspose2d(2 * width, width, 4, 2, 1), nn.LeakyReLU(0.2),
            nn.ConvTranspose2d(width, 1, 4, 2, 1), nn.Tanh())

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.net(self.fc(z).view(-1, 4 * self.width, 4, 4))


class Detector(nn.Module):
    """(n, 1, 32, 32) -> real/generated logit (n,); ``features`` (n, 4 * width, 4, 4)."""

    def __init__(self, width: int = 32):
        super().__init__()
        self.conv = nn.Sequential(nn.Conv2d(1, width, 4, 2, 1), nn.LeakyReLU(0.2),
                                  nn.Conv2d(width, 2 * width, 4, 2, 1), nn.LeakyReLU(0.2),
                                  nn.Conv2d(2 * width, 4 * width, 4, 2, 1), nn.LeakyReLU(0.2))
        self.out = nn.Linear(4 * width * 4 * 4, 1)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv(x)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.out(self.features(x).flatten(1)).squeeze(1)


class BasicBlock(nn.Module):
    """ResNet basic block: two 3x3 convolutions with batch norm and a (projected) shortcut."""

    def __init__(self, cin: int, cout: int, stride: int = 1):
        super().__init__()
        self.body = nn.Sequential(nn.Conv2d(cin, cout, 3, stride, 1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(),
                                  nn.Conv2d(cout, cout, 3, 1, 1, bias=False), nn.BatchNorm2d(cout))
        self.skip = (nn.Identity() if stride == 1 and cin == cout else
                     nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout)))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.relu(self.body(x) + self.skip(x))


class ScatteringFront(nn.Module):
    """Kymatio 2-D scattering (J=2, L=8, order 2) of (n, 1, 32, 32) -> (n, 81, 8, 8)."""

    def __init__(self, size: int = 32, J: int = 2, L: int = 8):
        super().__init__()
        from kymatio.torch import Scattering2D

        self.scattering = Scattering2D(J=J, shape=(size, size), L=L, max_order=2)
        self.channels = 1 + J * L + L * L * J * (J - 1) // 2

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        s = self.scattering(x.contiguous())  # (n, 1, C, H, W)
        return s.flatten(1, 2)


ARCHITECTURES = ("small", "resnet18")


class ScatResNet(nn.Module):
    """(n, 1, 32, 32) -> logits (n, n_classes); ``features`` is the pooled trunk vector.

    ``arch="small"`` (the CPU default): five basic blocks at widths ``width``-``4 * width`` on the
    8 x 8 maps, features ``4 * width``. ``arch="resnet18"``: ResNet-18's depth and widths, four
    stages of two basic blocks at 64, 128, 256, 512 channels (strides 1, 2, 2, 2), features 512;
    ``width`` is then unused. With ``scattering=True`` the trunk starts from the 81 scattering
    channels at 8 x 8; without, from a 3 x 3 convolution on the 32 x 32 log-mel (the conventional
    ResNet; ``"small"`` brings it to 8 x 8 with two strided blocks first).
    """

    def __init__(self, n_classes: int = 10, width: int = 32, scattering: bool = True, arch: str = "small"):
        super().__init__()
        if arch not in ARCHITECTURES:
            raise ValueError(f"arch must be one of {ARCHITECTURES}, got {arch!r}")
        w = width if arch == "small" else 64
        if scattering:
            self.front = ScatteringFront()
            stem = [nn.BatchNorm2d(self.front.channels), nn.Conv2d(self.front.channels, w, 3, 1, 1, bias=False),
                    nn.BatchNorm2d(w), nn.ReLU()]
        else:  # conventional ResNet stem (the small trunk also goes down to 8 x 8 first)
            self.front = nn.Identity()
            stem = [nn.Conv2d(1, w, 3, 1, 1, bias=False), nn.BatchNorm2d(w), nn.ReLU()]
            if arch == "small":
                stem += [BasicBlock(w, w, 2), BasicBlock(w, w, 2)]
        if arch == "small":
            blocks = [BasicBlock(w, w), BasicBlock(w, 2 * w), BasicBlock(2 * w, 2 * w), BasicBlock(2 * w, 4 * w, 2),
                      BasicBlock(4 * w, 4 * w), nn.AvgPool2d(4, 4)]
            out = 4 * w
        else:
            widths, blocks, cin = (64, 128, 256, 512), [], 64
            for i, cout in enumerate(widths):
                blocks += [BasicBlock(cin, cout, 1 if i == 0 else 2), BasicBlock(cout, cout)]
                cin = cout
            blocks.append(nn.AdaptiveAvgPool2d(1))
            out = 512
        self.body = nn.Sequential(*stem, *blocks, nn.Flatten())
        self.fc = nn.Linear(out, n_classes)

    @torch.no_grad()
    def front_end(self, x: torch.Tensor) -> torch.Tensor:
        """The fixed front end (scattering, or identity): cache it, it has no parameters."""
        return self.front(x)

    def head(self, f: torch.Tensor) -> torch.Tensor:
        """Logits from front-end outputs (the trainable part)."""
        return self.fc(self.body(f))

    def features(self, x: torch.Tensor) -> torch.Tensor:
        return self.body(self.front(x))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(self.features(x))
