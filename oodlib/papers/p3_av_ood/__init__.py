"""P3: AV-OOD, out-of-distribution detection for audio-visual generalised zero-shot learning.

Wen et al., BMVC 2024. One module per component, each swappable as the paper stresses:

* :mod:`.generator` — conditional WGAN-GP feature generator (L_WGAN + L_rec + L_emb);
* :mod:`.detector` — OOD-entropy and OOD-binary detectors;
* :mod:`.embedding` — the AVCA-style cross-attention unseen classifier with negative losses;
* :mod:`.hparams` — the paper's per-dataset settings as named parameter sets;
* :mod:`.pipeline` — routing, calibrated stacking, the tables' metrics.

The paper-package shape (``CONTRIBUTING.md``): :mod:`.config` (:class:`P3Config`), :mod:`.data`
(:func:`load`), :mod:`.run` (:func:`run` -> :class:`P3Result`), :mod:`.tables`, :mod:`.claims`
(:func:`claims`), plus :mod:`.figures`.
"""

from .detector import OODDetector, entropy, train_ood_detector
from .embedding import ALL_TERMS, CrossAttentionEmbedding, EmbeddingClassifier, embedding_loss, train_embedding_model
from .generator import Critic, FeatureGenerator, Generator, gradient_penalty, train_feature_generator
from .hparams import PRESETS, HParams, hparams
from .data import SOURCES, load, load_benchmark
from .config import P3Config
from .run import ABLATIONS, P3Result, run, train_ablation
from .claims import claims
from .pipeline import *  # noqa: F401,F403
from .pipeline import __all__ as _pipeline_all

__all__ = [
    "ABLATIONS", "ALL_TERMS", "Critic", "P3Config", "P3Result", "claims", "load", "run", "train_ablation", "CrossAttentionEmbedding", "EmbeddingClassifier", "FeatureGenerator", "Generator",
    "HParams", "OODDetector", "PRESETS", "SOURCES", "load_benchmark", "embedding_loss", "entropy", "gradient_penalty", "hparams",
    "train_embedding_model", "train_feature_generator", "train_ood_detector", *_pipeline_all,
]
