"""P2 GenRep: BEATs architecture and checkpoint loading, pooling shapes, kNN banks, MemMixup, DN,
DCASE metrics and submission CSVs, synthetic machine sounds, low-shot draws, real mini set."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest
import torch
import torchaudio.compliance.kaldi as kaldi
from scipy.stats import hmean
from sklearn.metrics import roc_auc_score

from oodlib.data.dcase import load_dcase
from oodlib.models.beats import BEATS_BASE, BEATs, BEATsConfig, beats_fbank, fbank_frames, n_parameters, relative_position_buckets
from oodlib.papers import p2_genrep as p2
from oodlib.papers.p2_genrep import tables as p2t
from oodlib.synthetic.machines import MachineUnit, SOURCE, render_clip, write_machine_dataset

TINY = dataclasses.replace(BEATS_BASE, embed_dim=24, encoder_embed_dim=32, encoder_ffn_embed_dim=64,
                           encoder_attention_heads=4, encoder_layers=2, conv_pos=16, conv_pos_groups=4,
                           num_buckets=32, max_distance=64)


# ----------------------------------------------------------------------------- BEATs
def official_state_shapes(cfg: dict, finetuned: bool = False) -> dict[str, tuple[int, ...]]:
    """The official BEATs state-dict names and shapes, written out from the published layout
    (REFERENCE_FACTS.md), independently of oodlib's module tree."""
    e, d, f, h, p = cfg["embed_dim"], cfg["encoder_embed_dim"], cfg["encoder_ffn_embed_dim"], cfg["encoder_attention_heads"], cfg["input_patch_size"]
    shapes = {"patch_embedding.weight": (e, 1, p, p), "layer_norm.weight": (e,), "layer_norm.bias": (e,),
              "post_extract_proj.weight": (d, e), "post_extract_proj.bias": (d,),
              "encoder.pos_conv.0.bias": (d,), "encoder.pos_conv.0.weight_g": (1, 1, cfg["conv_pos"]),
              "encoder.pos_conv.0.weight_v": (d, d // cfg["conv_pos_groups"], cfg["conv_pos"]),
              "encoder.layer_norm.weight": (d,), "encoder.layer_norm.bias": (d,)}
    for i in range(cfg["encoder_layers"]):
        a = f"encoder.layers.{i}.self_attn."
        for proj in ("q_proj", "k_proj", "v_proj", "out_proj"):
            shapes[a + proj + ".weight"], shapes[a + proj + ".bias"] = (d, d), (d,)
        shapes[a + "relative_attention_bias.weight"] = (cfg["num_buckets"], h)
        shapes[a + "grep_linear.weight"], shapes[a + "grep_linear.bias"] = (8, d // h), (8,)
        shapes[a + "grep_a"] = (1, h, 1, 1)
        lay = f"encoder.layers.{i}."
        for ln in ("self_attn_layer_norm", "final_layer_norm"):
            shapes[lay + ln + ".weight"], shapes[lay + ln + ".bias"] = (d,), (d,)
        shapes[lay + "fc1.weight"], shapes[lay + "fc1.bias"] = (f, d), (f,)
        shapes[lay + "fc2.weight"], shapes[lay + "fc2.bias"] = (d, f), (d,)
    if finetuned:
        shapes["predictor.weight"], shapes["predictor.bias"] = (cfg["predictor_class"], d), (cfg["predictor_class"],)
    return shapes


def _checkpoint(cfg: BEATsConfig, finetuned: bool = False, seed: int = 0) -> dict:
    g = torch.Generator().manual_seed(seed)
    c = cfg.to_dict() | {"finetuned_model": finetuned, "some_training_flag": 1}  # unused keys must be tolerated
    state = {k: torch.randn(s, generator=g) * 0.05 for k, s in official_state_shapes(c, finetuned).items()}
    for k in state:  # one table shared by all blocks: the official state dict repeats it per layer
        if "relative_attention_bias" in k:
            state[k] = state["encoder.layers.0.self_attn.relative_attention_bias.weight"]
    out = {"cfg": c, "model": state}
    if finetuned:
        out["label_dict"] = {i: f"/m/{i}" for i in range(c["predictor_class"])}
    return out


@pytest.mark.parametrize("finetuned", [False, True])
def test_official_state_dict_loads_strictly_and_is_used(tmp_path, finetuned):
    ckpt = _checkpoint(TINY, finetuned)
    path = tmp_path / "BEATs_tiny.pt"
    torch.save(ckpt, path)
    ex = p2.build_extractor(f"beats:{path}")
    model = ex.model
    assert model.cfg.encoder_layers == 2 and (model.predictor is not None) == finetuned
    assert ex.pretrained and ex.finetuned == finetuned and ex.default_layer == 2  # the paper's 5 (ft: 4), capped at the depth
    loaded = model.state_dict()
    for k, v in ckpt["model"].items():
        assert torch.equal(loaded[k], v), k
    grids = model.layer_grids(torch.randn(1, 16000) * 0.1)
    assert [tuple(g.shape) for g in grids] == [(1, 6, 8, 32)] * 2
    if finetuned:
        assert model(torch.randn(2, 16000) * 0.1).shape == (2, 527)


def test_checkpoint_errors_name_the_problem(tmp_path):
    ckpt = _checkpoint(TINY)
    missing = {"cfg": ckpt["cfg"], "model": {k: v for k, v in ckpt["model"].items() if "fc2" not in k}}
    with pytest.raises(ValueError, match="fc2"):
        BEATs.from_state(missing)
    wrong = {"cfg": ckpt["cfg"], "model": dict(ckpt["model"], **{"encoder.layers.0.fc1.weight": torch.zeros(3, 3)})}
    with pytest.raises(ValueError, match="size mismatch"):
        BEATs.from_state(wrong)
    extra = {"cfg": ckpt["cfg"], "model": dict(ckpt["model"], unexpected=torch.zeros(1))}
    with pytest.raises(ValueError, match="unexpected"):
        BEATs.from_state(extra)
    differs = {"cfg": ckpt["cfg"], "model": dict(ckpt["model"], **{
        "encoder.layers.1.self_attn.relative_attention_bias.weight": torch.zeros(32, 4)})}
    with pytest.raises(ValueError, match="shares one table"):
        BEATs.from_state(differs)
    with pytest.raises(ValueError, match="'cfg' and 'model'"):
        BEATs.from_state(ckpt["model"])
    with pytest.raises(TypeError, match="deep_norm"):
        BEATsConfig.from_dict({"deep_norm": "yes"})
    with pytest.raises(FileNotFoundError, match="nowhere.pt"):
        BEATs.from_checkpoint(tmp_path / "nowhere.pt")


def test_base_config_has_official_names_and_90m_parameters():
    model = BEATs(BEATS_BASE, seed=0)
    expected = official_state_shapes(BEATS_BASE.to_dict())
    got = {k: tuple(v.shape) for k, v in model.state_dict().items()}
    assert got == expected
    assert 90.0e6 < n_parameters(model) < 90.7e6  # BEATs paper: 90M


def test_fbank_is_the_official_preprocessing_and_10s_gives_62x8_patches():
    x = torch.randn(2, 160000) * 0.1
    fb = beats_fbank(x)
    ref = (kaldi.fbank(x[1:2] * 32768, num_mel_bins=128, sample_frequency=16000, frame_length=25, frame_shift=10)
           - 15.41663) / (2 * 6.55582)
    assert fb.shape == (2, 998, 128) and fbank_frames(160000) == 998 and fbank_frames(64000) == beats_fbank(x[:, :64000]).shape[1]
    torch.testing.assert_close(fb[1], ref)
    assert BEATs(TINY, seed=0).patch_grid(998) == (62, 8)


def test_temporal_pooling_is_6144_d_per_layer_for_a_10s_clip():
    model = BEATs(BEATS_BASE, seed=0)
    grids = model.layer_grids(torch.randn(1, 160000) * 0.1)
    assert len(grids) == 12 and grids[4].shape == (1, 62, 8, 768)
    dims = {how: p2.pool(grids[4], how).shape[1] for how in p2.POOLINGS}
    assert dims == {"temporal": 6144, "spatial": 768, "spectral": 62 * 768}
    assert p2.pooled_dims(model, 10.0) == dims and p2.token_grid(model, 10.0) == (62, 8)
    g = grids[4]
    torch.testing.assert_close(p2.pool(g, "temporal")[0, :768], g[0, :, 0, :].mean(0))  # frequency patch 0
    torch.testing.assert_close(p2.pool(g, "spectral")[0, 768:1536], g[0, 1].mean(0))  # time patch 1
    with pytest.raises(ValueError, match="pooling"):
        p2.pool(g, "frequency")


def test_attention_matches_the_reference_formula():
    """Transcription of the reference attention: q scaled by scaling/32, (qk - rowmax) * 32, gated bias."""
    torch.manual_seed(0)
    model = BEATs(TINY, seed=1)
    attn = model.encoder.layers[1].self_attn
    with torch.no_grad():
        attn.grep_a.uniform_(0.5, 1.5)
    x = torch.randn(2, 10, 32)
    bias = attn.position_bias(10)  # (H, L, L)
    h, hd, alpha = 4, 8, 32
    q = attn.q_proj(x) * hd**-0.5 / alpha
    k, v = attn.k_proj(x), attn.v_proj(x)
    q, k, v = (t.view(2, 10, h, hd).transpose(1, 2) for t in (q, k, v))
    w = q @ k.transpose(-1, -2)
    w = (w - w.max(-1, keepdim=True).values) * alpha
    query = q * alpha / hd**-0.5
    ga, gb = torch.sigmoid(attn.grep_linear(query).view(2, h, 10, 2, 4).sum(-1)).chunk(2, dim=-1)
    w = w + (ga * (gb * attn.grep_a - 1.0) + 2.0) * bias
    ref = attn.out_proj((torch.softmax(w, -1) @ v).transpose(1, 2).reshape(2, 10, 32))
    torch.testing.assert_close(attn(x, bias), ref, atol=1e-5, rtol=1e-4)


def test_relative_position_buckets_known_values():
    b = relative_position_buckets(900, 320, 800)
    assert b[0, 0] == 0 and b[1, 0] == 1 and b[0, 1] == 161  # key before / after the query
    assert b[79, 0] == 79 and b[0, 79] == 239  # exact up to 80
    assert b[899, 0] == 159 and b[0, 899] == 319  # clamped beyond max_distance
    assert int(b.max()) < 320


def test_random_extractor_is_deterministic_for_a_seed():
    a, b = BEATs(TINY, seed=3), BEATs(TINY, seed=3)
    assert all(torch.equal(a.state_dict()[k], b.state_dict()[k]) for k in a.state_dict())
    c = BEATs(TINY, seed=4)
    assert not torch.equal(a.state_dict()["encoder.layers.0.fc1.weight"], c.state_dict()["encoder.layers.0.fc1.weight"])


# ----------------------------------------------------------------------------- banks, MemMixup, DN
def _feats(seed=0):
    rng = np.random.default_rng(seed)
    source = rng.normal(0, 1, (40, 6)).astype(np.float32)
    target = rng.normal(3, 1, (5, 6)).astype(np.float32)
    test = np.concatenate([rng.normal(0, 1, (10, 6)), rng.normal(3, 1, (10, 6)), rng.normal(0, 4, (10, 6))]).astype(np.float32)
    return source, target, test


def _brute_min(q, bank):
    return np.sqrt(((q[:, None, :].astype(np.float64) - bank[None].astype(np.float64)) ** 2).sum(-1)).min(1)


def test_memmixup_counts_and_values():
    source, target, _ = _feats()
    mixed, origin = p2.memmixup(target, source, ks=7, lam=0.9)
    assert mixed.shape == (5 * 7, 6) and origin.tolist() == np.repeat(np.arange(5), 7).tolist()
    d = np.sqrt(((target[:, None] - source[None]) ** 2).sum(-1))
    for i in range(5):
        nearest = np.argsort(d[i])[:7]
        np.testing.assert_allclose(mixed[7 * i : 7 * i + 7], 0.9 * target[i] + 0.1 * source[nearest], rtol=1e-5, atol=1e-5)
    with pytest.raises(ValueError, match="Ks must be between 1 and the number of source features"):
        p2.memmixup(target, source, ks=41)
    det = p2.GenRep(mix_ks=40).fit(np.concatenate([source, target]), ["source"] * 40 + ["target"] * 5)
    assert det.bank_sizes_ == {"source": 40, "target": 5 + 5 * 40}  # the paper's 10 x 990 = 9,900 at full scale


def test_knn_distances_and_scores_without_dn():
    source, target, test = _feats()
    det = p2.GenRep(normalization="none").fit(np.concatenate([source, target]), ["source"] * 40 + ["target"] * 5)
    d = det.distances(test)
    np.testing.assert_allclose(d[:, 0], _brute_min(test, source), rtol=1e-4)
    np.testing.assert_allclose(d[:, 1], _brute_min(test, target), rtol=1e-4)
    np.testing.assert_allclose(det.score(test), d.min(1))
    assert det.bank_names_ == ["source", "target"]


def test_transductive_dn_is_the_reference_formula():
    source, target, test = _feats()
    det = p2.GenRep(normalization="transductive").fit(np.concatenate([source, target]), ["source"] * 40 + ["target"] * 5)
    s = det.score(test)
    vs, vt = _brute_min(test, source), _brute_min(test, target)
    ref = np.minimum((vs - vs.mean()) / vs.std(), (vt - vt.mean()) / vt.std())  # np.std: population, as the code
    np.testing.assert_allclose(s, ref, rtol=1e-4, atol=1e-5)
    assert not np.allclose(det.score(test[:5]), s[:5])  # depends on which test clips are scored together


def test_inductive_dn_uses_bank_leave_one_out_statistics_only():
    source, target, test = _feats()
    x = np.concatenate([source, target])
    det = p2.GenRep(mix_ks=3, normalization="inductive").fit(x, ["source"] * 40 + ["target"] * 5)
    loo_s = np.array([_brute_min(source[i : i + 1], np.delete(source, i, 0))[0] for i in range(40)])
    mixed, origin = p2.memmixup(target, source, 3)
    bank_t = np.concatenate([target, mixed])
    owner = np.concatenate([np.arange(5), origin])
    loo_t = np.array([_brute_min(target[i : i + 1], bank_t[owner != i])[0] for i in range(5)])
    np.testing.assert_allclose(det.mean_, [loo_s.mean(), loo_t.mean()], rtol=1e-4)
    np.testing.assert_allclose(det.std_, [loo_s.std(), loo_t.std()], rtol=1e-4)
    np.testing.assert_allclose(det.score(test[:5]), det.score(test)[:5], atol=1e-5)  # no dependence on other test clips
    with pytest.raises(ValueError, match="no spread"):
        p2.GenRep(normalization="inductive").fit(source[:2], ["source", "source"])


def test_nearest_excluding_matches_brute_force():
    rng = np.random.default_rng(1)
    q, bank = rng.normal(size=(8, 4)), rng.normal(size=(12, 4))
    qid, bid = np.arange(8), np.array([0, 0, 1, 2, 3, 4, 5, 6, 7, 9, 9, 9])
    got = p2.nearest_excluding(q, bank, qid, bid)
    for i in range(8):
        np.testing.assert_allclose(got[i], _brute_min(q[i : i + 1], bank[bid != i])[0], rtol=1e-6)


# ----------------------------------------------------------------------------- metrics and CSVs
def _scored_machine(rng, n=40):
    y = np.r_[np.zeros(n, bool), np.ones(n, bool)]
    dom = np.tile(["source", "target"], n)
    s = rng.normal(size=2 * n) + 1.2 * y
    return y, dom, s


def test_machine_metrics_match_sklearn_and_the_evaluator_rules():
    y, dom, s = _scored_machine(np.random.default_rng(0))
    m = p2.machine_metrics(y, s, dom)
    src = (dom == "source") | y
    assert m["auc_source"] == pytest.approx(roc_auc_score(y[src], s[src]))
    assert m["auc"] == pytest.approx(roc_auc_score(y, s))
    assert m["pauc"] == pytest.approx(roc_auc_score(y, s, max_fpr=0.1))
    assert np.isnan(p2.machine_metrics(np.zeros(4, bool), s[:4], dom[:4])["auc"])  # one class: undefined, not 0
    table = pd.DataFrame([m, p2.machine_metrics(y, -s, dom)])
    vals = table[["auc_source", "auc_target", "pauc"]].to_numpy().ravel()
    assert p2.official_score(table) == pytest.approx(hmean(vals))
    undefined = p2.machine_metrics(np.zeros(4, bool), s[:4], dom[:4])  # all NaN: skipped, not 0
    assert p2.official_score(pd.concat([table, pd.DataFrame([undefined])])) == p2.official_score(table)
    assert np.isnan(p2.official_score(pd.DataFrame([undefined]))) and np.isnan(p2.per_machine_official(undefined))
    assert p2.per_machine_official(m) == pytest.approx(hmean([m["auc_source"], m["auc_target"], m["pauc"]]))


def test_choose_layers_fixed_and_oracle():
    res = pd.DataFrame({"machine": ["a", "a", "b", "b"], "layer": [1, 2, 1, 2], "official": [0.5, 0.7, 0.9, np.nan]})
    assert p2.choose_layers(res, "oracle", 1)["layer"].tolist() == [2, 1]
    assert p2.choose_layers(res, "fixed", 2)["official"].tolist()[0] == 0.7
    with pytest.raises(ValueError, match="fixed layer 5"):
        p2.choose_layers(res, "fixed", 5)


def test_submission_csvs_round_trip_in_the_evaluator_format(tmp_path):
    rng = np.random.default_rng(2)
    truth, direct = [], {}
    for machine in ("fan", "valve"):
        y, dom, s = _scored_machine(rng, 10)
        files = [f"section_00_{i:04d}.wav" for i in range(len(y))]
        p2.write_submission(tmp_path, machine, "00", [f"/data/{machine}/test/{f}" for f in files], s, (s > 0.5).astype(int))
        truth.append(pd.DataFrame({"file": files, "machine": machine, "is_anomaly": y, "domain": dom}))
        direct[machine] = p2.machine_metrics(y, s, dom)
    first = (tmp_path / "anomaly_score_fan_section_00_test.csv").read_text().splitlines()[0]
    assert first.startswith("section_00_0000.wav,") and len(first.split(",")) == 2  # no header, bare file name
    assert (tmp_path / "decision_result_valve_section_00_test.csv").read_text().splitlines()[0].endswith((",0", ",1"))
    sub = p2.read_submission(tmp_path)
    assert len(sub) == 40 and set(sub["decision"]) <= {0, 1}
    again = p2.evaluate_submission(tmp_path, pd.concat(truth))
    for machine, m in direct.items():
        for k, v in m.items():
            assert again.loc[machine, k] == pytest.approx(v, abs=1e-9)


def test_submission_reader_rejects_malformed_files(tmp_path):
    p2.write_submission(tmp_path, "fan", "00", ["a.wav", "b.wav"], np.array([0.1, 0.2]), np.array([0, 1]))
    dec = tmp_path / "decision_result_fan_section_00_test.csv"
    dec.write_text("a.wav,0\nb.wav,2\n")
    with pytest.raises(ValueError, match="0 or 1"):
        p2.read_submission(tmp_path)
    dec.write_text("a.wav,0\nc.wav,1\n")
    with pytest.raises(ValueError, match="differ"):
        p2.read_submission(tmp_path)
    (tmp_path / "anomaly_score_fan_section_00_test.csv").write_text("file,score\na.wav,0.1\nb.wav,0.2\n")
    with pytest.raises(ValueError, match="header"):
        p2.read_submission(tmp_path)
    dec.unlink()
    with pytest.raises(ValueError):
        p2.write_submission(tmp_path, "fan", "00", ["a.wav"], np.array([np.nan]), np.array([0]))


# ----------------------------------------------------------------------------- synthetic sounds and data
def test_synthetic_dcase2023_layout_is_deterministic_and_loadable(tmp_path):
    for sub in ("a", "b"):
        write_machine_dataset(tmp_path / sub, "dcase2023", ("fan", "valve"), n_train=3, n_target_train=2, n_test=2,
                              duration=0.5, seed=7)
    a, b = load_dcase(tmp_path / "a"), load_dcase(tmp_path / "b")
    assert len(a) == 2 * (3 + 2 + 4 * 2)
    counts = a.groupby(["machine", "split", "domain", "label"]).size()
    assert counts[("fan", "train", "target", "normal")] == 2 and counts[("valve", "test", "source", "anomaly")] == 2
    for pa, pb in zip(a["path"], b["path"]):
        assert open(pa, "rb").read() == open(pb, "rb").read()
    assert a["attributes"].str.match(r"spd_\d+_noise_[AB]").all()


def test_synthetic_dcase2020_layout_has_sections(tmp_path):
    write_machine_dataset(tmp_path, "dcase2020", ("pump",), n_train=2, n_target_train=0, n_test=1, n_sections=3, duration=0.5)
    df = load_dcase(tmp_path)
    assert sorted(df["section"].unique()) == ["00", "02", "04"] and len(df) == 3 * (2 + 2)
    with pytest.raises(ValueError, match="no target domain"):
        write_machine_dataset(tmp_path, "dcase2020", ("pump",), n_target_train=1)
    with pytest.raises(ValueError, match="unknown machine type"):
        write_machine_dataset(tmp_path / "x", "dcase2023", ("toaster",), n_train=1, n_test=1, duration=0.5)


@pytest.mark.parametrize("kind", ["extra_harmonics", "impacts", "rattle", "frequency_drift"])
def test_each_anomaly_changes_the_spectrum(kind):
    unit = MachineUnit.draw("fan", 0, 0)
    normal = render_clip(unit, SOURCE, None, 1.0, np.random.default_rng(5))
    odd = render_clip(unit, SOURCE, kind, 1.0, np.random.default_rng(5), anomaly_db=0.0)
    spec = lambda x: np.log(np.abs(np.fft.rfft(x / np.sqrt(np.mean(x**2)))) + 1e-3)  # noqa: E731
    assert odd.shape == normal.shape == (16000,) and np.abs(odd).max() <= 0.9 + 1e-6
    assert np.mean(np.abs(spec(odd) - spec(normal))) > 0.05


def test_draw_shots_counts_and_determinism():
    train = pd.DataFrame({"x": range(30)})
    assert len(p2.draw_shots(train, 4, 0)) == 4 and len(p2.draw_shots(train, "half", 0)) == 15
    assert p2.draw_shots(train, "full", 0) is train
    assert p2.draw_shots(train, 16, 1).index.tolist() == p2.draw_shots(train, 16, 1).index.tolist()
    assert p2.draw_shots(train, 16, 1).index.tolist() != p2.draw_shots(train, 16, 2).index.tolist()
    with pytest.raises(ValueError, match="cannot draw 31"):
        p2.draw_shots(train, 31, 0)


def test_attach_ground_truth_for_eval_names(tmp_path):
    clips = pd.DataFrame({"path": ["/e/fan/test/section_00_0000.wav", "/e/fan/test/section_00_0001.wav"], "machine": "fan",
                          "split": "test", "section": "00", "domain": None, "label": None})
    for sub, values in (("ground_truth_data", [0, 1]), ("ground_truth_domain", [1, 0])):
        (tmp_path / sub).mkdir()
        pd.DataFrame({"f": ["section_00_0000.wav", "section_00_0001.wav"], "v": values}).to_csv(
            tmp_path / sub / "ground_truth_fan_section_00_test.csv", header=False, index=False)
    out = p2.attach_ground_truth(clips, tmp_path)
    assert out["label"].tolist() == ["normal", "anomaly"] and out["domain"].tolist() == ["target", "source"]
    assert out["is_anomaly"].tolist() == [False, True]
    with pytest.raises(FileNotFoundError, match="ground_truth_pump"):
        p2.attach_ground_truth(clips.assign(machine="pump"), tmp_path)


# ----------------------------------------------------------------------------- experiments end to end
def test_variants_low_shot_and_tables_on_synthetic_clips(tmp_path):
    bench = p2.load_domain_shift("synthetic", None, tmp_path, 0, ["fan"], 12, 3, 4, 1.0)
    low_bench = p2.load_low_shot("synthetic", None, tmp_path, 0, ["pump"], 2, 6, 3, 1.0)
    model = p2.build_extractor("beats_random", width=32, layers=2, seed=0)
    clips = bench.clips.reset_index(drop=True)
    emb = p2.extract_embeddings(model, clips["path"].tolist(), 1.0)
    assert [e.shape for e in emb["temporal"]] == [(len(clips), 8 * 32)] * 2
    assert [e.shape for e in emb["spatial"]] == [(len(clips), 32)] * 2
    stored = p2.extract_embeddings(model, clips["path"].tolist(), 1.0, store=tmp_path / "emb")
    for how in p2.POOLINGS:  # streamed to memory maps: the same numbers, read back from disk
        assert all(isinstance(a, np.memmap) and np.array_equal(a, b) for a, b in zip(stored[how], emb[how]))
    variants = [p2.Variant("temporal", ks, n) for ks in (None, 4) for n in p2.NORMALIZATIONS] + [p2.Variant("spatial")]
    res, kept = p2.evaluate_variants("fan", emb, clips, variants, keep_scores=[(p2.Variant("temporal", 4), 1)])
    assert len(res) == len(variants) * 2 and res["auc"].between(0, 1).all()
    ms = kept[(p2.Variant("temporal", 4), 1)]
    assert len(ms.scores) == 16 and set(np.unique(ms.decisions)) <= {0, 1}
    t2 = p2t.table2(res, 4, "oracle", 1)
    assert len(t2) == 6 and t2.loc["DN (transductive) / MemMixup", "official score"] > 0
    t1, official = p2t.table1(res, [4], "fixed", 2)
    assert "All (AUC / pAUC)" in t1.index and set(official) == {4}
    lclips = low_bench.clips.reset_index(drop=True)
    lemb = p2.extract_embeddings(model, lclips["path"].tolist(), 1.0, ["temporal"])
    low, kept_low = p2.low_shot("pump", lemb["temporal"], lclips, [4, "half", "full"], [0, 1], keep_layer=1)
    assert set(low["n_train"]) == {4, 6, 12} and len(low) == (2 + 2 + 1) * 2 * 2
    draws = [(s, d) for s in ("4", "half") for d in (0, 1)] + [("full", 0)]  # "full" is drawn once
    assert set(kept_low) == {(s, d, st) for s, d in draws for st in ("label-free", "label")}
    assert all(len(v) == int((lclips["split"] == "test").sum()) for v in kept_low.values())
    per_id, _ = p2.low_shot("pump", lemb["temporal"], lclips, ["full"], [0], protocol="per_id")
    pooled = low[(low["shots"] == "full")].set_index(["layer", "setting"])["auc"]
    test = lclips[lclips["split"] == "test"]
    layer1 = p2.GenRep(normalization="none").fit(np.asarray(lemb["temporal"][0][lclips["split"] == "train"]),
                                                 np.full(12, "all")).score(np.asarray(lemb["temporal"][0][lclips["split"] == "test"]))
    by_id = [p2.machine_metrics(test["is_anomaly"].to_numpy(bool)[test["section"].to_numpy() == sec],
                                layer1[test["section"].to_numpy() == sec], np.full(3 * 2, "source"))["auc"]
             for sec in sorted(test["section"].unique())]
    got = per_id.set_index(["layer", "setting"]).loc[(1, "label-free"), "auc"]
    assert got == pytest.approx(np.mean(by_id)) and pooled.loc[(1, "label-free")] != pytest.approx(got)
    with pytest.raises(ValueError, match="protocol"):
        p2.low_shot("pump", lemb["temporal"], lclips, ["full"], [0], protocol="per-machine")
    t4 = p2t.table4(low, "oracle", 1)
    assert t4.index.tolist() == ["4", "half", "full"] and t4.loc["full", "seeds"] == 1


def test_end_to_end_on_the_real_mini_set(shared_data, tmp_path):
    if not (shared_data / "dcase2023t2_dev_mini").is_dir():
        pytest.skip("dcase2023t2_dev_mini is absent")
    bench = p2.load_domain_shift("dcase2023t2_dev_mini", str(shared_data), tmp_path, 0, [], 0, 0, 0, 10.0)
    assert len(bench.machines) == 7 and "smoke test" in bench.note
    model = p2.build_extractor("beats_random", width=32, layers=2, seed=0)
    clips = bench.clips[bench.clips["machine"] == "ToyCar"].reset_index(drop=True)
    emb = p2.extract_embeddings(model, clips["path"].tolist(), 10.0, ["temporal"])
    assert [e.shape for e in emb["temporal"]] == [(4, 8 * 32)] * 2
    res, _ = p2.evaluate_variants("ToyCar", emb, clips, [p2.Variant("temporal", 5, "transductive"), p2.Variant("temporal", None, "inductive")])
    # no target training clips: MemMixup is skipped; a 2-clip bank gives inductive DN no spread: NaN with a note
    assert set(res["mix_ks"]) == {0} and res["note"].str.contains("no spread").all() and res["auc"].isna().all()


def test_streamed_extraction_holds_far_less_than_all_layers_in_ram(tmp_path):
    """With ``store`` the pooled vectors go to memory maps batch by batch: the Python heap never
    holds the all-layer arrays, which the in-RAM path must (tracemalloc sees numpy's buffers)."""
    import tracemalloc

    bench = p2.load_domain_shift("synthetic", None, tmp_path, 0, ["fan"], 30, 2, 5, 1.0)
    paths = bench.clips["path"].tolist()
    ex = p2.build_extractor("beats_random", width=64, layers=12)
    all_layers = p2.memory_per_1000_clips(ex, 1.0)["all layers"] * 2**20 * len(paths) / 1000
    peaks = {}
    for store in (None, tmp_path / "emb"):
        tracemalloc.start()
        p2.extract_embeddings(ex, paths, 1.0, batch_size=2, store=store)
        peaks[store is not None] = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    assert peaks[False] >= all_layers > 2 * peaks[True]
