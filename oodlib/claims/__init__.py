"""Claims as tested code: declared once with a margin, judged with an interval.

* :mod:`~oodlib.claims.claim` - :class:`Claim` (the declaration), :func:`judge`, :func:`decide`;
* :mod:`~oodlib.claims.effects` - what a claim measures (:class:`Compare`, :class:`AllOf`, ...);
* :mod:`~oodlib.claims.evidence` - :class:`Evidence`, the per-sample arrays, and the score file;
* :mod:`~oodlib.claims.bootstrap` - the paired, stratified (and multi-seed) bootstrap;
* :mod:`~oodlib.claims.scoreboard` - the results page's table of verdicts across records.

Typical use in a paper package::

    CLAIMS = [Claim("tour/knn_far", "kNN detects far inputs better than MSP", "tour", 
                    Compare(auroc_of("is_ood"), "kNN", ["MSP"], what="AUROC"), evidence="far",
                    direction="greater", margin=5.0, margin_reason="...", units="AUROC points")]
    verdicts = judge_all(CLAIMS, result.evidence, seed=cfg.seed)
"""

from .bootstrap import Interval, bootstrap_effect
from .claim import DIRECTIONS, VERDICTS, Claim, Verdict, decide, interval_of, judge, judge_all
from .effects import AllOf, Compare, Statistic, auroc_of
from .evidence import Evidence, load_evidence, save_evidence

__all__ = [
    "DIRECTIONS", "VERDICTS", "AllOf", "Claim", "Compare", "Evidence", "Interval", "Statistic", "Verdict",
    "auroc_of", "bootstrap_effect", "decide", "interval_of", "judge", "judge_all", "load_evidence", "save_evidence",
]
