"""Per-layer clip embeddings: a BEATs extractor, three poolings, batched extraction from WAV files.

Pooling of one layer's token grid (T' time patches x F' frequency patches x C channels):

* ``temporal`` - mean over time, keep the frequency patches: F' x C (GenRep's choice; 8 x 768 =
  6144-d for BEATs);
* ``spatial`` - mean over time and frequency: C (768-d, BEATs' own clip embedding);
* ``spectral`` - mean over frequency, keep the time patches: T' x C (62 x 768 = 47,616-d for 10 s).

The offline default extractor (:func:`build_extractor` with no checkpoint) is the BEATs
architecture itself, smaller and with its official random initialisation fixed by the seed: a
training-free extractor that never sees any audio, let alone the test clips, and that yields the
same per-layer grids, so every pooling and the layer sweep apply unchanged. A BEATs checkpoint
replaces it with the real model (``checkpoint=...``).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch

from ...data.audio import read_audio
from ...device import resolve_device
from ...models.beats import BEATS_BASE, BEATs, BEATsConfig, fbank_frames
from ...progress import progress

POOLINGS = ("temporal", "spatial", "spectral")
SAMPLE_RATE = 16000


def pool(grid: torch.Tensor, how: str) -> torch.Tensor:
    """(B, T', F', C) token grid -> (B, dim) clip embedding (see the module docstring)."""
    if grid.ndim != 4:
        raise ValueError(f"grid must have shape (batch, time, freq, channels), got {tuple(grid.shape)}")
    if how == "temporal":
        return grid.mean(1).flatten(1)
    if how == "spatial":
        return grid.mean((1, 2))
    if how == "spectral":
        return grid.mean(2).flatten(1)
    raise ValueError(f"pooling must be one of {POOLINGS}, got {how!r}")


def clip_samples(duration: float) -> int:
    """Samples of a clip cropped or padded to ``duration`` seconds at 16 kHz."""
    return int(round(duration * SAMPLE_RATE))


def token_grid(model: BEATs, duration: float) -> tuple[int, int]:
    """(time patches T', frequency patches F') of each layer's grid for ``duration``-second clips."""
    return model.patch_grid(fbank_frames(clip_samples(duration)))


def pooled_dims(model: BEATs, duration: float) -> dict[str, int]:
    """Embedding size of each pooling for ``duration``-second clips: temporal F'*C, spatial C, spectral T'*C."""
    t, f = token_grid(model, duration)
    c = model.cfg.encoder_embed_dim
    return {"temporal": f * c, "spatial": c, "spectral": t * c}


def small_beats_config(width: int = 192, layers: int = 12, heads: int | None = None) -> BEATsConfig:
    """BEATs base with a narrower encoder (same patching, positions, DeepNorm and gating).

    ``heads`` defaults to ``width // 64`` (at least 1): BEATs' 64 channels per head.
    """
    heads = heads or max(1, width // 64)
    if width % heads or width < heads or layers < 1:
        raise ValueError(f"extractor width {width} must be a positive multiple of heads {heads}, layers >= 1 (got {layers})")
    return dataclasses.replace(BEATS_BASE, embed_dim=width, encoder_embed_dim=width, encoder_ffn_embed_dim=4 * width,
                               encoder_attention_heads=heads, encoder_layers=layers)


def build_extractor(checkpoint: str | None = None, width: int = 192, layers: int = 12, seed: int = 0,
                    device: str = "auto") -> tuple[BEATs, str]:
    """The feature extractor and a one-line description of it.

    With ``checkpoint`` (an official BEATs ``.pt``): that model, loaded strictly. Without: a
    random-initialised BEATs of the given width and depth (training-free; see module docstring).
    """
    if checkpoint:
        model = BEATs.from_checkpoint(checkpoint)
        kind = "fine-tuned" if model.cfg.finetuned_model else "pre-trained"
        note = f"BEATs checkpoint {Path(checkpoint).name} ({kind}, {model.cfg.encoder_layers} layers x {model.cfg.encoder_embed_dim})"
    else:
        model = BEATs(small_beats_config(width, layers), seed=seed)
        note = (f"random-weight BEATs ({layers} layers x {width}, official initialisation with seed {seed}; "
                "training-free, no pre-training)")
    return model.to(resolve_device(device)).eval(), note


def extract_embeddings(
    model: BEATs,
    paths: Sequence[str | Path],
    duration: float,
    poolings: Sequence[str] = POOLINGS,
    batch_size: int = 16,
    desc: str = "extract",
) -> dict[str, np.ndarray]:
    """Pooled embeddings of every layer for the clips in ``paths``.

    Each clip is read at 16 kHz and cropped or zero-padded to ``duration`` seconds (the reference
    code uses 10 s). Returns ``{pooling: float32 array (n_layers, n_clips, dim)}``.
    """
    for how in poolings:
        if how not in POOLINGS:
            raise ValueError(f"pooling must be one of {POOLINGS}, got {how!r}")
    if not paths:
        raise ValueError("no clips to extract")
    n = clip_samples(duration)
    out: dict[str, list[np.ndarray]] = {how: [] for how in poolings}
    device = next(model.parameters()).device
    starts = range(0, len(paths), batch_size)
    for start in progress(starts, desc=desc, total=len(starts)):
        wav = np.stack([read_audio(p, SAMPLE_RATE, n) for p in paths[start : start + batch_size]])
        grids = model.layer_grids(torch.from_numpy(wav).to(device))
        for how in poolings:
            out[how].append(torch.stack([pool(g, how) for g in grids]).float().cpu().numpy())
    return {how: np.concatenate(chunks, axis=1) for how, chunks in out.items()}
