"""A whole P1 run: every (ID setting, model) trained and scored, Table 3's classical detectors, the k
sweep, and the per-clip evidence the claims are judged on.

Scores are computed per model input (a one-second window) and reduced to clips by the run's
clip policy (:func:`oodlib.data.clips.reduce_to_clips`) before any metric, so a five-second
clip under ``clip_policy="windows"`` counts once, like a one-second clip.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import torch

from ...claims import Evidence
from ...data.audioset import AudioSet
from ...data.clips import reduce_to_clips
from ...scores.posthoc import input_std
from ...training import TrainHistory, predict
from .config import P1Config
from .data import IDSetting, P1Data, clip_ids, n_clips
from .pipeline import CLASSICAL, METHODS, classical_scores, embedding_geometry, k_sweep, logmel_inputs, ood_table
from .pipeline import score_all, train_model

ID_TEST = "ID test"


@dataclass
class ModelRun:
    """One model trained on one ID setting and scored on every set.

    Attributes:
        scores: method -> set -> per-clip scores (higher = more OOD); sets are ``"ID test"``, the OOD
            sets and the other ID settings' test sets.
        features: set -> per-window penultimate features (n_windows, d); ``train_feats`` the bank.
        clips: set -> the clip id of each window.
        correct: per ID test clip, whether the clip-level prediction (mean logits over windows) is right.
        odin: the temperature and epsilon ODIN used and how they were set (``rule``, ``validation``).
    """

    setting: IDSetting
    arch: str
    model: torch.nn.Module
    history: TrainHistory
    train_feats: np.ndarray
    features: dict[str, np.ndarray]
    clips: dict[str, np.ndarray]
    scores: dict[str, dict[str, np.ndarray]]
    correct: np.ndarray
    table: pd.DataFrame
    odin: dict[str, object] = field(default_factory=dict)

    @property
    def accuracy(self) -> float:
        """ID test accuracy over clips (fraction)."""
        return float(np.mean(self.correct))

    @property
    def chance(self) -> float:
        return 1.0 / len(self.setting.train.classes)


@dataclass
class P1Result:
    """Every model run, Table 3 (classical detectors on one run's embeddings) and the k sweep.

    ``classical`` holds the five detectors with the published LODA and PCA scores; ``classical_pyod``
    PyOD's own LODA and PCA scores (``"LODA (PyOD)"``, ``"PCA (PyOD)"``), as the paper ran them.
    """

    cfg: P1Config
    data: P1Data
    runs: dict[tuple[str, str], ModelRun]
    t3_key: tuple[str, str]
    classical: dict[str, dict[str, np.ndarray]]
    sweeps: dict[str, pd.DataFrame] = field(default_factory=dict)
    classical_pyod: dict[str, dict[str, np.ndarray]] = field(default_factory=dict)

    @property
    def t3_run(self) -> ModelRun:
        return self.runs[self.t3_key]

    def geometry(self) -> pd.DataFrame:
        """:func:`.pipeline.embedding_geometry` of Table 3's run (per window)."""
        r = self.t3_run
        return embedding_geometry(r.train_feats, r.features)

    def evidence(self) -> dict[str, Evidence]:
        """One evidence set per model run, named ``"<arch> on <setting>"``: one row per test clip of
        every set, stratified by ``set``.

        Arrays: ``set`` (set name), ``is_ood``, ``correct`` (ID test rows; False elsewhere),
        ``score:<method>`` for MSP, ODIN, GradNorm and kNN, plus ``score:<detector>`` for the
        classical detectors on Table 3's run. Facts: ID accuracy and chance (fractions).
        """
        out = {}
        for key, r in self.runs.items():
            sets = list(r.scores["kNN"])
            n = {s: len(r.scores["kNN"][s]) for s in sets}
            arrays: dict[str, np.ndarray] = {
                "set": np.concatenate([np.full(n[s], s) for s in sets]),
                "is_ood": np.concatenate([np.full(n[s], s != ID_TEST) for s in sets]),
                "correct": np.concatenate([r.correct if s == ID_TEST else np.zeros(n[s], bool) for s in sets]),
            }
            per_method = {**r.scores, **(self.classical if key == self.t3_key else {})}
            for method, per_set in per_method.items():
                arrays[f"score:{method}"] = np.concatenate([per_set[s] for s in sets]).astype(np.float64)
            facts = {"id_accuracy": r.accuracy, "chance_accuracy": r.chance, "setting": r.setting.name, "model": r.arch}
            out[evidence_name(*key)] = Evidence(evidence_name(*key), arrays, stratify="set", unit="clip", facts=facts,
                                                data=self.cfg.data)
        return out


def evidence_name(setting: str, arch: str) -> str:
    """The evidence set of one model run."""
    return f"{arch} on {setting}"


def score_sets(setting: IDSetting, data: P1Data, inputs: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """The sets one ID setting's model is scored on: its test set, the OOD sets, the other settings' test sets."""
    others = {s.name: inputs[f"{s.name}/test"] for s in data.settings if s.name != setting.name}
    return {ID_TEST: inputs[f"{setting.name}/test"], **{n: inputs[n] for n in data.ood}, **others}


def set_of(setting: IDSetting, data: P1Data, name: str) -> AudioSet:
    """The clips behind set ``name`` of :func:`score_sets`."""
    if name == ID_TEST:
        return setting.test
    return data.ood[name] if name in data.ood else next(s.test for s in data.settings if s.name == name)


def run_model(cfg: P1Config, setting: IDSetting, arch: str, data: P1Data, inputs: dict[str, torch.Tensor]) -> ModelRun:
    """Train ``arch`` on ``setting`` and score every set (per window, then reduced to clips)."""
    x_train = inputs[f"{setting.name}/train"]
    model, hist = train_model(arch, x_train, setting.train.labels, len(setting.train.classes), cfg.epochs, cfg.seed,
                              device=cfg.device, batch_size=cfg.batch_size, lr=cfg.lr, augment=cfg.augment)
    _, train_feats = predict(model, x_train, device=cfg.device)
    sets = score_sets(setting, data, inputs)
    odin = odin_parameters(cfg, model, setting, x_train)
    out = score_all(model, train_feats, sets, setting.k, device=cfg.device, odin_temperature=odin["temperature"],
                    odin_epsilon=odin["epsilon"], odin_input_std=input_std(x_train))
    clips = {name: clip_ids(set_of(setting, data, name)) for name in sets}
    how = cfg.window_reduce
    scores = {m: {s: reduce_to_clips(v, clips[s], how) for s, v in per_set.items()} for m, per_set in out["scores"].items()}
    test_clips = clips[ID_TEST]
    clip_logits = reduce_to_clips(out["logits"][ID_TEST], test_clips, "mean")
    clip_labels = reduce_to_clips(setting.test.labels, test_clips, "max")
    correct = clip_logits.argmax(1) == clip_labels
    return ModelRun(setting, arch, model, hist, train_feats, out["features"], clips, scores, correct, ood_table(scores),
                    odin)


def odin_parameters(cfg: P1Config, model: torch.nn.Module, setting: IDSetting, x_train: torch.Tensor) -> dict:
    """ODIN's temperature and epsilon (in standard deviations of the ID training inputs) for one model.

    ``odin_tuning="fixed"``: the parameters' values. ``"id_only"``: the ID-only rule of Hsu et al.
    (2020, :func:`oodlib.scores.posthoc.tune_odin`) on the ID set's own validation split (VocalSound,
    MSWC, Fluent Speech, VoxForge and the full Speech Commands release have one); a set without one
    (the synthetic stand-ins, ESC-50, CREMA-D, the Speech Commands test subset) uses the training clips
    and says so. ODIN's own rule needs OOD validation clips, which the paper's protocol keeps for testing.
    """
    if cfg.odin_tuning == "fixed":
        return {"temperature": cfg.odin_temperature, "epsilon": cfg.odin_epsilon, "rule": "fixed", "validation": "none"}
    from ...device import resolve_device
    from ...scores.posthoc import tune_odin

    dev = resolve_device(cfg.device)
    x_val = logmel_inputs(setting.val) if setting.val is not None else x_train
    t, eps = tune_odin(model.to(dev).eval(), x_val.to(dev), input_std=input_std(x_train), batch_size=128)
    where = (f"{n_clips(setting.val)} validation clips" if setting.val is not None
             else "the training clips (the set has no validation split)")
    return {"temperature": t, "epsilon": eps, "rule": "ID-only (Hsu et al. 2020)", "validation": where}


def run(cfg: P1Config, data: P1Data, stage: Callable | None = None) -> P1Result:
    """Every (setting, model) of the run, Table 3 and the k sweep (see the module docstring).

    ``stage(name)``: an optional context-manager factory timing each stage (``RunRecord.stage``).
    """
    from contextlib import nullcontext

    stage = stage or (lambda name: nullcontext())
    with stage("features"):
        inputs = {f"{s.name}/{part}": logmel_inputs(getattr(s, part)) for s in data.settings for part in ("train", "test")}
        inputs.update({n: logmel_inputs(o) for n, o in data.ood.items()})
    runs = {}
    for s in data.settings:
        for arch in cfg.models:
            with stage(f"train + score {arch} on {s.name}"):
                runs[(s.name, arch)] = run_model(cfg, s, arch, data, inputs)
    t3_key = table3_key(cfg, data)
    with stage("classical"):
        r = runs[t3_key]
        def per_clip(scores: dict[str, dict[str, np.ndarray]]) -> dict[str, dict[str, np.ndarray]]:
            return {d: {s: reduce_to_clips(v, r.clips[s], cfg.window_reduce) for s, v in per_set.items()}
                    for d, per_set in scores.items()}

        classical = per_clip(classical_scores(r.train_feats, r.features, cfg.seed))
        pyod = per_clip(classical_scores(r.train_feats, r.features, cfg.seed, pyod_scores=True, only=("LODA", "PCA")))
    result = P1Result(cfg, data, runs, t3_key, classical, classical_pyod={f"{d} (PyOD)": v for d, v in pyod.items()})
    with stage("k sweep"):
        for s in data.settings:
            r = runs[(s.name, t3_key[1])]
            feats = {n: f for n, f in r.features.items() if n != ID_TEST}
            result.sweeps[s.name] = k_sweep(r.train_feats, r.features[ID_TEST], feats, cfg.k_values,
                                            clips=r.clips, how=cfg.window_reduce)
    return result


def table3_key(cfg: P1Config, data: P1Data) -> tuple[str, str]:
    """Table 3's run: the vocal-sound setting (the paper's) or the first, with MobileNet or the first model."""
    names = [s.name for s in data.settings]
    setting = next((n for n in names if n in ("vocal sounds", "Vocalsound")), names[0])
    return setting, ("mobilenet" if "mobilenet" in cfg.models else cfg.models[0])


__all__ = ["ID_TEST", "CLASSICAL", "METHODS", "ModelRun", "P1Result", "evidence_name", "run", "run_model", "table3_key"]
