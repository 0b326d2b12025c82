"""The feature extractors a P2 run compares, named by one string each (the ``extractors`` parameter).

=========================  ===================================================================
spec                       extractor
=========================  ===================================================================
``efficientat_mn04``       EfficientAT MobileNetV3 (width 0.4) AudioSet tagger, the weights
                           vendored with the package (MIT): a real generic pretrained encoder
``efficientat:<path>``     the same architecture from another EfficientAT ``mn04`` state dict
``beats:<path>``           an official BEATs checkpoint (``BEATs_iter3_plus_AS2M.pt``, ...)
``beats_random``           BEATs with its official random initialisation (seeded): the control
                           that shows what pre-training buys
=========================  ===================================================================

Every extractor turns a batch of waveforms at its own sample rate into one grid per layer,
``(B, T', F', C)`` time-major, so GenRep's poolings apply to all of them alike (temporal pooling
keeps the frequency axis). BEATs' layers are its 12 transformer blocks (C = 768 for all of them);
EfficientAT's are the 17 stages of its convolutional trunk, whose frequency resolution and width
change from stage to stage.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import nn

from ...device import resolve_device
from ...models import efficientat as eat
from ...models.beats import BEATs
from ...models.beats import SAMPLE_RATE as BEATS_RATE
from .config import PAPER_LAYER_SHARE, spec_path, spec_problem
from .features import clip_samples, small_beats_config

@dataclass
class Extractor:
    """A loaded feature extractor and what a reader needs to know about it.

    Attributes:
        spec: the parameter value that built it.
        name: short label for tables and figures ("EfficientAT mn04 (AudioSet)").
        model: the network (eval mode, on the run's device).
        sample_rate: the input rate in Hz; clips are resampled to it when read.
        weights: where the weights come from (a file and its origin, or "random, seed s").
        pretrained: False only for the random-weight control.
        default_layer: the fixed layer used when ``fixed_layer`` is not given (1-based).
        finetuned: a BEATs checkpoint fine-tuned on AudioSet labels (the paper's "ft").
    """

    spec: str
    name: str
    model: nn.Module
    sample_rate: int
    weights: str
    pretrained: bool
    default_layer: int
    finetuned: bool = False

    @property
    def n_layers(self) -> int:
        return int(self.model.n_layers)

    def layer_grids(self, waveforms: torch.Tensor) -> list[torch.Tensor]:
        """(B, samples) at :attr:`sample_rate` -> one (B, T', F', C) grid per layer (index 0 = layer 1)."""
        return self.model.layer_grids(waveforms)

    def grid_shapes(self, duration: float) -> list[tuple[int, int, int]]:
        """(T', F', C) of every layer's grid for ``duration``-second clips."""
        return [tuple(s) for s in self.model.grid_shapes(clip_samples(duration, self.sample_rate))]

    def describe(self) -> str:
        """One line: name, depth and the weights' origin."""
        return f"{self.name}: {self.n_layers} layers; weights: {self.weights}"


def _paper_share_layer(n_layers: int) -> int:
    return max(1, min(n_layers, round(n_layers * PAPER_LAYER_SHARE)))


def build_extractor(spec: str, seed: int = 0, device: str = "auto", width: int = 192, layers: int = 12) -> Extractor:
    """Load the extractor ``spec`` names (see the module table).

    ``width`` and ``layers`` size the random-weight BEATs (:func:`.features.small_beats_config`);
    ``seed`` fixes its initialisation. Raises ``ValueError`` for an unknown spec and
    ``FileNotFoundError`` naming a missing weights file.
    """
    problem = spec_problem(spec)
    if problem:
        raise ValueError(f"extractor {spec!r} must be {problem}")
    path = spec_path(spec)
    if spec == "efficientat_mn04" or spec.startswith("efficientat:"):
        model = eat.load_efficientat(path)
        weights = eat.WEIGHTS_ORIGIN if path is None else f"{path} (EfficientAT mn04 state dict)"
        ex = Extractor(spec, "EfficientAT mn04 (AudioSet)", model, eat.SAMPLE_RATE, weights, True, 0)
    elif spec == "beats_random":
        model = BEATs(small_beats_config(width, layers), seed=seed)
        ex = Extractor(spec, "BEATs, random weights", model, BEATS_RATE,
                       f"random (BEATs' official initialisation, seed {seed}; {layers} layers x {width})", False, 0)
    else:
        model = BEATs.from_checkpoint(path)
        kind = "fine-tuned" if model.cfg.finetuned_model else "pre-trained"
        ex = Extractor(spec, f"BEATs {path.stem} ({kind})", model, BEATS_RATE,
                       f"{path} ({kind} BEATs checkpoint, {model.cfg.encoder_layers} layers x {model.cfg.encoder_embed_dim})",
                       True, 4 if model.cfg.finetuned_model else 5, bool(model.cfg.finetuned_model))
        ex.default_layer = min(ex.default_layer, ex.n_layers)
    if ex.default_layer == 0:
        ex.default_layer = _paper_share_layer(ex.n_layers)
    ex.model = ex.model.to(resolve_device(device)).eval()
    return ex


def build_extractors(specs: Sequence[str], seed: int = 0, device: str = "auto", width: int = 192,
                     layers: int = 12) -> list[Extractor]:
    """:func:`build_extractor` for each spec, in order; names made unique when two would clash."""
    out = [build_extractor(s, seed, device, width, layers) for s in specs]
    seen: dict[str, int] = {}
    for ex in out:
        seen[ex.name] = seen.get(ex.name, 0) + 1
        if seen[ex.name] > 1:
            ex.name = f"{ex.name} #{seen[ex.name]}"
    return out
