"""P2: GenRep - generic BEATs features + kNN for domain-generalised anomalous sound detection.

* :mod:`oodlib.models.beats` - the BEATs architecture (official checkpoints load strictly);
* :mod:`.features` - the extractor (a checkpoint, or the training-free random-weight default),
  temporal / spatial / spectral pooling, batched per-layer extraction from WAV files;
* :mod:`.genrep` - per-domain memory banks, K=1 kNN, MemMixup, domain normalisation
  (transductive as in the reference code, and inductive);
* :mod:`.experiments` - every variant at every layer (Tables 1-3, Figure 1), low-shot (Table 4);
* :mod:`.evaluate` - DCASE metrics with NaN where undefined, layer choice (fixed or test-set
  oracle), the submission CSVs and a reader that checks them as the evaluator would;
* :mod:`.data` - synthetic machine sounds or the real DCASE2023/2020 Task 2 folders.
"""

from .data import SOURCES_2020, SOURCES_2023, ClipTable, attach_ground_truth, draw_shots, load_domain_shift, load_low_shot
from .evaluate import (choose_layers, evaluate_submission, hmean_finite, machine_metrics, official_score,
                       per_machine_official, read_submission, summarize, write_submission)
from .experiments import MachineScores, Variant, decisions_from_training, evaluate_variants, export_submission, low_shot
from .features import POOLINGS, build_extractor, clip_samples, extract_embeddings, pool, pooled_dims, small_beats_config, token_grid
from .genrep import NORMALIZATIONS, GenRep, memmixup, nearest_excluding

__all__ = [
    "NORMALIZATIONS", "POOLINGS", "SOURCES_2020", "SOURCES_2023", "ClipTable", "GenRep", "MachineScores", "Variant",
    "attach_ground_truth", "build_extractor", "choose_layers", "clip_samples", "decisions_from_training", "draw_shots",
    "evaluate_submission", "evaluate_variants", "export_submission", "extract_embeddings", "hmean_finite", "load_domain_shift",
    "load_low_shot", "low_shot", "machine_metrics", "memmixup", "nearest_excluding", "official_score",
    "per_machine_official", "pool", "pooled_dims", "read_submission", "small_beats_config", "summarize", "token_grid",
    "write_submission",
]
