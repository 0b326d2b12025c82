"""The tour's claims, declared with their margins before any run."""

from __future__ import annotations

from ...claims import Claim, Compare, auroc_of
from ...claims.checks import model_learned
from .config import TourConfig

AUROC = auroc_of("is_ood")  # percent; OOD rows flagged by "is_ood", scores higher = more OOD


def claims(cfg: TourConfig | None = None) -> list[Claim]:
    """The three claims of the tour (they do not depend on the configuration)."""
    learned = model_learned(0.2)
    return [
        Claim("tour/knn_beats_msp_far", "kNN distances detect far-away inputs better than MSP",
              "tour, Results", Compare(AUROC, "kNN", ["MSP"], what="AUROC"), evidence="far",
              direction="greater", margin=5.0, units="AUROC points", check=learned,
              margin_reason="the tour's point is a large gap where softmax confidence saturates; "
                            "a few points would not show it"),
        Claim("tour/msp_near_chance_far", "MSP is near chance or worse on far-away inputs",
              "tour, Results", Compare(AUROC, "MSP", what="AUROC"), evidence="far",
              direction="less", margin=60.0, units="AUROC %", check=learned,
              margin_reason="'near chance' = within 10 points of 50%"),
        Claim("tour/knn_not_worse_near", "kNN is at least as good as MSP on near inputs",
              "tour, Results", Compare(AUROC, "kNN", ["MSP"], what="AUROC"), evidence="near",
              direction="greater", margin=-1.0, units="AUROC points", check=learned,
              margin_reason="'at least as good' tolerates a loss of under one AUROC point"),
    ]
