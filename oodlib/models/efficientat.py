"""EfficientAT ``mn04_as`` (Schmid et al., ICASSP 2023): a small AudioSet-pretrained audio tagger.

Written from the model's description so that the released ``mn04_as_mAP_432.pt`` state dict loads
**strictly**. The network is torchvision's MobileNetV3 ("mobilenet_v3_large" blocks at width 0.4,
:func:`torchvision.models.mobilenetv3._mobilenet_v3_conf`) with three changes:

* the stem convolution takes one channel (a log-mel "image"): ``features.0.0.weight`` (8, 1, 3, 3);
* squeeze-excitation layers are ``block.2.conc_se_layers.0.fc{1,2}``, ``nn.Linear`` layers on the
  channel axis (torchvision: ``block.2.fc{1,2}``, 1x1 convolutions; the same computation);
* the head is ``pool, flatten, Linear(384, 512), Hardswish, Dropout, Linear(512, 527)``, so the two
  Linear layers sit at ``classifier.2`` and ``classifier.5``; outputs are logits of the 527
  AudioSet classes (multi-label: apply a sigmoid for probabilities).

Input (:class:`LogMel`): 32 kHz mono waveforms, pre-emphasis 0.97, a 1024-point STFT with an 800-
sample Hann window every 320 samples (10 ms), power spectrum, 128 Kaldi-style mel bands from 0 to
15 kHz, ``log(mel + 1e-5)``, then ``(x + 4.5) / 5``. The network sees (B, 1, 128 mel, frames):
**mel on the height axis, time on the width axis**; every stage's output is (B, C, F', T').

Feature stages (:attr:`EfficientAT.n_layers` = 17, every entry of ``features``): the stem, the 15
inverted-residual blocks and the last 1x1 convolution. The stem and four blocks halve both axes
(total stride 32): a 10 s clip (1000 frames) ends as a (T', F', C) = (32, 4, 384) grid.
"""

from __future__ import annotations

import contextlib
import csv
import math
from functools import partial
from pathlib import Path

import torch
import torch.nn.functional as F
import torchaudio.compliance.kaldi as kaldi
from torch import nn
from torchvision.models.mobilenetv3 import InvertedResidual, _mobilenet_v3_conf
from torchvision.ops.misc import Conv2dNormActivation

from ..seeding import seeded
from .beats import file_sha256, load_weights  # noqa: F401  (file_sha256 re-exported)

SAMPLE_RATE = 32000
N_MELS = 128
N_FFT = 1024
WIN_LENGTH = 800
HOP = 320
PREEMPHASIS = 0.97
FMIN, FMAX = 0.0, SAMPLE_RATE / 2 - 1000  # 15 kHz, as EfficientAT (fmax_aug_range 2000, halved)
LOG_OFFSET = 1e-5
WIDTH_MULT = 0.4
N_CLASSES = 527
TOTAL_STRIDE = 32

WEIGHTS_DIR = Path(__file__).resolve().parents[1] / "weights" / "efficientat_mn04_as"
WEIGHTS_FILE = WEIGHTS_DIR / "mn04_as_mAP_432.pt"
LABELS_FILE = WEIGHTS_DIR / "audioset_class_labels_indices.csv"
#: sha256 of the released checkpoints this module knows, by file name.
KNOWN_SHA256 = {"mn04_as_mAP_432.pt": "899a8c6217063f6941793102a2780b3dd788ab11fce468d9cf5f0577c453321c"}
WEIGHTS_ORIGIN = ("EfficientAT mn04_as (MobileNetV3 width 0.4, Schmid et al., ICASSP 2023), MIT licence, "
                  f"AudioSet mAP 0.432, sha256 {KNOWN_SHA256['mn04_as_mAP_432.pt']}")


# ----------------------------------------------------------------------------- input features
def mel_frames(n_samples: int) -> int:
    """Frames of :class:`LogMel` for ``n_samples`` at 32 kHz: ``1 + (n_samples - 1) // 320`` (the
    pre-emphasis drops one sample, the centred STFT adds one frame); 100 for 1 s, 1000 for 10 s."""
    return 1 + (int(n_samples) - 1) // HOP


class LogMel(nn.Module):
    """EfficientAT's log-mel input, deterministic (no training-time augmentation).

    ``(B, samples)`` float waveforms in [-1, 1] at 32 kHz -> ``(B, 128, frames)`` with frames =
    :func:`mel_frames` (samples); values are ``(log(mel power + 1e-5) + 4.5) / 5``, so digital
    silence maps to ``(log(1e-5) + 4.5) / 5`` = -1.40.
    """

    def __init__(self) -> None:
        super().__init__()
        banks, _ = kaldi.get_mel_banks(N_MELS, N_FFT, float(SAMPLE_RATE), FMIN, FMAX, 100.0, -500.0, 1.0)
        # (128, 512) over FFT bins 0..511; the Nyquist bin 512 gets weight 0
        self.register_buffer("mel_banks", F.pad(banks, (0, 1)), persistent=False)
        self.register_buffer("window", torch.hann_window(WIN_LENGTH, periodic=False), persistent=False)

    def forward(self, waveforms: torch.Tensor) -> torch.Tensor:
        if waveforms.ndim != 2:
            raise ValueError(f"waveforms must have shape (batch, samples), got {tuple(waveforms.shape)}")
        if waveforms.shape[1] <= N_FFT // 2:
            raise ValueError(f"clips must be longer than {N_FFT // 2} samples at 32 kHz, got {waveforms.shape[1]}")
        x = waveforms.float()
        x = x[:, 1:] - PREEMPHASIS * x[:, :-1]  # (B, samples - 1)
        spec = torch.stft(x, N_FFT, hop_length=HOP, win_length=WIN_LENGTH, window=self.window, center=True,
                          return_complex=True)  # (B, 513, frames)
        mel = self.mel_banks @ spec.abs().square()  # (B, 128, frames)
        return (torch.log(mel + LOG_OFFSET) + 4.5) / 5.0


# ----------------------------------------------------------------------------- network
class ChannelSE(nn.Module):
    """Squeeze-excitation over channels with Linear layers: mean over (F, T), fc1, ReLU, fc2,
    hard sigmoid, rescale. (B, C, F, T) -> (B, C, F, T)."""

    def __init__(self, channels: int, squeeze: int) -> None:
        super().__init__()
        self.fc1 = nn.Linear(channels, squeeze)
        self.fc2 = nn.Linear(squeeze, channels)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        gate = F.hardsigmoid(self.fc2(F.relu(self.fc1(x.mean(dim=(2, 3))))))
        return x * gate[:, :, None, None]


class ConcurrentSE(nn.Module):
    """EfficientAT's container of squeeze-excitation layers; ``mn04_as`` has one (channel) layer,
    so the container's aggregation (an element-wise max over layers) is that layer's output."""

    def __init__(self, channels: int, squeeze: int) -> None:
        super().__init__()
        self.conc_se_layers = nn.ModuleList([ChannelSE(channels, squeeze)])

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.stack([se(x) for se in self.conc_se_layers]).amax(dim=0)


class EfficientAT(nn.Module):
    """EfficientAT ``mn04_as``: waveforms (B, samples) at 32 kHz -> AudioSet logits (B, 527).

    Build with :func:`load_efficientat` (pretrained) or ``EfficientAT(seed=...)`` (random weights,
    PyTorch's default initialisation). Always in eval mode after construction (BatchNorm uses its
    running statistics); :meth:`forward` keeps gradients, :meth:`layer_grids` does not.
    """

    def __init__(self, seed: int | None = None) -> None:
        super().__init__()
        blocks, last_channel = _mobilenet_v3_conf("mobilenet_v3_large", width_mult=WIDTH_MULT)
        norm = partial(nn.BatchNorm2d, eps=0.001, momentum=0.01)
        with seeded(seed) if seed is not None else contextlib.nullcontext():
            stem = Conv2dNormActivation(1, blocks[0].input_channels, kernel_size=3, stride=2, norm_layer=norm,
                                        activation_layer=nn.Hardswish)
            last_in = blocks[-1].out_channels
            last = Conv2dNormActivation(last_in, 6 * last_in, kernel_size=1, norm_layer=norm,
                                        activation_layer=nn.Hardswish)
            self.features = nn.Sequential(stem, *[InvertedResidual(c, norm, ConcurrentSE) for c in blocks], last)
            self.classifier = nn.Sequential(
                nn.AdaptiveAvgPool2d(1), nn.Flatten(1), nn.Linear(6 * last_in, last_channel), nn.Hardswish(),
                nn.Dropout(0.2), nn.Linear(last_channel, N_CLASSES))
        self.strides = [2] + [c.stride for c in blocks] + [1]  # per feature stage, both axes
        self.channels = [blocks[0].input_channels] + [c.out_channels for c in blocks] + [6 * last_in]
        self.mel = LogMel()
        self.eval()

    @property
    def n_layers(self) -> int:
        """Feature stages exposed by :meth:`layer_grids`: stem + 15 blocks + last 1x1 conv = 17."""
        return len(self.features)

    def _device(self) -> torch.device:
        return next(self.parameters()).device

    def _input(self, waveforms: torch.Tensor) -> torch.Tensor:
        """(B, samples) -> (B, 1, 128 mel, frames) on the model's device."""
        return self.mel(waveforms.to(self._device())).unsqueeze(1)

    def forward(self, waveforms: torch.Tensor) -> torch.Tensor:
        """(B, samples) float waveforms at 32 kHz -> (B, 527) AudioSet logits."""
        return self.classifier(self.features(self._input(waveforms)))

    @torch.no_grad()
    def layer_grids(self, waveforms: torch.Tensor, n_layers: int | None = None) -> list[torch.Tensor]:
        """The outputs of feature stages 1..n_layers (default all 17) for (B, samples) 32 kHz waveforms.

        Each is **time-major** (B, T', F', C) like BEATs' token grids (the convolution gives
        (B, C, F', T'), mel on the height axis); shapes as :meth:`grid_shapes` predicts.
        """
        n = self.n_layers if n_layers is None else int(n_layers)
        if not 1 <= n <= self.n_layers:
            raise ValueError(f"n_layers must lie in 1..{self.n_layers}, got {n_layers}")
        x, outs = self._input(waveforms), []
        for stage in self.features[:n]:
            x = stage(x)
            outs.append(x.permute(0, 3, 2, 1))
        return outs

    def grid_shapes(self, n_samples: int) -> list[tuple[int, int, int]]:
        """(T', F', C) of every feature stage for a clip of ``n_samples`` at 32 kHz, without a forward
        pass: each stride-2 stage (3x3 or 5x5, 'same' padding) maps a length L to ceil(L / 2).
        Clips of a multiple of 10,240 samples (0.32 s) give exactly frames / 32 time steps at the end."""
        t, f, out = mel_frames(n_samples), N_MELS, []
        for stride, channels in zip(self.strides, self.channels):
            t, f = math.ceil(t / stride), math.ceil(f / stride)
            out.append((t, f, channels))
        return out


# ----------------------------------------------------------------------------- loading
def check_state_dict(model: nn.Module, state: object, source: str) -> None:
    """Raise ``ValueError`` naming ``source`` unless ``state`` has exactly the model's names and shapes."""
    if not isinstance(state, dict) or not all(isinstance(v, torch.Tensor) for v in state.values()):
        raise ValueError(f"{source}: expected a plain state dict (name -> tensor), got {type(state).__name__}")
    own = model.state_dict()
    missing, unexpected = sorted(set(own) - set(state)), sorted(set(state) - set(own))
    shapes = [f"{k}: file {tuple(state[k].shape)} vs model {tuple(own[k].shape)}"
              for k in own if k in state and state[k].shape != own[k].shape]
    if missing or unexpected or shapes:
        raise ValueError(f"{source} does not match the EfficientAT mn04_as architecture: "
                         f"missing keys {missing}, unexpected keys {unexpected}, shape mismatches {shapes}")


def load_efficientat(path: str | Path | None = None, device: str | torch.device = "cpu") -> EfficientAT:
    """EfficientAT ``mn04_as`` with pretrained weights, loaded strictly, in eval mode on ``device``.

    ``path=None`` loads the vendored copy (``oodlib/weights/efficientat_mn04_as/``). A file with a
    known release name (``mn04_as_mAP_432.pt``) must have that release's sha256. Raises
    ``FileNotFoundError`` for a missing file and ``ValueError`` naming the file for a wrong hash, a
    file that is not a plain state dict, or missing / unexpected keys or wrong shapes.
    """
    path = Path(path) if path is not None else WEIGHTS_FILE
    if not path.is_file():
        raise FileNotFoundError(f"EfficientAT checkpoint {path} does not exist")
    expected = KNOWN_SHA256.get(path.name)
    if expected is not None and (got := file_sha256(path)) != expected:
        raise ValueError(f"EfficientAT checkpoint {path}: sha256 {got} differs from the release's {expected}")
    state = load_weights(path, "cpu", what="EfficientAT checkpoint")
    model = EfficientAT()
    check_state_dict(model, state, f"EfficientAT checkpoint {path}")
    model.load_state_dict(state, strict=True)
    return model.to(device).eval()


def audioset_labels() -> list[str]:
    """The 527 AudioSet display names in output-index order (the vendored ontology CSV, CC BY 4.0)."""
    with open(LABELS_FILE, newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    if [int(r["index"]) for r in rows] != list(range(N_CLASSES)):
        raise ValueError(f"{LABELS_FILE}: expected indices 0..{N_CLASSES - 1} in order")
    return [r["display_name"] for r in rows]
