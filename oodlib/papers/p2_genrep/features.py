"""Per-layer clip embeddings: three poolings, batched and streamed extraction from audio files.

Pooling of one layer's grid (T' time steps x F' frequency bins x C channels; for BEATs the token
grid, for a CNN the feature map):

* ``temporal`` - mean over time, keep the frequency axis: F' x C (GenRep's choice; 8 x 768 =
  6144-d for BEATs);
* ``spatial`` - mean over time and frequency: C (768-d, BEATs' own clip embedding);
* ``spectral`` - mean over frequency, keep the time axis: T' x C (62 x 768 = 47,616-d for 10 s).

:func:`extract_embeddings` pools each batch as it comes out of the extractor and keeps only the
pooled vectors of the poolings asked for; with ``store`` they go straight into memory-mapped
``.npy`` files, so the RAM a machine needs is one layer's vectors at a time, not all layers'
(spectral pooling of 12 BEATs layers is 2.3 MB per 10 s clip: ~9 GB for a 4,000-clip DCASE2020
machine, which :func:`memory_per_1000_clips` states before extraction starts).

The random-weight BEATs (:func:`small_beats_config`) is BEATs base narrower, with its official
random initialisation fixed by the seed: a training-free control that never heard any audio.
Extractors are built in :mod:`.extractors`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import torch

from ...data.audio import read_audio
from ...models.beats import BEATS_BASE, BEATs, BEATsConfig
from ...progress import progress

if TYPE_CHECKING:
    from .extractors import Extractor

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


def clip_samples(duration: float, sample_rate: int = SAMPLE_RATE) -> int:
    """Samples of a clip cropped or padded to ``duration`` seconds at ``sample_rate`` Hz (BEATs: 16 kHz)."""
    return int(round(duration * sample_rate))


def token_grid(model: BEATs, duration: float) -> tuple[int, int]:
    """(time patches T', frequency patches F') of each layer's grid for ``duration``-second clips."""
    return model.grid_shapes(clip_samples(duration))[0][:2]


def _pooled(t: int, f: int, c: int) -> dict[str, int]:
    """Embedding size of each pooling of a (T', F', C) grid: temporal F'*C, spatial C, spectral T'*C."""
    return {"temporal": f * c, "spatial": c, "spectral": t * c}


def pooled_dims(model: BEATs, duration: float) -> dict[str, int]:
    """Embedding size of each pooling for ``duration``-second clips of a BEATs model (every layer alike)."""
    return _pooled(*model.grid_shapes(clip_samples(duration))[0])


def small_beats_config(width: int = 192, layers: int = 12, heads: int | None = None) -> BEATsConfig:
    """BEATs base with a narrower encoder (same patching, positions, DeepNorm and gating).

    ``heads`` defaults to ``width // 64`` (at least 1): BEATs' 64 channels per head.
    """
    heads = heads or max(1, width // 64)
    if width % heads or width < heads or layers < 1:
        raise ValueError(f"extractor width {width} must be a positive multiple of heads {heads}, layers >= 1 (got {layers})")
    return dataclasses.replace(BEATS_BASE, embed_dim=width, encoder_embed_dim=width, encoder_ffn_embed_dim=4 * width,
                               encoder_attention_heads=heads, encoder_layers=layers)


def layer_dims(extractor: "Extractor", duration: float) -> list[dict[str, int]]:
    """Per layer, the embedding size of each pooling for ``duration``-second clips."""
    return [_pooled(*shape) for shape in extractor.grid_shapes(duration)]


def memory_per_1000_clips(extractor: "Extractor", duration: float, poolings: Sequence[str] = POOLINGS) -> dict[str, float]:
    """MB of float32 embeddings per 1,000 clips: ``all layers`` (what extraction writes, to RAM or
    to ``store``) and ``one layer`` (the largest single layer and pooling: what scoring holds in RAM
    at a time when the embeddings are stored on disk)."""
    dims = layer_dims(extractor, duration)
    per_layer = [sum(d[p] for p in poolings) for d in dims]
    largest = max(d[p] for d in dims for p in poolings)
    return {"all layers": 4 * 1000 * sum(per_layer) / 2**20, "one layer": 4 * 1000 * largest / 2**20}


def extract_embeddings(
    extractor: "Extractor",
    paths: Sequence[str | Path],
    duration: float,
    poolings: Sequence[str] = POOLINGS,
    batch_size: int = 16,
    desc: str = "extract",
    store: str | Path | None = None,
) -> dict[str, list[np.ndarray]]:
    """Pooled embeddings of every layer for the clips in ``paths``.

    Each clip is read at the extractor's sample rate and cropped or zero-padded to ``duration``
    seconds (the reference code uses 10 s). Each batch is pooled at once; the grids are dropped.

    Args:
        store: a folder for memory-mapped ``<pooling>_layer<l>.npy`` files (created; existing files
            of the same names are overwritten). None keeps the arrays in RAM.

    Returns:
        ``{pooling: [layer 1, layer 2, ...]}``, each a float32 array (n_clips, dim of that layer)
        (read-only memory maps when ``store`` is given).
    """
    for how in poolings:
        if how not in POOLINGS:
            raise ValueError(f"pooling must be one of {POOLINGS}, got {how!r}")
    if not paths:
        raise ValueError("no clips to extract")
    n = clip_samples(duration, extractor.sample_rate)
    dims = layer_dims(extractor, duration)
    out = {how: [open_array((len(paths), d[how]), store, f"{how}_layer{i + 1}") for i, d in enumerate(dims)]
           for how in poolings}
    device = next(extractor.model.parameters()).device
    starts = range(0, len(paths), batch_size)
    for start in progress(starts, desc=desc, total=len(starts)):
        batch = paths[start : start + batch_size]
        wav = np.stack([read_audio(p, extractor.sample_rate, n) for p in batch])
        with torch.no_grad():
            grids = extractor.layer_grids(torch.from_numpy(wav).to(device))
        for how in poolings:
            for layer, g in enumerate(grids):
                out[how][layer][start : start + len(batch)] = pool(g, how).float().cpu().numpy()
    if store is not None:
        for arrays in out.values():
            for a in arrays:
                a.flush()
        return {how: [np.load(a.filename, mmap_mode="r") for a in arrays] for how, arrays in out.items()}
    return out


def open_array(shape: tuple[int, int], store: str | Path | None, name: str) -> np.ndarray:
    """A float32 array of ``shape``: in RAM, or a writable ``.npy`` memory map in ``store``."""
    if store is None:
        return np.empty(shape, dtype=np.float32)
    folder = Path(store)
    folder.mkdir(parents=True, exist_ok=True)
    return np.lib.format.open_memmap(folder / f"{name}.npy", mode="w+", dtype=np.float32, shape=shape)
