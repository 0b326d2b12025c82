"""P5: dense k-nearest-neighbour OOD detection for semantic segmentation.

* :mod:`.models` - a small ViT segmenter (with key/query/value/token probes) and a small
  ConvNeXt-style CNN (stage-3 probe), both trained from scratch;
* :mod:`.train` - supervised segmentation training (void ignored) and batched extraction;
* :mod:`.dense` - reference bank sampling, kNN distance maps, nearest upsampling,
  LogSumExp + kNN combination, pixel metrics (OOD positive), search-time sweep;
* :mod:`.data` - synthetic road scenes, CamVid with held-out classes, and the anomaly
  benchmarks' own layouts (via :mod:`oodlib.data.segmentation`).
"""

from .data import DEFAULT_HELD_OUT, SOURCES, DenseBenchmark, load_dense_benchmark
from .dense import (KNNMaps, combine, grid_labels, knn_maps, metrics_by_group, minmax_range, pixel_metrics,
                    sample_bank, search_time_vs_bank, size_groups, upsample_nearest)
from .models import (ARCHITECTURES, CNN_PROBES, VIT_PROBES, ConvSegmenter, ViTSegmenter, build_model,
                     load_checkpoint, n_parameters)
from .train import Extracted, extract, mean_iou, train_segmenter

__all__ = [
    "ARCHITECTURES", "CNN_PROBES", "DEFAULT_HELD_OUT", "SOURCES", "VIT_PROBES", "ConvSegmenter", "DenseBenchmark",
    "Extracted", "KNNMaps", "ViTSegmenter", "build_model", "combine", "extract", "grid_labels", "knn_maps",
    "load_checkpoint", "load_dense_benchmark", "mean_iou", "metrics_by_group", "minmax_range", "n_parameters",
    "pixel_metrics", "sample_bank", "search_time_vs_bank", "size_groups", "train_segmenter", "upsample_nearest",
]
