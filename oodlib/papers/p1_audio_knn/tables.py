"""P1's tables from a run (:func:`build`), each beside the paper's where the paper has one, with a
caption that says what differs.

Our columns are labelled ``"ours: synthetic stand-in"`` on synthetic data (each row is the stand-in
for the dataset it is named after, never that dataset) and ``"ours"`` on real data. A real run's
rows carry the paper's dataset names, so a real OOD set meets the paper's row of the same set
(ESC-50, CREMA-D, ...); the caption names what differs (the ID set, epochs, clip policy).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from ...tables import as_record, paper_table, side_by_side
from .pipeline import CLASSICAL, METHODS, average_table, ood_table, paper_names
from .run import P1Result
from .sets import PAPER_TABLE, STANDS_IN_FOR

#: an ID setting without a paper table of its own is compared with the paper's keyword-spotting table
#: when it is a keyword task (its OOD rows of the same data sets only)
KEYWORD_LIKE = ("speech commands (10 words)", "MSWC (Micro-ES)")
#: the paper's name of the ID set of each of its tables
PAPER_ID = {"table1a": "Vocalsound", "table1b": "MSWC (Micro-EN)"}
PAPER_ACCURACY = {"vocal sounds": "Vocalsound", "Vocalsound": "Vocalsound", "keywords": "MSWC (Micro-EN)",
                  "MSWC (Micro-EN)": "MSWC (Micro-EN)"}


@dataclass
class Shown:
    """A table to display: the (paper-beside-ours) frame and its caption."""

    frame: pd.DataFrame
    caption: str


@dataclass
class P1Tables:
    """Every table of the notebook.

    Attributes:
        accuracy: ID test accuracy (percent) per setting and model, the paper's beside.
        table1: per ID setting, the MobileNet (or first model) OOD table.
        table2: averages over the OOD sets per (model, method) and setting; ``table2_paper`` EfficientNet
            beside the paper's Table 2 (None when not applicable).
        table3: kNN against the classical detectors on Table 3's run.
        geometry: where each set's embeddings lie (Table 3's run).
        sweeps: per setting, the k sweep.
        ours_tables: ``"<setting>/<model>"`` -> that run's OOD table; t3_key, t3_averages: Table 3's run and
            its averages; accuracies: per run, ID test and last-epoch training accuracy (fractions).
    """

    accuracy: Shown
    table1: dict[str, Shown]
    table2: Shown
    table2_paper: Shown | None
    table3: Shown
    geometry: pd.DataFrame
    sweeps: dict[str, pd.DataFrame] = field(default_factory=dict)
    ours_tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    t3_key: tuple[str, str] = ("", "")
    t3_averages: pd.DataFrame | None = None
    accuracies: dict[str, dict[str, float]] = field(default_factory=dict)

    def record_metrics(self) -> dict[str, dict]:
        """The numbers the results record keeps, by prefix: ``accuracy``, ``ood_tables`` (per
        ``<setting>/<model>``), ``table3`` (its setting, model and averages) and ``k_sweep``."""
        return {"accuracy": self.accuracies,
                "ood_tables": {k: as_record(t) for k, t in self.ours_tables.items()},
                "table3": {"setting": self.t3_key[0], "model": self.t3_key[1], "averages": as_record(self.t3_averages)},
                "k_sweep": {n: as_record(sw) for n, sw in self.sweeps.items()}}


def ours_label(result: P1Result) -> tuple[str, str]:
    """Column labels (paper, ours) of the side-by-side tables."""
    return ("paper", "ours: synthetic stand-in") if result.data.synthetic else ("paper", "ours")


def differs(result: P1Result, setting: str, paper_id: str | None) -> str:
    """What differs from the paper in one comparison, in words (``paper_id``: the paper's ID set, if one)."""
    cfg = result.cfg
    bits = [f"ID = {setting}" + ("" if paper_id in (None, setting) else f" (paper: {paper_id})"),
            f"{cfg.epochs} epochs (paper: 100)", f"batch {cfg.batch_size} (paper: 128)"]
    if cfg.augment:
        bits.append("time-shift and level augmentation (not in the paper)")
    if result.data.policy is not None:
        bits.append(f"clip length: {result.data.policy.describe()} (the paper does not say)")
        ours = sorted(result.data.ood)
        bits.append(f"averages over our OOD sets {', '.join(ours)} (the paper's: its seven)"
                    + (f"; not found here: {', '.join(result.data.missing)}" if result.data.missing else ""))
    return "; ".join(bits)


def paper_table_for(setting: str) -> str | None:
    """The paper table (Table 1a or 1b) our setting is compared with, if any."""
    if setting in PAPER_TABLE:
        return PAPER_TABLE[setting]
    return "table1b" if setting in KEYWORD_LIKE else None


def table1(result: P1Result, setting: str, arch: str) -> Shown:
    """One ID setting's OOD table (rows: OOD sets + Average), the paper's Table 1a/1b beside it."""
    ours = result.runs[(setting, arch)].table
    which = paper_table_for(setting)
    if which is None:
        return Shown(ours, f"ours: ID = {setting}, {arch} (the paper has no table with this ID set or task)")
    paper = paper_table("p1", which)
    paper_id = PAPER_ID[which]
    if result.data.synthetic:
        both = side_by_side(paper, paper_names(ours), ours_label(result))
        return Shown(both, f"{paper.attrs['caption']} | ours: {arch} on the synthetic stand-in for {paper_id}; each row "
                           "of ours is the synthetic stand-in for the dataset it is named after, not that dataset")
    if setting not in PAPER_TABLE:  # a keyword task of our own: only the rows of shared OOD sets, no paper average
        paper = paper.drop(index="Average")
        shared = [r for r in paper.index if r in ours.index]
        paper = paper.loc[shared]
        note = f"; the paper's rows of the OOD sets we share ({', '.join(shared) or 'none'}), no paper average"
    else:
        note = ""
    both = side_by_side(paper, ours, ours_label(result))
    return Shown(both, f"{paper.attrs['caption']} | ours: {arch}; what differs: {differs(result, setting, paper_id)}{note}")


def averages(result: P1Result) -> pd.DataFrame:
    """Average FPR95 / AUROC over the OOD sets: rows (model, method), columns ``"<setting> FPR95"``, ..."""
    rows: dict[tuple[str, str], dict[str, float]] = {}
    for (name, arch), r in result.runs.items():
        a = average_table(r.table, METHODS)
        label = STANDS_IN_FOR.get(name, name) if result.data.synthetic else name
        for method in METHODS:
            rows.setdefault((arch, method), {})[f"{label} FPR95"] = a.loc[method, "FPR95"]
            rows[(arch, method)][f"{label} AUROC"] = a.loc[method, "AUROC"]
    out = pd.DataFrame.from_dict(rows, orient="index")
    out.index.names = ["model", "method"]
    return out


def table2_paper(result: P1Result, avg: pd.DataFrame) -> Shown | None:
    """EfficientNet's averages beside the paper's Table 2 (its columns are VocalSound and MSWC Micro-EN)."""
    if "efficientnet" not in result.cfg.models:
        return None
    paper = paper_table("p1", "table2")
    ours = avg.loc["efficientnet"]
    shared = [c for c in ours.columns if c in paper.columns]
    if not shared:
        return None
    what = ("the synthetic stand-ins for VocalSound and MSWC Micro-EN" if result.data.synthetic
            else differs(result, ", ".join(s.name for s in result.data.settings), None))
    return Shown(side_by_side(paper[shared], ours[shared], ours_label(result)),
                 f"{paper.attrs['caption']} | ours: EfficientNet-B0 on {what}")


def table3(result: P1Result) -> tuple[Shown, pd.DataFrame]:
    """kNN against the classical detectors (averages over the OOD sets), the paper's beside when the
    run's Table 3 setting is (the stand-in for) VocalSound; and the per-set table behind it."""
    setting, arch = result.t3_key
    per_set = ood_table({**result.classical, **result.classical_pyod, "kNN": result.t3_run.scores["kNN"]})
    avg = average_table(per_set, (*CLASSICAL, *result.classical_pyod, "kNN"))
    if paper_table_for(setting) == "table1a":
        paper = paper_table("p1", "table3")
        what = (f"{arch} on the synthetic stand-in for VocalSound" if result.data.synthetic
                else f"{arch}; what differs: {differs(result, setting, 'Vocalsound')}")
        return Shown(side_by_side(paper, avg, ours_label(result)), f"{paper.attrs['caption']} | ours: {what}"), per_set
    return Shown(avg, f"ours: {arch} on ID = {setting} (the paper's Table 3 uses a VocalSound model)"), per_set


def accuracy(result: P1Result) -> Shown:
    """ID test accuracy (percent, clips) per setting and model, the paper's MobileNet accuracy beside."""
    acc = pd.DataFrame({arch: {s.name: 100 * result.runs[(s.name, arch)].accuracy for s in result.data.settings}
                        for arch in result.cfg.models})
    paper = paper_table("p1", "accuracy")["accuracy"]
    acc["paper (MobileNet)"] = [float(paper[PAPER_ACCURACY[n]]) if n in PAPER_ACCURACY else float("nan") for n in acc.index]
    if result.cfg.odin_tuning != "fixed":
        for arch in result.cfg.models:
            acc[f"ODIN T, eps ({arch})"] = [f"{result.runs[(n, arch)].odin['temperature']:g}, "
                                            f"{result.runs[(n, arch)].odin['epsilon']:.4f}" for n in acc.index]
    acc.index.name = "ID setting"
    caption = ("ID test accuracy (%, clips). Paper: about 90% after 100 epochs on the full sets"
               + (" (ours: the synthetic stand-ins)" if result.data.synthetic else ""))
    return Shown(acc, caption)


def build(result: P1Result) -> P1Tables:
    """Every table of a run."""
    arch = "mobilenet" if "mobilenet" in result.cfg.models else result.cfg.models[0]
    avg = averages(result)
    t3, t3_per_set = table3(result)
    ours = {f"{n}/{a}": r.table for (n, a), r in result.runs.items()}
    accuracies = {f"{n}/{a}": {"id_test_accuracy": r.accuracy, "train_accuracy_last_epoch": r.history.accuracy[-1]}
                  for (n, a), r in result.runs.items()}
    if result.cfg.odin_tuning != "fixed":  # the tuned values beside each run's accuracy
        for (n, a), r in result.runs.items():
            accuracies[f"{n}/{a}"].update(odin_temperature=r.odin["temperature"], odin_epsilon=r.odin["epsilon"])
    return P1Tables(accuracy(result), {s.name: table1(result, s.name, arch) for s in result.data.settings},
                    Shown(avg, "averages over the OOD sets per model and method (percent; FPR95 with ID positive)"),
                    table2_paper(result, avg), t3, result.geometry(), dict(result.sweeps), ours, result.t3_key,
                    average_table(t3_per_set, (*CLASSICAL, *result.classical_pyod, "kNN")), accuracies)


__all__ = ["P1Tables", "Shown", "accuracy", "averages", "build", "paper_table_for", "table1", "table2_paper", "table3"]
