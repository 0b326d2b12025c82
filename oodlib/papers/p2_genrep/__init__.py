"""P2: GenRep - generic pretrained audio features + kNN for domain-generalised anomalous sound detection.

The paper's package shape (``config``, ``data``, ``run``, ``tables``, ``claims``) plus the parts:

* :mod:`.config` - the validated parameters (:class:`~.config.P2Config`);
* :mod:`.data` - :func:`~.data.load`: synthetic machine sounds or the real DCASE2023/2020 Task 2 folders;
* :mod:`.extractors` - the extractors a run compares (``extractors`` parameter): the vendored
  EfficientAT AudioSet tagger, official BEATs checkpoints, the random-weight BEATs control;
* :mod:`.features` - temporal / spatial / spectral pooling, streamed per-layer extraction;
* :mod:`.genrep` - per-domain memory banks, K=1 kNN, MemMixup, domain normalisation
  (transductive as in the reference code, and inductive);
* :mod:`.experiments` - every variant at every layer (Tables 1-3, Figure 1), low-shot (Table 4);
* :mod:`.run` - :func:`~.run.run`: every extractor, and the per-clip evidence for the claims;
* :mod:`.evaluate` - DCASE metrics with NaN where undefined, layer choice (fixed or test-set
  oracle), the submission CSVs and a reader that checks them as the evaluator would;
* :mod:`.tables` - the paper's tables from the results; :mod:`.claims` - the paper's claims;
* :mod:`.load_check` - is the pretrained load real? EfficientAT's AudioSet labels on ESC-50 clips.
"""

from .._lazy import lazy_exports

__all__ = lazy_exports(__name__, {
    "P2Config": ".config",
    "SOURCES_2020": ".data", "SOURCES_2023": ".data", "ClipTable": ".data", "attach_ground_truth": ".data",
    "draw_shots": ".data", "P2Data": ".data", "load": ".data", "load_domain_shift": ".data", "load_low_shot": ".data",
    "choose_layers": ".evaluate", "evaluate_submission": ".evaluate", "hmean_finite": ".evaluate",
    "machine_metrics": ".evaluate", "official_score": ".evaluate", "per_machine_official": ".evaluate",
    "read_submission": ".evaluate", "summarize": ".evaluate", "write_submission": ".evaluate",
    "MachineScores": ".experiments", "Variant": ".experiments", "decisions_from_training": ".experiments",
    "evaluate_variants": ".experiments", "export_submission": ".experiments", "low_shot": ".experiments",
    "Extractor": ".extractors", "build_extractor": ".extractors", "build_extractors": ".extractors",
    "POOLINGS": ".features", "clip_samples": ".features", "extract_embeddings": ".features", "layer_dims": ".features",
    "memory_per_1000_clips": ".features", "pool": ".features", "pooled_dims": ".features",
    "small_beats_config": ".features", "token_grid": ".features",
    "NORMALIZATIONS": ".genrep", "GenRep": ".genrep", "memmixup": ".genrep", "nearest_excluding": ".genrep",
    "P2Result": ".run", "run": ".run",
    "claims": ".claims",
})
