"""ESPNet (Mehta et al., ECCV 2018): a small Cityscapes-trained semantic segmenter, and its encoder ESPNet-C.

Written from the paper and the authors' public description so that the released state dicts
(``espnet_p_2_q_8_decoder.pth``, 189 tensors; ``espnet_p_2_q_8_encoder.pth``, 154 tensors) load
**strictly**. Building blocks (every convolution without bias; BatchNorm ``eps=1e-3``; PReLU):

* **ESP module** (efficient spatial pyramid): a 1x1 (or, downsampling, 3x3 stride-2) reduction to
  ``n = out // 5`` channels, five parallel 3x3 convolutions with dilations 1, 2, 4, 8, 16 (the first
  to ``out - 4n`` channels), *hierarchical feature fusion* (the dilated outputs are summed
  cumulatively, d2, d2+d4, d2+d4+d8, ... before concatenation), an optional residual, BN + PReLU.
* **Encoder (ESPNet-C)**: a 3x3 stride-2 conv to 16 channels; the input image average-pooled to 1/2
  and 1/4 and concatenated back at each level ("input reinforcement"); a downsampling ESP to 64 then
  ``p`` ESP modules at stride 4; a downsampling ESP to 128 then ``q`` ESP modules at stride 8; a 1x1
  classifier on the 256 concatenated channels.
* **Decoder (ESPNet)**: the encoder's stride-8 logits, upsampled by a 2x2 transposed convolution,
  merged with a 1x1 projection of the stride-4 features through an ESP module, upsampled again,
  merged with the stride-2 features by a 3x3 conv, and a last 2x2 transposed convolution to full
  resolution.

Outputs have 20 channels: the 19 Cityscapes train ids (:data:`oodlib.data.segmentation.CITYSCAPES_CLASSES`)
and an extra background / ignore class (index 19).

**Input normalisation** (the authors' code, reproduced exactly): the image in **BGR** order and
0-255 units, minus the per-channel mean :data:`MEAN_BGR`, divided by :data:`STD_BGR`, **then divided
by 255** (:func:`normalize`). Input sides must be multiples of 8 (the decoder's transposed
convolutions double exactly).

Probes (:data:`PROBES`): ``"level1"`` (16 ch, stride 2), ``"stage2"`` (131 ch, stride 4: the
concatenation after the ``p`` stride-4 modules, the input the decoder projects), ``"stage3"`` (256 ch,
stride 8: the last encoder stage, before the classifier). ESPNet has no stride-16 stage; its deepest
features are at stride 8. :meth:`PretrainedSegmenter.probe` average-pools the finer two to stride 8 by
default, so every depth is searched on the same grid.
"""

from __future__ import annotations

from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from .beats import file_sha256, load_weights

N_CLASSES = 20  # 19 Cityscapes train ids + background/ignore
BACKGROUND = 19
MEAN_BGR = (72.3923111, 82.90893555, 73.15840149)  # the authors' Cityscapes statistics (0-255 units, BGR)
STD_BGR = (45.3192215, 46.15289307, 44.91483307)
STRIDE = 8
PROBES = ("level1", "stage2", "stage3")
PROBE_STRIDES = {"level1": 2, "stage2": 4, "stage3": 8}
VARIANTS = ("espnet", "espnet_c")
#: the released files this module knows, by name: (variant, sha256)
RELEASES = {
    "espnet_p_2_q_8_decoder.pth": ("espnet", "343b0e77e8545d36113c4f3efbf1ee349256f25c97c9f9d5ddefe45f2f49763e"),
    "espnet_p_2_q_8_encoder.pth": ("espnet_c", "836f28a2a31bd4fc8997001ab6b620d1f9b7b274a03b32d9f3a95c17a011b438"),
}
WEIGHTS_ORIGIN = ("ESPNet p=2, q=8 (Mehta et al., ECCV 2018), trained on Cityscapes by the authors "
                  "(sacmehta/ESPNet, pretrained/{decoder,encoder}), MIT licence")


def normalize(images: torch.Tensor) -> torch.Tensor:
    """RGB (B, 3, H, W) in [0, 1] -> the authors' input: BGR, ``(255 x - mean) / std / 255``."""
    bgr = images.flip(1) * 255.0
    mean = torch.tensor(MEAN_BGR, device=images.device, dtype=images.dtype).view(1, 3, 1, 1)
    std = torch.tensor(STD_BGR, device=images.device, dtype=images.dtype).view(1, 3, 1, 1)
    return (bgr - mean) / std / 255.0


class BR(nn.Sequential):
    """BatchNorm (eps 1e-3) + PReLU: keys ``bn.*``, ``act.weight``."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.bn = nn.BatchNorm2d(channels, eps=1e-3)
        self.act = nn.PReLU(channels)


class Conv(nn.Module):
    """A bias-free ``k x k`` convolution with 'same' padding (times the dilation): key ``conv.weight``."""

    def __init__(self, cin: int, cout: int, k: int, stride: int = 1, dilation: int = 1) -> None:
        super().__init__()
        self.conv = nn.Conv2d(cin, cout, k, stride=stride, padding=(k - 1) // 2 * dilation, dilation=dilation,
                              bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv(x)


class CBR(nn.Module):
    """Conv + BatchNorm + PReLU: keys ``conv.weight``, ``bn.*``, ``act.weight``."""

    def __init__(self, cin: int, cout: int, k: int, stride: int = 1) -> None:
        super().__init__()
        self.conv = nn.Conv2d(cin, cout, k, stride=stride, padding=(k - 1) // 2, bias=False)
        self.bn = nn.BatchNorm2d(cout, eps=1e-3)
        self.act = nn.PReLU(cout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.act(self.bn(self.conv(x)))


class ESP(nn.Module):
    """The ESP module: reduce, five dilated 3x3 branches, hierarchical fusion, (residual), BN + PReLU.

    ``down=True`` is the downsampling variant (3x3 stride-2 reduction, no residual, its BN and PReLU
    stored as ``bn``/``act``); otherwise a 1x1 reduction, a residual when ``residual`` and the BN +
    PReLU stored as ``bn.bn``/``bn.act``. (B, cin, H, W) -> (B, cout, H/s, W/s).
    """

    def __init__(self, cin: int, cout: int, down: bool = False, residual: bool = True) -> None:
        super().__init__()
        n = cout // 5
        self.down, self.residual = down, residual and not down
        self.c1 = Conv(cin, n, 3, stride=2) if down else Conv(cin, n, 1)
        self.d1 = Conv(n, cout - 4 * n, 3, dilation=1)
        self.d2, self.d4, self.d8, self.d16 = (Conv(n, n, 3, dilation=d) for d in (2, 4, 8, 16))
        if down:
            self.bn = nn.BatchNorm2d(cout, eps=1e-3)
            self.act = nn.PReLU(cout)
        else:
            self.bn = BR(cout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        r = self.c1(x)
        add1 = self.d2(r)
        add2 = add1 + self.d4(r)
        add3 = add2 + self.d8(r)
        add4 = add3 + self.d16(r)
        out = torch.cat([self.d1(r), add1, add2, add3, add4], 1)
        if self.residual:
            out = x + out
        return self.act(self.bn(out)) if self.down else self.bn(out)


def _pool(x: torch.Tensor, times: int) -> torch.Tensor:
    """Average-pool (3x3, stride 2, padding 1) ``times`` times: the input reinforcement."""
    for _ in range(times):
        x = F.avg_pool2d(x, 3, stride=2, padding=1)
    return x


class ESPNetC(nn.Module):
    """The ESPNet-C encoder (p modules at stride 4, q at stride 8); logits at stride 8.

    Key names as the released encoder: ``level1``, ``b1``, ``level2_0``, ``level2.{i}``, ``b2``,
    ``level3_0``, ``level3.{i}``, ``b3``, ``classifier``.
    """

    def __init__(self, n_classes: int = N_CLASSES, p: int = 2, q: int = 8) -> None:
        super().__init__()
        self.level1 = CBR(3, 16, 3, stride=2)
        self.b1 = BR(16 + 3)
        self.level2_0 = ESP(16 + 3, 64, down=True)
        self.level2 = nn.ModuleList(ESP(64, 64) for _ in range(p))
        self.b2 = BR(128 + 3)
        self.level3_0 = ESP(128 + 3, 128, down=True)
        self.level3 = nn.ModuleList(ESP(128, 128) for _ in range(q))
        self.b3 = BR(256)
        self.classifier = Conv(256, n_classes, 1)

    def features(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        """Normalised input (B, 3, H, W) -> ``{"level1", "stage2", "stage3"}`` (strides 2, 4, 8)."""
        out0 = self.level1(x)
        s2 = self.level2_0(self.b1(torch.cat([out0, _pool(x, 1)], 1)))
        y = s2
        for layer in self.level2:
            y = layer(y)
        stage2 = self.b2(torch.cat([y, s2, _pool(x, 2)], 1))
        s3 = self.level3_0(stage2)
        y = s3
        for layer in self.level3:
            y = layer(y)
        return {"level1": out0, "stage2": stage2, "stage3": self.b3(torch.cat([s3, y], 1))}


class ESPNet(nn.Module):
    """ESPNet-C plus the light decoder (keys ``encoder.*``, ``level3_C``, ``br``, ``up_l3``,
    ``combine_l2_l3``, ``up_l2``, ``conv``, ``classifier``); logits at full resolution."""

    def __init__(self, n_classes: int = N_CLASSES, p: int = 2, q: int = 8) -> None:
        super().__init__()
        self.encoder = ESPNetC(n_classes, p, q)
        self.level3_C = Conv(128 + 3, n_classes, 1)
        self.br = nn.BatchNorm2d(n_classes, eps=1e-3)
        self.conv = CBR(16 + n_classes, n_classes, 3)
        self.up_l3 = nn.Sequential(nn.ConvTranspose2d(n_classes, n_classes, 2, stride=2, bias=False))
        self.combine_l2_l3 = nn.Sequential(BR(2 * n_classes), ESP(2 * n_classes, n_classes, residual=False))
        self.up_l2 = nn.Sequential(nn.ConvTranspose2d(n_classes, n_classes, 2, stride=2, bias=False), BR(n_classes))
        self.classifier = nn.ConvTranspose2d(n_classes, n_classes, 2, stride=2, bias=False)

    def decode(self, f: dict[str, torch.Tensor]) -> torch.Tensor:
        """Encoder features -> full-resolution logits (B, K, H, W)."""
        up3 = self.up_l3(self.br(self.encoder.classifier(f["stage3"])))
        merged = self.up_l2(self.combine_l2_l3(torch.cat([self.level3_C(f["stage2"]), up3], 1)))
        return self.classifier(self.conv(torch.cat([merged, f["level1"]], 1)))


class PretrainedSegmenter(nn.Module):
    """ESPNet or ESPNet-C behind P5's segmenter interface (``forward``, ``grid_logits``, ``probe``).

    Images are RGB (B, 3, H, W) in [0, 1] with H, W multiples of 8; :func:`normalize` is applied here.
    ESPNet-C's stride-8 logits are upsampled bilinearly (as its authors evaluate it).
    """

    def __init__(self, variant: str = "espnet", p: int = 2, q: int = 8) -> None:
        super().__init__()
        if variant not in VARIANTS:
            raise ValueError(f"ESPNet variant must be one of {VARIANTS}, got {variant!r}")
        self.variant = variant
        self.net = ESPNet(N_CLASSES, p, q) if variant == "espnet" else ESPNetC(N_CLASSES, p, q)
        self.stride = STRIDE

    @property
    def encoder(self) -> ESPNetC:
        return self.net.encoder if isinstance(self.net, ESPNet) else self.net

    def _check(self, images: torch.Tensor) -> None:
        if images.ndim != 4 or images.shape[1] != 3 or images.shape[-1] % STRIDE or images.shape[-2] % STRIDE:
            raise ValueError(f"ESPNet expects images (B, 3, H, W) with H and W multiples of {STRIDE}, "
                             f"got {tuple(images.shape)}")

    def _logits(self, f: dict[str, torch.Tensor], size: tuple[int, int]) -> torch.Tensor:
        if isinstance(self.net, ESPNet):
            return self.net.decode(f)
        return F.interpolate(self.net.classifier(f["stage3"]), size=size, mode="bilinear", align_corners=False)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        """(B, 3, H, W) in [0, 1] -> logits (B, 20, H, W)."""
        self._check(images)
        return self._logits(self.encoder.features(normalize(images)), images.shape[-2:])

    def grid_logits(self, images: torch.Tensor) -> torch.Tensor:
        """The stride-8 encoder logits (B, 20, H/8, W/8)."""
        self._check(images)
        return self.encoder.classifier(self.encoder.features(normalize(images))["stage3"])

    def probe(self, images: torch.Tensor, names: tuple[str, ...] = PROBES,
              grid_stride: int | None = STRIDE) -> dict[str, torch.Tensor]:
        """``{name: (B, C, H/g, W/g)}`` for each probe in ``names`` plus ``"logits"`` (B, 20, H, W).

        ``grid_stride`` (default 8): finer probes are average-pooled to that stride, so every probe
        lives on one grid (the kNN search then costs the same number of queries per depth);
        ``None`` keeps each probe at its own stride (:data:`PROBE_STRIDES`).
        """
        unknown = set(names) - set(PROBES)
        if unknown:
            raise ValueError(f"ESPNet probes are {PROBES}; got {sorted(unknown)}")
        self._check(images)
        f = self.encoder.features(normalize(images))
        out = {}
        for n in names:
            pool = 1 if grid_stride is None else grid_stride // PROBE_STRIDES[n]
            out[n] = F.avg_pool2d(f[n], pool) if pool > 1 else f[n]
        return {**out, "logits": self._logits(f, images.shape[-2:])}


#: BatchNorm's step counter, absent from the 2018 release (saved before PyTorch 0.4.1 added it): it has
#: no effect in eval mode, and ``load_state_dict`` fills it in for such files
_UNTRACKED = "num_batches_tracked"


def load_espnet(path: str | Path, variant: str | None = None, device: str | torch.device = "cpu") -> PretrainedSegmenter:
    """A pretrained ESPNet (``variant="espnet"``) or ESPNet-C (``"espnet_c"``), loaded strictly, in eval mode.

    ``variant=None`` takes it from a released file name (:data:`RELEASES`), otherwise from the keys
    (``encoder.*`` means the full model). A released file must have the release's sha256. Reads with
    ``weights_only=True`` (no code runs). Raises ``FileNotFoundError`` for a missing file and
    ``ValueError`` naming the file for a wrong hash, a file that is not a plain state dict, or
    missing / unexpected keys or wrong shapes (BatchNorm's ``num_batches_tracked`` counters, which the
    release predates, may be present or absent).
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"ESPNet checkpoint {path} does not exist")
    release = RELEASES.get(path.name)
    if release is not None and (got := file_sha256(path)) != release[1]:
        raise ValueError(f"ESPNet checkpoint {path}: sha256 {got} differs from the release's {release[1]}")
    state = load_weights(path, "cpu", what="ESPNet checkpoint")
    if not isinstance(state, dict) or not state or not all(isinstance(v, torch.Tensor) for v in state.values()):
        raise ValueError(f"ESPNet checkpoint {path}: expected a plain state dict (name -> tensor), "
                         f"got {type(state).__name__}")
    if variant is None:
        variant = release[0] if release else ("espnet" if any(k.startswith("encoder.") for k in state) else "espnet_c")
    model = PretrainedSegmenter(variant)
    own = {k: v for k, v in model.net.state_dict().items() if not k.endswith(_UNTRACKED)}
    theirs = {k for k in state if not k.endswith(_UNTRACKED)}
    missing, unexpected = sorted(set(own) - theirs), sorted(theirs - set(own))
    shapes = [f"{k}: file {tuple(state[k].shape)} vs model {tuple(own[k].shape)}"
              for k in own if k in state and state[k].shape != own[k].shape]
    if missing or unexpected or shapes:
        raise ValueError(f"ESPNet checkpoint {path} does not match the {variant} (p=2, q=8) architecture: "
                         f"missing keys {missing[:5]}{'...' if len(missing) > 5 else ''} ({len(missing)}), "
                         f"unexpected keys {unexpected[:5]} ({len(unexpected)}), shape mismatches {shapes[:5]}")
    model.net.load_state_dict(state, strict=True)
    return model.to(device).eval()
