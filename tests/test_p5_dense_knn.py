"""P5 dense kNN: feature probes, bank sampling, upsampling, metrics, scenes and the benchmark loaders."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
from PIL import Image
from sklearn.metrics import average_precision_score, roc_auc_score

from oodlib.data import segmentation as seg
from oodlib.papers import p5_dense_knn as p5
from oodlib.synthetic import road_scenes

# --- models and probes ---------------------------------------------------------------------------

def test_vit_keys_are_the_key_projection_of_the_last_blocks_normed_input():
    torch.manual_seed(0)
    model = p5.ViTSegmenter(5, patch=8, dim=32, depth=2, heads=4, grid=(4, 6)).eval()
    x = torch.rand(2, 3, 32, 48)
    captured = {}
    model.blocks[-1].register_forward_pre_hook(lambda mod, args: captured.update(x=args[0]))  # returns None
    out = model.probe(x)
    blk = model.blocks[-1]
    normed = blk.norm1(captured["x"])
    for name, lin in (("keys", blk.attn.k), ("queries", blk.attn.q), ("values", blk.attn.v)):
        manual = normed @ lin.weight.T + lin.bias  # (B, 1 + 24, 32)
        manual = manual[:, 1:].reshape(2, 4, 6, 32).permute(0, 3, 1, 2)  # class token dropped, grid
        assert out[name].shape == (2, 32, 4, 6)
        assert torch.allclose(out[name], manual, atol=1e-5), name
    assert not torch.allclose(out["keys"], out["queries"])
    assert out["tokens"].shape == (2, 32, 4, 6) and out["logits"].shape == (2, 5, 32, 48)
    # the probe's logits are the forward pass
    assert torch.allclose(out["logits"], model(x), atol=1e-5)


def test_vit_token_probe_is_the_last_block_output():
    torch.manual_seed(0)
    model = p5.ViTSegmenter(3, patch=8, dim=16, depth=2, heads=2, grid=(2, 2)).eval()
    x = torch.rand(1, 3, 16, 16)
    seen = {}
    model.blocks[-1].register_forward_hook(lambda mod, args, out: seen.update(y=out[0]))  # returns None
    tokens = model.probe(x, ("tokens",))["tokens"]
    assert torch.allclose(tokens, seen["y"][:, 1:].reshape(1, 2, 2, 16).permute(0, 3, 1, 2))


def test_models_shapes_parameter_counts_and_probe_names():
    vit = p5.build_model("vit", 7, (128, 128))
    cnn = p5.build_model("cnn", 7, (128, 128))
    x = torch.rand(2, 3, 128, 128)
    assert vit(x).shape == cnn(x).shape == (2, 7, 128, 128)
    assert vit.grid_logits(x).shape == (2, 7, 16, 16)
    assert cnn.probe(x)["stage3"].shape == (2, 128, 16, 16)
    # ViT: patch conv 3*8*8*128+128, cls 128, pos 257*128, 4 blocks (2 LN + 4 linear + MLP), LN, head
    block = 2 * 2 * 128 + 4 * (128 * 128 + 128) + (128 * 512 + 512) + (512 * 128 + 128)
    expected = (3 * 64 * 128 + 128) + 128 + 257 * 128 + 4 * block + 2 * 128 + (128 * 7 + 7)
    assert p5.n_parameters(vit) == expected
    # other resolutions interpolate the position embedding
    assert vit.probe(torch.rand(1, 3, 96, 128))["keys"].shape == (1, 128, 12, 16)
    with pytest.raises(ValueError, match="probes"):
        vit.probe(x, ("stage3",))
    with pytest.raises(ValueError, match="multiple of the patch"):
        p5.build_model("vit", 7, (100, 128))
    with pytest.raises(ValueError, match="arch"):
        p5.build_model("resnet", 7, (128, 128))


def test_checkpoint_round_trip_and_mismatch_error(tmp_path):
    model = p5.build_model("cnn", 4, (32, 32), width=8)
    path = tmp_path / "cnn.pt"
    torch.save({"model": model.state_dict()}, path)
    other = p5.load_checkpoint(p5.build_model("cnn", 4, (32, 32), width=8), str(path))
    for a, b in zip(model.state_dict().values(), other.state_dict().values()):
        assert torch.equal(a, b)
    with pytest.raises(ValueError, match="does not match ConvSegmenter"):
        p5.load_checkpoint(p5.build_model("cnn", 5, (32, 32), width=8), str(path))


def test_training_lowers_the_loss_and_ignores_void():
    scenes = road_scenes.make_road_scenes(8, (32, 32), seed=0)
    labels = scenes.labels.copy()
    labels[:, :4] = 255
    model = p5.build_model("cnn", len(road_scenes.CLASSES), (32, 32), width=8)
    hist = p5.train_segmenter(model, scenes.images, labels, epochs=6, lr=3e-3, batch_size=4, device="cpu")
    assert hist[-1] < hist[0] and np.isfinite(hist).all()


# --- bank, upsampling, scores, metrics -------------------------------------------------------------

def test_grid_labels_take_the_centre_pixel_of_each_cell():
    labels = np.arange(64, dtype=np.uint8).reshape(1, 8, 8)
    g = p5.grid_labels(labels, (2, 2))
    assert g.tolist() == [[[labels[0, 2, 2], labels[0, 2, 6]], [labels[0, 6, 2], labels[0, 6, 6]]]]


def test_nearest_upsampling_fills_each_patch_with_its_cell():
    maps = np.array([[[1.0, 2.0], [3.0, 4.0]]], np.float32)
    up = p5.upsample_nearest(maps, (4, 6))
    assert up.shape == (1, 4, 6)
    assert np.array_equal(up[0], np.repeat(np.repeat(maps[0], 2, 0), 3, 1))


def test_metrics_on_a_map_with_a_known_answer():
    labels = np.zeros((2, 4, 4), np.uint8)
    labels[0, :2, :2] = 1
    labels[1, 0, 0] = 255  # void: ignored even though its score is huge
    scores = np.zeros((2, 4, 4), np.float32)
    scores[0, :2, :2] = 1.0
    scores[1, 0, 0] = 100.0
    m = p5.pixel_metrics(scores, labels)
    assert m == {"ap": pytest.approx(1.0), "fpr95": pytest.approx(0.0), "auroc": pytest.approx(1.0)}
    rng = np.random.default_rng(0)
    s = rng.random((2, 4, 4)).astype(np.float32)
    valid = labels != 255
    ref = p5.pixel_metrics(s, labels)
    assert ref["ap"] == pytest.approx(average_precision_score(labels[valid], s[valid]))
    assert ref["auroc"] == pytest.approx(roc_auc_score(labels[valid], s[valid]))


def test_combination_uses_reference_ranges_and_lse_orientation():
    knn = np.array([[[2.0, 4.0]]])
    lse = np.array([[[-10.0, -5.0]]])
    c = p5.combine(knn, lse, (2.0, 6.0), (-10.0, -6.0))
    assert np.allclose(c, [[[0.0, 0.5 + 1.25]]])
    with pytest.raises(ValueError, match="constant"):
        p5.minmax_range(np.ones((2, 3)))
    assert p5.minmax_range(np.array([1.0, 5.0, 9.0]), np.array([True, True, False])) == (1.0, 5.0)
    # 1 - logsumexp is higher for a less confident pixel
    model = p5.build_model("cnn", 3, (16, 16), width=4)
    images = np.random.default_rng(0).integers(0, 256, (3, 16, 16, 3), dtype=np.uint8)
    from oodlib.knn import KNNScorer
    from oodlib.papers.p5_dense_knn.run import score_images

    bank = np.random.default_rng(1).standard_normal((40, 16)).astype(np.float32)
    ex = score_images(model, images, {"stage3": ("stage3", KNNScorer(k=3).fit(bank), {"stage3": 3})}, "cpu", batch_size=2)
    assert ex.lse.shape == (3, 16, 16) and ex.knn["stage3"].shape == (3, 2, 2)
    with torch.no_grad():  # the same two batches as score_images'
        outs = [model.probe(p5.train.to_tensor(images[s : s + 2]), p5.CNN_PROBES) for s in (0, 2)]
    logits = torch.cat([o["logits"] for o in outs]).float()
    assert np.array_equal(ex.lse, (1.0 - torch.logsumexp(logits, 1)).numpy())  # the core energy, bit for bit
    assert np.array_equal(ex.pred, logits.argmax(1).numpy().astype(np.uint8)) and ex.pred.dtype == np.uint8
    feats = torch.cat([o["stage3"] for o in outs]).permute(0, 2, 3, 1).reshape(-1, 16).numpy()
    want = KNNScorer(k=3, reduction="mean").fit(bank).score(feats).reshape(3, 2, 2)
    np.testing.assert_allclose(ex.knn["stage3"], want, rtol=1e-5)
    assert ex.extract_s > 0


def test_void_is_defined_once():
    from oodlib.papers.p5_dense_knn import dense, train

    assert road_scenes.VOID is seg.VOID and dense.VOID is seg.VOID and train.VOID is seg.VOID and seg.VOID == 255


def test_size_groups_split_by_anomaly_area():
    ood = np.zeros((6, 10, 10), np.uint8)
    for i, n in enumerate([1, 2, 10, 12, 40, 50]):
        ood[i].flat[:n] = 1
    assert p5.size_groups(ood).tolist() == ["small", "small", "medium", "medium", "large", "large"]


def test_search_time_rows():
    rows = p5.search_time_vs_bank(8, (100, 400), n_queries=50, repeats=1)
    assert [r["bank"] for r in rows] == [100, 400] and all(r["seconds"] > 0 for r in rows)


# --- synthetic scenes ---------------------------------------------------------------------------------

def test_road_scenes_are_deterministic_labelled_and_anomalies_are_unseen_colours():
    a = road_scenes.make_road_scenes(4, (64, 96), seed=5)
    b = road_scenes.make_road_scenes(4, (64, 96), seed=5)
    assert np.array_equal(a.images, b.images) and np.array_equal(a.labels, b.labels)
    assert a.images.shape == (4, 64, 96, 3) and a.images.dtype == np.uint8
    assert set(np.unique(a.labels)) <= set(range(len(road_scenes.CLASSES)))
    for cls in (road_scenes.ROAD, road_scenes.SKY, road_scenes.SIDEWALK):
        assert (a.labels == cls).mean() > 0.03
    t = road_scenes.make_anomaly_scenes(6, (128, 128), seed=1)
    assert t.sizes == ("small", "medium", "large") * 2
    area = (t.labels == 1).mean(axis=(1, 2))
    assert set(np.unique(t.labels)) == {0, 1} and (area > 0).all()
    assert area[0] < area[2] and area[3] < area[5]
    with pytest.raises(ValueError, match="anomaly sizes"):
        road_scenes.make_anomaly_scenes(2, sizes=("huge",))


def test_synthetic_benchmark_shapes_and_parameter_errors(tmp_path):
    (tmp_path / "camvid").mkdir()
    b = p5.load_dense_benchmark("synthetic", seed=0, image_size=(64, 64), n_train=4, n_test=3, n_ref=2)
    assert b.train_images.shape == (4, 64, 64, 3) and b.test_ood.shape == (3, 64, 64)
    assert b.image_size == (64, 64) and list(b.test_groups) == ["small", "medium", "large"]
    assert b.summary().loc["test", "images"] == 3
    with pytest.raises(ValueError, match="data must be one of"):
        p5.load_dense_benchmark("kitti")
    with pytest.raises(ValueError, match="CamVid classes"):
        p5.load_dense_benchmark("camvid", str(tmp_path), held_out=("Dog",))


# --- loaders on fixtures in each benchmark's layout -------------------------------------------------

def _png(path: Path, array: np.ndarray) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(array).save(path)


def _rgb(h: int = 8, w: int = 12) -> np.ndarray:
    return np.full((h, w, 3), 100, np.uint8)


def test_camvid_loader_and_held_out_split(tmp_path):
    for split in ("train", "test"):
        for i in range(2):
            _png(tmp_path / split / f"f{i}.png", _rgb())
            lab = np.array([[0, 3, 9, 10, 11, 8]] * 8, np.uint8).repeat(2, 1)
            _png(tmp_path / f"{split}annot" / f"f{i}.png", lab)
    df = seg.load_camvid(tmp_path, "train")
    assert len(df) == 2 and df.label.str.endswith("f0.png").iloc[0]
    images, raw = seg.read_pairs(df, size=(4, 6))
    assert images.shape == (2, 4, 6, 3) and raw.shape == (2, 4, 6)
    train, ood = seg.camvid_split_classes(raw[0], (9, 10))
    assert set(np.unique(ood)) == {0, 1, 255}
    assert (ood[raw[0] == 9] == 1).all() and (train[raw[0] == 9] == 255).all()
    assert (train[raw[0] == 8] == 8).all() and (train[raw[0] == 11] == 255).all()
    (tmp_path / "trainannot" / "f1.png").unlink()
    with pytest.raises(FileNotFoundError, match="no label file"):
        seg.load_camvid(tmp_path, "train")
    with pytest.raises(FileNotFoundError, match="expected a folder"):
        seg.load_camvid(tmp_path, "val")


def test_road_anomaly_loader(tmp_path):
    (tmp_path / "frames").mkdir()
    names = ["animals01_sheep.jpg", "cones02.jpg"]
    (tmp_path / "frame_list.json").write_text(json.dumps(names))
    for n in names:
        Image.fromarray(_rgb()).save(tmp_path / "frames" / n)
        lab = np.zeros((8, 12), np.uint8)
        lab[2:4, 3:6] = 2
        lab[0, 0] = 1
        _png(tmp_path / "frames" / f"{Path(n).stem}.labels" / "labels_semantic.png", lab)
    df = seg.load_road_anomaly(tmp_path)
    _, ood = seg.read_pairs(df, convert=seg.road_anomaly_ood)
    assert ood.shape == (2, 8, 12) and (ood == 1).sum() == 12 and ood[0, 0, 0] == 255
    (tmp_path / "frame_list.json").write_text(json.dumps(names + ["missing.jpg"]))
    with pytest.raises(FileNotFoundError, match="missing.jpg"):
        seg.load_road_anomaly(tmp_path)


def test_cityscapes_loader(tmp_path):
    for city, frame in (("aachen", "000000_000019"), ("bochum", "000001_000019")):
        _png(tmp_path / "leftImg8bit" / "train" / city / f"{city}_{frame}_leftImg8bit.png", _rgb())
        _png(tmp_path / "gtFine" / "train" / city / f"{city}_{frame}_gtFine_labelTrainIds.png",
             np.full((8, 12), 7, np.uint8))
    df = seg.load_cityscapes(tmp_path, "train")
    assert len(df) == 2 and df.label.iloc[1].endswith("bochum_000001_000019_gtFine_labelTrainIds.png")
    assert (seg.read_pairs(df)[1] == 7).all()


def test_streethazards_loader_and_label_maps(tmp_path):
    lab = np.array([[1, 2, 13, 14]], np.uint8).repeat(8, 0).repeat(3, 1)
    _png(tmp_path / "test" / "images" / "test" / "t5" / "300.png", _rgb())
    _png(tmp_path / "test" / "annotations" / "test" / "t5" / "300.png", lab)
    df = seg.load_streethazards(tmp_path, "test")
    _, ood = seg.read_pairs(df, convert=seg.streethazards_ood)
    assert ood[0, 0].tolist() == [255] * 3 + [0] * 6 + [1] * 3
    assert seg.streethazards_classes(lab)[0, ::3].tolist() == [255, 0, 11, 255]


def test_smiyc_and_fishyscapes_loaders(tmp_path):
    mask = np.zeros((8, 12), np.uint8)
    mask[1, 1], mask[2, 2] = 1, 255
    base = tmp_path / "smiyc" / "dataset_AnomalyTrack"
    Image.fromarray(_rgb()).save(Path(_mkdir(base / "images")) / "validation0000.jpg")
    _png(base / "labels_masks" / "validation0000_labels_semantic.png", mask)
    for root in (tmp_path / "smiyc", base):  # the dataset folder itself works too
        _, ood = seg.read_pairs(seg.load_smiyc_anomaly(root), convert=seg.binary_ood)
        assert ood[0, 1, 1] == 1 and ood[0, 2, 2] == 255 and (ood == 0).sum() == 94
    fs = tmp_path / "fs"
    _png(fs / "images" / "0001.png", _rgb())
    _png(fs / "labels" / "0001.png", mask)
    assert len(seg.load_fishyscapes(fs)) == 1
    _png(fs / "labels" / "0001.png", np.zeros((4, 4), np.uint8))
    with pytest.raises(ValueError, match="is \\(12, 8\\) but its label"):
        seg.read_pairs(seg.load_fishyscapes(fs))


def _mkdir(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    return path


def test_camvid_benchmark_on_the_shared_subset(shared_data):
    if not (shared_data / "camvid").is_dir():
        pytest.skip(f"{shared_data / 'camvid'} is absent (real CamVid subset)")
    b = p5.load_dense_benchmark("camvid", str(shared_data), seed=0, image_size=(96, 128), n_train=6,
                                n_test=5, n_ref=3)
    assert b.train_images.shape == (6, 96, 128, 3) and len(b.class_names) == 9
    assert len(b.test_images) == 5 and (b.test_counts[..., 1].sum(axis=(1, 2)) > 0).all()
    assert not np.isin(b.train_labels, [9, 10]).any()  # held-out classes are void after renumbering
    assert set(np.unique(b.test_ood)) <= {0, 1, 255}
    # CamVid is 720 x 960 (4:3) like the input: no padding, 7.5 x 7.5 native pixels per input pixel
    assert b.test_counts.shape == (5, 96, 128, 2)
    assert (b.test_counts.sum(axis=-1)[b.test_ood != 255] > 0).all()  # each labelled input pixel has native pixels
    assert b.test_counts.sum(axis=(1, 2, 3)).max() <= 720 * 960 and "native resolution" in b.note
    wide = p5.load_dense_benchmark("camvid", str(shared_data), seed=0, image_size=(64, 160), n_train=2,
                                   n_test=2, n_ref=1)
    assert (wide.test_ood[:, :, :10] == 255).all() and (wide.train_labels[:, :, -10:] == 255).all()  # padded sides
    assert wide.test_counts[:, :, :10].sum() == 0 and "aspect ratio kept" in wide.note


def _road_anomaly_fixture(root: Path, n: int = 3) -> None:
    """RoadAnomaly's layout (frames/, frame_list.json, <stem>.labels/labels_semantic.png) beside a tiny
    Cityscapes (leftImg8bit/, gtFine/ labelTrainIds) to train the segmenters on; textured images so
    the scores are not all tied."""
    rng = np.random.default_rng(0)
    names = [f"scene{i:02d}.jpg" for i in range(n)]
    (root / "road_anomaly" / "frames").mkdir(parents=True)
    (root / "road_anomaly" / "frame_list.json").write_text(json.dumps(names))
    for i, name in enumerate(names):
        img = rng.integers(0, 255, (36, 60, 3), dtype=np.uint8)
        img[10:22, 20:40] = [250, 20, 20]  # the anomaly: a red block
        Image.fromarray(img).save(root / "road_anomaly" / "frames" / name)
        lab = np.zeros((36, 60), np.uint8)
        lab[10:22, 20:40] = 2
        _png(root / "road_anomaly" / "frames" / f"{Path(name).stem}.labels" / "labels_semantic.png", lab)
    for split, count in (("train", 6), ("val", 2)):
        for i in range(count):
            stem = f"city_{i:06d}_000019"
            img = rng.integers(0, 255, (36, 60, 3), dtype=np.uint8)
            lab = np.where(np.arange(60)[None, :].repeat(36, 0) < 30, 0, 10).astype(np.uint8)  # road | sky
            _png(root / "cityscapes" / "leftImg8bit" / split / "city" / f"{stem}_leftImg8bit.png", img)
            _png(root / "cityscapes" / "gtFine" / split / "city" / f"{stem}_gtFine_labelTrainIds.png", lab)


@pytest.mark.slow
def test_road_anomaly_runs_by_parameters_alone(tmp_path):
    """`-p data road_anomaly` on a fixture in RoadAnomaly's layout: the notebook runs, says where its
    segmenter was trained, scores at the labels' native size and labels its SOTA-table row honestly."""
    from oodlib.runner import run_notebook

    _road_anomaly_fixture(tmp_path / "data")
    params = {"data": "road_anomaly", "data_dir": str(tmp_path / "data"), "held_out": [], "image_size": [32, 48],
              "n_train": 0, "n_test": 0, "n_ref": 0, "epochs": 1, "vit_dim": 32, "cnn_width": 8, "bank_size": 500,
              "k_sweep": [1, 3], "bank_sweep": [250, 500], "runtime_banks": [250, 500], "n_examples": 1}
    notebook = Path(__file__).resolve().parents[1] / "notebooks" / "p5_dense_knn.ipynb"
    out = run_notebook(notebook, params, output_dir=tmp_path / "nb",
                       records_dir=tmp_path / "rec")
    record = json.loads((tmp_path / "rec" / "p5_dense_knn.json").read_text())
    assert record["data_source"] == "road_anomaly" and "Cityscapes" in record["data_note"]
    assert record["claims"] and all(c["data"] == "road_anomaly" for c in record["claims"])
    text = out.read_text()
    assert "ours (all images, local evaluation): ViT keys (kNN)" in text
