"""P5 on a real pretrained segmenter: ESPNet's architecture and strict load (against the released key list),
its load check on real CamVid images, the pasted-anomaly set, streamed banks and the bootstrap claims."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
from sklearn.metrics import average_precision_score

from oodlib.claims import Evidence, judge_all
from oodlib.models import espnet
import importlib

p5c = importlib.import_module("oodlib.papers.p5_dense_knn.claims")  # the modules (the package exports functions
p5r = importlib.import_module("oodlib.papers.p5_dense_knn.run")  # of the same names: claims(), run())
from oodlib.papers.p5_dense_knn.config import P5Config
from oodlib.params import ParameterError
from oodlib.synthetic import pasted

ROOT = Path(__file__).resolve().parents[1]


def _shared(shared_data: Path, name: str) -> Path:
    path = shared_data / "espnet_cityscapes" / name
    if not path.is_file():
        pytest.skip(f"{path} is absent (../shared/data holds the released ESPNet weights)")
    return path


def _keys_file(path: Path) -> dict[str, tuple[int, ...]]:
    """The ``*.keys.txt`` listing of a released checkpoint: name -> shape."""
    out = {}
    for line in path.with_name(path.name + ".keys.txt").read_text().splitlines():
        if line.startswith("#") or not line.strip():
            continue
        name, shape, _ = line.split("\t")
        out[name] = tuple(int(v) for v in re.findall(r"\d+", shape))
    return out


@pytest.mark.parametrize("variant,file,n_tensors,n_params", [
    ("espnet", "espnet_p_2_q_8_decoder.pth", 189, 364_569), ("espnet_c", "espnet_p_2_q_8_encoder.pth", 154, 349_449)])
def test_espnet_matches_the_released_key_list(shared_data, variant, file, n_tensors, n_params):
    path = _shared(shared_data, file)
    model = espnet.PretrainedSegmenter(variant)
    own = {k: tuple(v.shape) for k, v in model.net.state_dict().items() if not k.endswith("num_batches_tracked")}
    assert own == _keys_file(path) and len(own) == n_tensors
    assert sum(p.numel() for p in model.parameters()) == n_params
    loaded = espnet.load_espnet(path)
    assert loaded.variant == variant and not loaded.training


def test_espnet_shapes_probes_and_normalisation():
    model = espnet.PretrainedSegmenter("espnet").eval()
    x = torch.rand(2, 3, 64, 96)
    with torch.no_grad():
        out = model.probe(x)
        native = model.probe(x, ("level1", "stage2"), grid_stride=None)
    assert out["logits"].shape == (2, 20, 64, 96)
    assert {k: tuple(v.shape) for k, v in out.items() if k != "logits"} == {
        "level1": (2, 16, 8, 12), "stage2": (2, 131, 8, 12), "stage3": (2, 256, 8, 12)}
    assert native["level1"].shape == (2, 16, 32, 48) and native["stage2"].shape == (2, 131, 16, 24)
    assert torch.allclose(out["stage2"], torch.nn.functional.avg_pool2d(native["stage2"], 2))
    enc = espnet.PretrainedSegmenter("espnet_c").eval()
    with torch.no_grad():
        assert enc(x).shape == (2, 20, 64, 96) and enc.grid_logits(x).shape == (2, 20, 8, 12)
    with pytest.raises(ValueError, match="multiples of 8"):
        model(torch.rand(1, 3, 60, 96))
    with pytest.raises(ValueError, match="probes are"):
        model.probe(x, ("stage4",))
    # the authors' input: BGR, (255 x - mean) / std, then / 255
    img = torch.rand(1, 3, 2, 2)
    want = (img[0, 2] * 255 - espnet.MEAN_BGR[0]) / espnet.STD_BGR[0] / 255
    assert torch.allclose(espnet.normalize(img)[0, 0], want)


def _state(variant: str = "espnet") -> dict[str, torch.Tensor]:
    torch.manual_seed(0)
    return espnet.PretrainedSegmenter(variant).net.state_dict()


def test_espnet_load_errors_name_the_file(tmp_path):
    good = tmp_path / "mine.pth"
    torch.save(_state(), good)
    assert espnet.load_espnet(good).variant == "espnet"  # keys say: the full model
    cases = {"missing": {k: v for k, v in _state().items() if k != "classifier.weight"},
             "extra": {**_state(), "extra.weight": torch.zeros(1)},
             "shape": {**_state(), "classifier.weight": torch.zeros(20, 20, 3, 3)}}
    for name, state in cases.items():
        path = tmp_path / f"{name}.pth"
        torch.save(state, path)
        with pytest.raises(ValueError, match=re.escape(str(path))):
            espnet.load_espnet(path)
    torch.save({"model": 1}, tmp_path / "odd.pth")
    with pytest.raises(ValueError, match="plain state dict"):
        espnet.load_espnet(tmp_path / "odd.pth")
    renamed = tmp_path / "espnet_p_2_q_8_decoder.pth"  # a release name must carry the release's bytes
    torch.save(_state(), renamed)
    with pytest.raises(ValueError, match="sha256"):
        espnet.load_espnet(renamed)
    with pytest.raises(FileNotFoundError, match="does not exist"):
        espnet.load_espnet(tmp_path / "nothing.pth")


def test_pretrained_espnet_passes_the_camvid_load_check_and_random_weights_do_not(shared_data):
    from oodlib.papers.p5_dense_knn.load_check import load_check

    path = _shared(shared_data, "espnet_p_2_q_8_decoder.pth")
    camvid = shared_data / "camvid"
    if not camvid.is_dir():
        pytest.skip(f"{camvid} is absent")
    check = load_check(espnet.load_espnet(path), str(camvid), "val", 20, (360, 480))
    assert check.passed and check.road_iou >= 0.7 and check.mean_iou >= 0.25 and check.pixel_accuracy > 0.6
    torch.manual_seed(0)
    random = load_check(espnet.PretrainedSegmenter("espnet").eval(), str(camvid), "val", 20, (360, 480))
    assert not random.passed and random.mean_iou < 0.1


def test_pasted_object_stands_on_the_road_with_its_labels():
    rng = np.random.default_rng(0)
    img = np.full((120, 160, 3), 90, np.uint8)
    road = np.zeros((120, 160), bool)
    road[60:, :] = True
    void = np.zeros_like(road)
    void[:5] = True
    out = pasted.paste_on_road(img, road, void, "medium", rng)
    assert out is not None and road[int(out.centre[1]), int(out.centre[0])]
    anomaly = out.ood == 1
    assert abs(anomaly.sum() / anomaly.size - pasted.SIZES["medium"]) < 0.02  # about the declared area
    assert (out.ood[:5] == 255).all() and anomaly[road].sum() > 0.8 * anomaly.sum()
    assert (out.image[~anomaly & (out.ood == 0)] == 90).mean() > 0.95  # the rest of the image untouched
    rim = out.ood == 255
    assert rim[5:].sum() > 0  # the feathered edge is void
    again = pasted.paste_on_road(img, road, void, "medium", np.random.default_rng(0))
    assert np.array_equal(again.image, out.image) and np.array_equal(again.ood, out.ood)
    assert pasted.paste_on_road(img, np.zeros_like(road), void, "large", rng) is None  # no road: nothing pasted
    with pytest.raises(ValueError, match="size must be one of"):
        pasted.paste_on_road(img, road, void, "huge", rng)
    with pytest.raises(ValueError, match="uint8"):
        pasted.paste_on_road(img.astype(float), road, void, "small", rng)


class _Cells(torch.nn.Module):
    """A fake segmenter whose one probe is each cell's (image index, y, x) at stride 4."""

    def probe(self, images, names):
        b, _, h, w = images.shape
        ids = images[:, 0, 0, 0] * 255  # the image index is painted into pixel (0, 0)
        ys, xs = torch.meshgrid(torch.arange(h // 4), torch.arange(w // 4), indexing="ij")
        feat = torch.stack([ids[:, None, None].expand(b, h // 4, w // 4), ys.expand(b, -1, -1).float(),
                            xs.expand(b, -1, -1).float()], 1)
        return {"cells": feat, "logits": torch.zeros(b, 2, h, w)}


def _cell_images(n: int = 12):
    images = np.zeros((n, 16, 16, 3), np.uint8)
    images[:, 0, 0, 0] = np.arange(n)
    labels = np.zeros((n, 16, 16), np.uint8)
    labels[:, :8, :8] = 255  # the top-left 2 x 2 cells are void
    return images, labels


def test_streamed_bank_draws_evenly_skips_void_and_nests():
    images, labels = _cell_images()
    bank = p5r.stream_bank(_Cells(), images, labels, ("cells",), 60, max_images=6, seed=3)["cells"]
    full = bank.take(60)
    assert full.shape == (60, 3)
    assert len(np.unique(full[:, 0])) == 6 and (np.bincount(full[:, 0].astype(int)) <= 10).all()  # 6 images, 10 each
    assert not ((full[:, 1] < 2) & (full[:, 2] < 2)).any()  # no void cell
    small = {tuple(r) for r in bank.take(18)}
    assert small <= {tuple(r) for r in full} and len(small) == 18
    other = p5r.stream_bank(_Cells(), images, labels, ("cells",), 18, max_images=6, seed=3)["cells"]
    assert {tuple(r) for r in other.take(18)} == small  # the same n draws the same features
    with pytest.warns(UserWarning, match="only 60 drawn"):  # drawn for a bank of 60 at most
        assert len(bank.take(100)) == 60


def test_one_search_gives_every_k_of_the_sweep():
    from oodlib.knn import KNNScorer

    rng = np.random.default_rng(0)
    bank = rng.standard_normal((300, 3)).astype(np.float32)
    images, _ = _cell_images(4)
    searches = {"sweep": ("cells", KNNScorer(k=10).fit(bank), {"k=1": 1, "k=3": 3, "k=10": 10})}
    got = p5r.score_images(_Cells(), images, searches, "cpu", batch_size=3)
    feats = _Cells().probe(torch.from_numpy(images).permute(0, 3, 1, 2).float() / 255, ("cells",))["cells"]
    q = feats.permute(0, 2, 3, 1).reshape(-1, 3).numpy()
    for k in (1, 3, 10):
        want = KNNScorer(k=k, reduction="mean").fit(bank).score(q).reshape(4, 4, 4)
        np.testing.assert_allclose(got.knn[f"k={k}"], want, rtol=1e-5)  # float32 search rounding
    assert got.extract_per_image.shape == (4,) and got.search_per_image["sweep"].shape == (4,)


def test_binned_ap_matches_scikit_learn():
    rng = np.random.default_rng(0)
    maps = rng.normal(size=(5, 20, 20))
    ood = (rng.random((5, 20, 20)) < 0.05).astype(np.uint8)
    maps[ood == 1] += 1.5
    ood[:, 0, :] = 255
    neg, pos = p5c.score_histograms(maps, ood, None)
    valid = ood != 255
    exact = 100 * average_precision_score(ood[valid], maps[valid])
    assert abs(p5c.ap_of({"pos:s": pos, "neg:s": neg}, "s") - exact) < 0.25
    assert pos.sum() == (ood == 1).sum() and neg.sum() == (ood == 0).sum()
    assert np.isnan(p5c.binned_ap(np.zeros(4), np.ones(4)))


def _evidence(gap: float, n: int = 40, noise: float = 1.0) -> dict[str, Evidence]:
    """Per-image histograms where the kNN score's anomalies sit ``gap`` higher than LogSumExp's, each
    image's anomaly shifted by its own ``noise``-sized offset (images differ, as real ones do)."""
    rng = np.random.default_rng(1)
    arrays = {}
    for name, shift in (("pretrained stage3 (kNN)", gap), ("pretrained 1 - LogSumExp", 0.0)):
        maps = rng.normal(size=(n, 16, 16))
        ood = np.zeros((n, 16, 16), np.uint8)
        ood[:, 4:8, 4:8] = 1
        for i in range(n):
            maps[i][ood[i] == 1] += 1.0 + shift + noise * rng.normal()
        arrays[f"neg:{name}"], arrays[f"pos:{name}"] = p5c.score_histograms(maps, ood, None)
    return {"pretrained": Evidence("pretrained", arrays, unit="image")}


def test_claims_can_be_supported_not_supported_and_inconclusive():
    claim = [c for c in p5c.claims() if c.id == "p5/knn_beats_lse_pretrained"]
    verdict = lambda gap, noise=1.0: judge_all(claim, _evidence(gap, noise=noise), seed=0)[0].verdict  # noqa: E731
    assert verdict(2.0) == "supported"
    assert verdict(-2.0) == "not supported"
    assert verdict(0.0, noise=2.0) == "inconclusive"
    assert judge_all(claim, {}, seed=0)[0].verdict == "not run"


def test_search_share_claim_reads_the_per_image_times():
    claim = [c for c in p5c.claims() if c.id == "p5/search_small_share"]
    rng = np.random.default_rng(0)
    fast = {"runtime": Evidence("runtime", {"extract_s": rng.uniform(0.9, 1.1, 30), "search_s": rng.uniform(0.1, 0.2, 30)},
                                unit="image")}
    slow = {"runtime": Evidence("runtime", {"extract_s": rng.uniform(0.1, 0.2, 30), "search_s": rng.uniform(0.9, 1.1, 30)},
                                unit="image")}
    assert judge_all(claim, fast)[0].verdict == "supported" and judge_all(claim, slow)[0].verdict == "not supported"


def test_models_parameter_is_checked_before_any_work():
    for params, match in (({"models": []}, "at least one"), ({"models": ["vit", "vit"]}, "repeat"),
                          ({"models": ["segformer"]}, "must be one of"),
                          ({"models": ["espnet"], "vit_checkpoint": "x.pt"}, "vit_checkpoint"),
                          ({"espnet_checkpoint": "x.pth"}, "no ESPNet"),
                          ({"models": ["espnet", "espnet_c"], "espnet_checkpoint": "x.pth"}, "one file"),
                          ({"models": ["espnet"], "pretrained_size": [100, 480]}, "multiples of 8")):
        with pytest.raises(ParameterError, match=match):
            P5Config.from_params(params)
    assert P5Config.from_params({"models": ["espnet", "vit"]}).models == ["espnet", "vit"]


@pytest.mark.slow
def test_road_anomaly_with_a_pretrained_espnet_by_parameters_alone(tmp_path):
    """`-p data road_anomaly -p models '["espnet"]'` on a fixture in RoadAnomaly's layout, with an ESPNet
    checkpoint in the official format (random weights: the pipeline, not the numbers)."""
    from oodlib.runner import run_notebook
    from test_p5_dense_knn import _road_anomaly_fixture

    _road_anomaly_fixture(tmp_path / "data")
    (tmp_path / "data" / "espnet_cityscapes").mkdir()
    torch.save(_state(), tmp_path / "data" / "espnet_cityscapes" / "mine.pth")
    params = {"data": "road_anomaly", "data_dir": str(tmp_path / "data"), "held_out": [], "models": ["espnet"],
              "espnet_checkpoint": str(tmp_path / "data" / "espnet_cityscapes" / "mine.pth"),
              "pretrained_size": [32, 48], "n_train": 0, "n_test": 0, "n_ref": 0, "bank_size": 500,
              "k_sweep": [1, 3], "bank_sweep": [250, 500], "runtime_banks": [250, 500], "n_examples": 1}
    out = run_notebook(ROOT / "notebooks" / "p5_dense_knn.ipynb", params, output_dir=tmp_path / "nb",
                       records_dir=tmp_path / "rec")
    record = json.loads((tmp_path / "rec" / "p5_dense_knn.json").read_text())
    verdicts = {c["claim"]: c["verdict"] for c in record["claims"]}
    assert verdicts["kNN distances beat model uncertainty (1 - LogSumExp)"] == "not run"  # no ViT in this run
    assert verdicts["kNN distances beat model uncertainty on a pretrained segmenter (ESPNet, Cityscapes)"] != "not run"
    assert "ours (all images, local evaluation): ESPNet stage3 (kNN)" in out.read_text()
    assert "ESPNet stage3 (kNN)" in record["metrics"]["features"]


def test_an_mmseg_segmenter_checkpoint_runs_through_p5(tmp_path):
    """``models=["mmseg:<path>"]``: a fabricated Segmenter checkpoint in mmseg's format (official key names,
    a tiny width) is loaded strictly and probed like the ViT; its fixed feature is the keys."""
    from dataclasses import replace

    from oodlib.models.mmseg_vit import MMSegViTConfig, expected_keys
    from oodlib.papers.p5_dense_knn.data import load
    from test_mmseg_vit import TINY, fabricate, save_mmseg

    c = replace(TINY, dim=64, heads=1, head="linear", head_depth=0, head_dim=0, head_heads=0, channels=64)
    assert isinstance(c, MMSegViTConfig)
    path = save_mmseg(fabricate(expected_keys(c)), tmp_path / "segmenter.pth")
    cfg = P5Config.from_params({"models": [f"mmseg:{path}"], "image_size": [32, 48], "n_train": 4, "n_test": 3,
                                "n_ref": 2, "bank_size": 200, "k_sweep": [1, 3], "bank_sweep": [100, 200],
                                "runtime_banks": [100]})
    loaded = load(cfg)
    result = p5r.run(cfg, loaded.bench, loaded.pretrained)
    assert result.primary == "Segmenter" and "Segmenter keys (kNN)" in result.rows
    assert "pretrained, mmsegmentation checkpoint" in result.runs["Segmenter"].info["weights"]
    with pytest.raises(ParameterError, match="names no file"):
        P5Config.from_params({"models": [f"mmseg:{tmp_path / 'none.pth'}"]})


def test_streethazards_sota_row_uses_the_official_per_image_protocol(tmp_path):
    """data='streethazards': the benchmark keeps the official maps (unlabeled = in-distribution) and the
    SOTA row reports the per-image means, labelled so; the feature table keeps pooled pixels."""
    from PIL import Image

    from oodlib.papers.p5_dense_knn import data as p5d
    from oodlib.papers.p5_dense_knn.tables import sota_tables

    rng = np.random.default_rng(0)
    for split, folder in (("train", "training"), ("train", "validation"), ("test", "test")):
        for i in range(2):
            img = rng.integers(0, 255, (16, 24, 3), dtype=np.uint8)
            lab = np.full((16, 24), 8, np.uint8)
            lab[:4] = 1  # unlabeled
            if split == "test":
                lab[8:12, 8:14] = 14  # the anomaly
            for kind, arr in (("images", img), ("annotations", lab)):
                path = tmp_path / "streethazards" / split / kind / folder / "t1" / f"{i}.png"
                path.parent.mkdir(parents=True, exist_ok=True)
                Image.fromarray(arr).save(path)
    b = p5d.load_dense_benchmark("streethazards", str(tmp_path), image_size=(16, 24), n_train=0, n_test=0, n_ref=0)
    assert (b.test_ood[:, :4] == 255).all() and (b.extra["official_ood"][:, :4] == 0).all()
    assert b.extra["official_counts"][..., 0].sum() > b.test_counts[..., 0].sum()  # unlabeled counted as ID
    features = pd.DataFrame({"AP": [10.0], "FPR95": [50.0]}, index=["ViT keys (kNN)"])
    row = sota_tables(features, "streethazards", "ViT keys (kNN)", {"ap": 0.4, "fpr95": 0.2})["sota_road"].iloc[-1]
    assert row.name == "ours (official per-image protocol, local evaluation): ViT keys (kNN)"
    assert (row["StreetHazards AP"], row["StreetHazards FPR95"]) == (40.0, 20.0)


def test_camvid_pasted_benchmark_on_the_shared_subset(shared_data):
    """Every CamVid class known; each test image has one pasted object on the road, sizes cycling, labels at
    native resolution; the same images and objects whatever the model's input size."""
    from oodlib.papers.p5_dense_knn.data import load_dense_benchmark

    if not (shared_data / "camvid").is_dir():
        pytest.skip("../shared/data/camvid is absent")
    b = load_dense_benchmark("camvid_pasted", str(shared_data), seed=0, image_size=(96, 128), n_train=3, n_test=6,
                             n_ref=2, held_out=())
    assert len(b.class_names) == 11 and list(b.test_groups[:3]) == ["small", "medium", "large"]
    assert b.test_counts.shape == (len(b.test_images), 96, 128, 2) and "pasted on the road" in b.note
    anomaly = b.test_counts[..., 1].sum(axis=(1, 2)) / (360 * 480)
    assert (anomaly > 0.002).all() and (anomaly < 0.1).all()
    big = load_dense_benchmark("camvid_pasted", str(shared_data), seed=0, image_size=(360, 480), n_train=3, n_test=6,
                               n_ref=2, held_out=())
    assert np.array_equal(big.test_counts.sum(axis=(1, 2)), b.test_counts.sum(axis=(1, 2)))  # same native labels


def test_native_maps_take_the_pixels_native_counts_count():
    from oodlib.data.segmentation import native_counts, place, to_native

    for native, size, fit in (((36, 60), (32, 48), "pad"), ((50, 30), (32, 48), "pad"), ((36, 60), (16, 16), "stretch")):
        where = place(native, size, fit)
        ids = np.arange(size[0] * size[1]).reshape(size)
        ood = (np.random.default_rng(0).random(native) < 0.3).astype(np.uint8)
        back = to_native(ids, where)
        assert back.shape == native
        counts = native_counts(ood, where, size)
        for c in (0, 1):
            np.testing.assert_array_equal(np.bincount(back[ood == c], minlength=ids.size).reshape(size), counts[..., c])


def test_smiyc_score_maps_are_exported_at_native_size(tmp_path):
    """export_dir with data='smiyc': the primary fixed kNN maps, one HDF5 file per test image at its own size."""
    from PIL import Image

    from oodlib.papers.p5_dense_knn.data import load
    from oodlib.papers.p5_dense_knn.export import read_smiyc
    from test_p5_dense_knn import _road_anomaly_fixture

    _road_anomaly_fixture(tmp_path / "data")  # its Cityscapes part is the training set
    base = tmp_path / "data" / "smiyc" / "dataset_AnomalyTrack"
    rng = np.random.default_rng(0)
    for i in range(2):
        (base / "images").mkdir(parents=True, exist_ok=True)
        (base / "labels_masks").mkdir(parents=True, exist_ok=True)
        Image.fromarray(rng.integers(0, 255, (30, 50, 3), dtype=np.uint8)).save(base / "images" / f"val{i}.jpg")
        mask = np.zeros((30, 50), np.uint8)
        mask[10:20, 10:20] = 1
        Image.fromarray(mask).save(base / "labels_masks" / f"val{i}_labels_semantic.png")
    torch.save(_state(), tmp_path / "espnet.pth")
    cfg = P5Config.from_params({"data": "smiyc", "data_dir": str(tmp_path / "data"), "held_out": [], "models": ["espnet"],
                                "espnet_checkpoint": str(tmp_path / "espnet.pth"), "pretrained_size": [32, 48],
                                "n_train": 0, "n_test": 0, "n_ref": 0, "bank_size": 300, "k_sweep": [1, 3],
                                "bank_sweep": [300], "runtime_banks": [300], "export_dir": str(tmp_path / "out")})
    loaded = load(cfg)
    result = p5r.run(cfg, loaded.bench, loaded.pretrained)
    files = p5r.export_scores(cfg, result)
    assert [f.stem for f in files] == ["val0", "val1"] and all(read_smiyc(f).shape == (30, 50) for f in files)
    with pytest.raises(FileExistsError):
        p5r.export_scores(cfg, result)
    with pytest.raises(ParameterError, match="export_dir"):
        P5Config.from_params({"data": "camvid", "export_dir": str(tmp_path / "x")})


def test_a_size_group_of_one_image_is_judged_unstratified():
    """Four test images in three size terciles (the real-smoke run): a group holds one image, which a
    stratified bootstrap cannot resample; the evidence is then not stratified and every claim is judged."""
    from oodlib.papers.p5_dense_knn.data import load

    cfg = P5Config.from_params({"n_train": 4, "n_test": 4, "n_ref": 2, "epochs": 1, "vit_dim": 32, "cnn_width": 8,
                                "bank_size": 200, "k_sweep": [1, 3], "bank_sweep": [200], "runtime_banks": [200]})
    loaded = load(cfg)
    result = p5r.run(cfg, loaded.bench, loaded.pretrained)
    ev = p5c.evidence(result)
    assert min(np.unique(ev["ViT"].arrays["size"], return_counts=True)[1]) == 1 and ev["ViT"].stratify is None
    verdicts = judge_all(p5c.claims(), ev, seed=0)
    assert all(v.verdict in ("supported", "not supported", "inconclusive", "not run") for v in verdicts)
