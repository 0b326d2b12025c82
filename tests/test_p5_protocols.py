"""P5 protocols: StreetHazards' per-image metrics, its label map, and the SMIYC / Fishyscapes exports."""

from __future__ import annotations

import h5py
import numpy as np
import pytest
from sklearn.metrics import average_precision_score, roc_auc_score

from oodlib.data import segmentation as seg
from oodlib.metrics import PixelOODMetrics
from oodlib.metrics.per_image import per_image_metrics, streethazards_official_ood
from oodlib.papers.p5_dense_knn.export import export_fishyscapes, export_smiyc, read_smiyc

VOID = seg.VOID


def reference_fpr(is_ood: np.ndarray, scores: np.ndarray, recall_level: float = 0.95) -> float:
    """Our hand transcription of anomaly-seg's ``fpr_and_fdr_at_recall`` (OOD positive), step by step."""
    order = np.argsort(scores, kind="mergesort")[::-1]
    s, y = scores[order], is_ood[order]
    ends = np.r_[np.where(np.diff(s))[0], y.size - 1]  # last row of each distinct score
    tps = np.cumsum(y)[ends]
    fps = 1 + ends - tps
    recall = tps / tps[-1]
    last = int(tps.searchsorted(tps[-1]))
    recall = np.r_[recall[last::-1], 1]  # reversed up to full recall, plus the appended point
    fps = np.r_[fps[last::-1], 0]
    return float(fps[np.argmin(np.abs(recall - recall_level))] / np.sum(~y))


def hand_means(score_maps, ood_maps):
    """sklearn per image (void dropped, one-class images skipped), then plain means."""
    rows = []
    for s, y in zip(score_maps, ood_maps):
        keep = y != VOID
        lab, sc = (y[keep] == 1), s[keep].astype(np.float64)
        if lab.any() and not lab.all():
            rows.append((roc_auc_score(lab, sc), average_precision_score(lab, sc), reference_fpr(lab, sc)))
    return np.mean(rows, axis=0), len(rows)


def toy(seed: int = 0, n: int = 3, shape=(6, 7)):
    rng = np.random.default_rng(seed)
    ood = (rng.random((n, *shape)) < 0.3).astype(np.uint8)
    ood[rng.random((n, *shape)) < 0.1] = VOID
    scores = rng.normal(size=(n, *shape)) + 1.2 * (ood == 1)
    scores = np.round(scores, 1)  # ties inside every image
    return scores.astype(np.float32), ood


# --- per-image metrics ------------------------------------------------------------------------

def test_per_image_means_equal_hand_computed_sklearn_values():
    scores, ood = toy()
    got = per_image_metrics(scores, ood)
    (auroc, ap, fpr), n = hand_means(scores, ood)
    assert n == 3 and got["n_images"] == 3 and got["n_skipped"] == 0
    assert got["auroc"] == pytest.approx(auroc, abs=1e-12)
    assert got["ap"] == pytest.approx(ap, abs=1e-12)
    assert got["fpr95"] == pytest.approx(fpr, abs=1e-12)
    # the mean of per-image values, not one pooled value
    single = [per_image_metrics(scores[i : i + 1], ood[i : i + 1])["auroc"] for i in range(3)]
    assert got["auroc"] == pytest.approx(np.mean(single), abs=1e-12)


def test_fpr95_is_the_references_threshold_rule_on_a_tie_heavy_image():
    # 25 OOD, 20 ID pixels on four score levels; thresholds 5 / 4 / 3 / 0 give recall .8 / .92 / .92 / 1
    ood_scores = [5] * 20 + [4] * 3 + [0] * 2
    id_scores = [5] * 2 + [4] * 6 + [3] * 4 + [0] * 8
    scores = np.array(ood_scores + id_scores, np.float32).reshape(1, 5, 9)
    ood = np.array([1] * 25 + [0] * 20, np.uint8).reshape(1, 5, 9)
    got = per_image_metrics(scores, ood)["fpr95"]
    assert got == pytest.approx(reference_fpr(ood.ravel() == 1, scores.ravel().astype(float)))
    # closest recall (.92), and of its two thresholds the lower one: FP = 2 + 6 + 4 of 20
    assert got == pytest.approx(0.6)
    assert got != pytest.approx(0.4)  # roc_curve + argmin would take the first tied threshold
    assert got != pytest.approx(np.interp(0.95, [0.8, 0.92, 1.0], [0.1, 0.6, 1.0]))  # not interpolated


def test_images_without_ood_or_without_id_pixels_are_skipped():
    scores, ood = toy(seed=1, n=4)
    ood[1] = np.where(ood[1] == 1, 0, ood[1])  # no OOD pixel
    ood[2] = np.where(ood[2] == 0, 1, ood[2])  # only OOD (and void)
    got = per_image_metrics(scores, ood)
    assert (got["n_images"], got["n_skipped"]) == (2, 2)
    kept = per_image_metrics(scores[[0, 3]], ood[[0, 3]])
    for key in ("auroc", "ap", "fpr95"):
        assert got[key] == pytest.approx(kept[key], abs=1e-12)
    with pytest.raises(ValueError, match="none of the 2 images"):
        per_image_metrics(scores[1:3], ood[1:3])


def test_counts_weighted_equals_explicitly_upsampled():
    rng = np.random.default_rng(3)
    n, (h, w), f = 3, (4, 6), 2
    grid = np.round(rng.normal(size=(n, h, w)), 1).astype(np.float32)
    native = (rng.random((n, h * f, w * f)) < 0.25).astype(np.uint8)
    native[rng.random(native.shape) < 0.1] = VOID
    native[2][native[2] == 1] = 0  # one image without anomalies: skipped on both paths
    counts = np.zeros((n, h, w, 2), np.int64)
    for i, y, x in np.ndindex(native.shape):
        if native[i, y, x] != VOID:
            counts[i, y // f, x // f, native[i, y, x]] += 1
    where = seg.place((h * f, w * f), (h, w), "stretch")
    assert all(np.array_equal(counts[i], seg.native_counts(native[i], where, (h, w))) for i in range(n))
    upsampled = grid.repeat(f, axis=1).repeat(f, axis=2)
    a = per_image_metrics(upsampled, native)
    b = per_image_metrics(grid, None, counts=counts)
    assert (a["n_images"], a["n_skipped"]) == (b["n_images"], b["n_skipped"]) == (2, 1)
    for key in ("auroc", "ap", "fpr95"):
        assert a[key] == pytest.approx(b[key], abs=1e-12), key


def test_unlabeled_as_id_changes_the_result_against_the_pooled_void_convention():
    raw = np.array([[1, 1, 2, 3, 14],
                    [5, 1, 7, 14, 14],
                    [9, 10, 11, 13, 12]], np.uint8)[None]
    scores = np.where(raw == 14, 0.9, 0.1).astype(np.float32)
    scores[raw == 1] = 1.0  # unlabeled pixels look more anomalous than the anomaly
    official = per_image_metrics(scores, streethazards_official_ood(raw))
    pooled_convention = per_image_metrics(scores, seg.streethazards_ood(raw))
    assert pooled_convention["auroc"] == pytest.approx(1.0)
    assert official["auroc"] == pytest.approx(1 - 3 / 12)  # 3 of 12 ID pixels outrank every anomaly
    assert official["fpr95"] == pytest.approx(3 / 12)


def test_official_streethazards_map():
    raw = np.arange(15, dtype=np.uint8)
    assert streethazards_official_ood(raw).tolist() == [0] * 14 + [1]
    assert streethazards_official_ood(raw).dtype == np.uint8
    assert seg.streethazards_ood(raw)[:2].tolist() == [VOID, VOID]  # the pooled convention differs
    with pytest.raises(ValueError, match="0..14"):
        streethazards_official_ood(np.array([3, 15]))


def test_pooled_and_per_image_differ_so_the_protocol_matters():
    # each image perfectly separated, but image 0's ID pixels outscore image 1's anomalies
    scores = np.array([[[10.0, 10.0, 11.0]], [[0.0, 0.0, 1.0]]], np.float32)
    ood = np.array([[[0, 0, 1]], [[0, 0, 1]]], np.uint8)
    per = per_image_metrics(scores, ood)
    acc = PixelOODMetrics(ignore_label=VOID)
    for s, y in zip(scores, ood):
        acc.update(s, y)
    pooled = acc.compute()
    assert per["auroc"] == pytest.approx(1.0) and per["fpr95"] == pytest.approx(0.0)
    assert pooled["auroc"] == pytest.approx(0.75) and pooled["auroc"] < per["auroc"] - 0.2


@pytest.mark.parametrize("kwargs, match", [
    (dict(score_maps=np.zeros((4, 5)), ood_maps=np.zeros((4, 5))), "score_maps must have shape \\(n, H, W\\)"),
    (dict(score_maps=np.zeros((2, 4, 5)), ood_maps=np.zeros((2, 4, 6))), "ood_maps must have shape"),
    (dict(score_maps=np.zeros((2, 4, 5)), ood_maps=None, counts=np.zeros((2, 4, 5))), "counts must have shape"),
    (dict(score_maps=np.zeros((2, 4, 5)), ood_maps=None), "ood_maps is required"),
    (dict(score_maps=np.zeros((1, 2, 2)), ood_maps=np.array([[[0, 1], [7, 0]]])), "ood_maps\\[0\\] may hold only"),
    (dict(score_maps=np.array([[[0.0, np.nan]]]), ood_maps=np.array([[[0, 1]]])), "score_maps\\[0\\]"),
    (dict(score_maps=np.zeros((1, 1, 2)), ood_maps=None, counts=-np.ones((1, 1, 2, 2))), "counts\\[0\\]"),
    (dict(score_maps=np.zeros((1, 1, 2)), ood_maps=np.array([[[0, 1]]]), tpr=1.5), "tpr"),
])
def test_bad_inputs_are_refused_naming_the_argument(kwargs, match):
    with pytest.raises(ValueError, match=match):
        per_image_metrics(**kwargs)


# --- exports ----------------------------------------------------------------------------------

def maps_of_two_sizes():
    rng = np.random.default_rng(5)
    return [rng.normal(size=(4, 6)), rng.normal(size=(3, 5)).astype(np.float32)]


def test_smiyc_round_trip(tmp_path):
    maps = maps_of_two_sizes()
    paths = export_smiyc(maps, ["images/validation0000.jpg", "validation0001.png"], tmp_path, method_name="P5")
    folder = tmp_path / "anomaly_p" / "P5" / "AnomalyTrack-all"
    assert paths == [folder / "validation0000.hdf5", folder / "validation0001.hdf5"]
    for path, m in zip(paths, maps):
        with h5py.File(path, "r") as f:
            assert list(f.keys()) == ["value"] and f["value"].compression == "gzip"
        back = read_smiyc(path)
        assert back.dtype == np.float32 and back.shape == m.shape
        assert np.array_equal(back, np.asarray(m, np.float32))


def test_fishyscapes_round_trip_with_container_names(tmp_path):
    maps = maps_of_two_sizes()
    segs = [np.full((4, 6), 19, np.int64), np.zeros((3, 5), np.int32)]
    names = ["0000_04_Maurener_Weg_8_000000_000030_rgb.png", "0001_x_rgb.png"]
    paths = export_fishyscapes(maps, names, tmp_path, segmentations=segs)
    assert [p.name for p in paths] == ["0000_anomaly.npy", "0000_segmentation.npy",
                                       "0001_anomaly.npy", "0001_segmentation.npy"]
    for k, m in enumerate(maps):
        back = np.load(paths[2 * k], allow_pickle=False)
        assert back.dtype == np.float32 and np.array_equal(back, np.asarray(m, np.float32))
        seg_back = np.load(paths[2 * k + 1], allow_pickle=False)
        assert seg_back.dtype == np.uint8 and np.array_equal(seg_back, segs[k])


def test_fishyscapes_stem_naming_and_array_input(tmp_path):
    maps = np.arange(12, dtype=np.float64).reshape(2, 2, 3)
    paths = export_fishyscapes(maps, ["a.png", "b.png"], tmp_path, naming="stem")
    assert [p.name for p in paths] == ["a_anomaly.npy", "b_anomaly.npy"]
    assert np.array_equal(np.load(paths[1]), maps[1].astype(np.float32))
    with pytest.raises(ValueError, match="DDDD"):
        export_fishyscapes(maps, ["a.png", "b.png"], tmp_path / "other")


@pytest.mark.parametrize("export", [export_smiyc, export_fishyscapes])
def test_exports_refuse_bad_maps(export, tmp_path):
    names = ["0000_a.png", "0001_b.png"]
    good = [np.zeros((2, 2)), np.ones((2, 2))]
    cases = [
        (good[:1], "1 score maps but 2 image names"),
        ([np.zeros((2, 2)), np.array([0.0, np.nan]).reshape(1, 2)], "NaN or infinite"),
        ([np.zeros((2, 2)), np.full((2, 2), np.inf)], "NaN or infinite"),
        ([np.zeros((2, 2)), np.full((2, 2), 1e39)], "NaN or infinite"),  # overflows float32
        ([np.zeros((2, 2)), np.zeros((2, 2, 1))], "2-D"),
        ([np.zeros((2, 2)), np.zeros(4)], "2-D"),
        (np.zeros((2, 2)), "\\(n, H, W\\) array"),
    ]
    for maps, match in cases:
        with pytest.raises(ValueError, match=match):
            export(maps, names, tmp_path)
    with pytest.raises(ValueError, match="repeat"):
        export(good, ["x/0000_a.png", "y/0000_a.jpg"], tmp_path)
    assert not any(tmp_path.rglob("*.*"))  # nothing written by any refused call


@pytest.mark.parametrize("export", [export_smiyc, export_fishyscapes])
def test_exports_never_overwrite_silently(export, tmp_path):
    names = ["0000_a.png", "0001_b.png"]
    first = export([np.zeros((2, 2)), np.zeros((2, 2))], names, tmp_path)
    before = {p: p.read_bytes() for p in first}
    first[0].unlink()  # the first target missing, the second present: refused before writing anything
    with pytest.raises(FileExistsError, match="overwrite=True"):
        export([np.ones((2, 2)), np.ones((2, 2))], names, tmp_path)
    assert not first[0].exists() and first[1].read_bytes() == before[first[1]]
    again = export([np.ones((2, 2)), np.ones((2, 2))], names, tmp_path, overwrite=True)
    assert again == first
    read = read_smiyc if export is export_smiyc else np.load
    assert np.array_equal(read(again[0]), np.ones((2, 2), np.float32))


def test_export_refusals_specific_to_each_format(tmp_path):
    with pytest.raises(ValueError, match="dataset_name"):
        export_smiyc([np.zeros((2, 2))], ["a.png"], tmp_path, dataset_name="../escape")
    with pytest.raises(ValueError, match="classes must lie in 0..19"):
        export_fishyscapes([np.zeros((2, 2))], ["0000_a.png"], tmp_path, segmentations=[np.full((2, 2), 20)])
    with pytest.raises(ValueError, match="integer map of shape"):
        export_fishyscapes([np.zeros((2, 2))], ["0000_a.png"], tmp_path, segmentations=[np.zeros((2, 2))])
    with pytest.raises(ValueError, match="share the Fishyscapes id"):
        export_fishyscapes([np.zeros((2, 2))] * 2, ["0000_a.png", "0000_b.png"], tmp_path)
    assert not any(tmp_path.rglob("*.*"))
