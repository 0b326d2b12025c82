"""DCASE Task 2 evaluation for P2: per-machine metrics, summaries, layer choice, and the
submission CSVs the official evaluator reads.

Metrics follow :mod:`oodlib.metrics.dcase` (anomalous clips positive; AUC of a domain over that
domain's normal clips plus all anomalies; pAUC with max FPR 0.1 over all clips; official score =
harmonic mean of every machine's source AUC, target AUC and pAUC). A metric a machine's test set
cannot define (one class only, as in the 28-clip mini set) is NaN, never silently zero.

Submission files (one pair per machine and section, two columns, no header)::

    anomaly_score_<machine>_section_<ss>_test.csv    <file name>,<score>
    decision_result_<machine>_section_<ss>_test.csv  <file name>,<0 or 1>
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path

import numpy as np
import pandas as pd

from ...metrics import binary
from ...metrics.dcase import dcase_machine_metrics, dcase_official_score, hmean_finite

_SCORE_FILE = re.compile(r"^anomaly_score_(?P<machine>.+)_section_(?P<section>\d+)_test\.csv$")


def machine_metrics(is_anomaly: np.ndarray, scores: np.ndarray, domains: np.ndarray, max_fpr: float = 0.1) -> dict[str, float]:
    """``auc`` (all clips), ``pauc``, ``auc_source``, ``auc_target`` (fractions).

    :func:`oodlib.metrics.dcase.dcase_machine_metrics` plus the all-clip AUC; a metric the test set
    cannot define (one class only, or a domain without normal clips) is NaN.
    """
    y = np.asarray(is_anomaly, dtype=bool)
    out = dict.fromkeys(("auc", "pauc", "auc_source", "auc_target"), np.nan)
    if y.any() and (~y).any():
        out.update(dcase_machine_metrics(y, scores, domains, max_fpr=max_fpr))
        out["auc"] = binary.auroc(y.astype(int), np.asarray(scores, dtype=np.float64))
    return out


def official_score(per_machine: pd.DataFrame) -> float:
    """Harmonic mean over all machines (rows) of {auc_source, auc_target, pauc} together.

    :func:`oodlib.metrics.dcase.dcase_official_score` on the frame's rows: NaN values (metrics a
    machine's test set cannot define) are skipped; NaN if none is finite or the frame is empty.
    """
    if per_machine.empty:
        return float("nan")
    return dcase_official_score(per_machine[["auc_source", "auc_target", "pauc"]].to_dict("records"))


def summarize(per_machine: pd.DataFrame) -> dict[str, float]:
    """The paper's summary row: harmonic means over machines of AUC, pAUC, source and target AUC,
    and the official score (all fractions)."""
    out = {c: hmean_finite(per_machine[c]) for c in ("auc", "pauc", "auc_source", "auc_target")}
    out["official"] = official_score(per_machine)
    return out


def per_machine_official(row: Mapping[str, float]) -> float:
    """One machine's official score: harmonic mean of its source AUC, target AUC and pAUC (NaNs skipped)."""
    return dcase_official_score([{k: row[k] for k in ("auc_source", "auc_target", "pauc")}])


def choose_layers(results: pd.DataFrame, how: str, fixed_layer: int, criterion: str = "official") -> pd.DataFrame:
    """Pick one layer per machine from ``results`` (rows: machine x layer, a ``criterion`` column).

    ``how="fixed"``: ``fixed_layer`` for every machine. ``how="oracle"``: each machine's best
    layer by ``criterion`` **on the test set**, as the reference code does (an oracle: it looks at
    test labels, so it is an upper bound, not a deployable choice).
    """
    if how == "fixed":
        if fixed_layer not in set(results["layer"]):
            raise ValueError(f"fixed layer {fixed_layer} is not among the layers {sorted(set(results['layer']))}")
        return results[results["layer"] == fixed_layer]
    if how == "oracle":
        filled = results.assign(_c=results[criterion].fillna(-np.inf))
        return results.loc[filled.groupby("machine")["_c"].idxmax()]
    raise ValueError(f"layer choice must be 'fixed' or 'oracle', got {how!r}")


# ---------------------------------------------------------------------------- submission CSVs
def write_submission(folder: str | Path, machine: str, section: str, file_names: list[str], scores: np.ndarray,
                     decisions: np.ndarray) -> tuple[Path, Path]:
    """Write the score and decision CSVs of one machine and section; returns their paths."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    scores = np.asarray(scores, dtype=np.float64)
    decisions = np.asarray(decisions).astype(int)
    if not (len(file_names) == len(scores) == len(decisions)):
        raise ValueError(f"file_names, scores and decisions differ in length: {len(file_names)}, {len(scores)}, {len(decisions)}")
    if not np.isfinite(scores).all():
        raise ValueError(f"{machine}: scores contain NaN or infinite values")
    if not np.isin(decisions, (0, 1)).all():
        raise ValueError(f"{machine}: decisions must be 0 or 1")
    names = [Path(f).name for f in file_names]
    score_path = folder / f"anomaly_score_{machine}_section_{section}_test.csv"
    dec_path = folder / f"decision_result_{machine}_section_{section}_test.csv"
    pd.DataFrame({"file": names, "score": scores}).to_csv(score_path, header=False, index=False, float_format="%.10g")
    pd.DataFrame({"file": names, "decision": decisions}).to_csv(dec_path, header=False, index=False)
    return score_path, dec_path


def read_submission(folder: str | Path) -> pd.DataFrame:
    """Read every score/decision CSV pair in ``folder`` the way the DCASE evaluator does.

    Returns one row per clip: ``machine``, ``section``, ``file``, ``score``, ``decision``. Raises
    ``ValueError`` naming the file for a header row, a wrong column count, a non-numeric score,
    a decision other than 0/1, or a decision file whose clips differ from its score file.
    """
    folder = Path(folder)
    rows = []
    score_files = sorted(p for p in folder.glob("anomaly_score_*_test.csv"))
    if not score_files:
        raise FileNotFoundError(f"no anomaly_score_<machine>_section_<ss>_test.csv files in {folder}")
    for path in score_files:
        m = _SCORE_FILE.match(path.name)
        if not m:
            raise ValueError(f"{path}: name must be anomaly_score_<machine>_section_<ss>_test.csv")
        scores = _read_two_columns(path)
        dec_path = folder / path.name.replace("anomaly_score_", "decision_result_", 1)
        if not dec_path.is_file():
            raise FileNotFoundError(f"{dec_path} is missing (every score file needs its decision file)")
        dec = _read_two_columns(dec_path)
        if list(dec[0]) != list(scores[0]):
            raise ValueError(f"{dec_path}: its clips differ from those of {path.name}")
        if not dec[1].isin([0, 1]).all():
            raise ValueError(f"{dec_path}: decisions must be 0 or 1")
        rows.append(pd.DataFrame({"machine": m["machine"], "section": m["section"], "file": scores[0],
                                  "score": scores[1].astype(float), "decision": dec[1].astype(int)}))
    return pd.concat(rows, ignore_index=True)


def _read_two_columns(path: Path) -> pd.DataFrame:
    """A headerless (file name, number) CSV; ``ValueError`` naming the file otherwise."""
    df = pd.read_csv(path, header=None)
    if df.shape[1] != 2:
        raise ValueError(f"{path}: expected 2 columns (file name, value), found {df.shape[1]}")
    if not pd.api.types.is_numeric_dtype(df[1]):
        raise ValueError(f"{path}: second column must be numeric (is there a header row?)")
    return df


def evaluate_submission(folder: str | Path, ground_truth: pd.DataFrame) -> pd.DataFrame:
    """Metrics per machine from the CSVs in ``folder`` and a ground truth with columns ``file``,
    ``machine``, ``is_anomaly``, ``domain`` (what the evaluator's ground-truth files hold)."""
    sub = read_submission(folder)
    gt = ground_truth.assign(file=ground_truth["file"].map(lambda f: Path(f).name))
    merged = sub.merge(gt[["machine", "file", "is_anomaly", "domain"]], on=["machine", "file"], how="left")
    if merged["is_anomaly"].isna().any():
        missing = merged.loc[merged["is_anomaly"].isna(), "file"].head(3).tolist()
        raise ValueError(f"submission lists clips without ground truth, e.g. {missing}")
    out = {}
    for machine, g in merged.groupby("machine"):
        out[machine] = machine_metrics(g["is_anomaly"].astype(bool), g["score"], g["domain"])
    return pd.DataFrame(out).T.rename_axis("machine")
