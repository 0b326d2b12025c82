"""The AVCA audio-visual GZSL benchmark (VGGSound-, UCF- and ActivityNet-GZSL) on disk.

Layout of one dataset folder ``<root>/<UCF|ActivityNet|VGGSound>/`` (AVCA's release)::

    class-split/all_class.txt                    one class name per line
    class-split/<tag>_w2v_class_names.csv        columns original,manual[,category]
    class-split/main_split/stage_{1_train,1_val_seen,1_val_unseen,
                                  2_train,2_test_seen,2_test_unseen}.{txt,csv}
    features/main_features/{audio,video}/<split>/<Class>.h5   datasets 'data' (N x 512), 'video_urls'
    features/main_features/text/word_embeddings_<tag>_normed.npy

The ``.txt`` split files list class names; the word2vec file is a pickled dict
``manual class name -> 300-d unit vector`` (the CSV maps manual to original
names), read by :func:`load_word2vec` with a restricted unpickler that builds
nothing but dicts, strings and NumPy float arrays, so a crafted file runs no code. The metadata-only copy (``avca_gzsl_meta``) keeps the class splits under
``avgzsl_benchmark_datasets/<dataset>/`` and the embeddings under ``w2v_features/``;
:func:`load_avca_meta` accepts either layout.
"""

from __future__ import annotations

import pickle
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

try:  # NumPy 2 (files written by NumPy 1 name numpy.core.multiarray; both map to the same function)
    from numpy._core.multiarray import _reconstruct
except ImportError:  # pragma: no cover - NumPy 1
    from numpy.core.multiarray import _reconstruct

DATASETS = {"UCF": "ucf", "ActivityNet": "activity", "VGGSound": "vggsound"}
SPLITS = (
    "stage_1_train",
    "stage_1_val_seen",
    "stage_1_val_unseen",
    "stage_2_train",
    "stage_2_test_seen",
    "stage_2_test_unseen",
)


def _check_dataset(dataset: str) -> str:
    if dataset not in DATASETS:
        raise ValueError(f"unknown AVCA dataset {dataset!r}; expected one of {sorted(DATASETS)}")
    return DATASETS[dataset]


def dataset_root(root: str | Path, dataset: str) -> Path:
    """The folder holding ``class-split/`` for ``dataset`` under ``root``.

    ``root`` may be that folder itself, its parent (the features release), or a
    metadata copy with ``avgzsl_benchmark_datasets/<dataset>/``.
    """
    _check_dataset(dataset)
    root = Path(root)
    for cand in (root, root / dataset, root / "avgzsl_benchmark_datasets" / dataset):
        if (cand / "class-split").is_dir():
            return cand
    raise FileNotFoundError(
        f"no AVCA {dataset} folder under {root}: expected class-split/ in {root}, {root / dataset} "
        f"or {root / 'avgzsl_benchmark_datasets' / dataset}"
    )


def read_class_list(path: str | Path) -> list[str]:
    """Class names from a ``.txt`` split file (one per line, blank lines ignored)."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"class list {path} does not exist")
    names = [line.strip() for line in path.read_text(encoding="utf-8").splitlines()]
    return [n for n in names if n]


@dataclass
class AVCAMeta:
    """Class names, class splits and word2vec class embeddings of one AVCA dataset.

    Attributes:
        dataset: ``"UCF"``, ``"ActivityNet"`` or ``"VGGSound"``.
        splits: split name (:data:`SPLITS`) -> class names (original spelling).
        embeddings: original class name -> 300-d word2vec vector (float32).
        root: the dataset folder read.
    """

    dataset: str
    splits: dict[str, list[str]]
    embeddings: dict[str, np.ndarray]
    root: Path
    missing_embeddings: list[str] = field(default_factory=list)

    @property
    def seen(self) -> list[str]:
        """Stage-2 seen classes (``stage_2_train``)."""
        return self.splits["stage_2_train"]

    @property
    def unseen(self) -> list[str]:
        """Stage-2 unseen classes (``stage_2_test_unseen``)."""
        return self.splits["stage_2_test_unseen"]

    @property
    def classes(self) -> list[str]:
        """All benchmark classes: stage-2 seen then unseen."""
        return [*self.seen, *self.unseen]

    def embedding_matrix(self, names: list[str]) -> np.ndarray:
        """Word2vec vectors of ``names``, shape (len(names), 300)."""
        missing = [n for n in names if n not in self.embeddings]
        if missing:
            raise KeyError(f"{self.dataset}: no word2vec vector for classes {missing[:5]} ({len(missing)} in all)")
        return np.stack([self.embeddings[n] for n in names]).astype(np.float32)


def _embedding_file(ds_root: Path, tag: str, method: str) -> Path:
    name = f"word_embeddings_{tag}_normed.npy"
    candidates = [ds_root / "features" / method / "text" / name, ds_root.parent.parent / "w2v_features" / name,
                  ds_root.parent / "w2v_features" / name]
    for c in candidates:
        if c.is_file():
            return c
    raise FileNotFoundError(f"word2vec file {name} not found; looked in {', '.join(str(c) for c in candidates)}")


# What np.save writes for a 0-d object array holding {str: float ndarray}; nothing else is built.
_WORD2VEC_GLOBALS = {
    ("numpy.core.multiarray", "_reconstruct"): _reconstruct,
    ("numpy._core.multiarray", "_reconstruct"): _reconstruct,
    ("numpy", "ndarray"): np.ndarray,
    ("numpy", "dtype"): np.dtype,
}


class _Word2vecUnpickler(pickle.Unpickler):
    """Unpickles dicts, strings, numbers and NumPy arrays only; any other global is refused unbuilt."""

    def find_class(self, module: str, name: str) -> object:
        try:
            return _WORD2VEC_GLOBALS[(module, name)]
        except KeyError:
            raise pickle.UnpicklingError(f"global {module}.{name} is not allowed") from None


def _read_npy_object(path: Path) -> object:
    """The object a ``.npy`` file holds: restricted-unpickled for object arrays, else the array."""
    with open(path, "rb") as f:
        try:
            version = np.lib.format.read_magic(f)
            header = {(1, 0): np.lib.format.read_array_header_1_0, (2, 0): np.lib.format.read_array_header_2_0}
            if version not in header:
                raise ValueError(f"unsupported .npy format version {version}")
            dtype = header[version](f)[2]
        except ValueError as err:
            raise ValueError(f"word2vec file {path} is not a readable .npy file: {err}") from None
        if not dtype.hasobject:
            f.seek(0)
            return np.load(f, allow_pickle=False)
        try:
            return _Word2vecUnpickler(f).load()
        except Exception as err:  # noqa: BLE001 - any failure of untrusted input becomes one clear error
            raise ValueError(
                f"word2vec file {path} refused: {err}; expected a pickled dict of class name -> float vector "
                "(nothing else is unpickled, so no code from the file runs)"
            ) from None


def load_word2vec(path: str | Path) -> dict[str, np.ndarray]:
    """Read a word2vec ``.npy`` (a pickled dict ``name -> float vector``) without running code from it.

    Returns name -> float32 vector. Raises ``FileNotFoundError`` for a missing file and
    ``ValueError`` naming the file for any other content (objects other than the dict, strings
    and float arrays are refused before they are built).
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"word2vec file {path} does not exist")
    raw = _read_npy_object(path)
    table = raw.item() if isinstance(raw, np.ndarray) and raw.dtype == object and raw.shape == () else raw
    if not isinstance(table, dict):
        raise ValueError(
            f"word2vec file {path} does not hold a dict of class name -> vector (got {type(table).__name__})"
        )
    out = {}
    for key, value in table.items():
        if not isinstance(key, str):
            raise ValueError(f"word2vec file {path}: key {key!r} is not a class name (str)")
        if not (isinstance(value, np.ndarray) and value.dtype.kind == "f" and value.ndim == 1):
            is_array = isinstance(value, np.ndarray)
            got = f"a {value.dtype} array of shape {value.shape}" if is_array else type(value).__name__
            raise ValueError(f"word2vec file {path}: entry {key!r} is {got}, expected a 1-d float vector")
        out[key] = value.astype(np.float32)
    return out


def _name_map(ds_root: Path, tag: str) -> dict[str, str]:
    """manual (word2vec) name -> original class name, from ``<tag>_w2v_class_names.csv``."""
    csvs = sorted((ds_root / "class-split").glob("*_w2v_class_names.csv"))
    if not csvs:
        raise FileNotFoundError(f"{ds_root / 'class-split'} has no *_w2v_class_names.csv")
    df = pd.read_csv(csvs[0])
    for col in ("original", "manual"):
        if col not in df.columns:
            raise ValueError(f"{csvs[0]} has no column {col!r}; columns are {list(df.columns)}")
    return {str(m): str(o) for o, m in zip(df["original"], df["manual"])}


def load_avca_meta(root: str | Path, dataset: str = "UCF", split: str = "main_split",
                   features: str = "main_features") -> AVCAMeta:
    """Read one dataset's class splits and word2vec embeddings (see the module docstring).

    Class names are matched to embeddings through the CSV name map, then
    case-insensitively (UCF's split files spell ``HandStandPushups``).
    Raises ``FileNotFoundError`` naming the missing file, ``KeyError`` when a
    class of the splits has no embedding, and ``ValueError`` for a word2vec file
    that holds anything but a dict of float vectors (see :func:`load_word2vec`).
    """
    tag = _check_dataset(dataset)
    ds_root = dataset_root(root, dataset)
    splits = {s: read_class_list(ds_root / "class-split" / split / f"{s}.txt") for s in SPLITS}
    table = load_word2vec(_embedding_file(ds_root, tag, features))
    names = _name_map(ds_root, tag)
    embeddings = {names.get(k, k): v for k, v in table.items()}
    by_lower = {k.lower(): v for k, v in embeddings.items()}
    needed = sorted({c for cls in splits.values() for c in cls})
    for c in needed:  # the UCF split files spell "HandStandPushups", the name files "HandstandPushups"
        if c not in embeddings and c.lower() in by_lower:
            embeddings[c] = by_lower[c.lower()]
    meta = AVCAMeta(dataset, splits, embeddings, ds_root)
    meta.missing_embeddings = [c for c in needed if c not in embeddings]
    if meta.missing_embeddings:
        raise KeyError(f"{dataset}: classes without word2vec vectors: {meta.missing_embeddings[:5]}")
    return meta


@dataclass
class AVFeatures:
    """Audio and video features of one split: ``audio``/``video`` (n, d), ``labels`` (n,) class names, ``urls`` (n,)."""

    audio: np.ndarray
    video: np.ndarray
    labels: np.ndarray
    urls: np.ndarray


def _read_h5(path: Path) -> tuple[np.ndarray, np.ndarray]:
    import h5py

    if not path.is_file():
        raise FileNotFoundError(f"class file {path} does not exist")
    with h5py.File(path, "r") as f:
        for key in ("data", "video_urls"):
            if key not in f:
                raise ValueError(f"{path} has no dataset {key!r}; it has {sorted(f.keys())}")
        data = np.asarray(f["data"], dtype=np.float32)
        urls = np.asarray(f["video_urls"]).astype(str)
    if data.ndim != 2 or len(urls) != len(data):
        raise ValueError(f"{path}: 'data' must be (N, d) with N video_urls; got {data.shape} and {len(urls)} urls")
    return data, urls


def load_avca_features(root: str | Path, dataset: str, split: str, features: str = "main_features",
                       classes: list[str] | None = None) -> AVFeatures:
    """Read ``features/<features>/{audio,video}/<split>/<Class>.h5`` for one split.

    Args:
        classes: the classes to read (default: every ``.h5`` file in the audio folder).
    Raises:
        FileNotFoundError naming a missing folder or class file; ValueError when a
        class's audio and video files disagree on their video URLs.
    """
    _check_dataset(dataset)
    if split not in SPLITS:
        raise ValueError(f"unknown split {split!r}; expected one of {SPLITS}")
    ds_root = dataset_root(root, dataset)
    folders = {m: ds_root / "features" / features / m / split for m in ("audio", "video")}
    for m, folder in folders.items():
        if not folder.is_dir():
            raise FileNotFoundError(f"{m} feature folder {folder} does not exist")
    names = classes if classes is not None else sorted(p.stem for p in folders["audio"].glob("*.h5"))
    audio, video, labels, urls = [], [], [], []
    for name in names:
        a, ua = _read_h5(folders["audio"] / f"{name}.h5")
        v, uv = _read_h5(folders["video"] / f"{name}.h5")
        if not np.array_equal(ua, uv):
            raise ValueError(f"{split}/{name}: audio and video files list different video_urls")
        audio.append(a), video.append(v), urls.append(ua), labels.append(np.full(len(a), name, dtype=object))
    if not audio:
        raise FileNotFoundError(f"no class files in {folders['audio']}")
    return AVFeatures(np.concatenate(audio), np.concatenate(video), np.concatenate(labels), np.concatenate(urls))

