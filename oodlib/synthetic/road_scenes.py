"""Procedural road scenes with per-pixel labels, and test scenes with pasted anomalies (P5 default).

Each scene is drawn in perspective: sky above a random horizon, buildings and trees along both
sides, a road trapezoid towards a vanishing point with lane marks, sidewalks beside it, cars on
the road and people on the sidewalks, all scaled with their distance. Every class has its own
palette and texture; a global gain, colour tint and sensor noise vary the lighting.

Anomalies (test scenes only) use what the training scenes never show: shapes (stars, rings,
triangles, irregular polygons), textures (checkerboard, stripes, dots) and colours (saturated
magenta, cyan, orange, lime...). Each is pasted on or beside the road at one of three sizes
(:data:`SIZES`, fractions of the image area), and its pixels are labelled OOD.

Images are ``uint8`` (n, H, W, 3); label maps ``uint8`` (n, H, W) with class ids
:data:`CLASSES` for training scenes, and 0 = ID, 1 = OOD for test scenes.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from matplotlib.path import Path as MplPath

from ..data.segmentation import VOID  # 255: unlabelled pixel (re-exported as road_scenes.VOID)

CLASSES = ("road", "sidewalk", "sky", "building", "vegetation", "vehicle", "person")
ROAD, SIDEWALK, SKY, BUILDING, VEGETATION, VEHICLE, PERSON = range(len(CLASSES))
SIZES = {"small": 0.004, "medium": 0.015, "large": 0.05}  # anomaly area / image area
SIZES_ORDER = tuple(SIZES)  # the order sizes cycle through over a test set

_VEHICLE_COLOURS = np.array([[150, 20, 20], [25, 45, 120], [230, 230, 230], [30, 30, 30], [160, 160, 170]])
_PERSON_COLOURS = np.array([[40, 40, 60], [80, 50, 30], [20, 60, 40], [110, 30, 40]])
_ANOMALY_COLOURS = np.array([[255, 0, 255], [0, 255, 255], [255, 140, 0], [140, 255, 0], [255, 230, 0],
                             [120, 0, 255], [255, 80, 160]])


@dataclass(frozen=True)
class SceneSet:
    """Scenes and labels. ``sizes`` names each test scene's anomaly size (empty for training)."""

    images: np.ndarray  # (n, H, W, 3) uint8
    labels: np.ndarray  # (n, H, W) uint8
    sizes: tuple[str, ...] = ()

    def __len__(self) -> int:
        return len(self.images)


def _grid(h: int, w: int) -> tuple[np.ndarray, np.ndarray]:
    yy, xx = np.mgrid[0:h, 0:w]
    return yy.astype(np.float32), xx.astype(np.float32)


def _polygon_mask(vertices: np.ndarray, h: int, w: int) -> np.ndarray:
    """Boolean (h, w) mask of the pixel centres inside a polygon given as (m, 2) (x, y) vertices."""
    yy, xx = _grid(h, w)
    pts = np.stack([xx.ravel() + 0.5, yy.ravel() + 0.5], 1)
    return MplPath(vertices).contains_points(pts).reshape(h, w)


def _texture(rng: np.random.Generator, h: int, w: int, scale: float) -> np.ndarray:
    """Smooth random texture in [-1, 1] of shape (h, w): noise blurred by a box filter."""
    noise = rng.standard_normal((h // 2 + 2, w // 2 + 2)).astype(np.float32)
    up = np.kron(noise, np.ones((2, 2), np.float32))[:h, :w]
    return np.clip(up * scale, -1, 1)


def _paint(img: np.ndarray, lab: np.ndarray, mask: np.ndarray, colour: np.ndarray, cls: int,
           rng: np.random.Generator, grain: float = 12.0) -> None:
    """Fill ``mask`` with ``colour`` plus a per-pixel grain (in place) and set its label."""
    n = int(mask.sum())
    if n == 0:
        return
    img[mask] = np.clip(colour[None, :] + rng.normal(0, grain, (n, 1)), 0, 255)
    lab[mask] = cls


def _draw_background(img: np.ndarray, lab: np.ndarray, rng: np.random.Generator) -> tuple[float, float, float]:
    """Sky, buildings, trees, road with lane marks and sidewalks. Returns (horizon, vanish_x, road_half_bottom)."""
    h, w = lab.shape
    yy, xx = _grid(h, w)
    horizon = rng.uniform(0.32, 0.48) * h
    vx = rng.uniform(0.35, 0.65) * w
    sky = yy < horizon
    sky_top, sky_bottom = rng.uniform([60, 110, 170], [110, 160, 230]), rng.uniform([170, 190, 210], [220, 230, 250])
    t = (yy / max(horizon, 1))[..., None]
    img[sky] = (sky_top * (1 - t) + sky_bottom * t)[sky]
    lab[sky] = SKY
    # buildings: rectangles standing on the horizon line along both sides, with window grids
    ground = yy >= horizon
    for side in (0, 1):
        x = 0.0 if side == 0 else w * rng.uniform(0.55, 0.75)
        end = w * rng.uniform(0.25, 0.45) if side == 0 else float(w)
        while x < end:
            bw = rng.uniform(0.08, 0.2) * w
            top = horizon - rng.uniform(0.1, 0.3) * h
            m = (xx >= x) & (xx < min(x + bw, end)) & (yy >= top) & (yy < horizon + 0.08 * h)
            colour = rng.uniform([90, 80, 70], [180, 160, 150])
            _paint(img, lab, m, colour, BUILDING, rng, grain=6)
            win = m & ((xx - x) % 6 < 3) & ((yy - top) % 7 < 3) & (yy < horizon)
            img[win] = np.clip(colour * 0.55, 0, 255)
            x += bw
    # trees: green blobs on trunks along the sides
    for _ in range(rng.integers(2, 6)):
        cx, cy = rng.uniform(0, w), horizon + rng.uniform(-0.05, 0.1) * h
        r = rng.uniform(0.04, 0.1) * w
        m = ((xx - cx) ** 2 + ((yy - cy) * 1.3) ** 2 < r**2) | ((np.abs(xx - cx) < r * 0.15) & (yy > cy) & (yy < cy + 1.5 * r))
        green = np.array([rng.uniform(30, 70), rng.uniform(100, 150), rng.uniform(30, 60)])
        tex = _texture(rng, h, w, 0.8)[m]
        img[m] = np.clip(green[None] * (1 + 0.35 * tex[:, None]), 0, 255)
        lab[m] = VEGETATION
    # ground below the horizon outside road/sidewalk: grass verge (vegetation)
    verge = ground & (lab != BUILDING) & (lab != VEGETATION)
    _paint(img, lab, verge, np.array([70, 120, 50]), VEGETATION, rng, grain=15)
    # road and sidewalks: trapezoids from the vanishing point
    half = rng.uniform(0.3, 0.45) * w
    depth = np.clip((yy - horizon) / max(h - horizon, 1), 0, 1)
    centre = vx + (w / 2 - vx) * depth
    road = ground & (np.abs(xx - centre) < half * depth)
    walk = ground & ~road & (np.abs(xx - centre) < half * depth * 1.35)
    _paint(img, lab, walk, rng.uniform([150, 140, 120], [190, 180, 160]), SIDEWALK, rng, grain=10)
    _paint(img, lab, road, rng.uniform([60, 60, 60], [100, 100, 100]), ROAD, rng, grain=8)
    dash = road & (np.abs(xx - centre) < 0.025 * w * depth + 0.3) & (((yy - horizon) / (depth + 0.15)) % 24 < 12)
    img[dash] = 235
    return horizon, vx, half


def _draw_objects(img: np.ndarray, lab: np.ndarray, rng: np.random.Generator, horizon: float, vx: float,
                  half: float) -> None:
    """Cars on the road and people on the sidewalks, scaled with distance (in place)."""
    h, w = lab.shape
    yy, xx = _grid(h, w)
    for _ in range(rng.integers(0, 4)):
        d = rng.uniform(0.15, 0.9)
        y = horizon + d * (h - horizon)
        centre = vx + (w / 2 - vx) * d
        x = centre + rng.uniform(-0.6, 0.6) * half * d
        cw, ch = 0.28 * w * d, 0.14 * w * d
        body = (np.abs(xx - x) < cw / 2) & (yy > y - ch) & (yy < y - 0.25 * ch)
        cabin = (np.abs(xx - x) < cw / 3) & (yy > y - 1.45 * ch) & (yy <= y - ch)
        wheels = ((xx - x + cw / 3) ** 2 + (yy - y + 0.25 * ch) ** 2 < (0.22 * ch) ** 2) | \
                 ((xx - x - cw / 3) ** 2 + (yy - y + 0.25 * ch) ** 2 < (0.22 * ch) ** 2)
        colour = _VEHICLE_COLOURS[rng.integers(len(_VEHICLE_COLOURS))]
        _paint(img, lab, body | cabin, colour.astype(float), VEHICLE, rng, grain=5)
        img[cabin & (yy > y - 1.35 * ch) & (np.abs(xx - x) < cw / 4)] = [120, 150, 170]
        _paint(img, lab, wheels, np.array([15.0, 15, 15]), VEHICLE, rng, grain=3)
    for _ in range(rng.integers(0, 4)):
        d = rng.uniform(0.2, 0.95)
        y = horizon + d * (h - horizon)
        centre = vx + (w / 2 - vx) * d
        x = centre + rng.choice([-1, 1]) * half * d * rng.uniform(1.05, 1.3)
        ph = 0.3 * h * d
        body = ((xx - x) ** 2 / (0.12 * ph) ** 2 + (yy - (y - 0.45 * ph)) ** 2 / (0.38 * ph) ** 2) < 1
        head = (xx - x) ** 2 + (yy - (y - 0.9 * ph)) ** 2 < (0.1 * ph) ** 2
        _paint(img, lab, body, _PERSON_COLOURS[rng.integers(len(_PERSON_COLOURS))].astype(float), PERSON, rng, 6)
        _paint(img, lab, head, np.array([200.0, 160, 130]), PERSON, rng, grain=6)


def _light(img: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Global gain, colour tint and sensor noise; returns uint8."""
    gain = rng.uniform(0.7, 1.2)
    tint = rng.uniform(0.9, 1.1, 3)
    out = img * gain * tint + rng.normal(0, 4, img.shape)
    return np.clip(out, 0, 255).astype(np.uint8)


def _anomaly_shape(rng: np.random.Generator, cx: float, cy: float, r: float, h: int, w: int) -> np.ndarray:
    """Boolean (h, w) mask of an unseen shape with circumradius ``r`` pixels centred at (cx, cy)."""
    kind = rng.choice(["star", "ring", "triangle", "blob"])
    yy, xx = _grid(h, w)
    if kind == "ring":
        d = np.sqrt((xx - cx) ** 2 + (yy - cy) ** 2)
        return (d < r) & (d > 0.5 * r)
    if kind == "star":
        ang = np.linspace(0, 2 * np.pi, 11)[:-1] + rng.uniform(0, np.pi)
        rad = np.where(np.arange(10) % 2 == 0, r, 0.45 * r)
    elif kind == "triangle":
        ang = np.linspace(0, 2 * np.pi, 4)[:-1] + rng.uniform(0, np.pi)
        rad = np.full(3, r)
    else:
        ang = np.sort(rng.uniform(0, 2 * np.pi, 9))
        rad = r * rng.uniform(0.5, 1.0, 9)
    verts = np.stack([cx + rad * np.cos(ang), cy + rad * np.sin(ang)], 1)
    return _polygon_mask(verts, h, w)


def _paste_anomaly(img: np.ndarray, lab: np.ndarray, rng: np.random.Generator, area: float,
                   horizon: float, vx: float, half: float) -> np.ndarray:
    """Paste one anomaly of about ``area`` x H x W pixels on or beside the road; returns its mask."""
    h, w = lab.shape
    r = np.sqrt(area * h * w / np.pi) * 1.3
    for _ in range(20):  # keep the object inside the ground area
        d = rng.uniform(0.3, 0.95)
        cy = horizon + d * (h - horizon) - r
        centre = vx + (w / 2 - vx) * d
        cx = centre + rng.uniform(-1.3, 1.3) * half * d
        if r < cx < w - r and cy - r > horizon:
            break
    mask, rgb = draw_object(rng, cx, cy, r, h, w)
    img[mask] = rgb[mask]
    lab[mask] = 1
    return mask


def draw_object(rng: np.random.Generator, cx: float, cy: float, r: float, h: int, w: int) -> tuple[np.ndarray, np.ndarray]:
    """One unseen object: a star, ring, triangle or blob of circumradius ``r`` px centred at (cx, cy),
    in a saturated colour with a checker, stripe, dot or no pattern in the complementary colour.

    Returns the boolean mask (h, w) and float RGB colours (h, w, 3) in 0-255 (valid under the mask).
    """
    yy, xx = _grid(h, w)
    mask = _anomaly_shape(rng, cx, cy, r, h, w)
    colour = _ANOMALY_COLOURS[rng.integers(len(_ANOMALY_COLOURS))].astype(float)
    pattern = rng.choice(["checker", "stripes", "dots", "plain"])
    period = max(2.0, r / 3)
    if pattern == "checker":
        alt = ((xx // period + yy // period) % 2).astype(bool)
    elif pattern == "stripes":
        alt = ((xx + yy) // period % 2).astype(bool)
    elif pattern == "dots":
        alt = ((xx % period - period / 2) ** 2 + (yy % period - period / 2) ** 2) < (period / 3) ** 2
    else:
        alt = np.zeros((h, w), bool)
    rgb = np.where(alt[..., None], 255 - colour, colour)
    return mask, rgb


def make_road_scenes(n: int, size: tuple[int, int] = (128, 128), seed: int = 0) -> SceneSet:
    """``n`` in-distribution training scenes of ``size`` = (H, W) with class labels :data:`CLASSES`."""
    rng = np.random.default_rng(seed)
    h, w = size
    images = np.empty((n, h, w, 3), np.uint8)
    labels = np.empty((n, h, w), np.uint8)
    for i in range(n):
        img, lab = np.zeros((h, w, 3), np.float64), np.full((h, w), VOID, np.uint8)
        horizon, vx, half = _draw_background(img, lab, rng)
        _draw_objects(img, lab, rng, horizon, vx, half)
        images[i], labels[i] = _light(img, rng), lab
    return SceneSet(images, labels)


def make_anomaly_scenes(n: int, size: tuple[int, int] = (128, 128), seed: int = 1,
                        sizes: tuple[str, ...] = tuple(SIZES)) -> SceneSet:
    """``n`` test scenes, each with one pasted anomaly; sizes cycle through ``sizes``.

    Labels: 0 = in-distribution pixel, 1 = anomaly. Use a seed different from the
    training scenes' (the default 1) so no test scene repeats a training one.
    """
    bad = [s for s in sizes if s not in SIZES]
    if bad:
        raise ValueError(f"anomaly sizes must be among {tuple(SIZES)}, got {bad}")
    rng = np.random.default_rng(seed)
    h, w = size
    images = np.empty((n, h, w, 3), np.uint8)
    labels = np.empty((n, h, w), np.uint8)
    names = []
    for i in range(n):
        img, lab = np.zeros((h, w, 3), np.float64), np.full((h, w), VOID, np.uint8)
        horizon, vx, half = _draw_background(img, lab, rng)
        _draw_objects(img, lab, rng, horizon, vx, half)
        ood = np.zeros((h, w), np.uint8)
        name = sizes[i % len(sizes)]
        _paste_anomaly(img, ood, rng, SIZES[name], horizon, vx, half)
        images[i], labels[i] = _light(img, rng), ood
        names.append(name)
    return SceneSet(images, labels, tuple(names))
