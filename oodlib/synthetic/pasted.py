"""Unseen objects pasted into real road images: an anomaly set with a real background (P5).

A Cityscapes-trained segmenter knows every CamVid class, so CamVid alone has no anomalies for it.
This follows the construction of Fishyscapes Static (Blum et al., 2019/2021: objects cut from other
images are blended into Cityscapes validation scenes) with procedural objects in place of their
Pascal VOC cut-outs, which cannot be downloaded here:

* **objects**: :func:`oodlib.synthetic.road_scenes.draw_object` - a star, ring, triangle or blob in a
  saturated colour with a checker, stripe, dot or no pattern (shapes and colours no road-scene class
  has); area a fixed fraction of the image (:data:`oodlib.synthetic.road_scenes.SIZES`);
* **placement**: centred on a road pixel whose surrounding square of the object's diameter is at
  least :data:`MIN_ROAD_SHARE` road, so the object stands on the road;
* **blending**: the object's colours scaled by the local road brightness (mean luminance of the
  surrounding road pixels over mid-grey, clipped to [0.35, 1.2]), Gaussian sensor noise (std 3),
  and a feathered edge: alpha = the object mask blurred with a Gaussian of ``sigma`` = 1 px;
* **labels**: 1 where alpha >= 0.5, void (255) on the blended rim (0.02 < alpha < 0.5) and where
  the original label is void, 0 elsewhere.

Pasted objects are easier than real anomalies (no real object's texture or shading), which the
notebook says where the numbers are shown.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import ndimage

from ..data.segmentation import VOID
from .road_scenes import SIZES, draw_object

MIN_ROAD_SHARE = 0.8
SIGMA = 1.0
NOISE_STD = 3.0
_LUMA = np.array([0.299, 0.587, 0.114])


@dataclass
class Pasted:
    """One image with a pasted object: ``image`` uint8 (H, W, 3), ``ood`` uint8 (H, W) 0 / 1 / 255,
    the object's centre (x, y) and radius in pixels, and its size name."""

    image: np.ndarray
    ood: np.ndarray
    centre: tuple[float, float]
    radius: float
    size: str


def paste_on_road(image: np.ndarray, road: np.ndarray, void: np.ndarray, size: str, rng: np.random.Generator,
                  sigma: float = SIGMA) -> Pasted | None:
    """Paste one object of area ``SIZES[size]`` x H x W onto the road of ``image``.

    Args:
        image: uint8 (H, W, 3) RGB; road, void: boolean (H, W) masks of road and unlabelled pixels.
        size: a key of :data:`~oodlib.synthetic.road_scenes.SIZES`.
        rng: draws the position, the object and the noise.
    Returns:
        :class:`Pasted`, or ``None`` when no road area is large enough for the object.
    """
    if image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8:
        raise ValueError(f"image must be uint8 (H, W, 3), got {image.dtype} {image.shape}")
    if road.shape != image.shape[:2] or void.shape != image.shape[:2]:
        raise ValueError(f"road {road.shape} and void {void.shape} masks must match the image {image.shape[:2]}")
    if size not in SIZES:
        raise ValueError(f"size must be one of {tuple(SIZES)}, got {size!r}")
    h, w = road.shape
    r = float(np.sqrt(SIZES[size] * h * w / np.pi) * 1.3)
    side = 2 * int(np.ceil(r)) + 1
    share = ndimage.uniform_filter(road.astype(np.float32), size=side, mode="constant")
    ys, xs = np.nonzero(road & (share >= MIN_ROAD_SHARE))
    if len(ys) == 0:
        return None
    i = rng.integers(len(ys))
    cy, cx = float(ys[i]), float(xs[i])
    mask, rgb = draw_object(rng, cx, cy, r, h, w)
    y0, y1, x0, x1 = max(0, int(cy - side)), min(h, int(cy + side) + 1), max(0, int(cx - side)), min(w, int(cx + side) + 1)
    around = road[y0:y1, x0:x1]
    luma = float((image[y0:y1, x0:x1] @ _LUMA)[around].mean())
    rgb = rgb * np.clip(luma / 128.0, 0.35, 1.2) + rng.normal(0.0, NOISE_STD, rgb.shape)
    alpha = ndimage.gaussian_filter(mask.astype(np.float64), sigma)[..., None]
    out = np.clip(alpha * rgb + (1 - alpha) * image, 0, 255).round().astype(np.uint8)
    a = alpha[..., 0]
    ood = np.where(a >= 0.5, 1, np.where(a > 0.02, VOID, 0)).astype(np.uint8)
    ood[void & (a < 0.5)] = VOID
    return Pasted(out, ood, (cx, cy), r, size)
