"""Which benchmarks a P3 run uses: synthetic, synthetic on real class semantics, or real AVCA features."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from ...data.avca import load_avca_meta
from ...data.gzsl import GZSLBenchmark, load_avca_benchmark
from ...data.paths import dataset_dir
from ...seeding import child_seed
from ...synthetic.av_features import AVFeatureSpec, synthetic_gzsl
from .config import SOURCES

if TYPE_CHECKING:
    import pandas as pd

    from .config import P3Config


def load_benchmark(data: str, dataset: str = "UCF", data_dir: str | Path | None = None, seed: int = 0,
                   spec: AVFeatureSpec | None = None) -> GZSLBenchmark:
    """The benchmark for ``data``.

    * ``"synthetic"``: synthetic features, class embeddings and splits with ``dataset``'s class counts.
    * ``"avca_meta"``: synthetic features conditioned on the **real** class names,
      seen/unseen splits and word2vec vectors of ``dataset`` (``avca_gzsl_meta``).
    * ``"avca"``: the real AVCA SeLaVi features (``avca_gzsl_features``).
    """
    if data == "synthetic":
        return synthetic_gzsl(dataset, spec, seed=seed)
    if data == "avca_meta":
        meta = load_avca_meta(dataset_dir("avca_gzsl_meta", data_dir), dataset)
        names = meta.classes
        return synthetic_gzsl(dataset, spec, seed=seed, text=meta.embedding_matrix(names), class_names=names,
                              splits=meta.splits,
                              source=f"synthetic features conditioned on the real {dataset}-GZSL class names, "
                                     "seen/unseen splits and word2vec class embeddings (AVCA metadata)")
    if data == "avca":
        return load_avca_benchmark(dataset_dir("avca_gzsl_features", data_dir), dataset)
    raise ValueError(f"parameter 'data' must be one of {SOURCES}, got {data!r}")


def load(cfg: P3Config) -> dict[str, GZSLBenchmark]:
    """The benchmark of each of ``cfg.datasets`` (``.summary()``, ``.note``), in that order.

    Synthetic draws of dataset ``name`` use ``child_seed(seed, "p3/data/<name>")``, so adding or
    dropping a dataset leaves the others' data unchanged.
    """
    spec = AVFeatureSpec(n_train=cfg.n_train, n_eval=cfg.n_eval)
    return {name: load_benchmark(cfg.data, name, cfg.data_dir, child_seed(cfg.seed, f"p3/data/{name}"), spec)
            for name in cfg.datasets}


def summary(benches: dict[str, GZSLBenchmark]) -> pd.DataFrame:
    """Class and sample counts, one column per dataset."""
    import pandas as pd

    return pd.DataFrame({name: b.summary() for name, b in benches.items()})


def note(benches: dict[str, GZSLBenchmark]) -> str:
    """What the features are, once when every dataset says the same, else per dataset."""
    notes = {b.note for b in benches.values()}
    if len(notes) == 1:
        return notes.pop()
    return " ".join(f"{name}: {b.note}" for name, b in benches.items())
