"""P5: dense k-nearest-neighbour OOD detection for semantic segmentation.

* :mod:`.models` - a small ViT segmenter (with key/query/value/token probes) and a small
  ConvNeXt-style CNN (stage-3 probe), both trained from scratch;
* :mod:`.train` - supervised segmentation training (void ignored);
* :mod:`.dense` - cell labels, nearest upsampling, LogSumExp + kNN combination, pixel metrics
  (OOD positive), search-time sweep;
* :mod:`.data` - synthetic road scenes, CamVid with held-out classes or pasted objects, and the
  anomaly benchmarks' own layouts (via :mod:`oodlib.data.segmentation`); ``load(cfg)``;
* :mod:`.run` - a whole run: every model (trained here or pretrained ESPNet), streamed banks and scoring;
* :mod:`.tables`, :mod:`.figures` - what the notebook shows; :mod:`.claims` - the claims, judged with a
  bootstrap over test images; :mod:`.load_check` - the pretrained segmenter's CamVid check;
* :mod:`.export` - score maps in the SMIYC / Fishyscapes formats.
"""

from .._lazy import lazy_exports

__all__ = lazy_exports(__name__, {
    "claims": ".claims", "evidence": ".claims",
    "P5Data": ".data", "load": ".data", "P5Config": ".config",
    "P5Result": ".run", "run": ".run", "search_growth": ".run", "stream_bank": ".run", "export_scores": ".run",
    "P5Tables": ".tables",
    "DEFAULT_HELD_OUT": ".data", "EVALUATION": ".data", "SOURCES": ".data", "DenseBenchmark": ".data",
    "load_dense_benchmark": ".data",
    "combine": ".dense", "grid_labels": ".dense",
    "metrics_by_group": ".dense", "minmax_range": ".dense", "pixel_metrics": ".dense",
    "search_time_vs_bank": ".dense", "size_groups": ".dense",
    "upsample_nearest": ".dense",
    "ARCHITECTURES": ".models", "CNN_PROBES": ".models", "FIXED_PROBES": ".models", "VIT_PROBES": ".models", "ConvSegmenter": ".models",
    "ViTSegmenter": ".models", "build_model": ".models", "load_checkpoint": ".models",
    "n_parameters": ".models",
    "mean_iou": ".train", "train_segmenter": ".train",
})
