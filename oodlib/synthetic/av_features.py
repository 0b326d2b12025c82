"""Synthetic audio-visual features for generalised zero-shot learning (the P3 default).

A stand-in for AVCA's 512-d SeLaVi audio and video features. Each class has a
300-d embedding ``t_c`` (random and clustered into semantic groups, or the real
word2vec vector). Its features come from

* a latent prototype ``mu_c = s * normalise(t_c P) + r_c``: the part ``t_c P``
  is predictable from the class embedding (this is what makes zero-shot
  transfer possible); ``r_c`` is a class-specific residual that the text does
  not explain, with a per-class scale (some classes are harder than others);
* within-class variation ``h = mu_c + w_c * eps`` (per-class spread ``w_c``);
* two fixed random nonlinear maps (one per modality, ``softplus(W2 tanh(W1 h))``)
  with extra latent noise on the modality a class is less audible/visible in,
  plus small additive feature noise.

Class splits follow the AVCA two-stage protocol (see :mod:`oodlib.data.gzsl`)
with the benchmark's class counts (:data:`SHAPES`), or the real splits when
given. Sample counts mimic the benchmark's proportions: few validation/test
samples per seen class, all of a class's samples for an unseen class.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..data.gzsl import GZSLBenchmark, GZSLStage

# stage-1 train classes, stage-1 val-unseen classes, stage-2 unseen classes (AVCA main_split)
SHAPES = {"UCF": (30, 12, 9), "ActivityNet": (99, 51, 50), "VGGSound": (138, 69, 69)}


@dataclass(frozen=True)
class AVFeatureSpec:
    """Knobs of the generator (defaults give a UCF-GZSL-like difficulty in a few seconds).

    n_train: samples per seen class for training (and per unseen class for evaluation).
    n_eval: validation/test samples per seen class.
    """

    n_train: int = 60
    n_eval: int = 15
    audio_dim: int = 512
    video_dim: int = 512
    latent_dim: int = 64
    text_scale: float = 3.0
    residual: float = 4.0
    spread: float = 8.0
    modality_noise: float = 1.5
    feature_noise: float = 0.05
    groups: int = 8

    def __post_init__(self) -> None:
        for name in ("n_train", "n_eval", "audio_dim", "video_dim", "latent_dim", "groups"):
            if getattr(self, name) < 1:
                raise ValueError(f"AVFeatureSpec.{name} must be >= 1, got {getattr(self, name)}")


def class_embeddings(n: int, dim: int = 300, groups: int = 8, within: float = 0.8,
                     rng: np.random.Generator | None = None) -> np.ndarray:
    """``n`` unit vectors (n, dim) in ``groups`` semantic clusters (like related words in word2vec).

    Classes of one cluster have cosine similarity about ``1 / (1 + within**2)``.
    """
    rng = rng or np.random.default_rng(0)
    centres = rng.standard_normal((groups, dim))
    centres /= np.linalg.norm(centres, axis=1, keepdims=True)
    own = rng.standard_normal((n, dim)) / np.sqrt(dim)
    t = centres[rng.integers(0, groups, n)] + within * own
    return (t / np.linalg.norm(t, axis=1, keepdims=True)).astype(np.float32)


class _Modality:
    """A fixed random map latent (L) -> features (d): ``softplus(2 W2 tanh(W1 h + b1))``."""

    def __init__(self, latent: int, out: int, rng: np.random.Generator, hidden: int = 256) -> None:
        self.w1 = 2.0 * rng.standard_normal((latent, hidden)) / np.sqrt(latent)
        self.b1 = 0.1 * rng.standard_normal(hidden)
        self.w2 = rng.standard_normal((hidden, out)) / np.sqrt(hidden)

    def __call__(self, h: np.ndarray) -> np.ndarray:
        return np.logaddexp(0.0, 2.0 * np.tanh(h @ self.w1 + self.b1) @ self.w2)


def _gauss(rng: np.random.Generator, n: int, dim: int) -> np.ndarray:
    """Gaussian vectors (n, dim) of expected norm about 1."""
    return rng.standard_normal((n, dim)) / np.sqrt(dim)


class _World:
    """Every class's prototype, spread and modality noise, and the two modality maps (all norms in latent units)."""

    def __init__(self, text: np.ndarray, spec: AVFeatureSpec, rng: np.random.Generator) -> None:
        n, L = len(text), spec.latent_dim
        z = text @ rng.standard_normal((text.shape[1], L))
        z /= np.linalg.norm(z, axis=1, keepdims=True)
        hard = rng.uniform(0.4, 1.6, n)  # per-class difficulty: how much the text does not explain
        self.mu = spec.text_scale * z + spec.residual * hard[:, None] * _gauss(rng, n, L)
        self.spread = spec.spread * rng.uniform(0.7, 1.3, n)
        lean = rng.uniform(0, 1, n)  # 0: only audible, 1: only visible
        self.noise_a = spec.modality_noise * lean
        self.noise_v = spec.modality_noise * (1 - lean)
        self.audio = _Modality(L, spec.audio_dim, rng)
        self.video = _Modality(L, spec.video_dim, rng)
        self.spec = spec

    def sample(self, c: int, n: int, rng: np.random.Generator) -> np.ndarray:
        """``n`` samples of class ``c``: audio ⊕ video, float32 (n, audio_dim + video_dim)."""
        L = self.spec.latent_dim
        h = self.mu[c] + self.spread[c] * _gauss(rng, n, L)
        a = self.audio(h + self.noise_a[c] * _gauss(rng, n, L))
        v = self.video(h + self.noise_v[c] * _gauss(rng, n, L))
        x = np.concatenate([a, v], axis=1)
        x += self.spec.feature_noise * rng.standard_normal(x.shape)
        return x.astype(np.float32)


def synthetic_gzsl(shape: str = "UCF", spec: AVFeatureSpec | None = None, seed: int = 0,
                   text: np.ndarray | None = None, class_names: list[str] | None = None,
                   splits: dict[str, list[str]] | None = None, source: str | None = None) -> GZSLBenchmark:
    """A synthetic two-stage GZSL benchmark.

    Args:
        shape: class counts of ``"UCF"``, ``"ActivityNet"`` or ``"VGGSound"`` (ignored with ``splits``).
        text: class embeddings (C, 300) to condition on (default: random, clustered).
        class_names, splits: real names and AVCA split lists (``stage_1_train``,
            ``stage_1_val_unseen``, ``stage_2_test_unseen``); ``text`` rows follow ``class_names``.
        source: the description stored in the benchmark.
    Returns:
        A :class:`GZSLBenchmark`; the same arguments give the same arrays.
    """
    spec = spec or AVFeatureSpec()
    rng = np.random.default_rng(seed)
    if splits is None:
        if shape not in SHAPES:
            raise ValueError(f"unknown shape {shape!r}; expected one of {sorted(SHAPES)}")
        n1, nv, nu = SHAPES[shape]
        class_names = [f"class_{i:03d}" for i in range(n1 + nv + nu)]
        ids1, idv, idu = np.arange(n1), np.arange(n1, n1 + nv), np.arange(n1 + nv, n1 + nv + nu)
    else:
        if class_names is None or text is None:
            raise ValueError("splits need class_names and text")
        index = {n: i for i, n in enumerate(class_names)}
        ids1, idv, idu = (np.array([index[c] for c in splits[s]]) for s in
                          ("stage_1_train", "stage_1_val_unseen", "stage_2_test_unseen"))
    if text is None:
        text = class_embeddings(len(class_names), groups=spec.groups, rng=rng)
    if len(text) != len(class_names):
        raise ValueError(f"text has {len(text)} rows for {len(class_names)} classes")
    world = _World(np.asarray(text, dtype=np.float64), spec, rng)

    def draw(classes: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
        xs = [world.sample(int(c), n, rng) for c in classes]
        return np.concatenate(xs), np.repeat(classes, n).astype(np.int64)

    tr1 = draw(ids1, spec.n_train)
    val_seen = draw(ids1, spec.n_eval)
    val_unseen = draw(idv, spec.n_train)
    seen2 = np.concatenate([ids1, idv])
    train2 = (np.concatenate([tr1[0], val_seen[0], val_unseen[0]]), np.concatenate([tr1[1], val_seen[1], val_unseen[1]]))
    test_seen = draw(seen2, spec.n_eval)
    test_unseen = draw(idu, spec.n_train)
    stage1 = GZSLStage(*tr1, *val_seen, *val_unseen, ids1.astype(np.int64), idv.astype(np.int64))
    stage2 = GZSLStage(*train2, *test_seen, *test_unseen, seen2.astype(np.int64), idu.astype(np.int64))
    return GZSLBenchmark(f"synthetic {shape}-shaped" if splits is None else f"synthetic ({shape} semantics)",
                         list(class_names), np.asarray(text, dtype=np.float32), spec.audio_dim, stage1, stage2,
                         source=source or "synthetic features, synthetic class embeddings and class splits")
