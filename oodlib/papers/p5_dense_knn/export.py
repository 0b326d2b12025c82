"""Write P5 anomaly score maps in the benchmarks' submission formats (SMIYC, Fishyscapes).

Scores are written as given: **higher = more anomalous**, float32, at the resolution of the map
passed in (the benchmarks expect the input image's own resolution; upsample first). Every
function refuses mismatched lengths, non-2-D maps and non-finite scores (``ValueError``) and
never replaces an existing file unless ``overwrite=True`` (``FileExistsError``, raised before
anything is written).

**Segment Me If You Can** (read: ``SegmentMeIfYouCan/segment-me-if-you-can`` ``submit.html``;
``adynathos/road-anomaly-benchmark`` ``road_anomaly_benchmark/evaluation.py`` and
``datasets/dataset_io.py``, ``datasets/tracks.py``). The benchmark asks for "pixel-wise anomaly /
obstacle scores, where higher values correspond to anomaly / obstacle prediction", produced with
its wrapper ``Evaluation(method_name, dataset_name).save_output(frame, anomaly_p)``, which writes
one HDF5 file per frame at ``anomaly_p/{method_name}/{dset_name}/{fid}.hdf5`` holding the dataset
``"value"`` (gzip level 9); ``fid`` is the image file stem (``images/{fid}.jpg``), inference runs
on ``AnomalyTrack-all`` / ``ObstacleTrack-all`` (plus ``LostAndFound-test`` / ``-train``).
:func:`export_smiyc` writes exactly that layout, file name and variable, so the toolkit's own
reader (and its offline metrics on the validation splits) can load it. Differences: the official
wrapper casts to **float16**; we keep float32 (the reader takes either). Submission itself now
goes through the benchmark's Codabench competition (``submit.html``); how the files are packed
for upload is not documented in what we read, so no archive is built here.

**Fishyscapes** (read: ``hermannsblum/fishyscapes`` ``submission.md``). The official submission is
**not a file format**: it is a Singularity container, run on the organisers' cluster, that reads
``/input/DDDD_*.png`` and writes ``/output/DDDD_anomaly.npy`` (per-pixel anomaly scores, same
resolution as the input) and ``/output/DDDD_segmentation.npy`` (integer classes "between 0 and
19", same resolution); the test sets are never released. :func:`export_fishyscapes` writes the
closest offline equivalent: that container's output folder, same names and array layout, for
images we run ourselves (e.g. the public Lost & Found validation images). It is **not** a
submission: no container is built, and the organisers' metrics on their hidden test data
cannot be reproduced offline. The segmentation file is written only when ``segmentations`` is
given; without it the folder lacks half of what the container must produce.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Literal, Sequence

import numpy as np

SMIYC_INFERENCE_SPLITS = ("AnomalyTrack-all", "ObstacleTrack-all", "LostAndFound-test", "LostAndFound-train")
SMIYC_VARIABLE = "value"
FISHYSCAPES_ID = re.compile(r"^(\d{4})_")  # Fishyscapes inputs are named DDDD_*.png
FISHYSCAPES_MAX_CLASS = 19


def _checked_maps(score_maps: Any, image_names: Sequence[str | Path]) -> list[np.ndarray]:
    """Score maps ((n, H, W) array or n maps (H_i, W_i)) -> float32 maps, checked against the names."""
    if isinstance(score_maps, np.ndarray) and score_maps.ndim != 3:
        raise ValueError(f"score_maps must be an (n, H, W) array or a sequence of (H, W) maps, "
                         f"got an array of shape {score_maps.shape}")
    if isinstance(image_names, (str, Path)):
        raise ValueError("image_names must be a sequence of names, not a single name")
    maps = list(score_maps)
    names = list(image_names)
    if len(maps) != len(names):
        raise ValueError(f"{len(maps)} score maps but {len(names)} image names; they must match")
    if not maps:
        raise ValueError("no score maps given")
    out = []
    for i, m in enumerate(maps):
        arr = np.asarray(m)
        if arr.ndim != 2 or 0 in arr.shape:
            raise ValueError(f"score_maps[{i}] must be a non-empty 2-D (H, W) map, got shape {arr.shape}")
        with np.errstate(over="ignore", invalid="ignore"):
            arr32 = arr.astype(np.float32)  # overflow becomes inf, refused just below
        if not np.isfinite(arr32).all():
            raise ValueError(f"score_maps[{i}] ({names[i]}) holds NaN or infinite values (or values beyond float32)")
        out.append(arr32)
    return out


def _stems(image_names: Sequence[str | Path]) -> list[str]:
    """Image file stems (folders and extension dropped); empty or repeated stems are refused."""
    stems = [Path(str(n)).stem for n in image_names]
    if any(not s or s.startswith(".") for s in stems):
        raise ValueError(f"every image name needs a file stem; got {[str(n) for n in image_names][:5]}")
    repeated = sorted({s for s in stems if stems.count(s) > 1})
    if repeated:
        raise ValueError(f"image names repeat after dropping folders and extension: {repeated[:5]}")
    return stems


def _path_part(value: str, what: str) -> str:
    """A single safe folder name (no separators, not '.' or '..')."""
    if not value or value in (".", "..") or "/" in value or "\\" in value:
        raise ValueError(f"{what} must be a plain folder name, got {value!r}")
    return value


def _refuse_existing(paths: Sequence[Path], overwrite: bool) -> None:
    """``FileExistsError`` naming the first existing target, before anything is written."""
    if overwrite:
        return
    existing = [p for p in paths if p.exists()]
    if existing:
        raise FileExistsError(f"{len(existing)} output file(s) already exist, e.g. {existing[0]}; "
                              "pass overwrite=True to replace them")


def export_smiyc(score_maps: Any, image_names: Sequence[str | Path], out_dir: str | Path,
                 method_name: str = "P5DenseKNN", dataset_name: str = "AnomalyTrack-all",
                 overwrite: bool = False) -> list[Path]:
    """One SMIYC HDF5 file per image: ``out_dir/anomaly_p/{method}/{dataset}/{stem}.hdf5``.

    Args:
        score_maps: n maps (H_i, W_i) (or an (n, H, W) array), higher = more anomalous.
        image_names: the n input image names or paths; their stems are the benchmark's frame ids.
        out_dir: plays the toolkit's ``DIR_OUTPUTS``.
        method_name, dataset_name: the two folder levels of the toolkit's layout.
        overwrite: replace existing files instead of raising ``FileExistsError``.

    Returns:
        The written paths, in input order. Each holds the float32 (H_i, W_i) dataset ``"value"``.
    """
    import h5py

    maps = _checked_maps(score_maps, image_names)
    folder = Path(out_dir) / "anomaly_p" / _path_part(method_name, "method_name") / _path_part(dataset_name,
                                                                                             "dataset_name")
    paths = [folder / f"{stem}.hdf5" for stem in _stems(image_names)]
    _refuse_existing(paths, overwrite)
    folder.mkdir(parents=True, exist_ok=True)
    for path, arr in zip(paths, maps):
        with h5py.File(path, "w" if overwrite else "w-") as f:
            f.create_dataset(SMIYC_VARIABLE, data=arr, compression="gzip", compression_opts=9)
    return paths


def read_smiyc(path: str | Path) -> np.ndarray:
    """The ``"value"`` map of one SMIYC HDF5 file (as the toolkit's ``ChannelLoaderHDF5`` reads it)."""
    import h5py

    with h5py.File(path, "r") as f:
        return f[SMIYC_VARIABLE][()]


def _fishyscapes_ids(image_names: Sequence[str | Path], naming: str) -> list[str]:
    """Output prefixes: the input's four leading digits (``"container"``) or its whole stem (``"stem"``)."""
    stems = _stems(image_names)
    if naming == "stem":
        return stems
    if naming != "container":
        raise ValueError(f"naming must be 'container' or 'stem', got {naming!r}")
    ids = []
    for stem in stems:
        m = FISHYSCAPES_ID.match(stem)
        if m is None:
            raise ValueError(f"Fishyscapes inputs are named DDDD_*.png; {stem!r} is not (use naming='stem')")
        ids.append(m.group(1))
    repeated = sorted({d for d in ids if ids.count(d) > 1})
    if repeated:
        raise ValueError(f"several images share the Fishyscapes id(s) {repeated[:5]}")
    return ids


def _checked_segmentations(segmentations: Any, maps: list[np.ndarray]) -> list[np.ndarray]:
    """Integer class maps, one per score map, same shape, values in 0..19 -> uint8."""
    segs = list(segmentations)
    if len(segs) != len(maps):
        raise ValueError(f"{len(segs)} segmentations but {len(maps)} score maps; they must match")
    out = []
    for i, (seg, arr) in enumerate(zip(segs, maps)):
        seg = np.asarray(seg)
        if seg.shape != arr.shape or not np.issubdtype(seg.dtype, np.integer):
            raise ValueError(f"segmentations[{i}] must be an integer map of shape {arr.shape}, "
                             f"got {seg.dtype} {seg.shape}")
        if seg.min() < 0 or seg.max() > FISHYSCAPES_MAX_CLASS:
            raise ValueError(f"segmentations[{i}] classes must lie in 0..{FISHYSCAPES_MAX_CLASS}")
        out.append(seg.astype(np.uint8))
    return out


def _save_npy(path: Path, arr: np.ndarray, overwrite: bool) -> None:
    with open(path, "wb" if overwrite else "xb") as f:
        np.save(f, arr, allow_pickle=False)


def export_fishyscapes(score_maps: Any, image_names: Sequence[str | Path], out_dir: str | Path,
                       segmentations: Any = None, naming: Literal["container", "stem"] = "container",
                       overwrite: bool = False) -> list[Path]:
    """The Fishyscapes container's ``/output`` folder, written offline into ``out_dir``.

    Args:
        score_maps: n maps (H_i, W_i) (or an (n, H, W) array), higher = more anomalous.
        image_names: the n input names (``DDDD_*.png``).
        out_dir: stands for the container's ``/output``.
        segmentations: optional n integer maps (H_i, W_i), classes 0..19, saved as uint8.
        naming: ``"container"`` -> ``DDDD_anomaly.npy`` (the official names, from the four
            leading digits); ``"stem"`` -> ``<stem>_anomaly.npy`` for inputs not named that way
            (not the official naming).
        overwrite: replace existing files instead of raising ``FileExistsError``.

    Returns:
        The written paths: per image ``*_anomaly.npy`` (float32 (H_i, W_i)), followed by its
        ``*_segmentation.npy`` when segmentations are given.
    """
    maps = _checked_maps(score_maps, image_names)
    segs = None if segmentations is None else _checked_segmentations(segmentations, maps)
    out = Path(out_dir)
    ids = _fishyscapes_ids(image_names, naming)
    kinds = ("anomaly",) if segs is None else ("anomaly", "segmentation")
    paths = [out / f"{i}_{kind}.npy" for i in ids for kind in kinds]
    _refuse_existing(paths, overwrite)
    out.mkdir(parents=True, exist_ok=True)
    arrays = [a for k in range(len(maps)) for a in ((maps[k],) if segs is None else (maps[k], segs[k]))]
    for path, arr in zip(paths, arrays):
        _save_npy(path, arr, overwrite)
    return paths
