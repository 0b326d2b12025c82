"""The paper's experiments on one machine at a time (the features of one machine fit in memory).

* :func:`evaluate_variants` - every (pooling, MemMixup Ks, DN) variant at every layer: the rows of
  Tables 1-3 and Figure 1, plus the test scores and label-free decisions for the submission CSVs;
* :func:`low_shot` - Table 4: n-shot subsets, label-free (one bank, raw distance) and with section
  labels (one bank per section, DN), at every layer.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from .data import draw_shots
from .evaluate import evaluate_submission, machine_metrics, per_machine_official, write_submission
from .genrep import GenRep


METRICS = ("auc", "pauc", "auc_source", "auc_target", "official")


@dataclass(frozen=True)
class Variant:
    """One configuration of the detector."""

    pooling: str = "temporal"
    mix_ks: int | None = None
    normalization: str = "transductive"


@dataclass
class MachineScores:
    """Test scores of one machine for one variant and layer, with label-free decisions."""

    files: list[str]
    scores: np.ndarray
    decisions: np.ndarray
    threshold: float


def decisions_from_training(det: GenRep, scores: np.ndarray, quantile: float = 0.9) -> tuple[np.ndarray, float]:
    """0/1 decisions: anomalous above the ``quantile`` of the training clips' leave-one-out scores
    (label-free; the reference code instead picks the F1-best threshold on the test labels)."""
    train = det.train_scores()
    train = train[np.isfinite(train)]
    threshold = float(np.quantile(train, quantile)) if len(train) else float(np.median(scores))
    return (scores > threshold).astype(int), threshold


def evaluate_variants(
    machine: str,
    embeddings: dict[str, np.ndarray],
    clips: pd.DataFrame,
    variants: Sequence[Variant],
    lam: float = 0.9,
    keep_scores: Sequence[tuple[Variant, int]] = (),
) -> tuple[pd.DataFrame, dict[tuple[Variant, int], MachineScores]]:
    """Metrics of every variant at every layer for one machine.

    Args:
        embeddings: ``{pooling: [one (n_clips, dim) array per layer]}`` with rows aligned to ``clips``
            (:func:`.features.extract_embeddings`; memory maps are read one layer at a time).
        clips: this machine's clips (``split``, ``domain``, ``is_anomaly``, ``path``).
        keep_scores: (variant, layer) pairs whose test scores and decisions to return.

    Returns:
        a DataFrame with one row per (variant, layer): machine, layer, pooling, mix_ks,
        normalization, auc, pauc, auc_source, auc_target, official (this machine's harmonic mean),
        note (why a variant could not be scored: its metrics are NaN then), and the kept scores.
    """
    train = (clips["split"] == "train").to_numpy()
    test = ~train
    banks = clips.loc[train, "domain"].to_numpy()
    y = clips.loc[test, "is_anomaly"].astype(bool).to_numpy()
    dom = clips.loc[test, "domain"].to_numpy()
    files = clips.loc[test, "path"].tolist()
    has_target = "target" in set(banks)
    rows, kept = [], {}
    wanted = set(keep_scores)
    for v in variants:
        if v.mix_ks and not has_target:
            continue  # no target training clips (e.g. the mini set): MemMixup is undefined
        emb = embeddings[v.pooling]
        for layer in range(1, len(emb) + 1):
            row = {"machine": machine, "layer": layer, "pooling": v.pooling, "mix_ks": v.mix_ks or 0,
                   "normalization": v.normalization, "note": ""}
            try:
                x = emb[layer - 1]
                det = GenRep(v.mix_ks, lam, v.normalization).fit(np.asarray(x[train]), banks)
                s = det.score(np.asarray(x[test]))
            except ValueError as err:  # e.g. DN statistics of a 2-clip bank have no spread: report, do not drop
                rows.append({**row, **dict.fromkeys(METRICS, np.nan), "note": str(err)})
                continue
            m = machine_metrics(y, s, dom)
            rows.append({**row, **m, "official": per_machine_official(m)})
            if (v, layer) in wanted:
                dec, thr = decisions_from_training(det, s)
                kept[(v, layer)] = MachineScores(files, s, dec, thr)
    return pd.DataFrame(rows), kept


def low_shot(
    machine: str,
    embeddings: Sequence[np.ndarray],
    clips: pd.DataFrame,
    shots: Sequence[int | str],
    seeds: Sequence[int],
    pooling: str = "temporal",
    settings: Sequence[str] = ("label-free", "label"),
    protocol: str = "pooled",
    keep_layer: int | None = None,
) -> tuple[pd.DataFrame, dict[tuple[str, int, str], np.ndarray]]:
    """Table 4 rows for one machine: every shot setting x seed x layer x {label-free, label}.

    ``embeddings``: one (n_clips, dim) array per layer, pooled as ``pooling``, rows aligned to
    ``clips``. Label-free: one bank of all drawn clips, raw distance. Label: one bank per section
    present in the draw, transductive DN, minimum over sections (the reference code's DCASE2020
    script). "full" is drawn once (it is the whole set).

    ``protocol``: ``"pooled"`` scores all test clips of the machine together, as the GenRep
    reference code does; ``"per_id"`` computes AUC and pAUC per section (machine ID) and averages
    them over the machine's sections, as the DCASE2020 baselines in Table 4 are reported.

    Returns the rows and, for ``keep_layer``, the test scores ``{(shots, seed, setting): (n_test,)}``.
    """
    unknown = set(settings) - {"label-free", "label"}
    if unknown:
        raise ValueError(f"low-shot settings must be 'label-free' or 'label', got {sorted(unknown)}")
    if protocol not in ("pooled", "per_id"):
        raise ValueError(f"low-shot protocol must be 'pooled' or 'per_id', got {protocol!r}")
    train_all = clips[clips["split"] == "train"]
    test = (clips["split"] == "test").to_numpy()
    y = clips.loc[test, "is_anomaly"].astype(bool).to_numpy()
    ids = clips.loc[test, "section"].astype(str).to_numpy() if protocol == "per_id" else np.full(int(test.sum()), "all")
    pos = {idx: i for i, idx in enumerate(clips.index)}
    rows, kept = [], {}
    for shot in shots:
        for seed in (seeds[:1] if shot == "full" else seeds):
            drawn = draw_shots(train_all, shot, seed)
            rows_idx = np.array([pos[i] for i in drawn.index])
            sections = drawn["section"].to_numpy()
            for layer, emb in enumerate(embeddings, start=1):
                x_train, x_test = np.asarray(emb[rows_idx]), np.asarray(emb[test])
                for setting in settings:
                    det = (GenRep(normalization="none").fit(x_train, np.full(len(x_train), "all")) if setting == "label-free"
                           else GenRep(normalization="transductive").fit(x_train, sections))
                    s = det.score(x_test)
                    m = _per_id_metrics(y, s, ids)
                    rows.append({"machine": machine, "pooling": pooling, "shots": str(shot), "seed": seed, "layer": layer,
                                 "setting": setting, "n_train": len(drawn), "auc": m["auc"], "pauc": m["pauc"]})
                    if layer == keep_layer:
                        kept[(str(shot), seed, setting)] = s
    out = pd.DataFrame(rows)
    out["oc"] = (out["auc"] + out["pauc"]) / 2
    return out, kept


def _per_id_metrics(y: np.ndarray, scores: np.ndarray, ids: np.ndarray) -> dict[str, float]:
    """AUC and pAUC averaged over the groups in ``ids`` (one group: the pooled metrics)."""
    dom = np.full(len(y), "source")
    per = [machine_metrics(y[ids == g], scores[ids == g], dom[ids == g]) for g in np.unique(ids)]
    return {k: float(np.nanmean([m[k] for m in per])) if any(np.isfinite(m[k]) for m in per) else np.nan
            for k in ("auc", "pauc")}


def export_submission(
    folder: str | Path,
    results: pd.DataFrame,
    kept: Mapping[tuple[str, Variant, int], MachineScores],
    clips: pd.DataFrame,
    variant: Variant,
    layers: Mapping[str, int],
) -> tuple[list[Path], float]:
    """Write each machine's CSVs for ``variant`` at its layer (``layers``: machine -> layer), re-read
    them as the evaluator does and check the metrics equal the ones in ``results``.

    ``kept`` maps (machine, variant, layer) to the scores :func:`evaluate_variants` kept. Returns the
    written files and the largest absolute metric difference (0 when the files are faithful);
    raises ``AssertionError`` when a re-read metric differs or is defined on one side only.
    """
    written = []
    for machine, layer in layers.items():
        ms = kept.get((machine, variant, int(layer)))
        if ms is None:
            continue
        section = clips.loc[clips["machine"] == machine, "section"].iloc[0]
        written += write_submission(folder, machine, section, ms.files, ms.scores, ms.decisions)
    if not written:
        return [], 0.0
    truth = clips[clips["split"] == "test"].rename(columns={"path": "file"})
    reread = evaluate_submission(folder, truth)
    cols = ["auc", "pauc", "auc_source", "auc_target"]
    idx = results.set_index(["machine", "layer", "pooling", "mix_ks", "normalization"])
    direct = pd.DataFrame({m: idx.loc[(m, int(layer), variant.pooling, variant.mix_ks or 0, variant.normalization), cols]
                           for m, layer in layers.items() if m in reread.index}).T
    a, b = reread.loc[direct.index, cols].to_numpy(float), direct.to_numpy(float)
    diff = np.abs(a - b)
    gap = float(np.nanmax(diff)) if np.isfinite(diff).any() else 0.0
    if gap > 1e-9 or not (np.isnan(a) == np.isnan(b)).all():
        raise AssertionError(f"re-read submission metrics differ from the direct ones (max |diff| {gap:.2e})")
    return written, gap
