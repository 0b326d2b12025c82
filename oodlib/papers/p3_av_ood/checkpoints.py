"""Loading the authors' released unseen-classifier weights into :class:`.embedding.CrossAttentionEmbedding`.

The authors' model (AVCA's, which AV-OOD reuses) names its parts ``A_enc``, ``V_enc`` (each an
``EmbeddingNet`` whose layers sit in ``.fc``), ``cross_attention`` (a ``Transformer`` of
``layers.0.0`` = pre-norm attention, ``layers.0.1`` = pre-norm feed-forward, each ``.norm`` and
``.fn``), ``A_proj``, ``V_proj``, ``W_proj`` (the class embedding's projection), ``D`` (the decoder),
``A_rec``, ``V_rec`` and ``pos_emb1D``. Our layers are built in the same order, so each official
name maps to ours by its prefix (:data:`PREFIXES`); :func:`load_official` renames a checkpoint's
tensors and loads them **strictly**: every tensor of the model must be present with its shape, and
nothing else may be left over, or the error names the keys.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import torch

from .embedding import CrossAttentionEmbedding

#: official name prefix -> ours, longest first so that the transformer's parts match before the whole
PREFIXES: tuple[tuple[str, str], ...] = (
    ("cross_attention.layers.0.0.norm.", "fusion.attn.norm."),
    ("cross_attention.layers.0.0.fn.to_qkv.", "fusion.attn.to_qkv."),
    ("cross_attention.layers.0.0.fn.to_out.", "fusion.attn.to_out."),
    ("cross_attention.layers.0.1.norm.", "fusion.ff.0."),
    ("cross_attention.layers.0.1.fn.net.0.", "fusion.ff.1."),
    ("cross_attention.layers.0.1.fn.net.3.", "fusion.ff.4."),
    ("A_enc.fc.", "a_enc."), ("V_enc.fc.", "v_enc."), ("A_proj.fc.", "a_proj."), ("V_proj.fc.", "v_proj."),
    ("W_proj.fc.", "t_proj."), ("D.fc.", "decoder."), ("A_rec.fc.", "a_rec."), ("V_rec.fc.", "v_rec."),
    ("pos_emb1D", "pos"),
)
#: containers an official checkpoint may wrap its state dict in
WRAPPERS = ("model", "state_dict", "model_state_dict")


def ours(official: str) -> str | None:
    """Our name for an official tensor name, or ``None`` when no prefix matches (not this model's)."""
    for theirs, mine in PREFIXES:
        if official.startswith(theirs):
            return mine + official[len(theirs):]
    return None


def official(name: str) -> str:
    """The official name of one of our tensor names (the inverse of :func:`ours`).

    Raises:
        KeyError: ``name`` is not a tensor name of :class:`CrossAttentionEmbedding`.
    """
    for theirs, mine in PREFIXES:
        if name.startswith(mine):
            return theirs + name[len(mine):]
    raise KeyError(f"{name!r} is not a CrossAttentionEmbedding tensor")


def _state_dict(raw: object, path: Path) -> Mapping[str, torch.Tensor]:
    for key in WRAPPERS:
        if isinstance(raw, Mapping) and isinstance(raw.get(key), Mapping):
            raw = raw[key]
            break
    if not (isinstance(raw, Mapping) and raw and all(isinstance(k, str) and isinstance(v, torch.Tensor)
                                                     for k, v in raw.items())):
        raise ValueError(f"AV-OOD checkpoint {path} holds no state dict (a mapping of names to tensors, "
                         f"optionally under one of {WRAPPERS})")
    return raw


def load_official(model: CrossAttentionEmbedding, path: str | Path) -> CrossAttentionEmbedding:
    """Load the authors' unseen-classifier weights from ``path`` into ``model``, strictly; return it.

    Reads with ``torch.load(weights_only=True)`` (:func:`oodlib.models.beats.load_weights`): no code
    runs. ``module.`` prefixes (``DataParallel``) are dropped.

    Raises:
        FileNotFoundError: ``path`` does not exist.
        ValueError: the file is unreadable or refused, holds no state dict, or does not match the
            model: the message lists the missing, unexpected and mis-shaped tensors by official name.
    """
    from ...models.beats import load_weights

    path = Path(path)
    raw = _state_dict(load_weights(path, "cpu", what="AV-OOD checkpoint"), path)
    renamed: dict[str, torch.Tensor] = {}
    unexpected = []
    for key, tensor in raw.items():
        key = key.removeprefix("module.")
        mine = ours(key)
        if mine is None:
            unexpected.append(key)
        else:
            renamed[mine] = tensor
    expected = model.state_dict()
    missing = [official(k) for k in expected if k not in renamed]
    unexpected += [official(k) for k in renamed if k not in expected]
    shapes = [f"{official(k)}: checkpoint {tuple(v.shape)}, model {tuple(expected[k].shape)}"
              for k, v in renamed.items() if k in expected and v.shape != expected[k].shape]
    if missing or unexpected or shapes:
        parts = [f"{label}: {', '.join(items[:8])}{' ...' if len(items) > 8 else ''}"
                 for label, items in (("missing", missing), ("unexpected", unexpected), ("shape", shapes)) if items]
        raise ValueError(f"AV-OOD checkpoint {path} does not match the unseen classifier; " + "; ".join(parts))
    model.load_state_dict(renamed, strict=True)
    return model
