"""P3's unseen classifier: AVCA's cross-modal attention embedding model (paper Sec. 3.4).

The architecture of the authors' code (AVCA, Mercea et al. 2022, which AV-OOD builds on):

* encoders ``512 -> 512 -> 300`` for audio ``a`` and video ``v`` (each (n, 512), or (n, T, 512)
  sequences, averaged over T after encoding): two Linear-BatchNorm-ReLU-Dropout layers;
* **one transformer layer over the 2-token sequence** ``[enc_a + pos_0, enc_v + pos_1]`` (learned
  positions): pre-norm multi-head self-attention (3 heads x 100, no qkv bias) and a pre-norm
  feed-forward layer (300 -> 64 -> 300, GELU), each residual; its two output tokens are added to
  the encoder outputs (``att_a = enc_a + out_0``, ``att_v = enc_v + out_1``). Each modality thus
  attends to itself *and* the other: a 2-key softmax, not the single-key attention of a pure
  cross-attention on one token, which is always 1 and turns attention into a linear map;
* projections into the 64-d joint space: ``300 -> 512 -> 64`` for audio and video (two layers),
  ``300 -> 64`` for the class embedding ``t``; decoder ``64 -> 300`` back to the text space and
  reconstructors ``64 -> 300`` back to the encoder outputs (one layer each). Every layer is
  Linear-BatchNorm-ReLU-Dropout, as in the code.

Losses for a batch of positive samples (their own class ``t+``) and negative
samples (a different class, ``t-``), eqs. 6-8:

* triplet ``T(x, y, z) = max(||x - y|| - ||x - z|| + margin, 0)`` with four terms
  ``T(av±, t±, av∓) + T(t±, av±, t∓) + T(t±, av±, av∓) + T(av±, t±, t∓)``;
* reconstruction ``sum_m MSE(dec(proj_m±), t±)`` for m in {a, v, t};
* regularisation ``sum_m MSE(rec(proj_m±), enc_m±)`` for m in {a, v}: the target is the
  **encoder output** (eq. 8 and the code), before attention.

``L = L+ + L-``; ``terms`` switches the negative parts on and off (supplementary
Table 1). At test time a sample gets the class whose projected embedding is nearest (Euclidean)
to its embedding: ``eval_mode="audio-visual"`` uses the mean of the audio and video projections
(the paper's description), ``"video"`` the video projection alone (the authors' code's default).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from ...device import resolve_device
from ...seeding import seeded, torch_generator
from ...training import LoopHistory, infer, make_optimizer, optimizer_step, train_loop
from .hparams import EVAL_MODES

ALL_TERMS = frozenset({"trip+", "rec+", "reg+", "trip-", "rec-", "reg-"})
#: AVCA's own losses (Mercea et al. 2022): the positive terms only; AV-OOD adds the negative ones
AVCA_TERMS = frozenset({"trip+", "rec+", "reg+"})


def embedding_net(i: int, o: int, dropout: float, hidden: int | None = None) -> nn.Sequential:
    """Linear-BatchNorm-ReLU-Dropout ``i -> o``, or twice ``i -> hidden -> o`` (AVCA's ``EmbeddingNet``)."""
    layers: list[nn.Module] = []
    if hidden:
        layers += [nn.Linear(i, hidden), nn.BatchNorm1d(hidden), nn.ReLU(), nn.Dropout(dropout)]
        i = hidden
    layers += [nn.Linear(i, o), nn.BatchNorm1d(o), nn.ReLU(), nn.Dropout(dropout)]
    return nn.Sequential(*layers)


class PreNormAttention(nn.Module):
    """Multi-head self-attention on ``LayerNorm(x)``; (n, T, dim) -> (n, T, dim) and weights (n, heads, T, T)."""

    def __init__(self, dim: int, heads: int, dim_head: int, dropout: float):
        super().__init__()
        self.heads, self.scale = heads, dim_head ** -0.5
        self.norm = nn.LayerNorm(dim)
        self.to_qkv = nn.Linear(dim, 3 * heads * dim_head, bias=False)
        self.to_out = nn.Sequential(nn.Linear(heads * dim_head, dim), nn.Dropout(dropout))

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        n, t, _ = x.shape
        q, k, v = (z.reshape(n, t, self.heads, -1).transpose(1, 2) for z in self.to_qkv(self.norm(x)).chunk(3, -1))
        weights = torch.softmax(q @ k.transpose(-1, -2) * self.scale, dim=-1)
        return self.to_out((weights @ v).transpose(1, 2).reshape(n, t, -1)), weights


class FusionTransformer(nn.Module):
    """One pre-norm transformer layer (attention then feed-forward, each residual) over the tokens."""

    def __init__(self, dim: int = 300, heads: int = 3, dim_head: int = 100, mlp_dim: int = 64, dropout: float = 0.0):
        super().__init__()
        self.attn = PreNormAttention(dim, heads, dim_head, dropout)
        self.ff = nn.Sequential(nn.LayerNorm(dim), nn.Linear(dim, mlp_dim), nn.GELU(), nn.Dropout(dropout),
                                nn.Linear(mlp_dim, dim), nn.Dropout(dropout))

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        attended, weights = self.attn(x)
        x = x + attended
        return x + self.ff(x), weights


class CrossAttentionEmbedding(nn.Module):
    """The embedding model; see the module docstring for the data flow and shapes."""

    def __init__(self, audio_dim: int = 512, video_dim: int = 512, text_dim: int = 300, joint_dim: int = 64,
                 heads: int = 3, dim_head: int = 100, mlp_dim: int = 64, hidden: int = 512,
                 dropout_enc: float = 0.5, dropout_proj: float = 0.4, dropout_dec: float = 0.4):
        super().__init__()
        self.audio_dim = audio_dim
        self.a_enc = embedding_net(audio_dim, text_dim, dropout_enc, hidden)
        self.v_enc = embedding_net(video_dim, text_dim, dropout_enc, hidden)
        self.pos = nn.Parameter(torch.randn(2, text_dim))
        self.fusion = FusionTransformer(text_dim, heads, dim_head, mlp_dim, dropout_enc)
        self.a_proj = embedding_net(text_dim, joint_dim, dropout_proj, hidden)
        self.v_proj = embedding_net(text_dim, joint_dim, dropout_proj, hidden)
        self.t_proj = embedding_net(text_dim, joint_dim, dropout_dec)
        self.decoder = embedding_net(joint_dim, text_dim, dropout_dec)
        self.a_rec = embedding_net(joint_dim, text_dim, dropout_dec)
        self.v_rec = embedding_net(joint_dim, text_dim, dropout_dec)

    def _encode(self, enc: nn.Module, x: torch.Tensor) -> torch.Tensor:
        seq = x if x.dim() == 3 else x.unsqueeze(1)
        n, t, d = seq.shape
        return enc(seq.reshape(n * t, d)).reshape(n, t, -1).mean(1)

    def encode_av(self, a: torch.Tensor, v: torch.Tensor, with_weights: bool = False) -> dict[str, torch.Tensor]:
        """Encoder outputs ``enc_a``/``enc_v`` (n, 300), attended ``att_a``/``att_v`` (n, 300), joint-space
        projections ``proj_a``/``proj_v`` and their mean ``proj_av`` (n, joint_dim); with ``with_weights``
        also the attention weights ``weights`` (n, heads, 2, 2)."""
        ea, ev = self._encode(self.a_enc, a), self._encode(self.v_enc, v)
        fused, weights = self.fusion(torch.stack((ea + self.pos[0], ev + self.pos[1]), dim=1))
        xa, xv = ea + fused[:, 0], ev + fused[:, 1]
        pa, pv = self.a_proj(xa), self.v_proj(xv)
        out = {"enc_a": ea, "enc_v": ev, "att_a": xa, "att_v": xv, "proj_a": pa, "proj_v": pv, "proj_av": (pa + pv) / 2}
        return {**out, "weights": weights} if with_weights else out

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
    eval_mode: str = "audio-visual"  # "audio-visual" (mean of the two projections) or "video" (the code's)
    history: LoopHistory | None = None  # how training went (None: loaded, not trained here)

    def distances(self, x: np.ndarray, classes: np.ndarray, batch_size: int = 2048) -> np.ndarray:
        """Euclidean distances (n, len(classes)) in the joint space, float64."""
        self.model.eval()
        with torch.no_grad():
            pt = self.model.embed_text(torch.as_tensor(self.text[np.asarray(classes)], dtype=torch.float32,
                                                       device=self.device))

        def to_classes(xb: torch.Tensor) -> torch.Tensor:
            out = self.model.encode_av(*self.model.split(xb))
            return torch.cdist(out["proj_v" if self.eval_mode == "video" else "proj_av"], pt)

        return infer(to_classes, x, batch_size, self.device).astype(np.float64)

    def predict(self, x: np.ndarray, classes: np.ndarray) -> np.ndarray:
        """Nearest class among ``classes`` (global ids), shape (n,)."""
        classes = np.asarray(classes)
        return classes[self.distances(x, classes).argmin(1)]


@dataclass(frozen=True)
class Validation:
    """Held-out samples that choose the best epoch: HM at the best calibrated-stacking ``beta``.

    ``x_seen``/``y_seen`` and ``x_unseen``/``y_unseen``: features (n, d) and global class ids;
    ``classes``: every class predicted over; ``seen_classes``: those ``beta`` penalises.
    """

    x_seen: np.ndarray
    y_seen: np.ndarray
    x_unseen: np.ndarray
    y_unseen: np.ndarray
    classes: np.ndarray
    seen_classes: np.ndarray

    def best_hm(self, clf: "EmbeddingClassifier") -> float:
        """The best HM (fraction) over :data:`.pipeline.BETAS` of calibrated stacking with ``clf``'s distances."""
        from .pipeline import choose_beta

        c = self.classes
        _, hms = choose_beta(clf.distances(self.x_seen, c), self.y_seen, clf.distances(self.x_unseen, c),
                             self.y_unseen, c, self.seen_classes)
        return float(hms.max())


def train_embedding_model(x: np.ndarray, y: np.ndarray, text: np.ndarray, audio_dim: int = 512, epochs: int = 50,
                          lr: float = 0.0024, batch_size: int = 112, dropout_enc: float = 0.5,
                          dropout_proj: float = 0.4, dropout_dec: float = 0.4, terms: frozenset[str] = ALL_TERMS,
                          margin: float = 1.0, seed: int = 0, device: str = "auto",
                          eval_mode: str = "audio-visual", steps_per_epoch: int | None = None,
                          weight_decay: float = 0.0, validation: Validation | None = None,
                          patience: int | None = None) -> EmbeddingClassifier:
    """Train the embedding model on seen features ``x`` (n, d) with class ids ``y`` indexing ``text`` (C, 300).

    The authors' schedule: ``steps_per_epoch`` batches per epoch drawn with replacement (``None``:
    one pass over a fresh permutation), Adam with L2 ``weight_decay`` and ``ReduceLROnPlateau``
    (patience 3, as AVCA's code). With ``validation`` the plateau watches its best-beta HM (mode
    max), training stops after ``patience`` epochs without a better one, and the best epoch's
    weights are kept (``history.best_epoch``); without it the plateau watches the epoch's mean
    training loss. Each epoch also draws one negative (another class) per training sample;
    batches of one sample are skipped (batch norm). ``seed``: those draws (``torch_generator(seed)``),
    and initial weights and dropout inside ``seeded(seed)``.
    """
    if eval_mode not in EVAL_MODES:
        raise ValueError(f"eval_mode must be one of {EVAL_MODES}, got {eval_mode!r}")
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
        opt = make_optimizer(model.parameters(), "adam", lr=lr, weight_decay=weight_decay)
        plateau = torch.optim.lr_scheduler.ReduceLROnPlateau(opt, mode="max" if validation else "min", patience=3)
        clf = EmbeddingClassifier(model, np.asarray(text, dtype=np.float32), dev, eval_mode)
        losses: list[float] = []

        def draw_negatives(_epoch: int) -> None:
            negatives["idx"] = _negatives(yt, gen)
            losses.clear()

        def step(idx: torch.Tensor) -> dict[str, float]:
            nidx = negatives["idx"][idx]
            loss = embedding_loss(model, xt[idx].to(dev), tt[yt[idx]].to(dev), xt[nidx].to(dev), tt[yt[nidx]].to(dev),
                                  terms, margin)
            optimizer_step(loss, opt)
            losses.append(float(loss.detach()))
            return {"loss": losses[-1]}

        def watched() -> float:
            return validation.best_hm(clf) if validation is not None else float(np.mean(losses))

        clf.history = train_loop(step, len(xt), epochs, batch_size, gen, steps_per_epoch=steps_per_epoch, min_batch=2,
                                 model=model, epoch_start=draw_negatives, scheduler=plateau, validate=watched,
                                 patience=patience if validation is not None else None, mode="max" if validation else "min",
                                 restore_best=validation is not None, desc="embedding")
    model.eval()
    return clf
