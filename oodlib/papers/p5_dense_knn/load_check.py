"""Proof that a pretrained Cityscapes segmenter loaded correctly: what it predicts on real CamVid images.

A Cityscapes model knows every CamVid class under another name, so its predictions, mapped to
CamVid's 11 classes (:data:`CITYSCAPES_TO_CAMVID`), can be scored against CamVid's labels at their
native resolution. The mapping follows the classes' definitions, written before any prediction was
seen: CamVid's *Building* includes walls, *SignSymbol* traffic lights and signs, *Tree* all
vegetation, *Car* every four-wheeled or larger vehicle, *Bicyclist* riders with their bicycles or
motorbikes. Cityscapes' *terrain* and the model's background channel have no CamVid class: a pixel
predicted as either counts as a miss for its true class.

:data:`PASS_RULE`, fixed before this check ran here: road IoU at least 0.7 and mean IoU over the 11
classes at least 0.25. (The shared data's README reported road 0.85 and mean IoU 0.37 for ESPNet on
20 val images, and 0.04 with random weights; the bounds sit well under the first and far above the
second.)
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch
from PIL import Image

from ...data import segmentation as seg
from ...device import resolve_device

#: Cityscapes train id -> CamVid class id (``None``: no CamVid class; counted as a miss)
CITYSCAPES_TO_CAMVID: dict[str, str | None] = {
    "road": "Road", "sidewalk": "Pavement", "building": "Building", "wall": "Building", "fence": "Fence",
    "pole": "Pole", "traffic light": "SignSymbol", "traffic sign": "SignSymbol", "vegetation": "Tree",
    "terrain": None, "sky": "Sky", "person": "Pedestrian", "rider": "Bicyclist", "car": "Car", "truck": "Car",
    "bus": "Car", "train": "Car", "motorcycle": "Bicyclist", "bicycle": "Bicyclist",
}
LOAD_CHECK_IMAGES = 20  # the first CamVid val images the check scores
MIN_ROAD_IOU = 0.7
MIN_MEAN_IOU = 0.25
PASS_RULE = (f"road IoU >= {MIN_ROAD_IOU} and mean IoU over CamVid's 11 classes >= {MIN_MEAN_IOU} "
             "(Cityscapes predictions mapped to CamVid classes, native 480x360 labels)")
_MISS = len(seg.CAMVID_CLASSES)  # the column of predictions that name no CamVid class


def camvid_lut(n_outputs: int = 20) -> np.ndarray:
    """(n_outputs,) int64: each model output channel's CamVid class id, or the 'miss' column (11)."""
    lut = np.full(n_outputs, _MISS, np.int64)
    for i, name in enumerate(seg.CITYSCAPES_CLASSES):
        target = CITYSCAPES_TO_CAMVID[name]
        if target is not None:
            lut[i] = seg.CAMVID_CLASSES.index(target)
    return lut


@dataclass
class LoadCheck:
    """Per-class IoU table (``per_class``: IoU, pixels), mean IoU, road IoU, pixel accuracy, verdict."""

    per_class: pd.DataFrame
    mean_iou: float
    road_iou: float
    pixel_accuracy: float
    n_images: int
    size: tuple[int, int]
    passed: bool

    def summary(self) -> dict[str, float | int | bool | str]:
        return {"images": self.n_images, "working size": f"{self.size[0]}x{self.size[1]}",
                "mean IoU": self.mean_iou, "road IoU": self.road_iou, "pixel accuracy": self.pixel_accuracy,
                "rule": PASS_RULE, "passed": self.passed}


def confusion(model: torch.nn.Module, frame: pd.DataFrame, size: tuple[int, int], fit: str = "pad",
              device: str = "auto") -> np.ndarray:
    """(11, 12) confusion counts, CamVid truth x mapped prediction (+ miss), at the labels' native size.

    Each image enters the model at ``size`` (:func:`oodlib.data.segmentation.place`); its logits are
    cut to the image's area and resized bilinearly back to the label's size; void pixels are ignored.
    """
    dev = resolve_device(device)
    model.to(dev).eval()
    lut = camvid_lut()
    conf = np.zeros((_MISS, _MISS + 1), np.int64)
    for row in frame.itertuples():
        img = Image.open(row.image).convert("RGB")
        lab = np.asarray(Image.open(row.label)).astype(np.int64)
        where = seg.place(lab.shape, size, fit)
        (ch, cw), (oy, ox) = where.content, where.offset
        canvas = np.zeros((*size, 3), np.uint8)
        canvas[oy:oy + ch, ox:ox + cw] = np.asarray(img.resize((cw, ch), Image.BILINEAR))
        x = torch.from_numpy(canvas).permute(2, 0, 1)[None].float().div(255).to(dev)
        with torch.no_grad():
            logits = model(x)[:, :, oy:oy + ch, ox:ox + cw]
            logits = torch.nn.functional.interpolate(logits, size=lab.shape, mode="bilinear", align_corners=False)
        pred = lut[logits.argmax(1)[0].cpu().numpy()]
        valid = lab < _MISS
        conf += np.bincount(lab[valid] * (_MISS + 1) + pred[valid], minlength=_MISS * (_MISS + 1)).reshape(
            _MISS, _MISS + 1)
    return conf


def load_check(model: torch.nn.Module, camvid_root: str, split: str = "val", n_images: int = 20,
               size: tuple[int, int] = (512, 688), fit: str = "pad", device: str = "auto") -> LoadCheck:
    """Score ``model``'s mapped predictions on the first ``n_images`` of a CamVid split (0 = all)."""
    frame = seg.load_camvid(camvid_root, split)
    frame = frame.iloc[:n_images] if n_images else frame
    conf = confusion(model, frame, size, fit, device)
    inter = np.diag(conf[:, :_MISS])
    union = conf.sum(1) + conf[:, :_MISS].sum(0) - inter
    iou = inter / np.maximum(union, 1)
    present = conf.sum(1) > 0
    table = pd.DataFrame({"IoU": iou, "pixels": conf.sum(1)}, index=pd.Index(seg.CAMVID_CLASSES, name="CamVid class"))
    mean_iou = float(iou[present].mean())
    road = float(iou[seg.CAMVID_CLASSES.index("Road")])
    acc = float(inter.sum() / max(conf.sum(), 1))
    return LoadCheck(table, mean_iou, road, acc, len(frame), tuple(size),
                     road >= MIN_ROAD_IOU and mean_iou >= MIN_MEAN_IOU)
