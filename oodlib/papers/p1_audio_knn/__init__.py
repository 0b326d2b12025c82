"""P1 - deep k-nearest-neighbour OOD detection for audio (Bukhsh & Saeed, ICASSP 2023).

The pieces the notebook ``notebooks/p1_audio_knn.ipynb`` puts together:

* data: the two ID settings and the OOD suite, synthetic (:func:`synthetic_id_setting`,
  :func:`synthetic_ood_suite`), from Speech Commands (:func:`speech_commands_setting`)
  or from any folder-per-class sets (:func:`folder_setting`);
* :func:`train_model` - MobileNetV1 (YAMNet) or EfficientNet-B0 on log-mel input;
* :func:`score_all` - MSP, ODIN, GradNorm and kNN on the same trained model;
* :func:`classical_scores` - Isolation Forest, OCSVM, LODA, LOF, PCA on the same embeddings;
* :func:`ood_table` / :func:`average_table` - metrics in the paper's convention
  (ID positive, FPR95 and AUROC in percent).

All scores follow oodlib's orientation (higher = more OOD); P1's kNN score is
the negative squared distance to the k-th neighbour, which is our
``KNNScorer(k, normalize=True, squared=True)`` negated.
"""

from .._lazy import lazy_exports

__all__ = lazy_exports(__name__, {
    "METHODS": ".pipeline", "CLASSICAL": ".pipeline", "IDSetting": ".pipeline",
    "synthetic_id_setting": ".pipeline", "synthetic_ood_suite": ".pipeline",
    "speech_commands_setting": ".pipeline", "long_clips_as_seconds": ".pipeline",
    "folder_setting": ".pipeline", "ood_class_count": ".pipeline", "folder_ood_set": ".pipeline",
    "logmel_inputs": ".pipeline", "make_model": ".pipeline", "train_model": ".pipeline",
    "score_all": ".pipeline", "classical_scores": ".pipeline", "embedding_geometry": ".pipeline", "ood_table": ".pipeline",
    "average_table": ".pipeline", "best_method": ".pipeline", "paper_names": ".pipeline",
    "k_sweep": ".pipeline", "SAMPLE_RATE": ".pipeline", "CLIP_SAMPLES": ".pipeline", "TEN_WORDS": ".pipeline",
    "SILENCE": ".pipeline", "UNKNOWN": ".pipeline", "STANDS_IN_FOR": ".sets", "TASK_SHARING": ".sets",
    "VOCALISATIONS": ".sets", "P1Config": ".config",
})
