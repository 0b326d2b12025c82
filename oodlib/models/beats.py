"""BEATs (Chen et al., ICML 2023): the audio transformer GenRep (P2) takes its features from.

Re-implemented from the paper and the public model description so that the official
checkpoints load **strictly**: a checkpoint is a dict ``{'cfg': {...}, 'model': state_dict}``
(fine-tuned ones add ``'label_dict'``), and the state-dict names are the official ones
(``patch_embedding``, ``layer_norm``, ``post_extract_proj``, ``encoder.pos_conv.0.weight_g/_v``,
``encoder.layers.{i}.self_attn.{q,k,v,out}_proj``, ``grep_linear``, ``grep_a``,
``relative_attention_bias``, ``self_attn_layer_norm``, ``fc1``, ``fc2``, ``final_layer_norm``,
``encoder.layer_norm``, ``predictor`` for fine-tuned models).

Pipeline for a batch of 16 kHz waveforms (:meth:`BEATs.layer_grids`):

1. :func:`beats_fbank`: waveform x 2^15, Kaldi fbank (128 mel bins, 25 ms Povey window, 10 ms
   shift), normalised as ``(fbank - 15.41663) / (2 * 6.55582)``: (B, frames, 128);
2. 16 x 16 patches (a strided convolution): (B, frames // 16, 8, embed_dim), flattened time-major;
3. LayerNorm, projection to the encoder width, convolutional position embedding, LayerNorm;
4. ``encoder_layers`` post-LN transformer blocks (DeepNorm residual scaling, gated relative
   position bias shared by all blocks).

Layer ``l`` (1-based) is the output of block ``l``, as in the GenRep reference code (which skips
the block input). A 10 s clip gives 998 frames, so 62 x 8 patches per layer.
"""

from __future__ import annotations

import contextlib
import hashlib

import math
import pickle
import warnings
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
import torchaudio.compliance.kaldi as kaldi
from torch import nn

from ..seeding import seeded
from .size import n_parameters  # noqa: F401  (re-exported: BEATs' 90M count)

FBANK_MEAN = 15.41663
FBANK_STD = 6.55582
SAMPLE_RATE = 16000
N_MELS = 128


def file_sha256(path: str | Path) -> str:
    """Hex sha256 of a file."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def load_weights(path: str | Path, map_location: str = "cpu", what: str = "checkpoint") -> Any:
    """``torch.load`` with ``weights_only=True``: tensors and plain containers only, so no code runs.

    Raises ``FileNotFoundError`` for a missing file and ``ValueError`` naming it for a file that
    holds other Python objects (refused without unpickling them) or is not a readable checkpoint.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{what} {path} does not exist")
    try:
        return torch.load(path, map_location=map_location, weights_only=True)
    except pickle.UnpicklingError as err:
        text = str(err)
        if "Weights only load failed" not in text:
            raise ValueError(f"{what} {path} is not a readable PyTorch checkpoint: {text.splitlines()[0]}") from None
        detail = next((ln.strip() for ln in text.splitlines() if "Unsupported global" in ln), "")
        detail = detail.split(" was not an allowed global")[0].replace("WeightsUnpickler error: ", "")
        raise ValueError(
            f"{what} {path} refused: it holds Python objects other than tensors and plain containers, which "
            f"could run code when loaded ({detail or 'torch.load(weights_only=True) rejected it'}). Official "
            "checkpoints hold only {'cfg': dict, 'model': state dict}; re-save a trusted file as such."
        ) from None
    except Exception as err:  # noqa: BLE001 - a malformed file can fail anywhere in the unpickler
        raise ValueError(
            f"{what} {path} is not a readable PyTorch checkpoint (truncated or another format): "
            f"{type(err).__name__}: {err}"
        ) from None


@dataclass
class BEATsConfig:
    """The checkpoint ``cfg`` fields (official names and defaults). Dropouts are kept for
    completeness; this implementation runs in inference mode and applies none of them."""

    input_patch_size: int = 16
    embed_dim: int = 512
    conv_bias: bool = False
    encoder_layers: int = 12
    encoder_embed_dim: int = 768
    encoder_ffn_embed_dim: int = 3072
    encoder_attention_heads: int = 12
    activation_fn: str = "gelu"
    layer_wise_gradient_decay_ratio: float = 1.0
    layer_norm_first: bool = False
    deep_norm: bool = False
    dropout: float = 0.1
    attention_dropout: float = 0.1
    activation_dropout: float = 0.0
    encoder_layerdrop: float = 0.0
    dropout_input: float = 0.0
    conv_pos: int = 128
    conv_pos_groups: int = 16
    relative_position_embedding: bool = False
    num_buckets: int = 320
    max_distance: int = 1280
    gru_rel_pos: bool = False
    finetuned_model: bool = False
    predictor_dropout: float = 0.1
    predictor_class: int = 527

    @classmethod
    def from_dict(cls, cfg: dict[str, Any]) -> "BEATsConfig":
        """Build from a checkpoint's ``cfg``; keys this architecture does not use are ignored
        (the official class stores them too), a value of the wrong type raises ``TypeError``."""
        known = {f.name: f for f in fields(cls)}
        kwargs = {}
        for key, value in cfg.items():
            if key not in known:
                continue
            default = getattr(cls, key)
            if isinstance(default, bool) and not isinstance(value, bool):
                raise TypeError(f"BEATs cfg[{key!r}] must be a bool, got {value!r}")
            if isinstance(default, (int, float)) and not isinstance(default, bool) and not isinstance(value, (int, float)):
                raise TypeError(f"BEATs cfg[{key!r}] must be a number, got {value!r}")
            kwargs[key] = value
        out = cls(**kwargs)
        if out.input_patch_size <= 0:
            out.input_patch_size = 16
        return out

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


#: The released BEATs checkpoints' configuration (iter3 / iter3+ / AS2M; fine-tuned ones add
#: ``finetuned_model=True``): 90M parameters, 12 blocks of width 768.
BEATS_BASE = BEATsConfig(
    input_patch_size=16, embed_dim=512, encoder_layers=12, encoder_embed_dim=768, encoder_ffn_embed_dim=3072,
    encoder_attention_heads=12, layer_wise_gradient_decay_ratio=0.6, deep_norm=True, relative_position_embedding=True,
    num_buckets=320, max_distance=800, gru_rel_pos=True,
)


def fbank_frames(n_samples: int) -> int:
    """Frames of :func:`beats_fbank` for a clip of ``n_samples`` at 16 kHz: 1 + (n - 400) // 160
    (25 ms windows every 10 ms, Kaldi ``snip_edges``); 998 for 10 s."""
    return 1 + (int(n_samples) - 400) // 160


def beats_fbank(waveforms: torch.Tensor) -> torch.Tensor:
    """BEATs' input features: (B, samples) float waveforms in [-1, 1] at 16 kHz -> (B, frames, 128),
    frames = :func:`fbank_frames` (samples)."""
    if waveforms.ndim != 2:
        raise ValueError(f"waveforms must have shape (batch, samples), got {tuple(waveforms.shape)}")
    if waveforms.shape[1] < 400:
        raise ValueError(f"clips must be at least 400 samples (25 ms at 16 kHz), got {waveforms.shape[1]}")
    banks = [kaldi.fbank(w.unsqueeze(0) * 2**15, num_mel_bins=N_MELS, sample_frequency=SAMPLE_RATE,
                         frame_length=25, frame_shift=10) for w in waveforms.float()]
    return (torch.stack(banks) - FBANK_MEAN) / (2 * FBANK_STD)


class SamePad(nn.Module):
    """Drop the last output step of an even-kernel 'same' convolution."""

    def __init__(self, kernel_size: int) -> None:
        super().__init__()
        self.remove = 1 if kernel_size % 2 == 0 else 0

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x[:, :, : -self.remove] if self.remove else x


def relative_position_buckets(length: int, num_buckets: int, max_distance: int) -> torch.Tensor:
    """(length, length) bucket ids of key - query offsets: exact up to num_buckets/4, then
    log-spaced up to ``max_distance``; positive and negative offsets get separate halves."""
    rel = torch.arange(length)[None, :] - torch.arange(length)[:, None]
    half = num_buckets // 2
    buckets = (rel > 0).long() * half
    rel = rel.abs()
    max_exact = half // 2
    large = max_exact + (torch.log(rel.float() / max_exact) / math.log(max_distance / max_exact)
                         * (half - max_exact)).long()
    large = torch.clamp(large, max=half - 1)
    return buckets + torch.where(rel < max_exact, rel, large)


class MultiheadAttention(nn.Module):
    """Self-attention with an optional gated relative position bias (official parameter names)."""

    def __init__(self, dim: int, heads: int, relative_bias: bool, num_buckets: int, max_distance: int,
                 gru_rel_pos: bool) -> None:
        super().__init__()
        if dim % heads:
            raise ValueError(f"encoder_embed_dim {dim} is not divisible by encoder_attention_heads {heads}")
        self.heads, self.head_dim = heads, dim // heads
        self.scaling = self.head_dim**-0.5
        self.num_buckets, self.max_distance = num_buckets, max_distance
        self.k_proj = nn.Linear(dim, dim)
        self.v_proj = nn.Linear(dim, dim)
        self.q_proj = nn.Linear(dim, dim)
        self.out_proj = nn.Linear(dim, dim)
        if relative_bias:
            self.relative_attention_bias = nn.Embedding(num_buckets, heads)
        self.gru_rel_pos = gru_rel_pos
        if gru_rel_pos:
            self.grep_linear = nn.Linear(self.head_dim, 8)
            self.grep_a = nn.Parameter(torch.ones(1, heads, 1, 1))

    def position_bias(self, length: int) -> torch.Tensor:
        """(heads, length, length) bias from the shared bucket embedding."""
        buckets = relative_position_buckets(length, self.num_buckets, self.max_distance)
        return self.relative_attention_bias(buckets.to(self.relative_attention_bias.weight.device)).permute(2, 0, 1)

    def forward(self, x: torch.Tensor, bias: torch.Tensor | None) -> torch.Tensor:
        """x: (B, L, dim); bias: (heads, L, L) or None -> (B, L, dim)."""
        b, n, _ = x.shape
        split = lambda t: t.view(b, n, self.heads, self.head_dim).transpose(1, 2)  # noqa: E731
        q, k, v = split(self.q_proj(x)), split(self.k_proj(x)), split(self.v_proj(x))
        logits = (q * self.scaling) @ k.transpose(-1, -2)  # (B, H, L, L)
        if bias is not None:
            if self.gru_rel_pos:
                gates = torch.sigmoid(self.grep_linear(q).view(b, self.heads, n, 2, 4).sum(-1))
                gate_a, gate_b = gates[..., :1], gates[..., 1:]
                logits = logits + (gate_a * (gate_b * self.grep_a - 1.0) + 2.0) * bias
            else:
                logits = logits + bias
        out = torch.softmax(logits, dim=-1) @ v
        return self.out_proj(out.transpose(1, 2).reshape(b, n, -1))


class EncoderLayer(nn.Module):
    """One post-LN block (``layer_norm_first=False``) or pre-LN block, DeepNorm-scaled residuals."""

    def __init__(self, cfg: BEATsConfig, relative_bias: bool) -> None:
        super().__init__()
        dim = cfg.encoder_embed_dim
        if cfg.activation_fn not in ("gelu", "relu"):
            raise ValueError(f"BEATs activation_fn {cfg.activation_fn!r} is not supported (gelu or relu)")
        self.act = F.gelu if cfg.activation_fn == "gelu" else F.relu
        self.self_attn = MultiheadAttention(dim, cfg.encoder_attention_heads, relative_bias, cfg.num_buckets,
                                            cfg.max_distance, cfg.gru_rel_pos)
        self.self_attn_layer_norm = nn.LayerNorm(dim)
        self.fc1 = nn.Linear(dim, cfg.encoder_ffn_embed_dim)
        self.fc2 = nn.Linear(cfg.encoder_ffn_embed_dim, dim)
        self.final_layer_norm = nn.LayerNorm(dim)
        self.pre_norm = cfg.layer_norm_first
        self.alpha = math.pow(2 * cfg.encoder_layers, 0.25) if cfg.deep_norm else 1.0

    def forward(self, x: torch.Tensor, bias: torch.Tensor | None) -> torch.Tensor:
        if self.pre_norm:
            x = x + self.self_attn(self.self_attn_layer_norm(x), bias)
            return x + self.fc2(self.act(self.fc1(self.final_layer_norm(x))))
        x = self.self_attn_layer_norm(x * self.alpha + self.self_attn(x, bias))
        return self.final_layer_norm(x * self.alpha + self.fc2(self.act(self.fc1(x))))


class TransformerEncoder(nn.Module):
    """Convolutional position embedding + the blocks; the relative bias table is shared."""

    def __init__(self, cfg: BEATsConfig) -> None:
        super().__init__()
        dim = cfg.encoder_embed_dim
        conv = nn.Conv1d(dim, dim, kernel_size=cfg.conv_pos, padding=cfg.conv_pos // 2, groups=cfg.conv_pos_groups)
        nn.init.normal_(conv.weight, mean=0.0, std=math.sqrt(4.0 / (cfg.conv_pos * dim)))
        nn.init.zeros_(conv.bias)
        with warnings.catch_warnings():  # the official names are weight_g / weight_v (classic weight_norm)
            warnings.simplefilter("ignore", FutureWarning)
            conv = nn.utils.weight_norm(conv, name="weight", dim=2)
        self.pos_conv = nn.Sequential(conv, SamePad(cfg.conv_pos), nn.GELU())
        rel = cfg.relative_position_embedding
        self.layers = nn.ModuleList([EncoderLayer(cfg, rel) for _ in range(cfg.encoder_layers)])
        if rel:
            for layer in self.layers[1:]:
                layer.self_attn.relative_attention_bias = self.layers[0].self_attn.relative_attention_bias
        self.layer_norm = nn.LayerNorm(dim)
        self.pre_norm = cfg.layer_norm_first
        self.relative = rel

    def forward(self, x: torch.Tensor, n_layers: int | None = None) -> list[torch.Tensor]:
        """x: (B, L, dim) -> the outputs of blocks 1..n_layers, each (B, L, dim)."""
        x = x + self.pos_conv(x.transpose(1, 2)).transpose(1, 2)
        if not self.pre_norm:
            x = self.layer_norm(x)
        bias = self.layers[0].self_attn.position_bias(x.shape[1]) if self.relative else None
        outs = []
        for layer in self.layers[: n_layers or len(self.layers)]:
            x = layer(x, bias)
            outs.append(x)
        return outs


class BEATs(nn.Module):
    """The BEATs backbone (and the AudioSet predictor of fine-tuned checkpoints).

    Build with :meth:`from_checkpoint` (official weights) or ``BEATs(cfg, seed=...)`` (the
    official initialisation: BERT-style N(0, 0.02) linears, DeepNorm Xavier gains), which is
    what the offline default of P2 uses as a training-free extractor.
    """

    def __init__(self, cfg: BEATsConfig | None = None, seed: int | None = None) -> None:
        super().__init__()
        cfg = cfg or BEATS_BASE
        self.cfg = cfg
        with seeded(seed) if seed is not None else contextlib.nullcontext():  # scoped: the caller's RNG is restored
            self.patch_embedding = nn.Conv2d(1, cfg.embed_dim, kernel_size=cfg.input_patch_size,
                                             stride=cfg.input_patch_size, bias=cfg.conv_bias)
            self.layer_norm = nn.LayerNorm(cfg.embed_dim)
            self.post_extract_proj = (nn.Linear(cfg.embed_dim, cfg.encoder_embed_dim)
                                      if cfg.embed_dim != cfg.encoder_embed_dim else None)
            self.encoder = TransformerEncoder(cfg)
            self._init_encoder()
            self.predictor = nn.Linear(cfg.encoder_embed_dim, cfg.predictor_class) if cfg.finetuned_model else None
        self.eval()

    def _init_encoder(self) -> None:
        cfg = self.cfg
        for m in self.encoder.modules():
            if isinstance(m, (nn.Linear, nn.Embedding)):
                nn.init.normal_(m.weight, mean=0.0, std=0.02)
                if isinstance(m, nn.Linear) and m.bias is not None:
                    nn.init.zeros_(m.bias)
        if cfg.deep_norm:
            beta = math.pow(8 * cfg.encoder_layers, -0.25)
            for layer in self.encoder.layers:
                a = layer.self_attn
                for w, gain in ((a.k_proj, 1.0), (a.v_proj, beta), (a.q_proj, 1.0), (a.out_proj, beta),
                                (layer.fc1, beta), (layer.fc2, beta)):
                    nn.init.xavier_normal_(w.weight, gain=gain)

    # ------------------------------------------------------------------ loading
    @classmethod
    def from_checkpoint(cls, path: str | Path, map_location: str = "cpu") -> "BEATs":
        """Load an official ``{'cfg', 'model'}`` checkpoint strictly (every name and shape must match)."""
        return cls.from_state(load_weights(path, map_location, what="BEATs checkpoint"), source=str(path))

    @classmethod
    def from_state(cls, ckpt: Any, source: str = "checkpoint") -> "BEATs":
        """Build from an in-memory ``{'cfg': dict, 'model': state_dict}`` and load it strictly."""
        if not isinstance(ckpt, dict) or "cfg" not in ckpt or "model" not in ckpt:
            keys = sorted(ckpt) if isinstance(ckpt, dict) else type(ckpt).__name__
            raise ValueError(f"{source}: expected a BEATs checkpoint dict with 'cfg' and 'model', got {keys}")
        model = cls(BEATsConfig.from_dict(dict(ckpt["cfg"])))
        tables = [v for k, v in ckpt["model"].items() if k.endswith("self_attn.relative_attention_bias.weight")]
        if any(t.shape != tables[0].shape or not torch.equal(t, tables[0]) for t in tables[1:]):
            raise ValueError(f"{source}: the blocks' relative_attention_bias copies differ, but BEATs shares one table")
        try:
            model.load_state_dict(ckpt["model"], strict=True)
        except RuntimeError as err:
            raise ValueError(f"{source}: state dict does not match the BEATs architecture of its cfg: {err}") from err
        return model.eval()

    # ------------------------------------------------------------------ features
    @property
    def n_layers(self) -> int:
        return self.cfg.encoder_layers

    def patch_grid(self, n_frames: int) -> tuple[int, int]:
        """(time patches, frequency patches) for ``n_frames`` fbank frames."""
        p = self.cfg.input_patch_size
        return n_frames // p, N_MELS // p

    def grid_shapes(self, n_samples: int) -> list[tuple[int, int, int]]:
        """(T', F', C) of every block's token grid for a clip of ``n_samples`` at 16 kHz (no forward pass)."""
        t, f = self.patch_grid(fbank_frames(n_samples))
        return [(t, f, self.cfg.encoder_embed_dim)] * self.n_layers

    def embed(self, fbank: torch.Tensor) -> torch.Tensor:
        """(B, frames, 128) normalised fbank -> (B, T'*F', encoder_dim) tokens, time-major."""
        x = self.patch_embedding(fbank.unsqueeze(1))  # (B, C, T', F')
        x = self.layer_norm(x.flatten(2).transpose(1, 2))
        return self.post_extract_proj(x) if self.post_extract_proj is not None else x

    @torch.no_grad()
    def layer_grids(self, waveforms: torch.Tensor, n_layers: int | None = None) -> list[torch.Tensor]:
        """Every block's token grid for (B, samples) 16 kHz waveforms.

        Returns ``n_layers`` (default all) tensors of shape (B, T', F', encoder_dim), T' = frames // 16,
        F' = 8; index 0 is layer 1. A 10 s clip gives (B, 62, 8, 768) per layer for BEATs base.
        """
        fbank = beats_fbank(waveforms.cpu()).to(next(self.parameters()).device)
        t, f = self.patch_grid(fbank.shape[1])
        if t == 0:
            raise ValueError(f"clips give {fbank.shape[1]} fbank frames, fewer than one {self.cfg.input_patch_size}-frame patch")
        fbank = fbank[:, : t * self.cfg.input_patch_size]
        outs = self.encoder(self.embed(fbank), n_layers)
        return [o.view(o.shape[0], t, f, o.shape[-1]) for o in outs]

    @torch.no_grad()
    def forward(self, waveforms: torch.Tensor) -> torch.Tensor:
        """Last layer's tokens (B, L, dim); fine-tuned models return AudioSet probabilities (B, 527)."""
        x = self.layer_grids(waveforms)[-1].flatten(1, 2)
        if self.predictor is None:
            return x
        return torch.sigmoid(self.predictor(x).mean(dim=1))

