"""P1's methods: the model, its training, the detectors' scores and the metric tables (see the package docstring).

The data (ID settings, OOD sets) are in :mod:`.data`; a whole run in :mod:`.run`."""


from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd
import torch

from ... import scores as sc
from ...augment import ShiftAndGain
from ...data.audioset import AudioSet
from ...data.clips import reduce_to_clips
from ...data.speech_commands import SILENCE, TEN_WORDS, UNKNOWN  # noqa: F401 (the package exports them)
from ...device import resolve_device
from ...frontends import LogMel
from ...knn import KNNScorer
from ...metrics import ood_report
from ...models import EfficientNetB0, MobileNetV1
from ...seeding import child_seed, seeded
from ...training import TrainHistory, infer, predict, train_classifier
from .data import CLIP_SAMPLES, SAMPLE_RATE  # noqa: F401 (SAMPLE_RATE: the package exports it)
from .sets import STANDS_IN_FOR

METHODS = ("MSP", "ODIN", "GradNorm", "kNN")
CLASSICAL = {"IForest": "iforest", "OCSVM": "ocsvm", "LODA": "loda", "LOF": "lof", "PCA": "pca"}



def logmel_inputs(audio_set: AudioSet, batch_size: int = 256) -> torch.Tensor:
    """Log-mel model inputs (n, 1, 64, 98) for one-second clips (P1's front end), on the CPU."""
    if audio_set.audio.shape[1] != CLIP_SAMPLES:
        raise ValueError(f"{audio_set.name}: clips must be {CLIP_SAMPLES} samples, got {audio_set.audio.shape[1]}")
    return torch.from_numpy(infer(LogMel(), audio_set.audio, batch_size, device="cpu"))[:, None]


def make_model(arch: str, n_classes: int) -> torch.nn.Module:
    """``"mobilenet"`` (MobileNetV1 / YAMNet, 1024-d) or ``"efficientnet"`` (EfficientNet-B0, 1280-d)."""
    if arch == "mobilenet":
        return MobileNetV1(n_classes)
    if arch == "efficientnet":
        return EfficientNetB0(n_classes)
    raise ValueError(f"unknown model {arch!r}: use 'mobilenet' or 'efficientnet'")


def train_model(arch: str, x_train: torch.Tensor, y_train: np.ndarray, n_classes: int, epochs: int, seed: int,
                device: str = "auto", batch_size: int = 128, lr: float = 1e-3,
                augment: bool = True) -> tuple[torch.nn.Module, TrainHistory]:
    """Train from scratch with cross-entropy and Adam (P1: lr 1e-3, batch 128). Returns the model in eval mode.

    ``augment`` adds random time shifts and level offsets (:class:`~oodlib.augment.ShiftAndGain`);
    P1 does not mention augmentation, but the short CPU runs generalise poorly without it.
    Randomness: initial weights from ``seeded(child_seed(seed, "p1/<arch>/init"))``; batch
    order, augmentation and dropout from ``seed`` (:func:`~oodlib.training.train_classifier`).
    """
    with seeded(child_seed(seed, f"p1/{arch}/init")):
        model = make_model(arch, n_classes)
    hist = train_classifier(model, x_train, y_train, epochs=epochs, lr=lr, batch_size=batch_size, seed=seed,
                            device=device, desc=f"train {arch}", augment=ShiftAndGain() if augment else None)
    return model, hist


def score_all(model: torch.nn.Module, train_feats: np.ndarray, inputs: Mapping[str, torch.Tensor], k: int,
              *, odin_input_std: float, device: str = "auto", odin_temperature: float = 1000.0,
              odin_epsilon: float = sc.posthoc.ODIN_EPSILON) -> dict:
    """MSP, ODIN, GradNorm and kNN scores (higher = more OOD) for every named input set.

    ODIN moves each input by ``odin_epsilon`` standard deviations of the input, i.e.
    ``odin_epsilon * odin_input_std`` log-mel units; pass ``odin_input_std =
    oodlib.scores.posthoc.input_std(<ID training inputs>)``, the same number for every set. The
    default epsilon, :data:`oodlib.scores.posthoc.ODIN_EPSILON` (0.0056 stds), is ODIN's 0.0014 on
    [0, 1] image pixels expressed in the same units (pixel std about 0.25).

    Returns ``{"scores": {method: {set: array}}, "features": {set: array}, "logits": {set: array}}``.
    """
    dev = resolve_device(device)
    knn = KNNScorer(k=k, normalize=True, squared=True).fit(train_feats)
    out: dict = {"scores": {m: {} for m in METHODS}, "features": {}, "logits": {}}
    for name, x in inputs.items():
        logits, feats = predict(model, x, device=device)
        out["logits"][name], out["features"][name] = logits, feats
        out["scores"]["MSP"][name] = sc.msp(logits)
        out["scores"]["ODIN"][name] = sc.odin(model.to(dev).eval(), x.to(dev), odin_temperature, odin_epsilon,
                                             input_std=odin_input_std, batch_size=128)
        out["scores"]["GradNorm"][name] = sc.gradnorm(feats, model.fc)
        out["scores"]["kNN"][name] = knn.score(feats)
    return out


def classical_scores(train_feats: np.ndarray, feats: Mapping[str, np.ndarray], seed: int,
                     pyod_scores: bool = False, only: tuple[str, ...] | None = None) -> dict[str, dict[str, np.ndarray]]:
    """The five classical detectors fitted on ID training embeddings (raw, as P1), scored on every set.

    ``pyod_scores=True`` scores LODA and PCA with PyOD's own functions, as P1 ran them; the
    default corrects them (:mod:`oodlib.scores.classical`). ``only``: the detectors to fit, by
    label (default: all five). See :func:`embedding_geometry` for why the global detectors can
    still fall below chance.
    """
    out = {}
    for label, name in CLASSICAL.items():
        if only is not None and label not in only:
            continue
        det = sc.ClassicalDetector(name, seed=seed, pyod_scores=pyod_scores).fit(train_feats)
        out[label] = {s: det.score(f) for s, f in feats.items()}
    return out


def embedding_geometry(train_feats: np.ndarray, feats: Mapping[str, np.ndarray],
                       id_name: str = "ID test") -> pd.DataFrame:
    """Where each set's raw embeddings lie relative to the ID training cloud: why global detectors fail.

    IForest, LODA, OCSVM with PyOD's ``gamma="auto"`` (a kernel far wider than the pooled
    features' spread) and PyOD's own PCA score (about the standardised distance to the training
    mean) rank points by how far they are from the bulk of the training cloud. An ID embedding
    sits at its class cluster, away from the global mean; an input with weak, unspecific class
    evidence (silence, noise, an unknown word) gives a blend of the clusters near the mean, which
    these detectors call more normal than ID test: AUROC below 50. kNN on L2-normalised
    features, LOF and Shyu's PCA score are not fooled (see ``tests/test_scores.py``).

    Args:
        train_feats: ID training embeddings (n, d), the detectors' fit set.
        feats: set name -> embeddings (m, d); must hold ``id_name``.
    Returns:
        One row per set: ``norm`` (mean L2 norm), ``centre distance`` (mean Euclidean distance
        to the training mean, divided by that of ``id_name``: below 1 = nearer the centre than
        ID test) and ``centre AUROC`` (percent, ID positive, of that distance as an OOD score).
    """
    mu = np.asarray(train_feats, np.float64).mean(axis=0)
    dist = {s: np.linalg.norm(np.asarray(f, np.float64) - mu, axis=1) for s, f in feats.items()}
    rows = {s: {"norm": float(np.linalg.norm(np.asarray(f, np.float64), axis=1).mean()),
                "centre distance": float(dist[s].mean() / dist[id_name].mean()),
                "centre AUROC": (ood_report(dist[id_name], dist[s], positive="id", percent=True)["auroc"]
                                 if s != id_name else float("nan"))} for s, f in feats.items()}
    return pd.DataFrame.from_dict(rows, orient="index").rename_axis("set")


def ood_table(scores: Mapping[str, Mapping[str, np.ndarray]], id_name: str = "ID test") -> pd.DataFrame:
    """Rows: OOD sets (+ ``Average``); columns ``"<method> FPR95"``, ``"<method> AUROC"``; percent, ID positive."""
    rows: dict[str, dict[str, float]] = {}
    for method, per_set in scores.items():
        for s, values in per_set.items():
            if s == id_name:
                continue
            rep = ood_report(per_set[id_name], values, positive="id", percent=True)
            rows.setdefault(s, {})[f"{method} FPR95"] = rep["fpr"]
            rows[s][f"{method} AUROC"] = rep["auroc"]
    table = pd.DataFrame.from_dict(rows, orient="index")
    table.loc["Average"] = table.mean()
    table.index.name = "ood_set"
    return table


def average_table(table: pd.DataFrame, methods: tuple[str, ...]) -> pd.DataFrame:
    """The ``Average`` row of an :func:`ood_table` as one row per method (columns FPR95, AUROC)."""
    avg = table.loc["Average"]
    return pd.DataFrame({m: {"FPR95": avg[f"{m} FPR95"], "AUROC": avg[f"{m} AUROC"]} for m in methods}).T


def best_method(avg: pd.DataFrame) -> tuple[str, str]:
    """(method with the lowest FPR95, method with the highest AUROC) in an :func:`average_table`."""
    return str(avg["FPR95"].idxmin()), str(avg["AUROC"].idxmax())


def paper_names(table: pd.DataFrame) -> pd.DataFrame:
    """Rename synthetic set names to the paper dataset each stands in for (others unchanged)."""
    return table.rename(index=lambda s: STANDS_IN_FOR.get(s, s))


def k_sweep(train_feats: np.ndarray, id_feats: np.ndarray, ood_feats: Mapping[str, np.ndarray],
            ks: list[int], clips: Mapping[str, np.ndarray] | None = None, how: str = "mean") -> pd.DataFrame:
    """Average FPR95 / AUROC (percent, ID positive) of kNN over the OOD sets for each k.

    ``clips`` (set name -> clip id per feature row, ``"ID test"`` included) reduces window scores
    to clip scores by ``how`` first. Values of k larger than the bank are skipped; ``ValueError``
    when none is left.
    """
    def per_clip(name: str, s: np.ndarray) -> np.ndarray:
        return s if clips is None else reduce_to_clips(s, clips[name], how)

    rows = []
    for k in ks:
        if k > len(train_feats):
            continue
        knn = KNNScorer(k=k, normalize=True, squared=True).fit(train_feats)
        s_id = per_clip("ID test", knn.score(id_feats))
        reps = [ood_report(s_id, per_clip(n, knn.score(f)), positive="id", percent=True) for n, f in ood_feats.items()]
        rows.append({"k": k, "FPR95": np.mean([r["fpr"] for r in reps]), "AUROC": np.mean([r["auroc"] for r in reps])})
    if not rows:
        raise ValueError(f"k sweep: every k in {list(ks)} exceeds the {len(train_feats)} training features "
                         "(or none was given); pass smaller values of k")
    return pd.DataFrame(rows).set_index("k")
