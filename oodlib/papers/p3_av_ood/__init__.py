"""P3: AV-OOD, out-of-distribution detection for audio-visual generalised zero-shot learning.

Wen et al., BMVC 2024. One module per component, each swappable as the paper stresses:

* :mod:`.generator` — conditional WGAN-GP feature generator (L_WGAN + L_rec + L_emb);
* :mod:`.detector` — OOD-entropy and OOD-binary detectors;
* :mod:`.embedding` — the cross-attention unseen classifier (AVCA's model) with AV-OOD's negative losses (AVCA: the positive ones only);
* :mod:`.hparams` — the paper's per-dataset settings as named parameter sets;
* :mod:`.pipeline` — routing, calibrated stacking, the tables' metrics.

The paper-package shape (``CONTRIBUTING.md``): :mod:`.config` (:class:`P3Config`), :mod:`.data`
(:func:`load`), :mod:`.run` (:func:`run` -> :class:`P3Result`), :mod:`.tables`, :mod:`.claims`
(:func:`claims`), plus :mod:`.figures`.
"""

from .._lazy import lazy_exports

__all__ = lazy_exports(__name__, {
    "OODDetector": ".detector", "entropy": ".detector", "train_ood_detector": ".detector",
    "load_official": ".checkpoints",
    "ALL_TERMS": ".embedding", "CrossAttentionEmbedding": ".embedding", "EmbeddingClassifier": ".embedding",
    "embedding_loss": ".embedding", "train_embedding_model": ".embedding",
    "Critic": ".generator", "FeatureGenerator": ".generator", "Generator": ".generator",
    "gradient_penalty": ".generator", "train_feature_generator": ".generator",
    "PRESETS": ".hparams", "HParams": ".hparams", "hparams": ".hparams",
    "SOURCES": ".data", "load": ".data", "load_benchmark": ".data",
    "P3Config": ".config",
    "ABLATIONS": ".run", "P3Result": ".run", "run": ".run", "train_ablation": ".run",
    "claims": ".claims",
    "AVOODRun": ".pipeline", "BETAS": ".pipeline", "COMPONENTS": ".pipeline", "TestPredictions": ".pipeline",
    "component_seeds": ".pipeline", "av_ood_metrics": ".pipeline", "calibrated_stacking": ".pipeline",
    "choose_beta": ".pipeline", "detection_auc": ".pipeline", "detector_table_row": ".pipeline",
    "entropy_threshold_sweep": ".pipeline", "routed_hm_curve": ".pipeline", "gzsl_from_routing": ".pipeline",
    "harmonic_mean": ".pipeline", "local_labels": ".pipeline", "operating_point": ".pipeline",
    "route": ".pipeline", "run_av_ood": ".pipeline", "seen_accuracy": ".pipeline",
    "stacking_metrics": ".pipeline", "stacking_score": ".pipeline", "train_embedding": ".pipeline",
    "unseen_accuracy": ".pipeline",
})
