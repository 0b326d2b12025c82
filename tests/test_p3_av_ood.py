"""P3 (AV-OOD): the AVCA loader on a fixture in its exact layout, the synthetic features, and each component."""

from __future__ import annotations

import h5py
import numpy as np
import pytest
import scipy.stats
import torch

from oodlib.data.avca import load_avca_features, load_avca_meta
from oodlib.data.gzsl import load_avca_benchmark
from oodlib.metrics.binary import fpr_at_tpr
from oodlib.claims import judge
from oodlib.params import ParameterError
from oodlib.papers import p3_av_ood as p3
from oodlib.papers.p3_av_ood.embedding import _negatives, triplet
from oodlib.synthetic.av_features import AVFeatureSpec, synthetic_gzsl
from oodlib.tables import paper_table, select_group

#: a run of a few steps per component (seconds on CPU)
TINY = dict(gen_epochs=1, gen_steps=2, det_epochs=1, sc_epochs=1, uc_epochs=2, uc_steps=3, n_syn_unseen=5, det_batch=64,
            uc_patience=1)

# ---------------------------------------------------------------- AVCA layout fixture

SPLITS = {"stage_1_train": ["Archery", "Bowling"], "stage_1_val_seen": ["Archery", "Bowling"],
          "stage_1_val_unseen": ["HandStandPushups"], "stage_2_train": ["Archery", "Bowling", "HandStandPushups"],
          "stage_2_test_seen": ["Archery", "Bowling", "HandStandPushups"], "stage_2_test_unseen": ["Surfing", "Diving"]}


def _write_h5(path, n, d, seed, urls=None):
    rng = np.random.default_rng(seed)
    path.parent.mkdir(parents=True, exist_ok=True)
    with h5py.File(path, "w") as f:
        f["data"] = rng.standard_normal((n, d)).astype(np.float32)
        f["video_urls"] = np.array(urls or [f"v{seed}_{i}" for i in range(n)], dtype="S")


@pytest.fixture
def avca_root(tmp_path):
    """One UCF dataset in AVCA's release layout (features + class-split + text embeddings)."""
    ds = tmp_path / "UCF"
    cs = ds / "class-split"
    (cs / "main_split").mkdir(parents=True)
    names = sorted({c for v in SPLITS.values() for c in v} | {"Unused"})
    (cs / "all_class.txt").write_text("\n".join(n.replace("HandStand", "Handstand") for n in names) + "\n")
    manual = {n: n.replace("HandStand", "Handstand ") for n in names}
    (cs / "ucf_w2v_class_names.csv").write_text(
        "original,manual\n" + "".join(f"{n.replace('HandStand', 'Handstand')},{m}\n" for n, m in manual.items()))
    for split, classes in SPLITS.items():
        (cs / "main_split" / f"{split}.txt").write_text("\n".join(classes) + "\n")
        for i, c in enumerate(classes):
            n = 3 + i
            urls = [f"{split}_{c}_{j}" for j in range(n)]
            for m, d in (("audio", 8), ("video", 6)):
                _write_h5(ds / "features" / "main_features" / m / split / f"{c}.h5", n, d, hash((split, c, m)) % 1000,
                          urls)
    rng = np.random.default_rng(0)
    vecs = {m: (v := rng.standard_normal(300)) / np.linalg.norm(v) for m in manual.values()}
    text = ds / "features" / "main_features" / "text"
    text.mkdir(parents=True)
    with open(text / "word_embeddings_ucf_normed.npy", "wb") as f:
        np.save(f, np.array(vecs, dtype=object), allow_pickle=True)
    return tmp_path


def test_avca_meta_reads_splits_embeddings_and_case_variants(avca_root):
    meta = load_avca_meta(avca_root, "UCF")
    assert meta.seen == SPLITS["stage_2_train"] and meta.unseen == SPLITS["stage_2_test_unseen"]
    emb = meta.embedding_matrix(meta.classes)
    assert emb.shape == (5, 300) and np.allclose(np.linalg.norm(emb, axis=1), 1, atol=1e-5)
    # "HandStandPushups" (split file) matched to "HandstandPushups" (name file) case-insensitively
    assert "HandStandPushups" in meta.embeddings


def test_avca_features_concatenate_classes_and_check_urls(avca_root):
    f = load_avca_features(avca_root, "UCF", "stage_2_test_unseen", classes=["Surfing", "Diving"])
    assert f.audio.shape == (3 + 4, 8) and f.video.shape == (7, 6)
    assert list(f.labels[:3]) == ["Surfing"] * 3 and list(f.labels[3:]) == ["Diving"] * 4
    vid = avca_root / "UCF" / "features" / "main_features" / "video" / "stage_2_test_unseen" / "Surfing.h5"
    _write_h5(vid, 3, 6, 1, urls=["x", "y", "z"])
    with pytest.raises(ValueError, match="different video_urls"):
        load_avca_features(avca_root, "UCF", "stage_2_test_unseen")
    with pytest.raises(FileNotFoundError, match="Nope.h5"):
        load_avca_features(avca_root, "UCF", "stage_2_test_unseen", classes=["Nope"])
    with pytest.raises(ValueError, match="unknown split"):
        load_avca_features(avca_root, "UCF", "stage_3")


def test_avca_benchmark_from_fixture(avca_root):
    b = load_avca_benchmark(avca_root, "UCF")
    assert b.audio_dim == 8 and b.stage2.train_x.shape[1] == 14
    assert set(b.stage2.unseen_classes) == {3, 4} and set(np.unique(b.stage2.unseen_y)) == {3, 4}
    assert len(b.stage1.seen_classes) == 2 and len(b.stage1.unseen_classes) == 1
    assert b.text.shape == (5, 300)


def test_avca_meta_missing_embedding_is_named(avca_root):
    (avca_root / "UCF" / "class-split" / "main_split" / "stage_2_test_unseen.txt").write_text("Surfing\nMoonwalk\n")
    with pytest.raises(KeyError, match="Moonwalk"):
        load_avca_meta(avca_root, "UCF")


def test_real_avca_metadata(shared_data):
    for ds, (n_seen, n_unseen) in {"UCF": (42, 9), "ActivityNet": (150, 50), "VGGSound": (207, 69)}.items():
        meta = load_avca_meta(shared_data / "avca_gzsl_meta", ds)
        assert (len(meta.seen), len(meta.unseen)) == (n_seen, n_unseen)
        assert set(meta.splits["stage_1_train"]) | set(meta.splits["stage_1_val_unseen"]) == set(meta.seen)
        emb = meta.embedding_matrix(meta.classes)
        assert np.allclose(np.linalg.norm(emb, axis=1), 1, atol=1e-4)


# ---------------------------------------------------------------- synthetic features

def test_synthetic_gzsl_is_deterministic_and_benchmark_shaped():
    spec = AVFeatureSpec(n_train=5, n_eval=2)
    a, b = synthetic_gzsl("UCF", spec, seed=1), synthetic_gzsl("UCF", spec, seed=1)
    assert np.array_equal(a.stage2.train_x, b.stage2.train_x) and np.array_equal(a.text, b.text)
    assert not np.array_equal(a.stage2.train_x, synthetic_gzsl("UCF", spec, seed=2).stage2.train_x)
    s = a.summary()
    assert (s["stage2_seen_classes"], s["stage2_unseen_classes"], s["stage1_unseen_classes"]) == (42, 9, 12)
    assert a.stage2.train_x.shape[1] == 1024 and a.audio_dim == 512
    # stage-2 training = stage-1 train + val-seen + val-unseen samples (the AVCA protocol)
    assert len(a.stage2.train_y) == len(a.stage1.train_y) + len(a.stage1.seen_y) + len(a.stage1.unseen_y)


def test_synthetic_gzsl_on_real_semantics_uses_given_embeddings():
    names = [f"c{i}" for i in range(6)]
    text = np.eye(6, 300, dtype=np.float32)
    splits = {"stage_1_train": ["c0", "c1"], "stage_1_val_unseen": ["c2", "c3"], "stage_2_test_unseen": ["c4", "c5"]}
    b = synthetic_gzsl(spec=AVFeatureSpec(n_train=4, n_eval=2), text=text, class_names=names, splits=splits)
    assert b.class_names == names and np.array_equal(b.text, text)
    assert list(b.stage2.unseen_classes) == [4, 5] and list(b.stage2.seen_classes) == [0, 1, 2, 3]


# ---------------------------------------------------------------- components

def test_generator_and_critic_shapes_and_parameter_counts():
    G, D = p3.Generator(), p3.Critic()
    assert G(torch.zeros(2, 1024), torch.zeros(2, 300)).shape == (2, 1024)
    assert D(torch.zeros(2, 1024), torch.zeros(2, 300)).shape == (2,)
    n = lambda m: sum(p.numel() for p in m.parameters())  # noqa: E731
    assert n(G) == (1324 * 512 + 512) + (512 * 512 + 512) + (512 * 1024 + 1024)
    assert n(D) == (1324 * 662 + 662) + (662 + 1)


def test_gradient_penalty_of_a_linear_critic_is_known():
    class Linear(torch.nn.Module):
        def __init__(self, w):
            super().__init__()
            self.w = w

        def forward(self, x, t):
            return x @ self.w

    w = torch.tensor([3.0, 4.0])  # ||grad|| = 5 everywhere -> penalty (5 - 1)^2 = 16
    gp = p3.gradient_penalty(Linear(w), torch.randn(7, 2), torch.randn(7, 2), torch.zeros(7, 1))
    assert gp.item() == pytest.approx(16.0)


def test_feature_generator_trains_and_samples_deterministically():
    rng = np.random.default_rng(0)
    text = np.eye(3, 300, dtype=np.float32)
    y = np.repeat([0, 1], 20)
    x = (rng.standard_normal((40, 16)) + 3 * y[:, None]).astype(np.float32)
    kw = dict(epochs=1, batch_size=8, z_dim=8, critic_steps=2, seed=0, device="cpu")
    g1, hist = p3.train_feature_generator(x, y, text, **kw)
    g2, _ = p3.train_feature_generator(x, y, text, **kw)
    xs, ys = g1.sample(np.array([2]), 5, seed=3)
    assert xs.shape == (5, 16) and list(ys) == [2] * 5
    assert np.allclose(xs, g2.sample(np.array([2]), 5, seed=3)[0])
    assert set(hist) == {"critic", "wasserstein", "rec", "emb"} and all(np.isfinite(v[0]) for v in hist.values())


def test_trainers_do_not_depend_on_or_change_the_global_stream():
    rng = np.random.default_rng(1)
    y = np.repeat([0, 1, 2], 8)
    xs = rng.standard_normal((24, 10)).astype(np.float32)
    xu = rng.standard_normal((12, 10)).astype(np.float32)
    text = np.eye(3, 300, dtype=np.float32)

    def train_all():
        det = p3.train_ood_detector(xs, y, xu, epochs=2, batch_size=8, hidden=(8, 4), seed=3, device="cpu")
        emb = p3.train_embedding_model(xs, y, text, audio_dim=5, epochs=2, batch_size=8, seed=4, device="cpu")
        gen, _ = p3.train_feature_generator(xs, y, text, epochs=1, batch_size=8, z_dim=4, critic_steps=1, seed=5,
                                            device="cpu")
        return [det.model, emb.model, gen.generator]

    torch.manual_seed(0)
    first = train_all()
    torch.rand(100)  # whatever ran before ...
    second = train_all()
    for a, b in zip(first, second):  # ... each component's weights are the same
        assert all(torch.equal(v, b.state_dict()[k]) for k, v in a.state_dict().items())
    before = torch.random.get_rng_state()
    train_all()
    assert torch.equal(torch.random.get_rng_state(), before)  # and the caller's stream is untouched
    with pytest.raises(ValueError, match="critic_steps"):
        p3.train_feature_generator(xs, y, text, critic_steps=0, device="cpu")


def test_entropy_matches_scipy():
    logits = torch.randn(5, 4)
    ref = scipy.stats.entropy(torch.softmax(logits, 1).numpy(), axis=1)
    assert np.allclose(p3.entropy(logits).numpy(), ref, atol=1e-6)
    from oodlib.scores import softmax_entropy

    assert p3.entropy is softmax_entropy  # the core scorer, not a copy


@pytest.mark.parametrize("kind", ["entropy", "binary"])
def test_detectors_separate_a_toy_problem_with_higher_scores_for_unseen(kind):
    rng = np.random.default_rng(0)
    y = np.repeat([0, 1, 2], 40)
    centres = rng.standard_normal((3, 10)) * 4
    xs = (centres[y] + rng.standard_normal((120, 10))).astype(np.float32)
    xu = (rng.standard_normal((60, 10)) * 4 + 12).astype(np.float32)
    det = p3.train_ood_detector(xs, y, xu, kind=kind, epochs=15, lr=1e-3, batch_size=16, hidden=(32, 16), device="cpu")
    s, u = det.score(xs), det.score(xu)
    assert p3.detection_auc(s, u) > 0.95
    if kind == "entropy":
        assert det.threshold == pytest.approx(float(s.mean()))
    assert det.is_unseen(xu).mean() > det.is_unseen(xs).mean()
    with pytest.raises(ValueError, match="kind"):
        p3.train_ood_detector(xs, y, xu, kind="energy")


def test_embedding_model_shapes_losses_and_prediction():
    torch.manual_seed(0)
    m = p3.CrossAttentionEmbedding(audio_dim=8, video_dim=6, text_dim=12, joint_dim=4, heads=3)
    x, t = torch.randn(5, 14), torch.randn(5, 12)
    out = m.encode_av(*m.split(x))
    assert out["proj_av"].shape == (5, 4) and out["enc_a"].shape == (5, 12)
    seq = m.encode_av(torch.randn(5, 3, 8), torch.randn(5, 3, 6))  # (n, T, d) sequences work too
    assert seq["proj_av"].shape == (5, 4)
    m.eval()
    full = p3.embedding_loss(m, x, t, x.flip(0), t.flip(0))
    plus = p3.embedding_loss(m, x, t, x.flip(0), t.flip(0), terms=frozenset({"trip+", "rec+", "reg+"}))
    assert full.item() > plus.item() > 0
    assert p3.embedding_loss(m, x, t, x, t, terms=frozenset()).item() == 0
    with pytest.raises(ValueError, match="unknown loss terms"):
        p3.embedding_loss(m, x, t, x, t, terms=frozenset({"kl+"}))


def test_triplet_matches_its_formula():
    x, y, z = torch.tensor([[0.0, 0.0]]), torch.tensor([[3.0, 4.0]]), torch.tensor([[1.0, 0.0]])
    assert triplet(x, y, z, margin=1.0).item() == pytest.approx(max(5 - 1 + 1, 0))
    assert triplet(x, z, y, margin=1.0).item() == 0.0


def test_negatives_come_from_other_classes():
    y = torch.tensor([0, 0, 0, 1, 2, 2])
    idx = _negatives(y, torch.Generator().manual_seed(0))
    assert (y[idx] != y).all()


def test_embedding_classifier_learns_and_predicts_given_classes():
    rng = np.random.default_rng(0)
    text = np.eye(4, 300, dtype=np.float32)
    y = np.repeat([0, 1, 2], 30)
    x = (np.repeat(rng.standard_normal((3, 14)) * 3, 30, axis=0) + rng.standard_normal((90, 14))).astype(np.float32)
    clf = p3.train_embedding_model(x, y, text, audio_dim=8, epochs=20, lr=3e-3, batch_size=16, dropout_enc=0,
                                   dropout_proj=0, dropout_dec=0, device="cpu")
    assert set(clf.predict(x, np.array([1, 3]))) <= {1, 3}
    assert clf.distances(x, np.array([0, 1, 2])).shape == (90, 3)
    assert np.mean(clf.predict(x, np.array([0, 1, 2])) == y) > 0.9


# ---------------------------------------------------------------- routing and metrics

def test_detector_reports_a_collapse_to_a_constant_score():
    rng = np.random.default_rng(0)
    y = np.repeat([0, 1, 2], 20)
    xs = (rng.standard_normal((60, 8)) * 50 + 100).astype(np.float32)
    xu = (rng.standard_normal((30, 8)) * 50 + 100).astype(np.float32)
    with pytest.warns(RuntimeWarning, match="collapsed.*det_lr"):
        det = p3.train_ood_detector(xs, y, xu, epochs=5, lr=50.0, batch_size=8, hidden=(16, 8), device="cpu")
    assert det.collapsed and np.ptp(det.score(xs)) < 1e-6
    ok = p3.train_ood_detector(xs / 100, y, xu / 100, epochs=3, lr=1e-3, batch_size=8, hidden=(16, 8), device="cpu")
    assert not ok.collapsed


def test_calibrated_stacking_and_its_detector_score_agree():
    rng = np.random.default_rng(0)
    dist = rng.uniform(0, 2, (50, 5))
    classes, seen = np.array([0, 1, 2, 3, 4]), np.array([0, 1, 2])
    score = p3.stacking_score(dist, classes, seen)
    for beta in (0.0, 0.3, 1.0):
        pred = p3.calibrated_stacking(dist, classes, seen, beta)
        assert np.array_equal(~np.isin(pred, seen), score > -beta)
    assert np.isin(p3.calibrated_stacking(dist, classes, seen, 10.0), [3, 4]).all()


def test_choose_beta_picks_the_validation_optimum():
    classes, seen = np.array([0, 1]), np.array([0])
    dist_seen = np.array([[0.0, 0.5], [0.0, 0.5]])  # seen samples, class 0 by 0.5
    dist_unseen = np.array([[0.0, 0.2], [0.0, 0.2]])  # unseen samples, class 1 needs beta > 0.2
    beta, hms = p3.choose_beta(dist_seen, np.array([0, 0]), dist_unseen, np.array([1, 1]), classes, seen)
    assert 0.2 < beta < 0.5 and hms.max() == pytest.approx(1.0)


def test_operating_point_matches_fpr_at_tpr():
    rng = np.random.default_rng(1)
    s, u = rng.normal(0, 1, 200), rng.normal(1.5, 1, 150)
    op = p3.operating_point(s, u, 0.6)
    assert op["tpr"] >= 0.6 and np.mean(s <= op["threshold"]) == pytest.approx(op["tpr"])
    assert np.mean(u <= op["threshold"]) == pytest.approx(op["fpr"])
    y = np.r_[np.ones(200), np.zeros(150)]
    assert op["fpr"] == pytest.approx(fpr_at_tpr(y, -np.r_[s, u], 0.6, pos_label=1, method="at_least"))


def test_route_and_local_labels():
    assert list(p3.route(np.array([True, False]), np.array([1, 2]), np.array([7, 8]))) == [7, 2]
    assert list(p3.local_labels(np.array([5, 9, 5]), np.array([9, 5]))) == [1, 0, 1]
    with pytest.raises(ValueError, match="class id 4"):
        p3.local_labels(np.array([4]), np.array([9, 5]))


def test_hparams_presets_follow_the_paper_and_reject_unknown_names():
    assert (p3.hparams("UCF").det_lr, p3.hparams("UCF").det_batch) == (0.0009, 16)  # the authors' code, not the text
    from oodlib.papers.p3_av_ood.hparams import PAPER_TEXT_UCF_DET_LR

    assert PAPER_TEXT_UCF_DET_LR == 0.009
    assert (p3.hparams("VGGSound").sc_lr, p3.hparams("VGGSound").sc_batch) == (0.008, 1024)
    assert p3.hparams("ActivityNet").n_syn_unseen == 1000
    assert p3.hparams("UCF", det_epochs=3).det_epochs == 3
    with pytest.raises(ValueError, match="unknown hyperparameters"):
        p3.hparams("UCF", det_epoch=3)
    with pytest.raises(ValueError, match="unknown hyperparameter set"):
        p3.hparams("Kinetics")


def test_paper_tables_select_one_dataset():
    t1 = select_group(paper_table("p3", "table1"), "UCF")
    assert list(t1.columns) == ["S", "U", "HM", "ZSL"] and t1.loc["AV-OOD", "HM"] == 37.89
    with pytest.raises(KeyError, match="groups are"):
        select_group(t1, "Kinetics")


def test_end_to_end_tiny_run_is_deterministic():
    bench = synthetic_gzsl("UCF", AVFeatureSpec(n_train=6, n_eval=3), seed=0)
    hp = p3.hparams("UCF", **TINY)
    runs = [p3.run_av_ood(bench, hp, seed=0, device="cpu") for _ in range(2)]
    m = [p3.av_ood_metrics(r) for r in runs]
    assert m[0] == m[1] and set(m[0]) == {"S", "U", "HM", "ZSL"}
    from oodlib.papers.p3_av_ood import tables as p3t
    from oodlib.papers.p3_av_ood.run import P3Result

    t2 = p3t.table2(P3Result({"UCF": runs[0]}))
    assert list(t2.index) == ["Calibrated stacking", "OOD-binary", "OOD-entropy"]
    assert list(t2.columns) == ["UCF AUC", "UCF FPR", "UCF HM"]
    assert ((t2.values >= 0) & (t2.values <= 100)).all()


def test_a_dataset_gives_the_same_numbers_alone_or_beside_the_others():
    """Each dataset's data and components draw from seeds derived from its name, so running UCF alone
    reproduces UCF's columns of a two-dataset run exactly (the exercises rely on it)."""
    from oodlib.papers.p3_av_ood import tables as p3t

    sizes = dict(n_train=4, n_eval=2, ablation=False, overrides=TINY)
    both = p3.P3Config(datasets=["UCF", "ActivityNet"], **sizes)
    alone = p3.P3Config(datasets=["UCF"], **sizes)
    t_both, t_alone = (p3t.table1(p3.run(c, p3.load(c))) for c in (both, alone))
    assert list(t_both.columns[:4]) == ["UCF S", "UCF U", "UCF HM", "UCF ZSL"] and len(t_both.columns) == 8
    np.testing.assert_array_equal(t_both[t_alone.columns].values, t_alone.values)


def test_avca_stage1_stops_early_on_validation_and_fixes_avca_stage2_epochs():
    """AVCA's protocol: the stage-1 model early-stops on the validation HM (never test), its best epoch
    sets AVCA's stage-2 epochs; AV-OOD's stage 2 runs uc_epochs."""
    from oodlib.papers.p3_av_ood.pipeline import avca_epochs

    bench = synthetic_gzsl("UCF", AVFeatureSpec(n_train=6, n_eval=3), seed=0)
    r = p3.run_av_ood(bench, p3.hparams("UCF", **{**TINY, "uc_epochs": 6, "uc_patience": 2}), seed=0, device="cpu")
    h1 = r.stage1_embedding.history
    assert len(h1.validation) == h1.epochs_run and h1.best_epoch == int(np.argmax(h1.validation))
    assert h1.epochs_run == 6 or (h1.stopped_early and h1.epochs_run == h1.best_epoch + 3)
    assert r.avca_embedding.history.epochs_run == avca_epochs(r.stage1_embedding) == h1.best_epoch + 1
    assert r.embedding.history.epochs_run == 6 and len(r.embedding.history.validation) == 6  # plateau: training loss


def test_generator_decoder_is_the_authors_and_learns_in_the_generator_step():
    """The text decoder is 1024 -> 662 -> 662 -> 300 and, as in the authors' code, it is stepped in the
    generator step too: its critic-step loss sees only real features, so without that step its weights
    could not depend on the weight of L_rec (on generated features); with it, they do."""
    rng = np.random.default_rng(0)
    text = np.eye(3, 300, dtype=np.float32)
    y = np.repeat([0, 1], 10)
    x = (rng.standard_normal((20, 1024)) + y[:, None]).astype(np.float32)
    kw = dict(epochs=1, batch_size=8, z_dim=8, critic_steps=1, seed=0, device="cpu", steps_per_epoch=3)
    g0, _ = p3.train_feature_generator(x, y, text, rec_weight=0.0, **kw)
    g1, _ = p3.train_feature_generator(x, y, text, rec_weight=1.0, **kw)
    shapes = [(m.in_features, m.out_features) for m in g0.decoder if isinstance(m, torch.nn.Linear)]
    assert shapes == [(1024, 662), (662, 662), (662, 300)]
    w0, w1 = (dict(g.decoder.named_parameters()) for g in (g0, g1))
    assert any(not torch.equal(w0[k], w1[k]) for k in w0)


def test_one_components_settings_never_change_another_component():
    """Changing the detector's epochs leaves the generator, the seen MLP and both embedding models unchanged;
    a different run seed changes them (each component draws from child_seed(seed, "p3/<component>"))."""
    bench = synthetic_gzsl("UCF", AVFeatureSpec(n_train=6, n_eval=3), seed=0)
    base = {**TINY, "sc_epochs": 2}
    base.pop("det_epochs")
    a = p3.run_av_ood(bench, p3.hparams("UCF", det_epochs=1, **base), seed=0, device="cpu")
    b = p3.run_av_ood(bench, p3.hparams("UCF", det_epochs=3, **base), seed=0, device="cpu")
    assert not np.array_equal(a.test.scores["OOD-entropy"], b.test.scores["OOD-entropy"])  # the detector did change
    np.testing.assert_array_equal(a.synthetic_unseen[0], b.synthetic_unseen[0])
    for name in ("seen_mlp", "unseen_mlp", "seen_emb", "unseen_emb", "stacking_pred"):
        np.testing.assert_array_equal(getattr(a.test, name), getattr(b.test, name))
    for pa, pb in zip(a.seen_mlp.parameters(), b.seen_mlp.parameters()):
        assert torch.equal(pa, pb)
    np.testing.assert_array_equal(a.test.scores["Calibrated stacking"], b.test.scores["Calibrated stacking"])
    c = p3.run_av_ood(bench, p3.hparams("UCF", det_epochs=1, **base), seed=1, device="cpu")
    assert not np.array_equal(a.test.scores["Calibrated stacking"], c.test.scores["Calibrated stacking"])


def _authors_parameter_count(audio: int = 512, video: int = 512, text: int = 300, joint: int = 64,
                             hidden: int = 512, heads: int = 3, dim_head: int = 100, mlp: int = 64) -> int:
    """The AVCA/AV-OOD unseen classifier's trainable parameters, counted layer by layer from its
    documented shapes (Linear weights + biases, BatchNorm and LayerNorm scales + shifts)."""
    lin = lambda i, o, bias=True: i * o + (o if bias else 0)  # noqa: E731
    bn = lambda d: 2 * d  # noqa: E731
    two = lambda i, h, o: lin(i, h) + bn(h) + lin(h, o) + bn(o)  # noqa: E731
    one = lambda i, o: lin(i, o) + bn(o)  # noqa: E731
    inner = heads * dim_head
    transformer = 2 * text + lin(text, 3 * inner, bias=False) + lin(inner, text) + 2 * text + lin(text, mlp) + lin(mlp, text)
    return (two(audio, hidden, text) + two(video, hidden, text) + 2 * text + transformer
            + 2 * two(text, hidden, joint) + one(text, joint) + 3 * one(joint, text))


def test_fusion_attention_is_real_attention_on_the_two_tokens():
    """On the 2-token input the softmax is over two keys (weights not all 1), and queries and keys get
    gradient; the old single-token cross-attention had weights == 1 and ~0 query/key gradient."""
    torch.manual_seed(0)
    m = p3.CrossAttentionEmbedding(audio_dim=16, video_dim=16, dropout_enc=0, dropout_proj=0, dropout_dec=0)
    out = m.encode_av(torch.randn(8, 16), torch.randn(8, 16), with_weights=True)
    w = out["weights"]
    assert w.shape == (8, 3, 2, 2) and torch.allclose(w.sum(-1), torch.ones(8, 3, 2))
    assert (w < 0.999).all() and (w > 0.001).all()
    out["proj_av"].pow(2).sum().backward()
    qkv = m.fusion.attn.to_qkv.weight.grad  # rows: queries, keys, values
    inner = qkv.shape[0] // 3
    assert qkv[:inner].abs().max() > 1e-4 and qkv[inner:2 * inner].abs().max() > 1e-4


def test_embedding_model_has_the_authors_shapes_and_parameter_count():
    m = p3.CrossAttentionEmbedding()
    assert sum(p.numel() for p in m.parameters()) == _authors_parameter_count()
    shapes = {n: tuple(p.shape) for n, p in m.named_parameters()}
    assert shapes["a_enc.0.weight"] == (512, 512) and shapes["a_enc.4.weight"] == (300, 512)
    assert shapes["fusion.attn.to_qkv.weight"] == (900, 300) and "fusion.attn.to_qkv.bias" not in shapes
    assert shapes["fusion.ff.1.weight"] == (64, 300) and shapes["pos"] == (2, 300)
    assert shapes["a_proj.0.weight"] == (512, 300) and shapes["a_proj.4.weight"] == (64, 512)
    assert shapes["t_proj.0.weight"] == (64, 300) and shapes["decoder.0.weight"] == (300, 64)
    for dataset in ("UCF", "VGGSound", "ActivityNet"):  # the presets change dropout and training only
        hp = p3.hparams(dataset)
        mm = p3.CrossAttentionEmbedding(dropout_enc=hp.dropout_enc, dropout_proj=hp.dropout_proj,
                                        dropout_dec=hp.dropout_dec)
        assert sum(p.numel() for p in mm.parameters()) == _authors_parameter_count()


def test_regularisation_targets_the_encoder_output_and_eval_mode_is_checked():
    torch.manual_seed(0)
    m = p3.CrossAttentionEmbedding(audio_dim=8, video_dim=6, text_dim=12, joint_dim=4, hidden=16)
    m.eval()
    out = m.encode_av(torch.randn(5, 8), torch.randn(5, 6))
    assert not torch.allclose(out["enc_a"], out["att_a"])  # attention changed the features...
    with torch.no_grad():
        reg = p3.embedding_loss(m, torch.randn(5, 14), torch.randn(5, 12), torch.randn(5, 14), torch.randn(5, 12),
                                terms=frozenset({"reg+"}))
    assert reg.item() > 0
    with pytest.raises(ValueError, match="eval_mode"):
        p3.train_embedding_model(np.zeros((4, 14), np.float32), np.array([0, 0, 1, 1]), np.eye(2, 12, dtype=np.float32),
                                 audio_dim=8, epochs=1, eval_mode="audio")
    with pytest.raises(Exception, match="uc_eval"):
        p3.hparams("UCF", uc_eval="audio")


#: the authors' tensor names and shapes (AVCA's module tree, as AV-OOD reuses it) for the default
#: dimensions, typed from their architecture, not derived from our mapping
OFFICIAL_KEYS = {
    "A_enc.fc.0.weight": (512, 512), "A_enc.fc.1.running_var": (512,), "A_enc.fc.4.weight": (300, 512),
    "A_enc.fc.5.num_batches_tracked": (), "V_enc.fc.4.bias": (300,),
    "cross_attention.layers.0.0.norm.weight": (300,), "cross_attention.layers.0.0.fn.to_qkv.weight": (900, 300),
    "cross_attention.layers.0.0.fn.to_out.0.weight": (300, 300), "cross_attention.layers.0.1.norm.bias": (300,),
    "cross_attention.layers.0.1.fn.net.0.weight": (64, 300), "cross_attention.layers.0.1.fn.net.3.weight": (300, 64),
    "A_proj.fc.0.weight": (512, 300), "V_proj.fc.4.weight": (64, 512), "W_proj.fc.0.weight": (64, 300),
    "D.fc.0.weight": (300, 64), "A_rec.fc.1.weight": (300,), "V_rec.fc.0.bias": (300,), "pos_emb1D": (2, 300),
}


def _official_state(model) -> dict:
    from oodlib.papers.p3_av_ood.checkpoints import official

    return {official(k): v.clone() for k, v in model.state_dict().items()}


def test_official_checkpoint_loads_strictly_and_reproduces_the_model(tmp_path):
    torch.manual_seed(1)
    source = p3.CrossAttentionEmbedding().eval()
    state = _official_state(source)
    for key, shape in OFFICIAL_KEYS.items():  # the official list is what our mapping produces
        assert tuple(state[key].shape) == shape, key
    path = tmp_path / "avood_unseen.pt"
    torch.save({"model": {f"module.{k}": v for k, v in state.items()}, "epoch": 3}, path)
    torch.manual_seed(2)
    target = p3.load_official(p3.CrossAttentionEmbedding(), path).eval()
    a, v = torch.randn(4, 512), torch.randn(4, 512)
    with torch.no_grad():
        assert torch.equal(target.encode_av(a, v)["proj_av"], source.encode_av(a, v)["proj_av"])


def test_official_checkpoint_mismatches_are_named(tmp_path):
    state = _official_state(p3.CrossAttentionEmbedding())
    broken = {k: v for k, v in state.items() if k != "pos_emb1D"}
    broken["A_enc.fc.0.weight"] = torch.zeros(512, 256)
    broken["classifier.weight"] = torch.zeros(3, 3)
    torch.save(broken, tmp_path / "broken.pt")
    with pytest.raises(ValueError, match=r"missing: pos_emb1D.*unexpected: classifier.weight.*shape: A_enc.fc.0.weight"):
        p3.load_official(p3.CrossAttentionEmbedding(), tmp_path / "broken.pt")
    torch.save({"epoch": torch.tensor(3)}, tmp_path / "nothing.pt")
    with pytest.raises(ValueError, match="does not match|holds no state dict"):
        p3.load_official(p3.CrossAttentionEmbedding(), tmp_path / "nothing.pt")
    with pytest.raises(FileNotFoundError):
        p3.load_official(p3.CrossAttentionEmbedding(), tmp_path / "absent.pt")


def test_a_run_evaluates_the_authors_checkpoint_in_place_of_training(tmp_path):
    """``uc_checkpoint``: AV-OOD's unseen classifier is the loaded one (its outputs are the source model's), the
    rest is trained as usual, and the loss ablation trains its own full model so it stays paired."""
    from oodlib.papers.p3_av_ood.run import train_ablation

    bench = synthetic_gzsl("UCF", AVFeatureSpec(n_train=6, n_eval=3), seed=0)
    hp = p3.hparams("UCF", **TINY)
    trained = p3.run_av_ood(bench, hp, seed=0, device="cpu")
    path = tmp_path / "avood_unseen.pt"
    torch.save({"model": _official_state(trained.embedding.model)}, path)
    loaded = p3.run_av_ood(bench, hp, seed=1, device="cpu", uc_checkpoint=str(path))
    assert loaded.uc_checkpoint == str(path) and loaded.embedding.model is not trained.embedding.model
    x = np.concatenate([bench.stage2.seen_x, bench.stage2.unseen_x])
    np.testing.assert_array_equal(loaded.embedding.distances(x, bench.stage2.all_classes),
                                  trained.embedding.distances(x, bench.stage2.all_classes))
    abl = train_ablation(loaded, seed=1, device="cpu")
    st = bench.stage2
    again = p3.train_embedding(st, bench, hp, p3.component_seeds(1)["embedding/stage2"], "cpu")
    np.testing.assert_array_equal(abl["L+ + L- (ours)"], again.predict(x, st.unseen_classes))  # retrained: paired
    with pytest.raises(ParameterError, match="uc_checkpoints.*no file"):
        p3.P3Config(data="avca", uc_checkpoints={"UCF": str(tmp_path / "absent.pt")}).check()
    with pytest.raises(ParameterError, match="uc_checkpoints.*real SeLaVi features"):
        p3.P3Config(uc_checkpoints={"UCF": str(path)}).check()  # synthetic features: the authors' weights mean nothing there
    with pytest.raises(ParameterError, match="uc_checkpoints"):
        p3.P3Config(data="avca", datasets=["VGGSound"], uc_checkpoints={"UCF": str(path)}).check()  # not run
    assert p3.P3Config(datasets=["UCF"]).hp("UCF").uc_steps == 10  # the default's other datasets' entries: unused
    from oodlib.papers.p3_av_ood.run import P3Result

    ev = P3Result({"UCF": loaded}, {}, "avca").evidence()
    cs = {c.id: c for c in p3.claims(p3.P3Config(datasets=["UCF"]))}
    v = judge(cs["p3/avood_beats_avca"], ev, n_resamples=20)
    assert v.verdict == "inconclusive" and "not a paired comparison" in v.reason
