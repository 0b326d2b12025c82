"""P4 in the paper-package shape: its claims on fixtures (every verdict reachable), its run end to end."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from oodlib.claims import Evidence, judge
from test_paper_claims import _q
from oodlib.papers import p4_vae_auggan as p4
from oodlib.papers.p4_vae_auggan.run import ABLATIONS, FULL, OPV, OPV_VARIANT, POSTERIOR, SMALL

NOISE, NONE, KL = "noise input + Sinkhorn", "VAE input + no confident loss", "VAE input + KL"
TEST_AUROC = {f"{FULL}|max-softmax": 80, f"{SMALL}|max-softmax": 65, f"{POSTERIOR}|max-softmax": 78,
              f"{OPV}|sinkhorn": 92, f"{OPV}|max-softmax": 80}
ABLATION_AUROC = {f"{OPV_VARIANT}|sinkhorn": 92, f"{OPV_VARIANT}|max-softmax": 88, f"{NOISE}|sinkhorn": 75,
                  f"{NOISE}|max-softmax": 75, f"{NONE}|max-softmax": 70, f"{NONE}|sinkhorn": 70,
                  f"{KL}|max-softmax": 72, f"{KL}|sinkhorn": 72}


def p4_evidence(n: int = 300, auroc: dict | None = None, acc: float = 0.8, rho: float = 0.5) -> dict[str, Evidence]:
    """Known and unknown clips (``n`` each) whose scores reach the given AUROCs (percent)."""
    auroc = {**TEST_AUROC, **ABLATION_AUROC, **(auroc or {})}
    unknown = np.r_[np.zeros(n, bool), np.ones(n, bool)]
    facts = {"chance_accuracy": 0.1, "unknown_share": 0.5, "spearman_opv_scores": rho}
    out = {}
    for name, keys in (("test", TEST_AUROC), ("ablation", ABLATION_AUROC)):
        arrays = {"is_unknown": unknown}
        for i, key in enumerate(keys):
            d = float(np.sqrt(2) * stats.norm.ppf(auroc[key] / 100))
            arrays[key] = np.r_[_q(n, 0, 2 * i), _q(n, d, 2 * i + 1)]
        systems = {k.split("|")[0] for k in keys}
        out[name] = Evidence(name, arrays, stratify="is_unknown", facts={**facts, **{f"acc:{s}": acc for s in systems}})
    return out


CASES = {  # claim id -> fixture keyword arguments per verdict
    "p4/opv_beats_posterior": {"supported": {}, "not supported": {"auroc": {f"{OPV}|sinkhorn": 60}},
                               "inconclusive": {"n": 10, "auroc": {f"{OPV}|sinkhorn": 80}}},
    "p4/opv_beats_full": {"supported": {}, "not supported": {"auroc": {f"{OPV}|sinkhorn": 70}},
                          "inconclusive": {"n": 10, "auroc": {f"{OPV}|sinkhorn": 82}}},
    "p4/eer_20pct_better": {"supported": {}, "not supported": {"auroc": {f"{OPV}|sinkhorn": 75}},
                            "inconclusive": {"n": 10, "auroc": {f"{OPV}|sinkhorn": 86}}},
    "p4/sinkhorn_score_beats_msp": {"supported": {}, "not supported": {"auroc": {f"{OPV}|sinkhorn": 70}},
                                    "inconclusive": {"n": 10, "auroc": {f"{OPV}|sinkhorn": 82}}},
    "p4/vae_input_beats_noise": {"supported": {}, "not supported": {"auroc": {f"{NOISE}|sinkhorn": 97}},
                                 "inconclusive": {"n": 10, "auroc": {f"{NOISE}|sinkhorn": 90}}},
    "p4/sinkhorn_loss_beats_kl_and_none": {"supported": {}, "not supported": {"auroc": {f"{KL}|max-softmax": 97}},
                                           "inconclusive": {"n": 10, "auroc": {f"{KL}|max-softmax": 86}}},
}


@pytest.mark.parametrize("claim", p4.claims(p4.P4Config()), ids=lambda c: c.id)
@pytest.mark.parametrize("verdict", ["supported", "not supported", "inconclusive"])
def test_every_p4_claim_can_take_every_verdict(claim, verdict):
    v = judge(claim, p4_evidence(**CASES[claim.id][verdict]))
    assert v.verdict == verdict, v.evidence_text()


def test_p4_claims_carry_the_papers_values():
    cs = {c.id: c for c in p4.claims(p4.P4Config())}
    assert set(cs) == set(CASES)
    assert cs["p4/opv_beats_posterior"].paper_effect == pytest.approx(88.29 - 81.53)
    assert cs["p4/opv_beats_full"].paper_effect == pytest.approx(88.29 - 85.15)
    assert cs["p4/eer_20pct_better"].margin == 20.0
    # "outperforms" means a gain beyond the margin, never "within 2 points"
    assert cs["p4/opv_beats_full"].direction == "greater" and cs["p4/opv_beats_full"].margin > 0


def test_sinkhorn_vs_msp_is_untestable_when_the_scores_rank_alike():
    claim = next(c for c in p4.claims(p4.P4Config()) if c.id == "p4/sinkhorn_score_beats_msp")
    v = judge(claim, p4_evidence(rho=0.995))
    assert v.verdict == "inconclusive" and "monotone function of the max probability" in v.reason


def test_p4_claims_need_learned_systems_and_the_ablation():
    cs = p4.claims(p4.P4Config())
    for claim in cs:
        v = judge(claim, p4_evidence(acc=0.15))
        assert v.verdict == "inconclusive" and "did not learn" in v.reason, claim.id
    only_test = {"test": p4_evidence()["test"]}
    assert {c.id: judge(c, only_test).verdict for c in cs if c.evidence == "ablation"} == {
        "p4/vae_input_beats_noise": "not run", "p4/sinkhorn_loss_beats_kl_and_none": "not run"}


def test_eer_reduction_matches_the_definition():
    from oodlib.metrics.binary import eer
    from oodlib.papers.p4_vae_auggan.claims import eer_reduction

    a = p4_evidence()["test"].arrays
    others = min(100 * eer(a["is_unknown"], a[f"{n}|max-softmax"]) for n in (FULL, SMALL, POSTERIOR))
    assert eer_reduction(a) == pytest.approx(100 * (1 - 100 * eer(a["is_unknown"], a[f"{OPV}|sinkhorn"]) / others))


def test_blur_is_a_checked_parameter():
    from oodlib.params import ParameterError

    assert p4.P4Config(blur=0.2).blur == 0.2
    with pytest.raises(ParameterError, match="'blur'"):
        p4.P4Config.from_params({"blur": 0.0})


@pytest.mark.slow
def test_p4_shape_end_to_end_small():
    """load -> run -> tables -> evidence -> claims on a tiny synthetic run; twice the same numbers."""
    cfg = p4.P4Config(epochs=1, n_train=6, n_eval=3, width=4, aug_copies=1, small_fraction=0.5, device="cpu")
    data = p4.load(cfg)
    assert data.x_small_aug.shape[0] == 2 * data.x_small.shape[0] and 0 < data.unknown_share < 1
    res = p4.run(cfg, data)
    t1, abl = p4.table1(res), p4.ablation_table(res)
    assert list(t1.index) == [*p4.SYSTEMS, "OpVAEAugGAN, max-softmax score"]
    assert list(abl.index) == [OPV_VARIANT, *ABLATIONS]
    assert abl.loc[OPV_VARIANT, "AUROC (Sinkhorn)"] == pytest.approx(t1.loc[OPV, "AUROC"])
    ev = res.evidence()
    assert set(ev) == {"test", "ablation"} and ev["test"].unit_counts() == {
        "False": int((data.y_test >= 0).sum()), "True": int((data.y_test < 0).sum())}
    verdicts = [judge(c, ev) for c in p4.claims(cfg)]
    assert all(v.verdict in ("supported", "not supported", "inconclusive") for v in verdicts)
    again = p4.run(cfg, p4.load(cfg))
    assert p4.table1(again).equals(t1)


def test_synthetic_unknown_word_lists_are_disjoint():
    from oodlib.papers.p4_vae_auggan.data import DEV_UNKNOWN, TEST_UNKNOWN, TEN_WORDS

    assert len(TEST_UNKNOWN) == 25 and not set(TEST_UNKNOWN) & set(DEV_UNKNOWN)
    assert not set(TEST_UNKNOWN) & set(TEN_WORDS) and not set(DEV_UNKNOWN) & set(TEN_WORDS)


def test_max_per_word_draws_at_random_not_the_first_files():
    import pandas as pd

    from oodlib.papers.p4_vae_auggan.data import cap_per_word

    known = pd.DataFrame({"label": ["yes"] * 50 + ["no"] * 50, "part": (["train"] * 40 + ["test"] * 10) * 2,
                          "path": [f"{i:03d}.wav" for i in range(100)]})
    capped = cap_per_word(known, 5, seed=0)
    assert capped.groupby(["label", "part"]).size().tolist() == [5, 5, 5, 5]
    assert capped.index.is_monotonic_increasing
    first = known.groupby(["label", "part"], group_keys=False).head(5)
    assert not capped.index.equals(first.index)  # not simply the first five files of each group
    assert cap_per_word(known, 5, seed=0).equals(capped) and not cap_per_word(known, 5, seed=1).equals(capped)
    assert cap_per_word(known, 0, seed=0) is known


def test_feature_matching_per_clip_and_per_batch():
    import torch

    from oodlib.papers.p4_vae_auggan.train import SystemConfig, feature_matching

    real = torch.tensor([[1.0, 0.0], [0.0, 1.0]])
    swapped = real.flip(0)  # the same batch mean, every clip far from its own reconstruction
    assert float(feature_matching(real, swapped, per_sample=False)) == 0.0
    assert float(feature_matching(real, swapped, per_sample=True)) == 2.0
    with pytest.raises(ValueError, match="feature_matching"):
        SystemConfig(feature_matching="median")


def test_resnet18_option_has_resnet18s_depth_and_parameters():
    import torch
    import torchvision

    from oodlib.papers.p4_vae_auggan.models import ScatResNet

    ref = torchvision.models.resnet18(num_classes=10)
    ref.conv1 = torch.nn.Conv2d(1, 64, 3, 1, 1, bias=False)  # the CIFAR-style stem on a 32 x 32 input
    ref.maxpool = torch.nn.Identity()
    ours = ScatResNet(10, scattering=False, arch="resnet18")
    count = lambda m: sum(p.numel() for p in m.parameters())  # noqa: E731
    assert count(ours) == count(ref)  # 11.17 M
    blocks = [m for m in ours.body if type(m).__name__ == "BasicBlock"]
    assert len(blocks) == 8 and [b.body[0].out_channels for b in blocks[::2]] == [64, 128, 256, 512]
    assert ours(torch.zeros(2, 1, 32, 32)).shape == (2, 10)
    small = ScatResNet(10, width=8, scattering=False)
    assert len([m for m in small.modules() if type(m).__name__ == "BasicBlock"]) == 7  # 2 stem + 5
    with pytest.raises(ValueError, match="arch"):
        ScatResNet(10, arch="resnet50")


def test_shared_discriminator_detects_with_the_classifiers_trunk():
    from oodlib.papers.p4_vae_auggan.train import SystemConfig, detector_score, train_system

    rng = np.random.default_rng(0)
    x = rng.uniform(-1, 1, (24, 1, 32, 32)).astype(np.float32)
    y = np.repeat(np.arange(3), 8)
    cfg = SystemConfig(discriminator="shared", epochs=1, width=4, batch_size=8, outlier_batch=8)
    system = train_system(cfg, x, y, n_classes=3, seed=0, device="cpu")
    assert system.detector.classifier[0] is system.classifier  # one network: classifier and detector
    assert not any(p is q for p in system.detector.out.parameters() for q in system.classifier.parameters())
    s = detector_score(system, x[:5])
    assert s.shape == (5,) and np.isfinite(s).all()
    plain = train_system(SystemConfig(gan=False, confident="none", epochs=1, width=4, batch_size=8), x, y,
                         n_classes=3, seed=0, device="cpu")
    assert detector_score(plain, x[:5]) is None
    with pytest.raises(ValueError, match="discriminator"):
        SystemConfig(discriminator="both")



def test_a_claim_that_was_not_run_names_the_runs_data():
    """ablation=False: the two ablation claims are "not run" and still say which data the run had."""
    from oodlib.claims import judge_all
    from oodlib.records import RunRecord, check_records

    record = RunRecord("p4_vae_auggan", {}, seed=0, data_source="speech_commands_v0.02_test")
    record.add_verdicts(judge_all(p4.claims(p4.P4Config()), {"test": p4_evidence()["test"]}))
    not_run = [c for c in record.claims if c["verdict"] == "not run"]
    assert len(not_run) == 2 and all(c["data"] == "speech_commands_v0.02_test" for c in not_run)
    assert check_records([record.to_dict()]) == []
