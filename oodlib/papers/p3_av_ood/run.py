"""A whole P3 run: for each dataset, train every component (:func:`~.pipeline.run_av_ood`) and the
loss ablation, and collect the per-sample evidence the tables and claims are computed from."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ...claims import Evidence
from ...data.gzsl import GZSLBenchmark
from ...seeding import child_seed
from .config import P3Config
from .embedding import ALL_TERMS, AVCA_TERMS
from .pipeline import AVOODRun, avca_epochs, component_seeds, run_av_ood, train_embedding

ABLATIONS = {
    "L+": AVCA_TERMS,
    "L+ + L-trip": frozenset({"trip+", "rec+", "reg+", "trip-"}),
    "L+ + L-rec": frozenset({"trip+", "rec+", "reg+", "rec-"}),
    "L+ + L-reg": frozenset({"trip+", "rec+", "reg+", "reg-"}),
    "L+ + L- (ours)": ALL_TERMS,
}
DETECTORS = ("Calibrated stacking", "OOD-binary", "OOD-entropy")
CLASSIFIERS = ("seen_mlp", "seen_emb", "unseen_emb", "unseen_mlp", "stacking_pred", "unseen_avca")


def dataset_seed(seed: int, dataset: str) -> int:
    """The seed of one dataset's run (its components derive theirs from it by name)."""
    return child_seed(seed, f"p3/run/{dataset}")


@dataclass
class P3Result:
    """The trained run of each dataset and its loss ablation's unseen predictions.

    ``runs[name]``: dataset ``name``'s :class:`~.pipeline.AVOODRun`. ``ablation[name][variant]``:
    int64 (n_test,) unseen-class predictions of the embedding model trained with loss terms
    ``ABLATIONS[variant]`` (empty when the ablation was not run).
    """

    runs: dict[str, AVOODRun]
    ablation: dict[str, dict[str, np.ndarray]] = field(default_factory=dict)
    data_source: str = "synthetic"

    @property
    def datasets(self) -> list[str]:
        return list(self.runs)

    def facts(self) -> dict[str, dict]:
        """Per dataset: the entropy threshold, beta, AVCA's stage-2 epochs and any collapse."""
        return {name: {"entropy_threshold": r.detectors["entropy"].threshold, "beta": r.beta,
                       "avca_epochs": avca_epochs(r.stage1_embedding),
                       "entropy_collapsed": r.detectors["entropy"].collapsed,
                       "detector_collapsed": any(d.collapsed for d in r.detectors.values()),
                       "uc_checkpoint": r.uc_checkpoint or ""} for name, r in self.runs.items()}

    def evidence(self) -> dict[str, Evidence]:
        """``"test"``: one row per stage-2 test sample of every dataset, stratified by dataset and
        seen/unseen (``stratum``, e.g. ``"UCF:unseen"``).

        Arrays: ``dataset``, ``is_unseen``, ``y`` (the dataset's global class ids), ``routes_unseen``
        (OOD-entropy score above its mean-training-entropy threshold), ``score:<detector>`` (higher
        = unseen) and the classifiers' predictions (``seen_mlp``, ``unseen_emb``, ...,
        ``stacking_pred``). ``"ablation"`` (when run): the same rows with ``ablation:<loss variant>``
        predictions. Facts: :meth:`facts` per dataset (``per_dataset``), plus ``entropy_collapsed``
        and ``uc_checkpoint`` over all datasets.
        """
        parts = [_test_arrays(name, r) for name, r in self.runs.items()]
        arrays = {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}
        per = self.facts()
        facts = {"per_dataset": per, "datasets": self.datasets,
                 "entropy_collapsed": [n for n, f in per.items() if f["entropy_collapsed"]],
                 "uc_checkpoint": [n for n, f in per.items() if f["uc_checkpoint"]]}
        out = {"test": Evidence("test", arrays, stratify="stratum", facts=facts, data=self.data_source)}
        if self.ablation:
            keep = ("dataset", "stratum", "is_unseen", "y", "routes_unseen", "seen_mlp")
            abl = {k: arrays[k] for k in keep}
            for variant in ABLATIONS:
                abl[f"ablation:{variant}"] = np.concatenate([self.ablation[n][variant] for n in self.runs])
            out["ablation"] = Evidence("ablation", abl, stratify="stratum", facts=facts, data=self.data_source)
        return out


def _test_arrays(name: str, r: AVOODRun) -> dict[str, np.ndarray]:
    t = r.test
    unseen = ~t.is_seen_sample
    return {"dataset": np.full(len(t.y), name), "stratum": np.where(unseen, f"{name}:unseen", f"{name}:seen"),
            "is_unseen": unseen, "y": t.y, "routes_unseen": t.scores["OOD-entropy"] > r.detectors["entropy"].threshold,
            **{f"score:{d}": t.scores[d] for d in DETECTORS}, **{c: getattr(t, c) for c in CLASSIFIERS}}


def train_ablation(run: AVOODRun, seed: int, device: str = "auto") -> dict[str, np.ndarray]:
    """Unseen predictions of the embedding model for each loss subset (supplementary Table 1).

    Every variant starts from the same seed as the run's own model (a paired comparison: only
    the loss terms differ); the full model is the run's own (trained again here when the run's was
    loaded from the authors' checkpoint, so the comparison stays paired), and "L+" (AVCA's losses)
    is the run's AVCA model when AVCA's stage 1 chose ``uc_epochs`` epochs (else trained here with
    ``uc_epochs``, so only the loss terms differ).
    """
    st = run.bench.stage2
    x = np.concatenate([st.seen_x, st.unseen_x])
    s = component_seeds(seed)["embedding/stage2"]
    out = {}
    known = {**({AVCA_TERMS: run.avca_embedding} if avca_epochs(run.stage1_embedding) == run.hp.uc_epochs else {}),
             **({} if run.uc_checkpoint else {ALL_TERMS: run.embedding})}
    for name, terms in ABLATIONS.items():
        emb = known.get(terms)
        if emb is None:
            emb = train_embedding(st, run.bench, run.hp, s, device, terms)
        out[name] = emb.predict(x, st.unseen_classes)
    return out


def run(cfg: P3Config, benches: dict[str, GZSLBenchmark]) -> P3Result:
    """Train everything a P3 notebook run reports, for each dataset of ``benches`` (:func:`.data.load`),
    the ablation when ``cfg.ablation``."""
    runs, ablation = {}, {}
    for name, bench in benches.items():
        seed = dataset_seed(cfg.seed, name)
        runs[name] = run_av_ood(bench, cfg.hp(name), seed=seed, device=cfg.device, uc_checkpoint=cfg.checkpoint(name))
        if cfg.ablation:
            ablation[name] = train_ablation(runs[name], seed, cfg.device)
    return P3Result(runs, ablation, cfg.data)
