"""P5: dense k-nearest-neighbour OOD detection for semantic segmentation.

* :mod:`.models` - a small ViT segmenter (with key/query/value/token probes) and a small
  ConvNeXt-style CNN (stage-3 probe), both trained from scratch;
* :mod:`.train` - supervised segmentation training (void ignored) and batched extraction;
* :mod:`.dense` - reference bank sampling, kNN distance maps, nearest upsampling,
  LogSumExp + kNN combination, pixel metrics (OOD positive), search-time sweep;
* :mod:`.data` - synthetic road scenes, CamVid with held-out classes, and the anomaly
  benchmarks' own layouts (via :mod:`oodlib.data.segmentation`).
"""

from .._lazy import lazy_exports

__all__ = lazy_exports(__name__, {
    "point_claims": ".claims",
    "DEFAULT_HELD_OUT": ".data", "EVALUATION": ".data", "SOURCES": ".data", "DenseBenchmark": ".data",
    "load_dense_benchmark": ".data",
    "KNNMaps": ".dense", "combine": ".dense", "grid_labels": ".dense", "knn_maps": ".dense",
    "metrics_by_group": ".dense", "minmax_range": ".dense", "pixel_metrics": ".dense",
    "sample_bank": ".dense", "search_time_vs_bank": ".dense", "size_groups": ".dense",
    "upsample_nearest": ".dense",
    "ARCHITECTURES": ".models", "CNN_PROBES": ".models", "FIXED_PROBES": ".models", "VIT_PROBES": ".models", "ConvSegmenter": ".models",
    "ViTSegmenter": ".models", "build_model": ".models", "load_checkpoint": ".models",
    "n_parameters": ".models",
    "Extracted": ".train", "extract": ".train", "mean_iou": ".train", "train_segmenter": ".train",
})
