"""P5's data: in-distribution training scenes, ID reference scenes and anomaly test scenes.

Sources (the notebook's ``data`` parameter):

* ``"synthetic"`` - procedural road scenes (:mod:`oodlib.synthetic.road_scenes`): training and
  reference scenes without anomalies, test scenes with one pasted anomaly each (three sizes).
* ``"camvid"`` - CamVid with ``held_out`` classes turned into anomalies: void while training,
  positive at test time. Train = CamVid train, reference = val, test = the test images that
  contain a held-out class.
* ``"camvid_pasted"`` - CamVid with every class known; test images with one unseen object pasted on
  the road (:mod:`oodlib.synthetic.pasted`), for segmenters that know every CamVid class.
* ``"road_anomaly"``, ``"smiyc"``, ``"fishyscapes_lostandfound"`` - anomaly test sets; the
  segmenter trains on Cityscapes when present, otherwise on CamVid (all 11 classes).
* ``"streethazards"`` - its own training/validation/test splits.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ...data import segmentation as seg
from ...data.paths import dataset_dir
from ...metrics.per_image import streethazards_official_ood
from ...seeding import child_seed
from ...synthetic import pasted, road_scenes
from .dense import size_groups
from .config import SOURCES, TRAINED_MODELS, is_pretrained

DEFAULT_HELD_OUT = ("Pedestrian", "Bicyclist")


@dataclass
class DenseBenchmark:
    """Arrays for one run. Images uint8 (n, H, W, 3); ``*_labels`` class ids (255 = void);
    ``ref_ood``/``test_ood`` 0 = ID, 1 = anomaly, 255 = void; ``test_groups`` anomaly size names.

    ``test_counts`` (n, H, W, 2), real data only: the native-resolution ID and OOD pixels behind
    each model-resolution pixel (:func:`oodlib.data.segmentation.native_counts`), so that the
    pixel metrics are those at the labels' own size; ``None`` when images are made at the model's
    size (synthetic scenes).
    """

    train_images: np.ndarray
    train_labels: np.ndarray
    ref_images: np.ndarray
    ref_ood: np.ndarray
    test_images: np.ndarray
    test_ood: np.ndarray
    test_groups: np.ndarray
    class_names: tuple[str, ...]
    note: str
    ref_labels: np.ndarray | None = None
    extra: dict = field(default_factory=dict)
    test_counts: np.ndarray | None = None
    test_names: tuple[str, ...] | None = None  # test image paths (real benchmarks), for exported score maps
    test_placements: list[seg.Placement] | None = None  # where each test image sits in the model input

    @property
    def image_size(self) -> tuple[int, int]:
        return tuple(self.train_images.shape[1:3])

    def summary(self) -> pd.DataFrame:
        """Image counts and anomaly pixel fraction per split."""
        valid = self.test_ood != seg.VOID
        return pd.DataFrame({
            "images": [len(self.train_images), len(self.ref_images), len(self.test_images)],
            "anomaly pixels (%)": [0.0, 0.0, 100 * float((self.test_ood == 1).sum() / max(valid.sum(), 1))],
        }, index=pd.Index(["train (ID)", "reference (ID)", "test"], name="split"))


def _cap(frame: pd.DataFrame, n: int, seed: int) -> pd.DataFrame:
    if n and len(frame) > n:
        return frame.sample(n=n, random_state=seed).sort_values("image", ignore_index=True)
    return frame


def _synthetic(seed: int, size: tuple[int, int], n_train: int, n_test: int, n_ref: int) -> DenseBenchmark:
    """Scenes from ``child_seed(seed, "p5/data/{train,ref,test}")``."""
    tr = road_scenes.make_road_scenes(n_train, size, seed=child_seed(seed, "p5/data/train"))
    ref = road_scenes.make_road_scenes(n_ref, size, seed=child_seed(seed, "p5/data/ref"))
    te = road_scenes.make_anomaly_scenes(n_test, size, seed=child_seed(seed, "p5/data/test"))
    note = (f"Synthetic procedural road scenes ({size[0]}x{size[1]}): {n_train} training, {n_ref} reference and "
            f"{n_test} test scenes with one pasted anomaly each (sizes {', '.join(road_scenes.SIZES)}).")
    return DenseBenchmark(tr.images, tr.labels, ref.images, np.zeros(ref.labels.shape, np.uint8), te.images,
                          te.labels, np.array(te.sizes), road_scenes.CLASSES, note, ref_labels=ref.labels)


def _camvid_ids(held_out: tuple[str, ...]) -> tuple[int, ...]:
    bad = [c for c in held_out if c not in seg.CAMVID_CLASSES]
    if bad:
        raise ValueError(f"held_out classes must be CamVid classes {seg.CAMVID_CLASSES}, got {bad}")
    return tuple(seg.CAMVID_CLASSES.index(c) for c in held_out)


def _camvid(root, seed, size, n_train, n_test, n_ref, held_out, fit) -> DenseBenchmark:
    ids = _camvid_ids(held_out)
    split = lambda raw: seg.camvid_split_classes(raw, ids)  # noqa: E731
    tr_img, tr_raw = seg.read_pairs(_cap(seg.load_camvid(root, "train"), n_train, seed), size, fit=fit)
    ref_img, ref_raw = seg.read_pairs(_cap(seg.load_camvid(root, "val"), n_ref, seed), size, fit=fit)
    te_img, test_ood, counts = seg.read_ood_pairs(seg.load_camvid(root, "test"), size, lambda raw: split(raw)[1], fit)
    keep = counts[..., 1].sum(axis=(1, 2)) > 0  # images with held-out pixels at native size
    te_img, test_ood, counts = te_img[keep], test_ood[keep], counts[keep]
    if n_test and len(te_img) > n_test:
        pick = np.sort(np.random.default_rng(seed).choice(len(te_img), n_test, replace=False))
        te_img, test_ood, counts = te_img[pick], test_ood[pick], counts[pick]
    kept = tuple(c for i, c in enumerate(seg.CAMVID_CLASSES) if i not in ids)
    note = (f"CamVid ({root}), images {_fit_text(fit, size)}: held-out classes {', '.join(held_out)} are "
            f"void in training and anomalies at test time; {len(tr_img)} train, {len(ref_img)} val (reference) and "
            f"{len(te_img)} test images that contain a held-out class; metrics at the labels' native resolution.")
    return DenseBenchmark(tr_img, split(tr_raw)[0], ref_img, split(ref_raw)[1], te_img, test_ood,
                          size_groups(test_ood), kept, note, ref_labels=split(ref_raw)[0], test_counts=counts)


def _camvid_pasted(root, seed, size, n_train, n_test, n_ref, fit) -> DenseBenchmark:
    """CamVid with all 11 classes known; test = CamVid test images with one object pasted on the road
    (:func:`oodlib.synthetic.pasted.paste_on_road`, sizes cycling small/medium/large), at native size."""
    tr_img, tr_raw = seg.read_pairs(_cap(seg.load_camvid(root, "train"), n_train, seed), size, fit=fit)
    ref_img, ref_raw = seg.read_pairs(_cap(seg.load_camvid(root, "val"), n_ref, seed), size, fit=fit)
    rng = np.random.default_rng(child_seed(seed, "p5/data/pasted"))
    road = seg.CAMVID_CLASSES.index("Road")
    parts, groups, skipped = [], [], 0
    for i, row in enumerate(_cap(seg.load_camvid(root, "test"), n_test, seed).itertuples()):
        img, raw = seg.read_pairs(pd.DataFrame([row._asdict()]))
        name = road_scenes.SIZES_ORDER[i % len(road_scenes.SIZES_ORDER)]
        done = pasted.paste_on_road(img[0], raw[0] == road, raw[0] == seg.CAMVID_VOID, name, rng)
        if done is None:
            skipped += 1
            continue
        parts.append(seg.fit_ood_pair(done.image, done.ood, size, fit))
        groups.append(name)
    if not parts:
        raise ValueError(f"CamVid test images ({root}): no image has a road area large enough to paste an object")
    te_img, test_ood, counts = (np.stack(p) for p in zip(*parts))
    void = lambda a: np.where(a == seg.CAMVID_VOID, seg.VOID, a).astype(np.uint8)  # noqa: E731
    note = (f"CamVid ({root}), images {_fit_text(fit, size)}, all 11 classes known; {len(tr_img)} train, "
            f"{len(ref_img)} val (reference) and {len(te_img)} test images with one procedural object pasted on "
            f"the road each (Fishyscapes-Static-style blending, oodlib.synthetic.pasted; {skipped} test images "
            "had no road area large enough and are left out); metrics at the labels' native resolution.")
    ref_ood = np.where(void(ref_raw) == seg.VOID, seg.VOID, 0).astype(np.uint8)
    return DenseBenchmark(tr_img, void(tr_raw), ref_img, ref_ood, te_img, test_ood, np.array(groups),
                          seg.CAMVID_CLASSES, note, ref_labels=void(ref_raw), test_counts=counts,
                          extra={"pasted_skipped": skipped})


def _fit_text(fit: str, size: tuple[int, int]) -> str:
    return (f"scaled to fit {size[0]}x{size[1]} with their aspect ratio kept (padding is void)" if fit == "pad"
            else f"resized to {size[0]}x{size[1]} (aspect ratio not kept)")


def _train_source(data_dir, seed, size, n_train, n_ref, fit):
    """Cityscapes when present, else CamVid (all classes): (train imgs, labels, ref imgs, classes, text)."""
    try:
        root = dataset_dir("cityscapes", data_dir)
        tr = seg.read_pairs(_cap(seg.load_cityscapes(root, "train"), n_train, seed), size, fit=fit)
        ref = seg.read_pairs(_cap(seg.load_cityscapes(root, "val"), n_ref, seed), size, fit=fit)
        return tr, ref, seg.CITYSCAPES_CLASSES, f"Cityscapes ({root})"
    except FileNotFoundError:
        root = dataset_dir("camvid", data_dir)
        tr = seg.read_pairs(_cap(seg.load_camvid(root, "train"), n_train, seed), size, fit=fit)
        ref = seg.read_pairs(_cap(seg.load_camvid(root, "val"), n_ref, seed), size, fit=fit)
        void = lambda a: np.where(a == seg.CAMVID_VOID, seg.VOID, a).astype(np.uint8)  # noqa: E731
        return (tr[0], void(tr[1])), (ref[0], void(ref[1])), seg.CAMVID_CLASSES, f"CamVid ({root}, Cityscapes absent)"


#: how our number on each anomaly benchmark is obtained, for the label of our row in the paper's SOTA
#: tables (the paper's come from the benchmarks' test servers or official scripts)
EVALUATION = {"road_anomaly": "all images, local evaluation",
              "smiyc": "validation images, local evaluation",
              "fishyscapes_lostandfound": "validation images, local evaluation",
              "streethazards": "official per-image protocol, local evaluation"}


def load_dense_benchmark(data: str = "synthetic", data_dir: str | None = None, seed: int = 0,
                         image_size: tuple[int, int] = (128, 128), n_train: int = 300, n_test: int = 60,
                         n_ref: int = 20, held_out: tuple[str, ...] = DEFAULT_HELD_OUT,
                         fit: str = "pad") -> DenseBenchmark:
    """Load or generate a :class:`DenseBenchmark`; ``n_*`` = 0 keeps every real image of a split.

    ``fit``: how a real image enters the model's ``image_size`` (:func:`oodlib.data.segmentation.place`):
    ``"pad"`` keeps its aspect ratio, ``"stretch"`` does not. Real test labels are also kept at their
    native size, as counts (``test_counts``), for native-resolution metrics.
    """
    if data not in SOURCES:
        raise ValueError(f"data must be one of {SOURCES}, got {data!r}")
    if fit not in seg.FITS:
        raise ValueError(f"fit must be one of {seg.FITS}, got {fit!r}")
    size = (int(image_size[0]), int(image_size[1]))
    if data == "synthetic":
        return _synthetic(seed, size, n_train or 300, n_test or 60, n_ref or 20)
    if data == "camvid":
        _camvid_ids(tuple(held_out))  # check the parameter before touching the disk
        return _camvid(dataset_dir("camvid", data_dir), seed, size, n_train, n_test, n_ref, tuple(held_out), fit)
    if data == "camvid_pasted":
        return _camvid_pasted(dataset_dir("camvid", data_dir), seed, size, n_train, n_test, n_ref, fit)
    if data == "streethazards":
        root = dataset_dir("streethazards", data_dir)
        tr = seg.read_pairs(_cap(seg.load_streethazards(root, "training"), n_train, seed), size,
                            seg.streethazards_classes, fit)
        ref = seg.read_pairs(_cap(seg.load_streethazards(root, "validation"), n_ref, seed), size,
                             seg.streethazards_classes, fit)
        test = _cap(seg.load_streethazards(root, "test"), n_test, seed)
        te_img, te_ood, counts = seg.read_ood_pairs(test, size, seg.streethazards_ood, fit)
        _, official_ood, official_counts = seg.read_ood_pairs(test, size, streethazards_official_ood, fit)
        ref_ood = np.where(ref[1] == seg.VOID, seg.VOID, 0).astype(np.uint8)
        return DenseBenchmark(tr[0], tr[1], ref[0], ref_ood, te_img, te_ood, size_groups(te_ood),
                              seg.STREETHAZARDS_CLASSES, f"StreetHazards ({root}), images {_fit_text(fit, size)}; "
                              "metrics at the labels' native resolution (pooled pixels, unlabeled void; the SOTA "
                              "row: the official per-image protocol).", ref_labels=ref[1], test_counts=counts,
                              extra={"official_ood": official_ood, "official_counts": official_counts})
    loaders = {"road_anomaly": (seg.load_road_anomaly, seg.road_anomaly_ood),
               "smiyc": (seg.load_smiyc_anomaly, seg.binary_ood),
               "fishyscapes_lostandfound": (seg.load_fishyscapes, seg.binary_ood)}
    load, convert = loaders[data]
    root = dataset_dir(data, data_dir)
    test = _cap(load(root), n_test, seed)
    te_img, te_ood, counts = seg.read_ood_pairs(test, size, convert, fit)
    tr, ref, classes, src = _train_source(data_dir, seed, size, n_train, n_ref, fit)
    ref_ood = np.where(ref[1] == seg.VOID, seg.VOID, 0).astype(np.uint8)
    note = (f"{data} test images ({root}), images {_fit_text(fit, size)}; segmenter trained on {src}; "
            "metrics at the labels' native resolution.")
    return DenseBenchmark(tr[0], tr[1], ref[0], ref_ood, te_img, te_ood, size_groups(te_ood), classes, note,
                          ref_labels=ref[1], test_counts=counts, test_names=tuple(test["image"]),
                          test_placements=seg.placements(test, size, fit))


@dataclass
class P5Data:
    """The run's benchmark at ``image_size`` (for the models trained here) and, when a pretrained model
    runs on real data, the same images at ``pretrained_size`` (``pretrained``; else ``None``).
    ``bench`` is the pretrained one when every model is pretrained."""

    bench: DenseBenchmark
    pretrained: DenseBenchmark | None = None


def load(cfg) -> P5Data:
    """Load the benchmark(s) a :class:`~.config.P5Config` needs (at most two sizes of the same images)."""
    args = (cfg.data, cfg.data_dir, cfg.seed)
    rest = (cfg.n_train, cfg.n_test, cfg.n_ref, tuple(cfg.held_out), cfg.fit)
    trained = bool(set(cfg.models) & set(TRAINED_MODELS))
    pretrained = any(is_pretrained(m) for m in cfg.models)
    own_size = cfg.data != "synthetic" and tuple(cfg.pretrained_size) != tuple(cfg.image_size)
    if not (pretrained and own_size):
        return P5Data(load_dense_benchmark(*args, tuple(cfg.image_size), *rest))
    pre = load_dense_benchmark(*args, tuple(cfg.pretrained_size), *rest)
    if not trained:
        return P5Data(pre)
    return P5Data(load_dense_benchmark(*args, tuple(cfg.image_size), *rest), pre)
