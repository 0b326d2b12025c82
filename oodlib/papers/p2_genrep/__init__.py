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

from .._lazy import lazy_exports

__all__ = lazy_exports(__name__, {
    "SOURCES_2020": ".data", "SOURCES_2023": ".data", "ClipTable": ".data", "attach_ground_truth": ".data",
    "draw_shots": ".data", "load_domain_shift": ".data", "load_low_shot": ".data",
    "choose_layers": ".evaluate", "evaluate_submission": ".evaluate", "hmean_finite": ".evaluate",
    "machine_metrics": ".evaluate", "official_score": ".evaluate", "per_machine_official": ".evaluate",
    "read_submission": ".evaluate", "summarize": ".evaluate", "write_submission": ".evaluate",
    "MachineScores": ".experiments", "Variant": ".experiments", "decisions_from_training": ".experiments",
    "evaluate_variants": ".experiments", "export_submission": ".experiments", "low_shot": ".experiments",
    "POOLINGS": ".features", "build_extractor": ".features", "clip_samples": ".features",
    "extract_embeddings": ".features", "pool": ".features", "pooled_dims": ".features",
    "small_beats_config": ".features", "token_grid": ".features",
    "NORMALIZATIONS": ".genrep", "GenRep": ".genrep", "memmixup": ".genrep", "nearest_excluding": ".genrep",
})
