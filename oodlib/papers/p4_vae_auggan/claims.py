"""P4's claims (Teh & Tran, VAE-AugGAN, Interspeech 2021), declared with their margins before any run.

Every effect is computed from the per-clip evidence of :meth:`.run.P4Result.evidence` (score arrays
``"<system>|<score>"``, unknown clips positive), in AUROC points unless stated, and judged with a
paired bootstrap over test clips stratified by known / unknown (over seeds too, in a sweep).
``paper_effect`` is the same difference in the paper's Table 1 where it reports one.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

import numpy as np

from ...claims import Claim, Compare, Statistic, auroc_of
from ...claims.checks import not_learned
from ...claims.evidence import Evidence
from ...metrics.binary import eer
from ...tables import paper_table
from .config import P4Config
from .run import FULL, OPV, OPV_VARIANT, POSTERIOR, SMALL, SYSTEMS

Arrays = Mapping[str, np.ndarray]
AUROC = auroc_of("is_unknown")  # percent; higher score = more unknown
#: above this rank correlation the Sinkhorn score is (nearly) a monotone function of max-softmax on
#: the test clips, and "Sinkhorn separates better than max-softmax" cannot be told apart from ties
MONOTONE_SPEARMAN = 0.99


def eer_pct(a: Arrays, name: str) -> float:
    """Equal error rate (%) of score array ``name`` with the unknown clips positive."""
    return 100 * eer(a["is_unknown"], a[name])


def eer_reduction(a: Arrays) -> float:
    """Relative EER reduction (%) of OpVAEAugGAN (Sinkhorn score) against the best other system
    (each with its own score): ``100 * (1 - EER(OpV) / min(EER(others)))``."""
    others = min(eer_pct(a, f"{n}|max-softmax") for n in (FULL, SMALL, POSTERIOR))
    return float("nan") if others == 0 else 100 * (1 - eer_pct(a, f"{OPV}|sinkhorn") / others)


def _eer_parts(a: Arrays) -> dict[str, float]:
    return {f"EER({n})": eer_pct(a, f"{n}|{'sinkhorn' if n == OPV else 'max-softmax'}") for n in SYSTEMS}


def learned(*names: str, min_above_chance: float = 0.1) -> Callable[[Evidence], str | None]:
    """Inconclusive when any of the systems ``names`` is within ``min_above_chance`` of chance."""

    def check(ev: Evidence) -> str | None:
        for name in names:
            acc = ev.facts.get(f"acc:{name}")
            if acc is None:
                return f"the run did not record the closed-set accuracy of {name!r}"
            reason = not_learned(acc, ev.facts["chance_accuracy"], min_above_chance)
            if reason:
                return f"{name}: {reason}"
        return None

    return check


def scores_not_monotone(limit: float = MONOTONE_SPEARMAN) -> Callable[[Evidence], str | None]:
    """Inconclusive when OpVAEAugGAN's two scores rank the test clips (almost) identically."""

    def check(ev: Evidence) -> str | None:
        rho = ev.facts.get("spearman_opv_scores")
        if rho is not None and rho > limit:
            return (f"the Sinkhorn score ranks the test clips almost as max-softmax does (Spearman {rho:.3f} > "
                    f"{limit}): on this run it is nearly a monotone function of the max probability, so the two "
                    "AUROCs cannot differ and the claim cannot be tested with this score")
        return None

    return check


def _both(*checks: Callable[[Evidence], str | None]) -> Callable[[Evidence], str | None]:
    def check(ev: Evidence) -> str | None:
        return next((r for r in (c(ev) for c in checks) if r), None)

    return check


def _names(*pairs: tuple[str, str]) -> Sequence[str]:
    return [f"{n}|{s}" for n, s in pairs]


def claims(cfg: P4Config) -> list[Claim]:
    """P4's claims; the ablation claims need the ``"ablation"`` evidence (``cfg.ablation``; else "not run")."""
    t1 = paper_table("p4", "table1")["AUROC"]
    opv_s, opv_m = f"{OPV}|sinkhorn", f"{OPV}|max-softmax"
    auroc_margin = "an AUROC gain under one point is within what a different seed moves"
    out = [
        Claim("p4/opv_beats_posterior",
              "With the same 10% of the data, OpVAEAugGAN detects unknown words better than posterior "
              "(max-softmax) thresholding, with or without AugGAN augmentation",
              "Sec. 3.4, Table 1",
              Compare(AUROC, opv_s, _names((SMALL, "max-softmax"), (POSTERIOR, "max-softmax")), what="AUROC"),
              "test", "greater", 1.0, auroc_margin, units="AUROC points", check=learned(OPV, SMALL, POSTERIOR),
              paper_effect=float(t1[OPV] - max(t1[SMALL], t1[POSTERIOR])), paper_note="Table 1, AUROC"),
        Claim("p4/opv_beats_full",
              "With 10% of the data, OpVAEAugGAN outperforms the conventional model trained on all the data",
              "Sec. 3.4, Table 1",
              Compare(AUROC, opv_s, _names((FULL, "max-softmax")), what="AUROC"),
              "test", "greater", 1.0, f"'outperforms' means a gain: {auroc_margin}", units="AUROC points",
              check=learned(OPV, FULL), paper_effect=float(t1[OPV] - t1[FULL]), paper_note="Table 1, AUROC"),
        Claim("p4/eer_20pct_better",
              "OpVAEAugGAN's equal error rate is 20% better than the other methods' (read: at least 20% lower "
              "than the best other system's)",
              "Sec. 3.5",
              Statistic(eer_reduction, "100 * (1 - EER(OpVAEAugGAN) / min EER(other systems))", _eer_parts),
              "test", "greater", 20.0, "the paper's own figure: a 20% relative reduction", units="% EER reduction",
              check=learned(*SYSTEMS), paper_effect=20.0, paper_note="Sec. 3.5, stated in the text"),
        Claim("p4/sinkhorn_score_beats_msp",
              "On the same model, the Sinkhorn score separates known from unknown words better than the "
              "max-softmax score",
              "Sec. 3.5, Fig. 2", Compare(AUROC, opv_s, [opv_m], what="AUROC"),
              "test", "greater", 1.0, auroc_margin, units="AUROC points",
              check=_both(learned(OPV), scores_not_monotone())),
    ]
    variant = lambda name, score: f"{name}|{score}"  # noqa: E731
    out += [
        Claim("p4/vae_input_beats_noise",
              "The reparameterised VAE input makes better outliers than random noise (same Sinkhorn score)",
              "Sec. 2.2, Sec. 4",
              Compare(AUROC, variant(OPV_VARIANT, "sinkhorn"), [variant("noise input + Sinkhorn", "sinkhorn")],
                      what="AUROC"),
              "ablation", "greater", 1.0, auroc_margin,
              units="AUROC points", check=learned(OPV_VARIANT, "noise input + Sinkhorn")),
        Claim("p4/sinkhorn_loss_beats_kl_and_none",
              "The Sinkhorn confident loss trains a classifier that rejects unknown words better than the KL "
              "loss or no confident loss (all with the max-softmax score, so only the loss differs)",
              "Sec. 2.3",
              Compare(AUROC, variant(OPV_VARIANT, "max-softmax"),
                      [variant("VAE input + KL", "max-softmax"), variant("VAE input + no confident loss", "max-softmax")],
                      what="AUROC"),
              "ablation", "greater", 1.0, auroc_margin,
              units="AUROC points", check=learned(OPV_VARIANT, "VAE input + KL", "VAE input + no confident loss")),
    ]
    return out
