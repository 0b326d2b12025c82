"""Plain-ViT segmenters that load **mmsegmentation** checkpoints strictly (P5's transformers).

Re-implemented from the architectures' public descriptions; the state-dict names are mmseg's:

* backbone ``VisionTransformer`` (``mmseg/models/backbones/vit.py``): ``patch_embed.projection``
  (a strided conv), ``cls_token`` (1, 1, D), ``pos_embed`` (1, 1 + h*w, D), pre-norm blocks
  ``layers.{i}`` with ``ln1``, ``attn.attn`` (mmcv's wrapper around ``torch.nn.MultiheadAttention``:
  fused ``in_proj_weight`` (3D, D), ``in_proj_bias``, ``out_proj``), ``ln2``, ``ffn.layers.0.0`` /
  ``ffn.layers.1`` (mmcv ``FFN``: Linear-GELU, Linear), and ``ln1`` (final norm) when
  ``final_norm=True`` (Segmenter; SETR has none). LayerNorm eps 1e-6 (``backbone_norm_cfg``).
* decode heads (``decode_head.*``), each with mmseg's ``conv_seg`` (``BaseDecodeHead`` always
  builds it, even where, as in the mask head, it is unused):
  ``"mask"`` - Segmenter's ``SegmenterMaskTransformerHead``; ``"linear"`` - Segmenter-linear
  (``FCNHead`` with ``num_convs=0``: ``conv_seg`` only); ``"setr_naive"`` - SETR's naive
  ``SETRUPHead`` (input LayerNorm, 1x1 conv-BN-ReLU + x4 bilinear upsampling per ``up_convs``
  entry, ``conv_seg``). SETR-PUP (3x3 ``up_convs``) and SETR-MLA (a ``neck``) are refused with
  a ``ValueError`` naming the unsupported keys.

Images (B, 3, H, W) in [0, 1], RGB, are scaled to 0-255 and standardised as the mmseg configs
do: Segmenter mean = std = 127.5 (``segmenter_vit-b16_mask.py``'s ``data_preprocessor``), SETR
ImageNet mean (123.675, 116.28, 103.53), std (58.395, 57.12, 57.375) (``setr_naive.py``). The
position embedding is resized for other patch grids with the config's mode (Segmenter bicubic,
SETR bilinear). Inference is whole-image (the configs' sliding windows are the caller's choice).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, replace
from pathlib import Path

import torch
from torch import nn
from torch.nn import functional as F

from .beats import load_weights

PROBES = ("keys", "queries", "values", "tokens")
HEADS = ("mask", "linear", "setr_naive")
#: (mean, std) in 0-255 units, RGB
NORMALISATION = {"segmenter": ((127.5,) * 3, (127.5,) * 3),
                 "imagenet": ((123.675, 116.28, 103.53), (58.395, 57.12, 57.375))}
#: mmseg's training-only auxiliary heads (SETR has three or four): dropped before loading
IGNORED_PREFIXES = ("auxiliary_head.",)


@dataclass(frozen=True)
class MMSegViTConfig:
    """An mmseg plain-ViT segmenter. ``head_depth``: decoder blocks (mask) or ``up_convs`` (SETR);
    ``head_dim`` / ``head_heads``: the mask head's width and heads; ``channels``: ``conv_seg``'s
    input channels; ``norm``: a key of :data:`NORMALISATION` ("" = the head's paper)."""

    dim: int = 768
    depth: int = 12
    heads: int = 12
    patch: int = 16
    grid: tuple[int, int] = (32, 32)
    mlp_ratio: int = 4
    final_norm: bool = True
    n_classes: int = 150
    head: str = "mask"
    head_depth: int = 2
    head_dim: int = 768
    head_heads: int = 12
    channels: int = 768
    norm: str = ""

    @property
    def mean_std(self) -> tuple[tuple[float, ...], tuple[float, ...]]:
        return NORMALISATION[self.norm or ("imagenet" if self.head == "setr_naive" else "segmenter")]

    @property
    def interpolate_mode(self) -> str:
        return "bilinear" if self.head == "setr_naive" else "bicubic"

    def describe(self) -> str:
        return (f"ViT dim {self.dim}, {self.depth} layers, {self.heads} heads, patch {self.patch}, grid "
                f"{self.grid[0]}x{self.grid[1]}{', final norm' if self.final_norm else ''}; {self.head} head "
                f"(depth {self.head_depth}, channels {self.channels}), {self.n_classes} classes")


_VIT_L = dict(dim=1024, depth=24, heads=16, final_norm=False, head="setr_naive", head_depth=1, channels=256)
#: the released checkpoints (configs/segmenter, configs/setr and their metafile.yaml in mmsegmentation)
VARIANTS: dict[str, MMSegViTConfig] = {
    "segmenter_vit-b16_mask_ade20k": MMSegViTConfig(),
    "segmenter_vit-s16_linear_ade20k": MMSegViTConfig(dim=384, heads=6, head="linear", head_depth=0, head_dim=0,
                                                      head_heads=0, channels=384),
    "setr_vit-l16_naive_cityscapes": MMSegViTConfig(grid=(48, 48), n_classes=19, head_dim=0, head_heads=0, **_VIT_L),
    "setr_vit-l16_naive_ade20k": MMSegViTConfig(head_dim=0, head_heads=0, **_VIT_L),
}


def _layer_keys(prefix: str, d: int, hidden: int) -> dict[str, tuple[int, ...]]:
    """mmseg ``TransformerEncoderLayer`` (backbones/vit.py; the mask head reuses it)."""
    return {f"{prefix}ln1.weight": (d,), f"{prefix}ln1.bias": (d,),
            f"{prefix}attn.attn.in_proj_weight": (3 * d, d), f"{prefix}attn.attn.in_proj_bias": (3 * d,),
            f"{prefix}attn.attn.out_proj.weight": (d, d), f"{prefix}attn.attn.out_proj.bias": (d,),
            f"{prefix}ln2.weight": (d,), f"{prefix}ln2.bias": (d,),
            f"{prefix}ffn.layers.0.0.weight": (hidden, d), f"{prefix}ffn.layers.0.0.bias": (hidden,),
            f"{prefix}ffn.layers.1.weight": (d, hidden), f"{prefix}ffn.layers.1.bias": (d,)}


def expected_keys(variant: str | MMSegViTConfig) -> dict[str, tuple[int, ...]]:
    """The checkpoint's ``state_dict`` names and shapes (``auxiliary_head.*`` aside) for a
    :data:`VARIANTS` name or a config; cross-checked against the key lists in mmseg issues (#1473)."""
    if isinstance(variant, str):
        if variant not in VARIANTS:
            raise ValueError(f"unknown variant {variant!r}; known: {sorted(VARIANTS)}")
        variant = VARIANTS[variant]
    c, d, k = variant, variant.dim, variant.n_classes
    out = {"backbone.patch_embed.projection.weight": (d, 3, c.patch, c.patch),  # mmseg utils PatchEmbed
           "backbone.patch_embed.projection.bias": (d,),
           "backbone.cls_token": (1, 1, d), "backbone.pos_embed": (1, 1 + c.grid[0] * c.grid[1], d)}
    for i in range(c.depth):
        out |= _layer_keys(f"backbone.layers.{i}.", d, c.mlp_ratio * d)
    if c.final_norm:
        out |= {"backbone.ln1.weight": (d,), "backbone.ln1.bias": (d,)}
    h = "decode_head."
    if c.head == "mask":  # decode_heads/segmenter_mask_head.py
        e = c.head_dim
        for i in range(c.head_depth):
            out |= _layer_keys(f"{h}layers.{i}.", e, c.mlp_ratio * e)
        out |= {f"{h}dec_proj.weight": (e, d), f"{h}dec_proj.bias": (e,), f"{h}cls_emb": (1, k, e),
                f"{h}patch_proj.weight": (e, e), f"{h}classes_proj.weight": (e, e),
                f"{h}decoder_norm.weight": (e,), f"{h}decoder_norm.bias": (e,),
                f"{h}mask_norm.weight": (k,), f"{h}mask_norm.bias": (k,)}
    elif c.head == "setr_naive":  # decode_heads/setr_up_head.py; mmcv ConvModule: conv (no bias) + bn
        out |= {f"{h}norm.weight": (d,), f"{h}norm.bias": (d,)}
        for i in range(c.head_depth):
            p = f"{h}up_convs.{i}.0."
            out |= {f"{p}conv.weight": (c.channels, d if i == 0 else c.channels, 1, 1),
                    **{f"{p}bn.{n}": (c.channels,) for n in ("weight", "bias", "running_mean", "running_var")},
                    f"{p}bn.num_batches_tracked": ()}
    elif c.head != "linear":
        raise ValueError(f"head must be one of {HEADS}, got {c.head!r}")
    return out | {f"{h}conv_seg.weight": (k, c.channels, 1, 1), f"{h}conv_seg.bias": (k,)}  # decode_head.py


class _Attention(nn.Module):
    """mmcv ``MultiheadAttention``: the fused ``torch.nn.MultiheadAttention`` lives at ``.attn``."""

    def __init__(self, dim: int, heads: int) -> None:
        super().__init__()
        self.attn = nn.MultiheadAttention(dim, heads, batch_first=True)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        """x (B, N, D) -> (output (B, N, D), {"queries", "keys", "values"} each (B, N, D), unscaled)."""
        m, (b, n, d) = self.attn, x.shape
        q, k, v = F.linear(x, m.in_proj_weight, m.in_proj_bias).chunk(3, dim=-1)  # rows [q; k; v]

        def split(t: torch.Tensor) -> torch.Tensor:
            return t.reshape(b, n, m.num_heads, d // m.num_heads).transpose(1, 2)

        out = F.scaled_dot_product_attention(split(q), split(k), split(v)).transpose(1, 2).reshape(b, n, d)
        return m.out_proj(out), {"queries": q, "keys": k, "values": v}


class _FFN(nn.Module):
    """mmcv ``FFN`` with two fcs: ``layers.0.0`` (Linear D->hidden, GELU), ``layers.1`` (Linear)."""

    def __init__(self, dim: int, hidden: int) -> None:
        super().__init__()
        self.layers = nn.Sequential(nn.Sequential(nn.Linear(dim, hidden), nn.GELU()), nn.Linear(hidden, dim))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.layers(x)


class EncoderLayer(nn.Module):
    """Pre-norm block: ``x + attn(ln1(x))``, then ``x + ffn(ln2(x))``; returns the q/k/v too."""

    def __init__(self, dim: int, heads: int, hidden: int, eps: float) -> None:
        super().__init__()
        self.ln1, self.attn = nn.LayerNorm(dim, eps=eps), _Attention(dim, heads)
        self.ln2, self.ffn = nn.LayerNorm(dim, eps=eps), _FFN(dim, hidden)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        a, qkv = self.attn(self.ln1(x))
        x = x + a
        return x + self.ffn(self.ln2(x)), qkv


class _PatchEmbed(nn.Module):
    def __init__(self, dim: int, patch: int) -> None:
        super().__init__()
        self.projection = nn.Conv2d(3, dim, patch, stride=patch)


class VisionTransformer(nn.Module):
    """mmseg's ViT backbone (class token, learned position embedding, pre-norm blocks)."""

    def __init__(self, c: MMSegViTConfig) -> None:
        super().__init__()
        self.c = c
        self.patch_embed = _PatchEmbed(c.dim, c.patch)
        self.cls_token = nn.Parameter(torch.zeros(1, 1, c.dim))
        self.pos_embed = nn.Parameter(torch.zeros(1, 1 + c.grid[0] * c.grid[1], c.dim))
        self.layers = nn.ModuleList(EncoderLayer(c.dim, c.heads, c.mlp_ratio * c.dim, 1e-6) for _ in range(c.depth))
        if c.final_norm:
            self.ln1 = nn.LayerNorm(c.dim, eps=1e-6)

    def pos(self, hw: tuple[int, int]) -> torch.Tensor:
        """Position embedding (1, 1 + h*w, D), the grid part resized from ``c.grid`` if needed."""
        if tuple(hw) == self.c.grid:
            return self.pos_embed
        cls, grid = self.pos_embed[:, :1], self.pos_embed[:, 1:]
        grid = grid.reshape(1, *self.c.grid, -1).permute(0, 3, 1, 2)
        grid = F.interpolate(grid, size=tuple(hw), mode=self.c.interpolate_mode, align_corners=False)
        return torch.cat([cls, grid.flatten(2).transpose(1, 2)], 1)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, dict[str, torch.Tensor], tuple[int, int]]:
        """Standardised (B, 3, H, W) -> (last block's tokens (B, 1 + h*w, D), its q/k/v, (h, w)).
        H, W not divisible by the patch are zero-padded bottom/right (mmseg's "corner" padding)."""
        p = self.c.patch
        x = self.patch_embed.projection(F.pad(x, (0, -x.shape[-1] % p, 0, -x.shape[-2] % p)))
        hw = (x.shape[-2], x.shape[-1])
        x = torch.cat([self.cls_token.expand(len(x), -1, -1), x.flatten(2).transpose(1, 2)], 1) + self.pos(hw)
        qkv: dict[str, torch.Tensor] = {}
        for layer in self.layers:
            x, qkv = layer(x)
        return x, qkv, hw


class MaskTransformerHead(nn.Module):
    """Segmenter's mask transformer: class embeddings decoded jointly with the patches; masks are
    cosine similarities of projected patches and classes, LayerNorm-ed over the classes."""

    def __init__(self, c: MMSegViTConfig) -> None:
        super().__init__()
        e, k = c.head_dim, c.n_classes
        self.layers = nn.ModuleList(EncoderLayer(e, c.head_heads, c.mlp_ratio * e, 1e-5) for _ in range(c.head_depth))
        self.dec_proj = nn.Linear(c.dim, e)
        self.cls_emb = nn.Parameter(torch.zeros(1, k, e))
        self.patch_proj, self.classes_proj = nn.Linear(e, e, bias=False), nn.Linear(e, e, bias=False)
        self.decoder_norm, self.mask_norm = nn.LayerNorm(e), nn.LayerNorm(k)
        self.conv_seg = nn.Conv2d(c.channels, k, 1)  # built by mmseg's BaseDecodeHead; unused here

    def forward(self, feat: torch.Tensor) -> torch.Tensor:
        """(B, D, h, w) -> (B, K, h, w)."""
        (b, _, h, w), k = feat.shape, self.cls_emb.shape[1]
        x = torch.cat([self.dec_proj(feat.flatten(2).transpose(1, 2)), self.cls_emb.expand(b, -1, -1)], 1)
        for layer in self.layers:
            x, _ = layer(x)
        x = self.decoder_norm(x)
        patches = F.normalize(self.patch_proj(x[:, :-k]), dim=-1)
        classes = F.normalize(self.classes_proj(x[:, -k:]), dim=-1)
        return self.mask_norm(patches @ classes.transpose(1, 2)).transpose(1, 2).reshape(b, k, h, w)


class LinearHead(nn.Module):
    """Segmenter-linear (mmseg ``FCNHead``, ``num_convs=0``): a 1x1 conv on the features."""

    def __init__(self, c: MMSegViTConfig) -> None:
        super().__init__()
        self.conv_seg = nn.Conv2d(c.channels, c.n_classes, 1)

    def forward(self, feat: torch.Tensor) -> torch.Tensor:
        return self.conv_seg(feat)


class _ConvModule(nn.Module):
    """mmcv ``ConvModule`` (1x1 conv without bias, BatchNorm, ReLU)."""

    def __init__(self, cin: int, cout: int) -> None:
        super().__init__()
        self.conv, self.bn = nn.Conv2d(cin, cout, 1, bias=False), nn.BatchNorm2d(cout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.relu(self.bn(self.conv(x)))


class SETRNaiveHead(nn.Module):
    """SETR naive ``SETRUPHead``: LayerNorm, then per ``up_convs`` entry 1x1 conv-BN-ReLU and x4
    bilinear upsampling, then ``conv_seg``: (B, D, h, w) -> (B, K, 4^n h, 4^n w)."""

    def __init__(self, c: MMSegViTConfig) -> None:
        super().__init__()
        self.norm = nn.LayerNorm(c.dim, eps=1e-6)
        ins = [c.dim] + [c.channels] * (c.head_depth - 1)
        self.up_convs = nn.ModuleList(
            nn.Sequential(_ConvModule(i, c.channels), nn.Upsample(scale_factor=4, mode="bilinear", align_corners=False))
            for i in ins)
        self.conv_seg = nn.Conv2d(c.channels, c.n_classes, 1)

    def forward(self, feat: torch.Tensor) -> torch.Tensor:
        x = self.norm(feat.permute(0, 2, 3, 1)).permute(0, 3, 1, 2)
        for up in self.up_convs:
            x = up(x)
        return self.conv_seg(x)


_HEAD_CLASSES = {"mask": MaskTransformerHead, "linear": LinearHead, "setr_naive": SETRNaiveHead}


def _to_grid(tokens: torch.Tensor, hw: tuple[int, int]) -> torch.Tensor:
    """(B, 1 + h*w, C) -> (B, C, h, w), class token dropped."""
    return tokens[:, 1:].transpose(1, 2).reshape(len(tokens), -1, *hw)


class MMSegViT(nn.Module):
    """``backbone`` + ``decode_head`` with mmseg's names; images (B, 3, H, W) in [0, 1], RGB."""

    def __init__(self, c: MMSegViTConfig) -> None:
        super().__init__()
        if c.head not in _HEAD_CLASSES:
            raise ValueError(f"head must be one of {HEADS}, got {c.head!r}")
        self.c = c
        self.backbone = VisionTransformer(c)
        self.decode_head = _HEAD_CLASSES[c.head](c)

    def normalize(self, images: torch.Tensor) -> torch.Tensor:
        """(B, 3, H, W) in [0, 1] -> ``(255 x - mean) / std`` with the config's mean/std (0-255 units)."""
        if images.ndim != 4 or images.shape[1] != 3:
            raise ValueError(f"images must have shape (B, 3, H, W), got {tuple(images.shape)}")
        mean, std = (torch.tensor(v, dtype=images.dtype, device=images.device).view(1, 3, 1, 1)
                     for v in self.c.mean_std)
        return (images * 255.0 - mean) / std

    def _encode(self, images: torch.Tensor) -> tuple[torch.Tensor, dict[str, torch.Tensor], tuple[int, int]]:
        """-> (decode-head input (B, D, h, w), last-block {"queries", "keys", "values", "tokens"}, (h, w))."""
        x, qkv, hw = self.backbone(self.normalize(images))
        feat = self.backbone.ln1(x) if self.c.final_norm else x
        return _to_grid(feat, hw), {**qkv, "tokens": x}, hw

    def grid_logits(self, images: torch.Tensor) -> torch.Tensor:
        """Decode-head logits (B, K, h', w'): the patch grid (Segmenter) or 4x finer per up_conv (SETR)."""
        return self.decode_head(self._encode(images)[0])

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        """(B, 3, H, W) in [0, 1] -> logits (B, K, H, W), bilinear (align_corners=False) as mmseg."""
        return F.interpolate(self.grid_logits(images), size=images.shape[-2:], mode="bilinear", align_corners=False)

    def probe(self, images: torch.Tensor, names: tuple[str, ...] = PROBES) -> dict[str, torch.Tensor]:
        """Last backbone block's features ``{name: (B, D, h, w)}`` on the patch grid plus ``"logits"``
        (B, K, H, W). keys / queries / values: that block's projections of its LayerNorm-ed input
        (in_proj rows [D:2D], [0:D], [2D:3D]; all heads concatenated, unscaled); tokens: its output
        (before the final norm); class token dropped. Same interface as P5's ``ViTSegmenter.probe``."""
        if unknown := set(names) - set(PROBES):
            raise ValueError(f"ViT probes are {PROBES}; got {sorted(unknown)}")
        feat, feats, hw = self._encode(images)
        out = {n: _to_grid(feats[n], hw) for n in names}
        out["logits"] = F.interpolate(self.decode_head(feat), size=images.shape[-2:], mode="bilinear",
                                      align_corners=False)
        return out


def _count(state: dict[str, torch.Tensor], prefix: str) -> int:
    """1 + the largest ``i`` in keys ``<prefix><i>.``; 0 if none."""
    found = [int(m.group(1)) for k in state if (m := re.match(re.escape(prefix) + r"(\d+)\.", k))]
    return 1 + max(found) if found else 0


def _short(keys: list[str], n: int = 12) -> str:
    return str(keys[:n])[:-1] + (f", ... ({len(keys)} in all)]" if len(keys) > n else "]")


def _infer_head(state: dict[str, torch.Tensor], c: MMSegViTConfig, source: str, head_dim: int) -> MMSegViTConfig:
    if neck := sorted(k for k in state if k.startswith("neck.")):
        raise ValueError(f"{source}: SETR-MLA (a neck) is not supported, only the heads {HEADS}; "
                         f"unsupported keys {_short(neck)}")
    head = {k[len("decode_head."):]: v for k, v in state.items() if k.startswith("decode_head.")}
    seg = head.get("conv_seg.weight")
    k, ch = (seg.shape[0], seg.shape[1]) if seg is not None and seg.ndim == 4 else (0, 0)
    if "cls_emb" in head:
        e = head["cls_emb"].shape[-1]
        return replace(c, head="mask", n_classes=head["cls_emb"].shape[1], head_depth=_count(head, "layers."),
                       head_dim=e, head_heads=max(1, e // head_dim), channels=ch or e)
    if (conv := head.get("up_convs.0.0.conv.weight")) is not None:
        if conv.ndim != 4 or conv.shape[-1] != 1:
            bad = sorted("decode_head." + n for n in head if n.startswith("up_convs."))
            raise ValueError(f"{source}: SETR-PUP (SETRUPHead with {tuple(conv.shape[-2:])} convs) is not supported, "
                             f"only the naive head (1x1 convs); unsupported keys {_short(bad)}")
        return replace(c, head="setr_naive", n_classes=k, channels=conv.shape[0], head_depth=_count(head, "up_convs."),
                       head_dim=0, head_heads=0)
    if seg is not None and set(head) <= {"conv_seg.weight", "conv_seg.bias"}:
        return replace(c, head="linear", n_classes=k, channels=ch, head_depth=0, head_dim=0, head_heads=0)
    raise ValueError(f"{source}: unsupported decode head (supported: {HEADS}); its keys "
                     f"{_short(sorted('decode_head.' + n for n in head))}")


def infer_config(state: dict[str, torch.Tensor], source: str = "checkpoint", head_dim: int = 64) -> MMSegViTConfig:
    """The config a state dict was saved from, read off its shapes: width and patch from
    ``patch_embed``, depth from the ``layers.{i}`` indices, grid from ``pos_embed`` (square),
    classes and head from ``decode_head``. Heads are not stored: ``dim // head_dim`` (64 in every
    mmseg ViT-T/S/B/L config). MLP ratio 4 (all configs). Raises ``ValueError`` naming ``source``."""
    need = ["backbone.patch_embed.projection.weight", "backbone.pos_embed"]
    if missing := [n for n in need if n not in state]:
        raise ValueError(f"{source}: not an mmseg VisionTransformer checkpoint; missing keys {missing}")
    w, pos = state[need[0]], state[need[1]]
    n = pos.shape[1] - 1 if pos.ndim == 3 else -1
    side = math.isqrt(max(n, 0))
    if w.ndim != 4 or w.shape[-1] != w.shape[-2] or side * side != n or n <= 0 or w.shape[0] % head_dim:
        raise ValueError(f"{source}: unsupported backbone shapes patch_embed {tuple(w.shape)}, pos_embed "
                         f"{tuple(pos.shape)} (need square patches, a square grid, width divisible by {head_dim})")
    c = MMSegViTConfig(dim=w.shape[0], depth=_count(state, "backbone.layers."), heads=w.shape[0] // head_dim,
                       patch=w.shape[-1], grid=(side, side),
                       final_norm=any(k.startswith("backbone.ln1.") for k in state))
    return _infer_head(state, c, source, head_dim)


def check_keys(state: dict[str, torch.Tensor], expected: dict[str, tuple[int, ...]], source: str) -> None:
    """Raise ``ValueError`` naming ``source`` with the missing / unexpected keys and shape mismatches."""
    missing, unexpected = sorted(set(expected) - set(state)), sorted(set(state) - set(expected))
    shapes = [f"{k}: file {tuple(state[k].shape)} vs expected {expected[k]}"
              for k in expected if k in state and tuple(state[k].shape) != expected[k]]
    if missing or unexpected or shapes:
        raise ValueError(f"{source} does not match the architecture: missing keys {_short(missing)}, "
                         f"unexpected keys {_short(unexpected)}, shape mismatches {_short(shapes)}")


def read_state_dict(path: str | Path) -> dict[str, torch.Tensor]:
    """The ``state_dict`` of an mmseg checkpoint (``{"meta": ..., "state_dict": ...}``), of
    ``{"state_dict": ...}`` or a plain state dict, read with ``weights_only=True``."""
    what = "mmseg checkpoint"
    obj = load_weights(path, "cpu", what=what)
    if isinstance(obj, dict) and isinstance(obj.get("state_dict"), dict):
        obj = obj["state_dict"]
    if not (isinstance(obj, dict) and obj and all(isinstance(k, str) and isinstance(v, torch.Tensor)
                                                  for k, v in obj.items())):
        raise ValueError(f"{what} {path} holds no state dict (name -> tensor, or {{'state_dict': ...}})")
    return obj


def load_mmseg_vit(path: str | Path, device: str | torch.device = "cpu", *, head_dim: int = 64,
                   norm: str = "") -> MMSegViT:
    """An mmseg Segmenter (mask or linear head) or SETR-naive checkpoint as :class:`MMSegViT`, in eval mode.

    The variant is inferred from the shapes (:func:`infer_config`) and loaded strictly. mmseg's
    ``auxiliary_head.*`` keys (training-only heads) are ignored on purpose. ``norm`` overrides the
    input standardisation (a key of :data:`NORMALISATION`). Raises ``FileNotFoundError`` for a
    missing file and ``ValueError`` naming the file for an unreadable one, an unsupported head
    (SETR-PUP, SETR-MLA, others: the keys are listed), missing / unexpected keys or wrong shapes.
    """
    state = {k: v for k, v in read_state_dict(path).items() if not k.startswith(IGNORED_PREFIXES)}
    source = f"mmseg checkpoint {path}"
    c = infer_config(state, source, head_dim)
    if norm and norm not in NORMALISATION:
        raise ValueError(f"norm must be one of {sorted(NORMALISATION)}, got {norm!r}")
    c = replace(c, norm=norm)
    check_keys(state, expected_keys(c), f"{source} ({c.describe()})")
    with torch.device("meta"):
        model = MMSegViT(c)
    state = {k: v.float() if v.is_floating_point() else v for k, v in state.items()}
    model.load_state_dict(state, strict=True, assign=True)
    return model.to(device).eval()
