"""P1 - deep k-nearest-neighbour OOD detection for audio (Bukhsh & Saeed, ICASSP 2023).

In the package shape (P3 is the worked example): :mod:`.config` (validated parameters),
:mod:`.data` (:func:`load`: the ID settings and OOD sets, synthetic or real in their native
layouts, cut by the clip-length policy), :mod:`.run` (:func:`run`: train and score every
(setting, model), Table 3, the k sweep, the evidence), :mod:`.tables` (the paper's tables
beside ours), :mod:`.claims` (the paper's claims with margins, judged with a bootstrap).
:mod:`.pipeline` holds the methods: MobileNetV1 (YAMNet) / EfficientNet-B0 on log-mel input;
MSP, ODIN, GradNorm and kNN on the same model; the classical detectors on its embeddings;
metrics in the paper's convention (ID positive, FPR95 and AUROC in percent).

All scores follow oodlib's orientation (higher = more OOD); P1's kNN score is
the negative squared distance to the k-th neighbour, which is our
``KNNScorer(k, normalize=True, squared=True)`` negated.
"""

from .._lazy import lazy_exports

__all__ = lazy_exports(__name__, {
    "METHODS": ".pipeline", "CLASSICAL": ".pipeline", "IDSetting": ".data", "P1Data": ".data", "load": ".data",
    "synthetic_id_setting": ".data", "synthetic_ood_suite": ".data", "speech_commands_setting": ".data",
    "folder_setting": ".data", "ood_class_count": ".data", "folder_ood_set": ".data", "clip_ids": ".data",
    "logmel_inputs": ".pipeline", "make_model": ".pipeline", "train_model": ".pipeline",
    "score_all": ".pipeline", "classical_scores": ".pipeline", "embedding_geometry": ".pipeline", "ood_table": ".pipeline",
    "average_table": ".pipeline", "best_method": ".pipeline", "paper_names": ".pipeline",
    "k_sweep": ".pipeline", "SAMPLE_RATE": ".pipeline", "CLIP_SAMPLES": ".pipeline", "TEN_WORDS": ".pipeline",
    "SILENCE": ".pipeline", "UNKNOWN": ".pipeline", "STANDS_IN_FOR": ".sets", "TASK_SHARING": ".sets",
    "VOCALISATIONS": ".sets", "P1Config": ".config", "run": ".run", "P1Result": ".run", "claims": ".claims", "paper_lead_table2": ".claims",
})
