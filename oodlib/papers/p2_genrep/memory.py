"""Measure the RAM P2 needs for one DCASE2020-sized machine (the issue's bound: 8 GB).

``python -m oodlib.papers.p2_genrep.memory FOLDER`` writes BEATs-base-shaped embeddings of one
machine type (3,200 training clips over 4 IDs and 800 test clips, 10 s; 12 layers; temporal
8 x 768, spatial 768 and spectral 62 x 768 values per clip and layer: 10.5 GB of float32) as the
memory maps :func:`.features.extract_embeddings` writes, then scores them as
:func:`.run.run_low_shot` does (Table 4: temporal at every layer for 200 shots and the full set,
two draws, both settings; spatial and spectral on the full set). It prints the peak *anonymous*
resident memory while scoring: the memory maps' file pages also count in the process's RSS, but
the kernel can drop them at any time, so they do not bound what the machine needs. Random numbers
stand in for the embeddings (the cost does not depend on their values). About 3 minutes on 2 cores.
"""

from __future__ import annotations

import sys
import threading
import time
from pathlib import Path

import numpy as np
import pandas as pd

from .experiments import low_shot
from .features import open_array

BEATS_BASE_DIMS = {"temporal": 8 * 768, "spatial": 768, "spectral": 62 * 768}


def _anon_rss_gb() -> float:
    """The process's anonymous resident memory (GB) from ``/proc/self/status`` (Linux)."""
    with open("/proc/self/status", encoding="ascii") as fh:
        kb = next(int(line.split()[1]) for line in fh if line.startswith("RssAnon:"))
    return kb / 2**20


def write_embeddings(folder: Path, n_clips: int, layers: int = 12, dims: dict[str, int] = BEATS_BASE_DIMS,
                     chunk: int = 200, seed: int = 0) -> dict[str, list[np.ndarray]]:
    """Random float32 memory maps ``<pooling>_layer<l>.npy`` in ``folder``, read back read-only."""
    rng = np.random.default_rng(seed)
    out: dict[str, list[np.ndarray]] = {}
    for how, d in dims.items():
        out[how] = []
        for layer in range(1, layers + 1):
            a = open_array((n_clips, d), folder, f"{how}_layer{layer}")
            for s in range(0, n_clips, chunk):
                a[s : s + chunk] = rng.standard_normal((min(chunk, n_clips - s), d), dtype=np.float32)
            a.flush()
            out[how].append(np.load(a.filename, mmap_mode="r"))
    return out


def measure(folder: str | Path, n_train: int = 3200, n_test: int = 800, n_ids: int = 4) -> dict[str, float]:
    """Peak anonymous RSS (GB) while scoring one machine's low-shot benchmark from memory maps."""
    folder = Path(folder)
    emb = write_embeddings(folder, n_train + n_test)
    clips = pd.DataFrame({"split": ["train"] * n_train + ["test"] * n_test,
                          "section": [f"{i % n_ids:02d}" for i in range(n_train + n_test)],
                          "is_anomaly": [False] * n_train + [bool(i % 2) for i in range(n_test)]})
    peak, done = [_anon_rss_gb()], threading.Event()

    def poll() -> None:
        while not done.is_set():
            peak.append(_anon_rss_gb())
            time.sleep(0.05)

    threading.Thread(target=poll, daemon=True).start()
    t0 = time.perf_counter()
    low_shot("machine", emb["temporal"], clips, [200, "full"], [0, 1])
    for how in ("spatial", "spectral"):
        low_shot("machine", emb[how], clips, ["full"], [0], pooling=how, settings=["label-free"])
    done.set()
    disk = sum(a.nbytes for arrays in emb.values() for a in arrays) / 1e9
    return {"clips": n_train + n_test, "disk_gb": disk, "peak_anon_rss_gb": max(peak), "score_s": time.perf_counter() - t0}


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: python -m oodlib.papers.p2_genrep.memory FOLDER (about 11 GB of free disk)")
    print(measure(sys.argv[1]))
