"""Train P4's systems (Table 1) and ablation variants, and score the development and test clips."""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
from scipy import stats

from ...claims import Evidence
from .config import P4Config
from .data import P4Data
from .train import SystemConfig, TrainedSystem, detector_score, logits_of, scores, train_system

FULL = "Conventional smart speaker (full training)"
SMALL = "Conventional smart speaker (10% training data)"
POSTERIOR = "Posterior-AugGAN (10% training data)"
OPV = "OpVAEAugGAN (10% training data)"
SYSTEMS = (FULL, SMALL, POSTERIOR, OPV)  # Table 1's rows, in its order
OPV_VARIANT = "VAE input + Sinkhorn (OpVAEAugGAN)"  # OpVAEAugGAN's name in the ablation
#: the ablation's other variants: OpVAEAugGAN with one choice changed
ABLATIONS = {"noise input + Sinkhorn": {"latent_input": "noise"},
             "VAE input + no confident loss": {"confident": "none"},
             "VAE input + KL": {"confident": "kl"},
             "shared discriminator + Sinkhorn": {"discriminator": "shared"}}
SCORES = ("max-softmax", "sinkhorn", "detector")  # "detector": the real/fake detector's, where a system has one


@dataclass
class Scored:
    """One trained system's outputs: logits (n, 10) and OOD scores (higher = more unknown) on the
    development and test clips, its own OOD score's name and its closed-set test accuracy (fraction)."""

    logits_dev: np.ndarray
    logits_test: np.ndarray
    scores_dev: dict[str, np.ndarray]
    scores_test: dict[str, np.ndarray]
    own_score: str
    closed_set_accuracy: float


@dataclass
class P4Result:
    """Every system and ablation variant of one run, with the test labels (``-1`` = unknown).

    ``systems``: Table 1's four; ``ablation``: OpVAEAugGAN (under :data:`OPV_VARIANT`) and the
    variants of :data:`ABLATIONS` (empty when ``cfg.ablation`` is false).
    """

    systems: dict[str, Scored]
    ablation: dict[str, Scored]
    y_dev: np.ndarray
    y_test: np.ndarray
    n_classes: int
    data_source: str
    unknown_share: float
    trained: dict[str, TrainedSystem] = field(default_factory=dict, repr=False)

    @property
    def is_unknown(self) -> np.ndarray:
        return self.y_test < 0

    def evidence(self) -> dict[str, Evidence]:
        """Per-clip scores of the test set, stratified by ``is_unknown``: ``"test"`` holds Table 1's
        systems, ``"ablation"`` (when it ran) the ablation variants, each score as ``"<name>|<score>"``.

        Facts: closed-set accuracies (``"acc:<name>"``), chance, the test set's unknown share and the
        Spearman correlation of OpVAEAugGAN's two scores on the test clips.
        """
        opv = self.systems[OPV].scores_test
        facts = {"chance_accuracy": 1 / self.n_classes, "unknown_share": self.unknown_share,
                 "spearman_opv_scores": float(stats.spearmanr(opv["sinkhorn"], opv["max-softmax"]).statistic)}
        out = {}
        for name, group in (("test", self.systems), ("ablation", self.ablation)):
            if not group:
                continue
            arrays: dict[str, np.ndarray] = {"is_unknown": self.is_unknown}
            for system, scored in group.items():
                arrays.update({f"{system}|{score}": scored.scores_test[score] for score in SCORES
                               if score in scored.scores_test})
            group_facts = {**facts, **{f"acc:{system}": scored.closed_set_accuracy for system, scored in group.items()}}
            out[name] = Evidence(name, arrays, stratify="is_unknown", data=self.data_source, facts=group_facts)
        return out


def system_configs(cfg: P4Config) -> dict[str, SystemConfig]:
    """Table 1's systems and the ablation variants (OpVAEAugGAN with one choice changed)."""
    base = dict(epochs=cfg.epochs, batch_size=cfg.batch_size, lr=cfg.lr, gan_lr=cfg.gan_lr, lam=cfg.lam,
                outlier_scale=cfg.outlier_scale, width=cfg.width, blur=cfg.blur, arch=cfg.classifier)
    plain = dict(gan=False, confident="none")
    out = {FULL: SystemConfig(scattering=False, **plain, **base), SMALL: SystemConfig(scattering=False, **plain, **base),
           POSTERIOR: SystemConfig(**plain, **base), OPV: SystemConfig(**base)}
    out.update({name: SystemConfig(**{**base, **change}) for name, change in ABLATIONS.items()})
    return out


def _training_set(name: str, data: P4Data) -> tuple[np.ndarray, np.ndarray]:
    if name == FULL:
        return data.x_full, data.y_full
    if name == SMALL:
        return data.x_small, data.y_small
    return data.x_small_aug, data.y_small_aug  # Posterior-AugGAN, OpVAEAugGAN and its variants


def score_system(system: TrainedSystem, data: P4Data, blur: float) -> Scored:
    """Logits and OOD scores of ``system`` on the development and test clips: max-softmax,
    Sinkhorn and, for a system with a GAN, its real/fake detector's."""
    ld, lt = logits_of(system, data.x_dev), logits_of(system, data.x_test)
    sd, st = scores(ld, blur), scores(lt, blur)
    if system.detector is not None:
        sd["detector"], st["detector"] = detector_score(system, data.x_dev), detector_score(system, data.x_test)
    known = data.y_test >= 0
    own = "sinkhorn" if system.config.confident == "sinkhorn" else "max-softmax"
    return Scored(ld, lt, sd, st, own, float(np.mean(lt[known].argmax(1) == data.y_test[known])))


def run(cfg: P4Config, data: P4Data,
        stage: Callable[[str], contextlib.AbstractContextManager] | None = None) -> P4Result:
    """Train Table 1's four systems (and, with ``cfg.ablation``, three variants) on the same seed.

    ``stage(name)``: a context manager timing each training (e.g. ``record.stage``).
    """
    stage = stage or (lambda name: contextlib.nullcontext())
    configs = system_configs(cfg)
    names = [*SYSTEMS, *(ABLATIONS if cfg.ablation else ())]
    trained = {}
    for name in names:
        with stage(name if name in SYSTEMS else f"ablation {name}"):
            x, y = _training_set(name, data)
            trained[name] = train_system(configs[name], x, y, n_classes=len(data.classes), seed=cfg.seed,
                                         device=cfg.device, desc=name)
    scored = {name: score_system(trained[name], data, cfg.blur) for name in names}
    ablation = {OPV_VARIANT: scored[OPV], **{n: scored[n] for n in ABLATIONS if n in scored}} if cfg.ablation else {}
    return P4Result({n: scored[n] for n in SYSTEMS}, ablation, data.y_dev, data.y_test, len(data.classes),
                    cfg.data, data.unknown_share, trained)
