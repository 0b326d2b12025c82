"""AV-OOD end to end: train every component, route test samples, score the result.

Routing (paper Fig. 2): the detector sends a test sample to the seen classifier
(prediction over seen classes) or to the unseen classifier (over unseen
classes). The baseline, AVCA (Mercea et al. 2022), is the same cross-attention
embedding model trained with AVCA's own losses (no negative terms), with
calibrated stacking instead of routing: it adds ``beta`` to the seen-class
distances and takes the nearest class over all classes; ``beta`` is chosen on
the stage-1 validation split with AVCA's stage-1 model, never on the test set.

Detection convention: every score is higher = more unseen. Table 2 of the paper
reports AUC and FPR with **seen** samples as the positive class and its HM and
FPR at the threshold that accepts 60% of the seen test samples.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ...data.gzsl import GZSLBenchmark, GZSLStage
from ...metrics.binary import auroc, roc_points
from ...metrics.gzsl import gzsl_metrics, harmonic_mean, mean_class_accuracy
from ...models import MLPClassifier
from ...seeding import child_seed, seeded
from ...training import predict, train_classifier
from .detector import OODDetector, train_ood_detector
from .embedding import ALL_TERMS, AVCA_TERMS, EmbeddingClassifier, Validation, train_embedding_model
from .generator import FeatureGenerator, train_feature_generator
from .hparams import HParams

BETAS = np.linspace(0, 3, 16)


def local_labels(y: np.ndarray, classes: np.ndarray) -> np.ndarray:
    """Global class ids -> positions in ``classes`` (raises on an id not in ``classes``)."""
    pos = {int(c): i for i, c in enumerate(classes)}
    try:
        return np.array([pos[int(v)] for v in y], dtype=np.int64)
    except KeyError as e:
        raise ValueError(f"class id {e.args[0]} is not among the given classes") from None


def calibrated_stacking(dist: np.ndarray, classes: np.ndarray, seen_classes: np.ndarray, beta: float) -> np.ndarray:
    """Nearest class after adding ``beta`` to the distances of seen classes; ``dist`` (n, len(classes))."""
    penalty = np.where(np.isin(classes, seen_classes), beta, 0.0)
    return np.asarray(classes)[(dist + penalty).argmin(1)]


def choose_beta(dist_seen: np.ndarray, y_seen: np.ndarray, dist_unseen: np.ndarray, y_unseen: np.ndarray,
                classes: np.ndarray, seen_classes: np.ndarray, betas: np.ndarray = BETAS) -> tuple[float, np.ndarray]:
    """The ``beta`` that maximises HM on validation samples (first one on ties), and HM per beta."""
    hms = []
    for b in betas:
        m = gzsl_metrics(y_seen, calibrated_stacking(dist_seen, classes, seen_classes, b),
                         y_unseen, calibrated_stacking(dist_unseen, classes, seen_classes, b))
        hms.append(m["HM"])
    hms = np.array(hms)
    return float(betas[int(hms.argmax())]), hms


def stacking_score(dist: np.ndarray, classes: np.ndarray, seen_classes: np.ndarray) -> np.ndarray:
    """Calibrated stacking as a detector: ``min seen distance - min unseen distance`` (higher = unseen).

    A sample is routed to the unseen classes exactly when this exceeds ``-beta``.
    """
    seen = np.isin(classes, seen_classes)
    return dist[:, seen].min(1) - dist[:, ~seen].min(1)


def operating_point(score_seen: np.ndarray, score_unseen: np.ndarray, tpr: float = 0.6) -> dict[str, float]:
    """Threshold, TPR and FPR where at least ``tpr`` of the seen samples are accepted as seen.

    Seen is the positive class and a sample is accepted as seen when its score is
    <= the threshold. Returns ``{"threshold", "tpr", "fpr"}``.
    """
    y = np.r_[np.ones(len(score_seen)), np.zeros(len(score_unseen))]
    fpr, tprs, thr = roc_points(y, -np.r_[score_seen, score_unseen], pos_label=1)
    i = int(np.argmax(tprs >= tpr - 1e-12))
    return {"threshold": float(-thr[i]), "tpr": float(tprs[i]), "fpr": float(fpr[i])}


def detection_auc(score_seen: np.ndarray, score_unseen: np.ndarray) -> float:
    """ROC AUC of separating seen (positive) from unseen samples; scores higher = unseen."""
    y = np.r_[np.ones(len(score_seen)), np.zeros(len(score_unseen))]
    return auroc(y, -np.r_[score_seen, score_unseen], pos_label=1)


def route(is_unseen: np.ndarray, seen_pred: np.ndarray, unseen_pred: np.ndarray) -> np.ndarray:
    """Final GZSL prediction: ``unseen_pred`` where the detector says unseen, else ``seen_pred``."""
    return np.where(is_unseen, unseen_pred, seen_pred)


@dataclass
class TestPredictions:
    """Per-sample outputs on the stage-2 test split (test-seen rows first, then test-unseen)."""

    y: np.ndarray  # global class ids (n,)
    is_seen_sample: np.ndarray  # bool (n,)
    seen_mlp: np.ndarray  # seen MLP prediction over seen classes
    seen_emb: np.ndarray  # embedding model over seen classes
    unseen_emb: np.ndarray  # embedding model over unseen classes
    unseen_mlp: np.ndarray  # MLP trained on synthetic unseen features, over unseen classes
    scores: dict[str, np.ndarray] = field(default_factory=dict)  # detector name -> score (higher = unseen)
    stacking_pred: np.ndarray | None = None  # AVCA: calibrated-stacking prediction with the validated beta
    unseen_avca: np.ndarray | None = None  # AVCA's embedding model over unseen classes (its ZSL)


def gzsl_from_routing(pred: TestPredictions, is_unseen: np.ndarray, seen_pred: np.ndarray,
                      unseen_pred: np.ndarray) -> dict[str, float]:
    """S, U, HM (fractions) of a routing with the given seen and unseen classifier outputs."""
    final = route(is_unseen, seen_pred, unseen_pred)
    s = pred.is_seen_sample
    return gzsl_metrics(pred.y[s], final[s], pred.y[~s], final[~s])


@dataclass
class AVOODRun:
    """Everything trained in one AV-OOD run, plus its test-set predictions."""

    bench: GZSLBenchmark
    hp: HParams
    generator: FeatureGenerator
    generator_history: dict
    synthetic_unseen: tuple[np.ndarray, np.ndarray]
    detectors: dict[str, OODDetector]
    seen_mlp: MLPClassifier
    unseen_mlp: MLPClassifier
    embedding: EmbeddingClassifier
    stage1_embedding: EmbeddingClassifier  # AVCA's stage-1 model, which chooses beta
    beta: float
    beta_hm: np.ndarray
    test: TestPredictions
    avca_embedding: EmbeddingClassifier | None = None  # AVCA's stage-2 model (AVCA_TERMS)
    uc_checkpoint: str | None = None  # where ``embedding`` was loaded from (None: trained here)


def _train_mlp(x: np.ndarray, y_local: np.ndarray, n: int, epochs: int, lr: float, batch: int, seed: int,
               device: str, desc: str) -> MLPClassifier:
    with seeded(child_seed(seed, "init")):  # initial weights depend on this component's seed only
        model = MLPClassifier(x.shape[1], n, hidden=(512, 256), dropout=0.1, negative_slope=0.2)
    train_classifier(model, x, y_local, epochs=epochs, lr=lr, batch_size=batch, seed=child_seed(seed, "train"),
                     device=device, desc=desc)
    return model


def _mlp_predict(model: MLPClassifier, x: np.ndarray, classes: np.ndarray, device: str) -> np.ndarray:
    logits, _ = predict(model, x, device=device)
    return np.asarray(classes)[logits.argmax(1)]


def train_embedding(stage: GZSLStage, bench: GZSLBenchmark, hp: HParams, seed: int, device: str,
                    terms: frozenset[str] = ALL_TERMS, epochs: int | None = None,
                    validate: bool = False) -> EmbeddingClassifier:
    """The unseen classifier trained on one stage's training split with the authors' schedule
    (``hp.uc_steps`` sampled batches per epoch, weight decay, plateau scheduler).

    ``epochs``: default ``hp.uc_epochs``. ``validate``: early stopping on the stage's validation
    split (stage 1 only: seen and unseen validation samples, best-beta HM, ``hp.uc_patience``).
    """
    val = None
    if validate:
        val = Validation(stage.seen_x, stage.seen_y, stage.unseen_x, stage.unseen_y, stage.all_classes,
                         stage.seen_classes)
    return train_embedding_model(stage.train_x, stage.train_y, bench.text, bench.audio_dim, epochs or hp.uc_epochs,
                                 hp.uc_lr, hp.uc_batch, hp.dropout_enc, hp.dropout_proj, hp.dropout_dec, terms=terms,
                                 seed=seed, device=device, eval_mode=hp.uc_eval, steps_per_epoch=hp.uc_steps,
                                 weight_decay=hp.uc_weight_decay, validation=val, patience=hp.uc_patience)


COMPONENTS = ("generator", "generator/sample", "detector/entropy", "detector/binary", "seen_mlp", "unseen_mlp",
              "embedding/stage2", "embedding/stage1")


def component_seeds(seed: int) -> dict[str, int]:
    """One independent seed per component, derived by name (``child_seed(seed, "p3/<component>")``).

    Each component's initial weights and training randomness depend on its own seed only, so
    changing one component's settings (say the detector's epochs) leaves the others unchanged.
    """
    return {c: child_seed(seed, f"p3/{c}") for c in COMPONENTS}


def avca_epochs(stage1: EmbeddingClassifier) -> int:
    """AVCA's stage-2 epochs: the best validation epoch of its stage-1 model (1-based)."""
    return int(stage1.history.best_epoch) + 1


def loaded_embedding(path: str, bench: GZSLBenchmark, hp: HParams, device: str) -> EmbeddingClassifier:
    """The authors' released unseen classifier (:func:`.checkpoints.load_official`, strict) for this benchmark."""
    from ...device import resolve_device
    from .checkpoints import load_official
    from .embedding import CrossAttentionEmbedding

    dev = resolve_device(device)
    model = CrossAttentionEmbedding(bench.audio_dim, bench.stage2.train_x.shape[1] - bench.audio_dim, bench.text.shape[1],
                                    dropout_enc=hp.dropout_enc, dropout_proj=hp.dropout_proj, dropout_dec=hp.dropout_dec)
    return EmbeddingClassifier(load_official(model, path).to(dev).eval(), np.asarray(bench.text, np.float32), dev,
                               hp.uc_eval)


def run_av_ood(bench: GZSLBenchmark, hp: HParams, seed: int = 0, device: str = "auto",
               uc_checkpoint: str | None = None) -> AVOODRun:
    """Train the generator, both detectors, the seen MLP, the unseen classifiers and the stage-1 model.

    ``uc_checkpoint``: the authors' released AV-OOD unseen classifier, evaluated in place of the
    stage-2 one trained here (everything else is trained as usual).
    """
    st = bench.stage2
    seen, unseen = st.seen_classes, st.unseen_classes
    sd = component_seeds(seed)
    gen, hist = train_feature_generator(st.train_x, st.train_y, bench.text, hp.gen_epochs, hp.gen_lr, hp.gen_batch,
                                        hp.gen_rec_weight, hp.gen_emb_weight, seed=sd["generator"], device=device,
                                        steps_per_epoch=hp.gen_steps)
    xu, yu = gen.sample(unseen, hp.n_syn_unseen, seed=sd["generator/sample"])
    y_local = local_labels(st.train_y, seen)
    detectors = {k: train_ood_detector(st.train_x, y_local, xu, kind=k, epochs=hp.det_epochs, lr=hp.det_lr,
                                       batch_size=hp.det_batch, seed=sd[f"detector/{k}"], device=device)
                 for k in ("entropy", "binary")}
    seen_mlp = _train_mlp(st.train_x, y_local, len(seen), hp.sc_epochs, hp.sc_lr, hp.sc_batch, sd["seen_mlp"], device,
                          "seen MLP")
    unseen_mlp = _train_mlp(xu, local_labels(yu, unseen), len(unseen), hp.sc_epochs, hp.sc_lr, hp.sc_batch,
                            sd["unseen_mlp"], device, "unseen MLP")
    emb = (loaded_embedding(uc_checkpoint, bench, hp, device) if uc_checkpoint
           else train_embedding(st, bench, hp, sd["embedding/stage2"], device))
    # AVCA's protocol: stage 1 (AVCA's losses) early-stops on the validation split; its best epoch fixes
    # AVCA's stage-2 epochs and its weights choose beta. AVCA's stage 2: the same model with AVCA's losses
    # and AV-OOD's seed (so at equal epochs only the loss terms differ), calibrated stacking with that beta
    s1 = bench.stage1
    emb1 = train_embedding(s1, bench, hp, sd["embedding/stage1"], device, AVCA_TERMS, validate=True)
    avca = train_embedding(st, bench, hp, sd["embedding/stage2"], device, AVCA_TERMS, epochs=avca_epochs(emb1))
    c1 = s1.all_classes
    beta, beta_hm = choose_beta(emb1.distances(s1.seen_x, c1), s1.seen_y, emb1.distances(s1.unseen_x, c1),
                                s1.unseen_y, c1, s1.seen_classes)
    x = np.concatenate([st.seen_x, st.unseen_x])
    allc = st.all_classes
    dist, dist_avca = emb.distances(x, allc), avca.distances(x, allc)
    test = TestPredictions(
        y=np.concatenate([st.seen_y, st.unseen_y]),
        is_seen_sample=np.r_[np.ones(len(st.seen_y), bool), np.zeros(len(st.unseen_y), bool)],
        seen_mlp=_mlp_predict(seen_mlp, x, seen, device),
        seen_emb=allc[np.isin(allc, seen)][dist[:, np.isin(allc, seen)].argmin(1)],
        unseen_emb=allc[~np.isin(allc, seen)][dist[:, ~np.isin(allc, seen)].argmin(1)],
        unseen_mlp=_mlp_predict(unseen_mlp, x, unseen, device),
        scores={"OOD-entropy": detectors["entropy"].score(x), "OOD-binary": detectors["binary"].score(x),
                # Table 2 compares decisions on the same experts: stacking's gap on AV-OOD's model
                "Calibrated stacking": stacking_score(dist, allc, seen)},
        stacking_pred=calibrated_stacking(dist_avca, allc, seen, beta),
        unseen_avca=allc[~np.isin(allc, seen)][dist_avca[:, ~np.isin(allc, seen)].argmin(1)],
    )
    return AVOODRun(bench, hp, gen, hist, (xu, yu), detectors, seen_mlp, unseen_mlp, emb, emb1, beta, beta_hm, test,
                    avca, uc_checkpoint)


def seen_accuracy(run: AVOODRun, which: str) -> float:
    """SC_acc: mean class accuracy of a seen classifier on test-seen samples, over seen classes."""
    s = run.test.is_seen_sample
    return mean_class_accuracy(run.test.y[s], getattr(run.test, which)[s])


def unseen_accuracy(run: AVOODRun, which: str) -> float:
    """UC_acc (= ZSL): mean class accuracy of an unseen classifier on test-unseen samples, over unseen classes."""
    u = ~run.test.is_seen_sample
    return mean_class_accuracy(run.test.y[u], getattr(run.test, which)[u])


def av_ood_metrics(run: AVOODRun, seen_clf: str = "seen_mlp", unseen_clf: str = "unseen_emb",
                   threshold: float | None = None) -> dict[str, float]:
    """S, U, HM, ZSL (fractions) of AV-OOD routing with the entropy detector.

    ``threshold`` defaults to the detector's mean seen-training entropy.
    """
    t = run.test
    thr = run.detectors["entropy"].threshold if threshold is None else threshold
    m = gzsl_from_routing(t, t.scores["OOD-entropy"] > thr, getattr(t, seen_clf), getattr(t, unseen_clf))
    m["ZSL"] = unseen_accuracy(run, unseen_clf)
    return m


def stacking_metrics(run: AVOODRun) -> dict[str, float]:
    """S, U, HM, ZSL of the AVCA baseline: AVCA's embedding model + calibrated stacking (validated beta);
    its ZSL is its own model's over the unseen classes."""
    t = run.test
    s = t.is_seen_sample
    m = gzsl_metrics(t.y[s], t.stacking_pred[s], t.y[~s], t.stacking_pred[~s])
    m["ZSL"] = unseen_accuracy(run, "unseen_avca")
    return m


def detector_table_row(run: AVOODRun, name: str, tpr: float = 0.6) -> dict[str, float]:
    """AUC, FPR and HM at ``tpr`` of seen samples accepted, for one detector (Table 2), as fractions."""
    t = run.test
    sc = t.scores[name]
    s = t.is_seen_sample
    op = operating_point(sc[s], sc[~s], tpr)
    hm = gzsl_from_routing(t, sc > op["threshold"], t.seen_mlp, t.unseen_emb)["HM"]
    return {"AUC": detection_auc(sc[s], sc[~s]), "FPR": op["fpr"], "HM": hm, "TPR": op["tpr"]}


def routed_hm_curve(score: np.ndarray, y: np.ndarray, is_seen: np.ndarray, seen_pred: np.ndarray,
                    unseen_pred: np.ndarray, thresholds: np.ndarray) -> np.ndarray:
    """HM (fraction) of routing ``score > t`` to the unseen classifier, for every ``t`` in ``thresholds``.

    Vectorised over thresholds (one (T, n) mask and a one-hot product per stratum), equal to
    :func:`gzsl_from_routing` at each threshold: a seen sample is right when kept seen with a
    right seen prediction, an unseen one when routed unseen with a right unseen prediction.
    """
    routed = score[None, :] > np.asarray(thresholds)[:, None]  # (T, n)
    ok = np.where(is_seen, ~routed & (seen_pred == y), routed & (unseen_pred == y))

    def per_class(rows: np.ndarray) -> np.ndarray:
        _, inv, counts = np.unique(y[rows], return_inverse=True, return_counts=True)
        onehot = np.zeros((rows.sum(), len(counts)))
        onehot[np.arange(rows.sum()), inv] = 1.0
        return (ok[:, rows] @ onehot / counts).mean(1)

    s, u = per_class(is_seen), per_class(~is_seen)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(s + u > 0, 2 * s * u / (s + u), 0.0)


def entropy_threshold_sweep(run: AVOODRun, n: int = 60) -> dict[str, np.ndarray]:
    """HM, TPR (seen accepted) and FPR (unseen accepted as seen) as the entropy threshold sweeps
    over ``n`` quantiles of the test entropies."""
    t = run.test
    sc = t.scores["OOD-entropy"]
    s = t.is_seen_sample
    thr = np.quantile(sc, np.linspace(0.0, 1.0, n))
    kept_seen = sc[None, :] <= thr[:, None]
    return {"threshold": thr, "HM": routed_hm_curve(sc, t.y, s, t.seen_mlp, t.unseen_emb, thr),
            "TPR": kept_seen[:, s].mean(1), "FPR": kept_seen[:, ~s].mean(1)}


__all__ = [
    "AVOODRun", "BETAS", "avca_epochs", "COMPONENTS", "loaded_embedding", "TestPredictions", "component_seeds", "av_ood_metrics", "calibrated_stacking", "choose_beta",
    "detection_auc", "detector_table_row", "entropy_threshold_sweep", "routed_hm_curve", "gzsl_from_routing", "harmonic_mean",
    "local_labels", "operating_point", "route", "run_av_ood", "seen_accuracy", "stacking_metrics",
    "stacking_score", "train_embedding", "unseen_accuracy",
]
