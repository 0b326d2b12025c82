"""P3's unseen classifier: an AVCA-style cross-attention embedding model (paper Sec. 3.4).

Audio ``a`` and video ``v`` (each (n, 512), or (n, T, 512) sequences) are encoded
into the text dimension (300), exchange information in one cross-attention
block (audio attends to video and video to audio, 3 heads), are averaged over
time and projected into a 64-d joint space; the class embedding ``t`` is
projected there too. Decoders map each projection back to the text space and
reconstructors map the audio/video projections back to their encoder outputs.

Losses for a batch of positive samples (their own class ``t+``) and negative
samples (a different class, ``t-``), eqs. 6-8:

* triplet ``T(x, y, z) = max(||x - y|| - ||x - z|| + margin, 0)`` with four terms
  ``T(av±, t±, av∓) + T(t±, av±, t∓) + T(t±, av±, av∓) + T(av±, t±, t∓)``;
* reconstruction ``sum_m MSE(dec(proj_m±), t±)`` for m in {a, v, t};
* regularisation ``sum_m MSE(rec(proj_m±), enc_m±)`` for m in {a, v}.

``L = L+ + L-``; ``terms`` switches the negative parts on and off (supplementary
Table 1). At test time a sample gets the class whose projected embedding is
nearest (Euclidean) to its audio-visual projection.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from ...device import resolve_device
from ...seeding import seeded, torch_generator
from ...training import infer, make_optimizer, optimizer_step, train_loop

ALL_TERMS = frozenset({"trip+", "rec+", "reg+", "trip-", "rec-", "reg-"})


def _block(i: int, o: int, dropout: float) -> nn.Sequential:
    return nn.Sequential(nn.Linear(i, o), nn.BatchNorm1d(o), nn.LeakyReLU(0.2), nn.Dropout(dropout))


class CrossAttentionEmbedding(nn.Module):
    """The embedding model; see the module docstring for the data flow and shapes."""

    def __init__(self, audio_dim: int = 512, video_dim: int = 512, text_dim: int = 300, joint_dim: int = 64,
                 heads: int = 3, dropout_enc: float = 0.5, dropout_proj: float = 0.4, dropout_dec: float = 0.4):
        super().__init__()
        if text_dim % heads:
            raise ValueError(f"text_dim {text_dim} must be divisible by heads {heads}")
        self.audio_dim = audio_dim
        self.a_enc = _block(audio_dim, text_dim, dropout_enc)
        self.v_enc = _block(video_dim, text_dim, dropout_enc)
        self.attn_a = nn.MultiheadAttention(text_dim, heads, batch_first=True)
        self.attn_v = nn.MultiheadAttention(text_dim, heads, batch_first=True)
        self.norm_a, self.norm_v = nn.LayerNorm(text_dim), nn.LayerNorm(text_dim)
        self.a_proj = nn.Sequential(nn.Linear(text_dim, joint_dim), nn.Dropout(dropout_proj))
        self.v_proj = nn.Sequential(nn.Linear(text_dim, joint_dim), nn.Dropout(dropout_proj))
        self.t_proj = nn.Sequential(nn.Linear(text_dim, joint_dim), nn.Dropout(dropout_proj))
        self.decoder = nn.Sequential(nn.Linear(joint_dim, text_dim), nn.Dropout(dropout_dec))
        self.a_rec = nn.Linear(joint_dim, text_dim)
        self.v_rec = nn.Linear(joint_dim, text_dim)

    def _encode(self, enc: nn.Module, x: torch.Tensor) -> torch.Tensor:
        seq = x if x.dim() == 3 else x.unsqueeze(1)
        n, t, d = seq.shape
        return enc(seq.reshape(n * t, d)).reshape(n, t, -1)

    def encode_av(self, a: torch.Tensor, v: torch.Tensor) -> dict[str, torch.Tensor]:
        """Encoder outputs (n, 300) and joint-space projections (n, joint_dim) of audio, video and their mean."""
        ea, ev = self._encode(self.a_enc, a), self._encode(self.v_enc, v)
        xa = self.norm_a(ea + self.attn_a(ea, ev, ev, need_weights=False)[0]).mean(1)
        xv = self.norm_v(ev + self.attn_v(ev, ea, ea, need_weights=False)[0]).mean(1)
        pa, pv = self.a_proj(xa), self.v_proj(xv)
        return {"enc_a": xa, "enc_v": xv, "proj_a": pa, "proj_v": pv, "proj_av": (pa + pv) / 2}

    def embed_text(self, t: torch.Tensor) -> torch.Tensor:
        """Class embeddings (C, 300) -> joint space (C, joint_dim)."""
        return self.t_proj(t)

    def split(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Concatenated features (n, audio_dim + video_dim) -> (audio, video)."""
        return x[..., : self.audio_dim], x[..., self.audio_dim :]


def triplet(x: torch.Tensor, y: torch.Tensor, z: torch.Tensor, margin: float = 1.0) -> torch.Tensor:
    """Mean of ``max(||x - y||_2 - ||x - z||_2 + margin, 0)`` over rows."""
    return torch.relu((x - y).norm(dim=1) - (x - z).norm(dim=1) + margin).mean()


def _side_losses(model: CrossAttentionEmbedding, out: dict, t: torch.Tensor, other: dict,
                 other_t: torch.Tensor, margin: float) -> dict[str, torch.Tensor]:
    pt, qt = model.embed_text(t), model.embed_text(other_t)
    av, qav = out["proj_av"], other["proj_av"]
    trip = triplet(av, pt, qav, margin) + triplet(pt, av, qt, margin) + triplet(pt, av, qav, margin) \
        + triplet(av, pt, qt, margin)
    mse = nn.functional.mse_loss
    rec = mse(model.decoder(out["proj_a"]), t) + mse(model.decoder(out["proj_v"]), t) + mse(model.decoder(pt), t)
    reg = mse(model.a_rec(out["proj_a"]), out["enc_a"]) + mse(model.v_rec(out["proj_v"]), out["enc_v"])
    return {"trip": trip, "rec": rec, "reg": reg}


def embedding_loss(model: CrossAttentionEmbedding, x_pos: torch.Tensor, t_pos: torch.Tensor, x_neg: torch.Tensor,
                   t_neg: torch.Tensor, terms: frozenset[str] = ALL_TERMS, margin: float = 1.0) -> torch.Tensor:
    """``L+ + L-`` restricted to ``terms`` (names like ``"trip+"``, ``"reg-"``); a scalar."""
    unknown = set(terms) - ALL_TERMS
    if unknown:
        raise ValueError(f"unknown loss terms {sorted(unknown)}; expected names from {sorted(ALL_TERMS)}")
    pos = model.encode_av(*model.split(x_pos))
    neg = model.encode_av(*model.split(x_neg))
    plus = _side_losses(model, pos, t_pos, neg, t_neg, margin)
    minus = _side_losses(model, neg, t_neg, pos, t_pos, margin)
    total = x_pos.new_zeros(())
    for name, value in (*((k + "+", v) for k, v in plus.items()), *((k + "-", v) for k, v in minus.items())):
        if name in terms:
            total = total + value
    return total


def _negatives(y: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
    """For each sample, the index of a random sample of another class from the whole training set."""
    n = len(y)
    idx = torch.randint(0, n, (n,), generator=gen)
    for _ in range(10):
        same = y[idx] == y
        if not same.any():
            return idx
        idx[same] = torch.randint(0, n, (int(same.sum()),), generator=gen)
    return idx


@dataclass
class EmbeddingClassifier:
    """A trained embedding model with the class embeddings; nearest projected class wins."""

    model: CrossAttentionEmbedding
    text: np.ndarray
    device: torch.device

    def distances(self, x: np.ndarray, classes: np.ndarray, batch_size: int = 2048) -> np.ndarray:
        """Euclidean distances (n, len(classes)) in the joint space, float64."""
        self.model.eval()
        with torch.no_grad():
            pt = self.model.embed_text(torch.as_tensor(self.text[np.asarray(classes)], dtype=torch.float32,
                                                       device=self.device))

        def to_classes(xb: torch.Tensor) -> torch.Tensor:
            return torch.cdist(self.model.encode_av(*self.model.split(xb))["proj_av"], pt)

        return infer(to_classes, x, batch_size, self.device).astype(np.float64)

    def predict(self, x: np.ndarray, classes: np.ndarray) -> np.ndarray:
        """Nearest class among ``classes`` (global ids), shape (n,)."""
        classes = np.asarray(classes)
        return classes[self.distances(x, classes).argmin(1)]


def train_embedding_model(x: np.ndarray, y: np.ndarray, text: np.ndarray, audio_dim: int = 512, epochs: int = 50,
                          lr: float = 0.0024, batch_size: int = 112, dropout_enc: float = 0.5,
                          dropout_proj: float = 0.4, dropout_dec: float = 0.4, terms: frozenset[str] = ALL_TERMS,
                          margin: float = 1.0, seed: int = 0, device: str = "auto") -> EmbeddingClassifier:
    """Train the embedding model on seen features ``x`` (n, d) with class ids ``y`` indexing ``text`` (C, 300).

    Each epoch draws a permutation, then one negative (another class) per training sample; batches
    of one sample are skipped (batch norm). ``seed``: those draws (``torch_generator(seed)``), and
    initial weights and dropout inside ``seeded(seed)``.
    """
    dev = resolve_device(device)
    gen = torch_generator(seed)
    xt = torch.as_tensor(x, dtype=torch.float32)
    yt = torch.as_tensor(y, dtype=torch.long)
    tt = torch.as_tensor(text, dtype=torch.float32)
    if len(torch.unique(yt)) < 2:
        raise ValueError("the embedding model needs at least two training classes (negatives come from other classes)")
    negatives: dict[str, torch.Tensor] = {}
    with seeded(seed, dev):
        model = CrossAttentionEmbedding(audio_dim, xt.shape[1] - audio_dim, tt.shape[1], dropout_enc=dropout_enc,
                                        dropout_proj=dropout_proj, dropout_dec=dropout_dec).to(dev)
        opt = make_optimizer(model.parameters(), "adam", lr=lr)

        def draw_negatives(_epoch: int) -> None:
            negatives["idx"] = _negatives(yt, gen)

        def step(idx: torch.Tensor) -> dict[str, float]:
            nidx = negatives["idx"][idx]
            loss = embedding_loss(model, xt[idx].to(dev), tt[yt[idx]].to(dev), xt[nidx].to(dev), tt[yt[nidx]].to(dev),
                                  terms, margin)
            optimizer_step(loss, opt)
            return {}

        train_loop(step, len(xt), epochs, batch_size, gen, min_batch=2, model=model, epoch_start=draw_negatives,
                   desc="embedding")
    model.eval()
    return EmbeddingClassifier(model, np.asarray(text, dtype=np.float32), dev)
