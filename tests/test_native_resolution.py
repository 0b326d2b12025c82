"""Real segmentation images keep their aspect ratio; pixel metrics count the labels' native pixels."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from oodlib.data import segmentation as seg
from oodlib.metrics import PixelOODMetrics, binary


def _tie_heavy(seed: int, n: int = 400):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, n)
    s = np.round(rng.normal(y * 0.8, 1.0), 1)  # rounding makes many ties
    w = rng.integers(0, 6, n)
    w[:2] = 1  # keep both classes weighted
    y[:2] = [0, 1]
    return y, s, w


@pytest.mark.parametrize("seed", range(5))
def test_weights_give_what_repeating_the_samples_gives(seed):
    y, s, w = _tie_heavy(seed)
    yr, sr = np.repeat(y, w), np.repeat(s, w)
    assert binary.aupr(y, s, sample_weight=w) == pytest.approx(binary.aupr(yr, sr), abs=1e-12)
    assert binary.auroc(y, s, sample_weight=w) == pytest.approx(binary.auroc(yr, sr), abs=1e-12)
    for method in binary.FPR_METHODS:
        assert binary.fpr_at_tpr(y, s, method=method, sample_weight=w) == pytest.approx(
            binary.fpr_at_tpr(yr, sr, method=method), abs=1e-12), method


def test_bad_weights_are_refused():
    y, s = np.array([0, 1, 0, 1]), np.array([0.1, 0.9, 0.3, 0.6])
    with pytest.raises(ValueError, match="sample_weight has 3 entries"):
        binary.auroc(y, s, sample_weight=[1, 1, 1])
    with pytest.raises(ValueError, match="finite and >= 0"):
        binary.aupr(y, s, sample_weight=[1, -1, 1, 1])
    with pytest.raises(ValueError, match="zero total weight"):
        binary.fpr_at_tpr(y, s, sample_weight=[1, 0, 1, 0])


def test_pad_keeps_the_aspect_ratio_and_stretch_does_not():
    wide = seg.place((720, 1280), (144, 192), "pad")  # 16:9 into a 4:3 input
    assert wide.content == (108, 192) and wide.offset == (18, 0)
    assert seg.place((720, 960), (144, 192), "pad") == seg.Placement((720, 960), (144, 192), (0, 0))
    assert seg.place((720, 1280), (144, 192), "stretch").content == (144, 192)
    with pytest.raises(ValueError, match="fit must be one of"):
        seg.place((720, 1280), (144, 192), "crop")


def _upsampled(scores: np.ndarray, where: seg.Placement) -> np.ndarray:
    """Reference: the score map's content upsampled to the native size by fancy indexing, each native
    pixel taking the model pixel that contains its centre ((y + 0.5) * ch / h0, in floating point)."""
    (h0, w0), (ch, cw), (oy, ox) = where.native, where.content, where.offset
    rows = oy + np.floor((np.arange(h0) + 0.5) * ch / h0).astype(int)
    cols = ox + np.floor((np.arange(w0) + 0.5) * cw / w0).astype(int)
    return scores[rows[:, None], cols[None, :]]


@pytest.mark.parametrize("native, size, fit", [((45, 80), (24, 32), "pad"), ((30, 40), (15, 20), "pad"),
                                               ((37, 53), (16, 16), "stretch"), ((20, 20), (16, 24), "pad")])
def test_counts_give_the_metrics_of_the_upsampled_map_at_native_size(native, size, fit):
    rng = np.random.default_rng(sum(native) + sum(size))
    labels = rng.choice(np.array([0, 1, 255], np.uint8), size=native, p=[0.7, 0.2, 0.1])
    scores = np.round(rng.normal(size=size), 1).astype(np.float32)
    where = seg.place(native, size, fit)
    (ch, cw), (oy, ox) = where.content, where.offset
    reference = PixelOODMetrics().update(_upsampled(scores, where), labels).compute()
    counts = seg.native_counts(labels, where, size)
    assert counts[..., 0].sum() == (labels == 0).sum() and counts[..., 1].sum() == (labels == 1).sum()
    assert counts[:oy].sum() == 0 and counts[oy + ch:].sum() == 0  # padding holds no native pixel
    acc = PixelOODMetrics().update_counts(scores, counts)
    assert acc.n_pixels == int((labels != 255).sum())
    got = acc.compute()
    for key in ("ap", "fpr95", "auroc"):
        assert got[key] == pytest.approx(reference[key], abs=1e-9), key


def test_counts_agree_with_pil_nearest_upsampling_at_an_integer_factor():
    """At an integer factor every convention of nearest upsampling agrees: PIL is the reference."""
    rng = np.random.default_rng(1)
    native, size = (60, 80), (12, 16)
    labels = rng.choice(np.array([0, 1, 255], np.uint8), size=native, p=[0.6, 0.3, 0.1])
    scores = rng.normal(size=size).astype(np.float32)
    upsampled = np.asarray(Image.fromarray(scores, mode="F").resize(native[::-1], Image.NEAREST))
    counts = seg.native_counts(labels, seg.place(native, size, "pad"), size)
    assert PixelOODMetrics().update_counts(scores, counts).compute() == pytest.approx(
        PixelOODMetrics().update(upsampled, labels).compute(), abs=1e-12)


def test_update_counts_checks_its_input():
    with pytest.raises(ValueError, match="counts must have shape"):
        PixelOODMetrics().update_counts(np.zeros((4, 4)), np.zeros((4, 4)))
    with pytest.raises(ValueError, match=">= 0"):
        PixelOODMetrics().update_counts(np.zeros((2, 2)), -np.ones((2, 2, 2)))


def _png(path: Path, array: np.ndarray) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(array).save(path)


def test_a_wide_test_set_is_letterboxed_not_squashed(tmp_path):
    """A 16:9 image into a 4:3 input: its content keeps 16:9, the padding is void, the counts native."""
    img = np.zeros((36, 64, 3), np.uint8)
    img[:, :32] = 200  # left half bright
    lab = np.zeros((36, 64), np.uint8)
    lab[10:20, 40:50] = 1
    lab[0, 0] = 255
    _png(tmp_path / "images" / "0001.png", img)
    _png(tmp_path / "labels" / "0001.png", lab)
    frame = seg.load_fishyscapes(tmp_path)
    images, ood, counts = seg.read_ood_pairs(frame, (24, 32), seg.binary_ood, "pad")
    assert images.shape == (1, 24, 32, 3) and ood.shape == (1, 24, 32) and counts.shape == (1, 24, 32, 2)
    # content 18 x 32 at rows 3..20: padding rows are black and void
    assert (ood[0, :3] == 255).all() and (ood[0, 21:] == 255).all() and (images[0, :3] == 0).all()
    assert (images[0, 3:21, :16] > 150).all() and (images[0, 3:21, 16:] < 50).all()
    assert counts[0, ..., 1].sum() == 100 and counts[0, ..., 0].sum() == 36 * 64 - 101
    stretched, ood_s = seg.read_pairs(frame, (24, 32), seg.binary_ood, "stretch")
    assert (ood_s == 255).sum() <= 1 and (ood_s[0, :3] != 255).any()  # stretch fills the whole input


def test_stretch_reads_as_before(tmp_path):
    """``read_pairs``' default (``fit="stretch"``) is a plain PIL resize of image and label."""
    rng = np.random.default_rng(0)
    img, lab = rng.integers(0, 255, (30, 50, 3), dtype=np.uint8), rng.integers(0, 12, (30, 50), dtype=np.uint8)
    _png(tmp_path / "images" / "a.png", img)
    _png(tmp_path / "labels" / "a.png", lab)
    images, labels = seg.read_pairs(seg.load_fishyscapes(tmp_path), (16, 24))
    assert np.array_equal(images[0], np.asarray(Image.fromarray(img).resize((24, 16), Image.BILINEAR)))
    assert np.array_equal(labels[0], np.asarray(Image.fromarray(lab).resize((24, 16), Image.NEAREST)))


def test_images_of_several_sizes_need_a_size(tmp_path):
    for name, shape in (("a", (8, 12)), ("b", (10, 12))):
        _png(tmp_path / "images" / f"{name}.png", np.zeros((*shape, 3), np.uint8))
        _png(tmp_path / "labels" / f"{name}.png", np.zeros(shape, np.uint8))
    with pytest.raises(ValueError, match="several sizes"):
        seg.read_pairs(seg.load_fishyscapes(tmp_path))
