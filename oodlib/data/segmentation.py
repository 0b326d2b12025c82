"""Loaders for road-scene segmentation and dense anomaly benchmarks in their own layouts (P5).

Every loader returns a :class:`pandas.DataFrame` with one row per image and columns ``image`` and
``label`` (absolute paths), sorted by image path; :func:`read_pairs` turns rows into arrays at a
chosen size. Label conventions after reading:

* **class maps** (training): ``uint8`` class ids, :data:`VOID` (255) = ignore;
* **OOD maps** (testing): 0 = in-distribution, 1 = anomaly, 255 = void (ignored by the metrics).

Layouts (what each loader expects under ``root``):

* CamVid (SegNet version): ``{split}.txt`` or ``{split}/*.{png,jpg}`` with ``{split}annot/<stem>.png``
  (ids 0-10, 11 = void);
* RoadAnomaly: ``frame_list.json`` (image file names), ``frames/<name>.jpg``,
  ``frames/<stem>.labels/labels_semantic.png`` (2 = anomaly, 0 = not; other values -> void);
* Cityscapes: ``leftImg8bit/<split>/<city>/<id>_leftImg8bit.png`` with
  ``gtFine/<split>/<city>/<id>_gtFine_labelTrainIds.png`` (19 train ids, 255 = ignore);
* StreetHazards: ``train/images/training/**.png`` + ``train/annotations/training/**.png`` and
  ``test/images/test/**.png`` + ``test/annotations/test/**.png`` (1 = unlabeled, 2-13 = the 12
  classes, 14 = anomaly);
* SMIYC anomaly track: ``dataset_AnomalyTrack/images/<stem>.{jpg,png}`` with
  ``dataset_AnomalyTrack/labels_masks/<stem>_labels_semantic.png`` (0 / 1 / 255);
* Fishyscapes Lost & Found: ``images/<stem>.png`` with ``labels/<stem>.png`` (0 / 1 / 255).

A missing folder or an image without its label raises :class:`FileNotFoundError` naming the path.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np
import pandas as pd
from PIL import Image

VOID = 255  # the ignore label of every class and OOD map in oodlib (imported, never redefined, elsewhere)
IMAGE_EXTS = (".png", ".jpg", ".jpeg")
CAMVID_CLASSES = ("Sky", "Building", "Pole", "Road", "Pavement", "Tree", "SignSymbol", "Fence", "Car",
                  "Pedestrian", "Bicyclist")
CAMVID_VOID = 11
CITYSCAPES_CLASSES = ("road", "sidewalk", "building", "wall", "fence", "pole", "traffic light", "traffic sign",
                      "vegetation", "terrain", "sky", "person", "rider", "car", "truck", "bus", "train",
                      "motorcycle", "bicycle")
STREETHAZARDS_CLASSES = ("building", "fence", "other", "pedestrian", "pole", "road line", "road", "sidewalk",
                         "vegetation", "car", "wall", "traffic sign")


def _need_dir(path: Path, what: str) -> Path:
    if not path.is_dir():
        raise FileNotFoundError(f"{what}: expected a folder at {path}")
    return path


def _frame(pairs: list[tuple[Path, Path]], what: str) -> pd.DataFrame:
    if not pairs:
        raise FileNotFoundError(f"{what}: no images found")
    missing = [str(lab) for _, lab in pairs if not lab.is_file()]
    if missing:
        raise FileNotFoundError(f"{what}: {len(missing)} images have no label file, e.g. {missing[0]}")
    df = pd.DataFrame({"image": [str(i) for i, _ in pairs], "label": [str(lab) for _, lab in pairs]})
    return df.sort_values("image", ignore_index=True)


def _images_in(folder: Path, recursive: bool = False) -> list[Path]:
    pattern = "**/*" if recursive else "*"
    return sorted(p for p in folder.glob(pattern) if p.suffix.lower() in IMAGE_EXTS and p.is_file())


def load_camvid(root: str | Path, split: str = "train") -> pd.DataFrame:
    """CamVid ``split`` ("train", "val", "test"): images with ``{split}annot/<stem>.png`` label maps."""
    if split not in ("train", "val", "test"):
        raise ValueError(f"CamVid split must be 'train', 'val' or 'test', got {split!r}")
    root = Path(root)
    images = _images_in(_need_dir(root / split, "CamVid images"))
    annot = _need_dir(root / f"{split}annot", "CamVid labels")
    return _frame([(p, annot / f"{p.stem}.png") for p in images], f"CamVid {split} ({root})")


def load_road_anomaly(root: str | Path) -> pd.DataFrame:
    """RoadAnomaly: the frames listed in ``frame_list.json`` with their ``labels_semantic.png``."""
    root = Path(root)
    listing = root / "frame_list.json"
    if not listing.is_file():
        raise FileNotFoundError(f"RoadAnomaly: expected {listing}")
    names = json.loads(listing.read_text())
    if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
        raise ValueError(f"{listing} must hold a JSON list of image file names")
    frames = _need_dir(root / "frames", "RoadAnomaly frames")
    pairs = []
    for name in names:
        img = frames / name
        if not img.is_file():
            raise FileNotFoundError(f"RoadAnomaly: {listing} lists {name}, but {img} does not exist")
        pairs.append((img, frames / f"{Path(name).stem}.labels" / "labels_semantic.png"))
    return _frame(pairs, f"RoadAnomaly ({root})")


def load_cityscapes(root: str | Path, split: str = "train") -> pd.DataFrame:
    """Cityscapes ``split``: ``leftImg8bit`` images with ``gtFine`` ``labelTrainIds`` maps."""
    root = Path(root)
    img_dir = _need_dir(root / "leftImg8bit" / split, "Cityscapes images")
    gt_dir = _need_dir(root / "gtFine" / split, "Cityscapes labels")
    pairs = []
    for img in sorted(img_dir.glob("*/*_leftImg8bit.png")):
        stem = img.name[: -len("_leftImg8bit.png")]
        pairs.append((img, gt_dir / img.parent.name / f"{stem}_gtFine_labelTrainIds.png"))
    return _frame(pairs, f"Cityscapes {split} ({root})")


def load_streethazards(root: str | Path, split: str = "test") -> pd.DataFrame:
    """StreetHazards ``split`` ("training", "validation" or "test") images with annotations."""
    root = Path(root)
    base = root / ("test" if split == "test" else "train")
    img_dir = _need_dir(base / "images" / split, "StreetHazards images")
    ann_dir = _need_dir(base / "annotations" / split, "StreetHazards annotations")
    pairs = [(p, ann_dir / p.relative_to(img_dir).with_suffix(".png")) for p in _images_in(img_dir, recursive=True)]
    return _frame(pairs, f"StreetHazards {split} ({root})")


def load_smiyc_anomaly(root: str | Path) -> pd.DataFrame:
    """SegmentMeIfYouCan anomaly track (validation images with their masks)."""
    root = Path(root)
    base = root if (root / "images").is_dir() else root / "dataset_AnomalyTrack"
    images = _images_in(_need_dir(base / "images", "SMIYC images"))
    masks = _need_dir(base / "labels_masks", "SMIYC masks")
    return _frame([(p, masks / f"{p.stem}_labels_semantic.png") for p in images], f"SMIYC anomaly ({root})")


def load_fishyscapes(root: str | Path) -> pd.DataFrame:
    """Fishyscapes Lost & Found: ``images/<stem>.png`` with ``labels/<stem>.png``."""
    root = Path(root)
    images = _images_in(_need_dir(root / "images", "Fishyscapes images"))
    labels = _need_dir(root / "labels", "Fishyscapes labels")
    return _frame([(p, labels / f"{p.stem}.png") for p in images], f"Fishyscapes L&F ({root})")


# --- label conventions -------------------------------------------------------------------------

def _lut(mapping: dict[int, int], default: int) -> np.ndarray:
    lut = np.full(256, default, np.uint8)
    for src, dst in mapping.items():
        lut[src] = dst
    return lut


def road_anomaly_ood(raw: np.ndarray) -> np.ndarray:
    """RoadAnomaly ``labels_semantic``: 2 -> 1 (anomaly), 0 -> 0, anything else -> void."""
    return _lut({0: 0, 2: 1}, VOID)[raw]


def streethazards_ood(raw: np.ndarray) -> np.ndarray:
    """StreetHazards: 14 -> 1 (anomaly), 0/1 (unlabeled) -> void, 2-13 -> 0."""
    return _lut({**{c: 0 for c in range(2, 14)}, 14: 1}, VOID)[raw]


def streethazards_classes(raw: np.ndarray) -> np.ndarray:
    """StreetHazards training ids: 2-13 -> 0-11; unlabeled and anomaly -> void."""
    return _lut({c: c - 2 for c in range(2, 14)}, VOID)[raw]


def binary_ood(raw: np.ndarray) -> np.ndarray:
    """SMIYC / Fishyscapes masks: 0 and 1 kept, every other value -> void."""
    return _lut({0: 0, 1: 1}, VOID)[raw]


def camvid_split_classes(raw: np.ndarray, held_out: tuple[int, ...]) -> tuple[np.ndarray, np.ndarray]:
    """CamVid ids -> (training class map, OOD map) with ``held_out`` classes as anomalies.

    Training map: the remaining classes renumbered 0..n-1 in CamVid order, held-out and void
    (11) pixels -> 255. OOD map: held-out -> 1, void -> 255, the rest -> 0.
    """
    kept = [c for c in range(len(CAMVID_CLASSES)) if c not in held_out]
    train = _lut({c: i for i, c in enumerate(kept)}, VOID)[raw]
    ood = _lut({**{c: 0 for c in kept}, **{c: 1 for c in held_out}}, VOID)[raw]
    return train, ood


FITS = ("pad", "stretch")


@dataclass(frozen=True)
class Placement:
    """Where an image of native size (h0, w0) sits in the (H, W) model input: its resized content
    (ch, cw) at offset (oy, ox); the rest is padding (image 0, label void)."""

    native: tuple[int, int]
    content: tuple[int, int]
    offset: tuple[int, int]


def place(native: tuple[int, int], size: tuple[int, int], fit: str = "pad") -> Placement:
    """How an image of ``native`` (h0, w0) pixels enters a (H, W) model input.

    ``"pad"`` keeps the aspect ratio: the image is scaled to fit inside (H, W) and centred, the
    rest padded (letterbox); ``"stretch"`` resizes it to (H, W) whatever its aspect ratio.
    """
    if fit not in FITS:
        raise ValueError(f"fit must be one of {FITS}, got {fit!r}")
    (h0, w0), (h, w) = native, size
    if fit == "stretch":
        return Placement((h0, w0), (h, w), (0, 0))
    scale = min(h / h0, w / w0)
    ch, cw = min(h, max(1, round(h0 * scale))), min(w, max(1, round(w0 * scale)))
    return Placement((h0, w0), (ch, cw), ((h - ch) // 2, (w - cw) // 2))


def native_counts(native_ood: np.ndarray, where: Placement, size: tuple[int, int]) -> np.ndarray:
    """(H, W, 2) counts: the native ID (0) and OOD (1) pixels whose nearest model-input pixel each is.

    Native pixel (y, x) takes its score from the model-input pixel whose area covers its centre
    (nearest upsampling with half-pixel centres); void (255) pixels are counted in neither class.
    With these counts, :meth:`oodlib.metrics.PixelOODMetrics.update_counts` gives the metrics at the
    labels' native resolution.
    """
    h0, w0 = where.native
    if native_ood.shape != (h0, w0):
        raise ValueError(f"native label map is {native_ood.shape}, expected {(h0, w0)}")
    h, w = size
    rows, cols = native_rows_cols(where)
    cell = (rows[:, None] * w + cols[None, :]).reshape(-1)
    flat = native_ood.reshape(-1)
    return np.stack([np.bincount(cell[flat == c], minlength=h * w).reshape(h, w) for c in (0, 1)], axis=-1)


def native_rows_cols(where: Placement) -> tuple[np.ndarray, np.ndarray]:
    """For each native row and column, the model-input row / column whose pixel it takes its score from
    (nearest, half-pixel centres: the rule of :func:`native_counts`)."""
    (h0, w0), (ch, cw), (oy, ox) = where.native, where.content, where.offset
    return oy + ((2 * np.arange(h0) + 1) * ch) // (2 * h0), ox + ((2 * np.arange(w0) + 1) * cw) // (2 * w0)


def to_native(score_map: np.ndarray, where: Placement) -> np.ndarray:
    """A model-resolution (H, W) map -> the native (h0, w0) map, each native pixel taking its nearest
    model pixel's value (exactly the pixels :func:`native_counts` counts)."""
    rows, cols = native_rows_cols(where)
    return np.asarray(score_map)[rows][:, cols]


def placements(frame: pd.DataFrame, size: tuple[int, int], fit: str = "pad") -> list[Placement]:
    """Each row's :class:`Placement` in a (H, W) input, from the image headers (no pixels decoded)."""
    out = []
    for row in frame.itertuples():
        with Image.open(row.image) as img:
            out.append(place((img.height, img.width), size, fit))
    return out


def _read_one(image: Path, label: Path) -> tuple[Image.Image, np.ndarray]:
    """One image (RGB) and its single-channel label map (uint8), checked against each other."""
    img = Image.open(image).convert("RGB")
    lab = Image.open(label)
    if lab.mode not in ("L", "P", "I", "I;16"):
        raise ValueError(f"{label}: expected a single-channel label map, got mode {lab.mode}")
    if img.size != lab.size:
        raise ValueError(f"{image} is {img.size} but its label {label} is {lab.size}")
    arr = np.asarray(lab)
    if arr.max(initial=0) > 255:
        raise ValueError(f"{label}: label values above 255")
    return img, arr.astype(np.uint8)


def _fit_pair(img: Image.Image, lab: np.ndarray, size: tuple[int, int], fit: str) -> tuple[np.ndarray, np.ndarray, Placement]:
    """Image bilinear and label nearest into a (H, W) canvas as :func:`place` says (pad: 0 / void)."""
    where = place((lab.shape[0], lab.shape[1]), size, fit)
    (ch, cw), (oy, ox) = where.content, where.offset
    canvas_img = np.zeros((*size, 3), np.uint8)
    canvas_lab = np.full(size, VOID, np.uint8)
    canvas_img[oy:oy + ch, ox:ox + cw] = np.asarray(img.resize((cw, ch), Image.BILINEAR), np.uint8)
    canvas_lab[oy:oy + ch, ox:ox + cw] = np.asarray(Image.fromarray(lab).resize((cw, ch), Image.NEAREST))
    return canvas_img, canvas_lab, where


def read_pairs(frame: pd.DataFrame, size: tuple[int, int] | None = None,
               convert: Callable[[np.ndarray], np.ndarray] | None = None,
               fit: str = "stretch") -> tuple[np.ndarray, np.ndarray]:
    """Read rows of a loader's frame: images (n, H, W, 3) uint8 and label maps (n, H, W) uint8.

    ``size`` = (H, W) resizes images bilinearly and labels with nearest neighbours (no new
    label values), as ``fit`` says (:func:`place`: ``"pad"`` keeps the aspect ratio and pads with
    black and void, ``"stretch"`` does not); ``convert`` maps raw label values (e.g.
    :func:`road_anomaly_ood`), before resizing. ``size=None`` needs images of one size.
    """
    images, labels = [], []
    for row in frame.itertuples():
        img, lab = _read_one(row.image, row.label)
        lab = convert(lab) if convert is not None else lab
        if size is not None:
            img_arr, lab, _ = _fit_pair(img, lab, size, fit)
        else:
            img_arr = np.asarray(img, np.uint8)
        images.append(img_arr)
        labels.append(lab)
    shapes = {a.shape for a in images}
    if len(shapes) > 1:
        raise ValueError(f"images of several sizes {sorted(shapes)[:3]}: give a size to resize them to")
    return np.stack(images), np.stack(labels)


def read_ood_pairs(frame: pd.DataFrame, size: tuple[int, int], convert: Callable[[np.ndarray], np.ndarray],
                   fit: str = "pad") -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Test images for pixel OOD metrics at the labels' native resolution.

    Returns images (n, H, W, 3) and OOD maps (n, H, W) at the model's size (as :func:`read_pairs`),
    and (n, H, W, 2) native-pixel counts (:func:`native_counts`) of each image's OOD map as
    ``convert`` gives it (0 ID, 1 OOD, 255 void) at its own size.
    """
    parts = []
    for row in frame.itertuples():
        img, raw = _read_one(row.image, row.label)
        parts.append(fit_ood_pair(img, convert(raw), size, fit))
    return tuple(np.stack(p) for p in zip(*parts))


def fit_ood_pair(image: Image.Image | np.ndarray, ood: np.ndarray, size: tuple[int, int],
                 fit: str = "pad") -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One native image and OOD map -> (image (H, W, 3), OOD map (H, W), native counts (H, W, 2) uint32)."""
    img = Image.fromarray(image) if isinstance(image, np.ndarray) else image
    img_arr, lab, where = _fit_pair(img, ood, size, fit)
    return img_arr, lab, native_counts(ood, where, size).astype(np.uint32)
