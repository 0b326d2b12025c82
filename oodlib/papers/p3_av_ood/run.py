"""A whole P3 run: train every component (:func:`~.pipeline.run_av_ood`), the loss ablation, and
collect the per-sample evidence the tables and claims are computed from."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ...claims import Evidence
from ...data.gzsl import GZSLBenchmark
from .config import P3Config
from .embedding import ALL_TERMS, AVCA_TERMS
from .pipeline import AVOODRun, component_seeds, run_av_ood, train_embedding

ABLATIONS = {
    "L+": AVCA_TERMS,
    "L+ + L-trip": frozenset({"trip+", "rec+", "reg+", "trip-"}),
    "L+ + L-rec": frozenset({"trip+", "rec+", "reg+", "rec-"}),
    "L+ + L-reg": frozenset({"trip+", "rec+", "reg+", "reg-"}),
    "L+ + L- (ours)": ALL_TERMS,
}
DETECTORS = ("Calibrated stacking", "OOD-binary", "OOD-entropy")
CLASSIFIERS = ("seen_mlp", "seen_emb", "unseen_emb", "unseen_mlp", "stacking_pred", "unseen_avca")


@dataclass
class P3Result:
    """The trained run and the loss ablation's unseen predictions.

    ``ablation[name]``: int64 (n_test,) unseen-class predictions of the embedding model trained
    with loss terms ``ABLATIONS[name]`` (empty when the ablation was not run).
    """

    run: AVOODRun
    ablation: dict[str, np.ndarray] = field(default_factory=dict)
    data_source: str = "synthetic"

    def evidence(self) -> dict[str, Evidence]:
        """``"test"``: one row per stage-2 test sample, stratified by ``is_unseen``.

        Arrays: ``is_unseen``, ``y`` (global class ids), ``routes_unseen`` (OOD-entropy score above
        its mean-training-entropy threshold), ``score:<detector>`` (higher = unseen) and the
        classifiers' predictions (``seen_mlp``, ``unseen_emb``, ..., ``stacking_pred``).
        ``"ablation"`` (when run): the same rows with ``ablation:<loss variant>`` predictions.
        Facts: the entropy threshold, beta, and whether a detector collapsed.
        """
        t, r = self.run.test, self.run
        thr = r.detectors["entropy"].threshold
        base = {"is_unseen": ~t.is_seen_sample, "y": t.y, "routes_unseen": t.scores["OOD-entropy"] > thr}
        arrays = {**base, **{f"score:{d}": t.scores[d] for d in DETECTORS}, **{c: getattr(t, c) for c in CLASSIFIERS}}
        facts = {"entropy_threshold": thr, "beta": r.beta,
                 "detector_collapsed": any(d.collapsed for d in r.detectors.values()),
                 "entropy_collapsed": r.detectors["entropy"].collapsed, "uc_checkpoint": r.uc_checkpoint or ""}
        out = {"test": Evidence("test", arrays, stratify="is_unseen", facts=facts, data=self.data_source)}
        if self.ablation:
            abl = {**base, "seen_mlp": t.seen_mlp, **{f"ablation:{k}": v for k, v in self.ablation.items()}}
            out["ablation"] = Evidence("ablation", abl, stratify="is_unseen", facts=facts, data=self.data_source)
        return out


def train_ablation(run: AVOODRun, seed: int, device: str = "auto") -> dict[str, np.ndarray]:
    """Unseen predictions of the embedding model for each loss subset (supplementary Table 1).

    Every variant starts from the same seed as the run's own model (a paired comparison: only
    the loss terms differ); the full model is the run's own (trained again here when the run's was
    loaded from the authors' checkpoint, so the comparison stays paired), and "L+" (AVCA's losses)
    is the run's AVCA model, trained with that same seed.
    """
    st = run.bench.stage2
    x = np.concatenate([st.seen_x, st.unseen_x])
    s = component_seeds(seed)["embedding/stage2"]
    out = {}
    known = {AVCA_TERMS: run.avca_embedding, **({} if run.uc_checkpoint else {ALL_TERMS: run.embedding})}
    for name, terms in ABLATIONS.items():
        emb = known.get(terms)
        if emb is None:
            emb = train_embedding(st, run.bench, run.hp, s, device, terms)
        out[name] = emb.predict(x, st.unseen_classes)
    return out


def run(cfg: P3Config, bench: GZSLBenchmark) -> P3Result:
    """Train everything a P3 notebook run reports (the ablation when ``cfg.ablation``)."""
    r = run_av_ood(bench, cfg.hp, seed=cfg.seed, device=cfg.device, uc_checkpoint=cfg.uc_checkpoint)
    ablation = train_ablation(r, cfg.seed, cfg.device) if cfg.ablation else {}
    return P3Result(r, ablation, cfg.data)
