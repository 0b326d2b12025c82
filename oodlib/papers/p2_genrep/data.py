"""P2 data: synthetic machine sounds (the offline default) or the real DCASE Task 2 folders.

All sources end as one table of clips from :func:`oodlib.data.dcase.load_dcase` (columns
``path, machine, split, section, domain, label, is_anomaly, ...``), so the experiments never
know where the clips came from.

* ``"synthetic"`` - :func:`oodlib.synthetic.machines.write_machine_dataset` writes DCASE2023-style
  (domain shift) or DCASE2020-style (sections, low-shot) clips into a folder, then the loader
  reads them back like real data;
* ``"dcase2023t2_dev_mini"`` - the 28 real clips in the shared data folder (smoke tests only);
* ``"dcase2023t2_dev"``, ``"dcase2023t2_eval"``, ``"dcase2020t2_dev"`` - the full sets in their
  official layouts (see ``data_manifests/``). The eval set's test names hide labels and domains:
  the DCASE evaluator's ``ground_truth_data/`` and ``ground_truth_domain/`` folders, in the
  dataset folder or in ``ground_truth_dir``, supply them.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from ...data.dcase import load_dcase
from ...data.paths import dataset_dir
from ...seeding import child_seed
from ...synthetic.machines import MACHINE_TYPES, write_machine_dataset
from .config import SOURCES_2020, SOURCES_2023, P2Config



@dataclass
class ClipTable:
    """Clips of one benchmark and a sentence saying what they are."""

    clips: pd.DataFrame
    note: str

    @property
    def machines(self) -> list[str]:
        return sorted(self.clips["machine"].unique())

    def summary(self) -> pd.DataFrame:
        """Clip counts per machine, split, domain and label."""
        c = self.clips.assign(label=self.clips["label"].fillna("unknown"), domain=self.clips["domain"].fillna("unknown"))
        return c.groupby(["machine", "split", "domain", "label"]).size().unstack(["split", "domain", "label"], fill_value=0)


#: the DCASE2023 evaluator's ground-truth folders (labels; domains) for the eval set's test clips
GROUND_TRUTH_DIRS = ("ground_truth_data", "ground_truth_domain")


def attach_ground_truth(clips: pd.DataFrame, ground_truth_dir: str | Path) -> pd.DataFrame:
    """Fill the hidden labels and domains of DCASE2023 eval test clips from the evaluator's files
    ``ground_truth_data/ground_truth_<machine>_section_<ss>_test.csv`` (file, 0/1 anomaly) and
    ``ground_truth_domain/...`` (file, 0 source / 1 target)."""
    root = Path(ground_truth_dir)
    clips = clips.copy()
    for (machine, section), idx in clips[clips["label"].isna()].groupby(["machine", "section"]).groups.items():
        stem = f"ground_truth_{machine}_section_{section}_test.csv"
        files = {k: root / k / stem for k in GROUND_TRUTH_DIRS}
        for f in files.values():
            if not f.is_file():
                raise FileNotFoundError(f"ground truth file {f} is missing (needed for {machine} section {section})")
        lab = pd.read_csv(files["ground_truth_data"], header=None, names=["file", "v"]).set_index("file")["v"]
        dom = pd.read_csv(files["ground_truth_domain"], header=None, names=["file", "v"]).set_index("file")["v"]
        names = clips.loc[idx, "path"].map(lambda p: Path(p).name)
        missing = sorted(set(names) - set(lab.index))
        if missing:
            raise ValueError(f"{files['ground_truth_data']} has no entry for {missing[:3]}")
        clips.loc[idx, "label"] = names.map(lab).map({0: "normal", 1: "anomaly"}).to_numpy()
        clips.loc[idx, "domain"] = names.map(dom).map({0: "source", 1: "target"}).to_numpy()
    clips["is_anomaly"] = clips["label"].map({"normal": False, "anomaly": True}).astype("boolean")
    return clips


def _need_types(machines: list[str], name: str) -> None:
    bad = [m for m in machines if m not in MACHINE_TYPES]
    if not machines or bad:
        raise ValueError(f"parameter '{name}' must list synthetic machine types from {MACHINE_TYPES} for synthetic data, "
                         f"got {machines}")


def load_domain_shift(source: str, data_dir: str | None, work_dir: str | Path, seed: int, machines: list[str],
                      n_source: int, n_target: int, n_test: int, duration: float,
                      ground_truth_dir: str | None = None, anomaly_db: float = -12.0) -> ClipTable:
    """The domain-shift benchmark (DCASE2023 style) for Tables 1-3 and Figure 1."""
    if source not in SOURCES_2023:
        raise ValueError(f"parameter 'data' must be one of {SOURCES_2023}, got {source!r}")
    if source == "synthetic":
        _need_types(machines, "machines")
        root = write_machine_dataset(Path(work_dir) / "dcase2023_synthetic", "dcase2023", tuple(machines), n_source,
                                     n_target, n_test, 1, duration, anomaly_db,
                                     child_seed(seed, "p2/domain_shift_data"))
        clips = load_dcase(root)
        note = (f"synthetic machine sounds ({len(machines)} machine types; per machine {n_source} source and {n_target} "
                f"target training clips, {4 * n_test} test clips of {duration:g} s; anomalies at {anomaly_db:g} dB; seed {seed}). "
                "Not the paper's data: these numbers are not the paper's numbers.")
    else:
        root = dataset_dir(source, data_dir)
        clips = load_dcase(root, machines or None)
        if clips["label"].isna().any():
            beside = all((root / k).is_dir() for k in GROUND_TRUTH_DIRS)
            if not ground_truth_dir and not beside:
                raise ValueError(f"{source}: test clips carry no labels in their names; put the DCASE2023 evaluator's "
                                 f"{' and '.join(f'{k}/' for k in GROUND_TRUTH_DIRS)} folders in {root} or pass "
                                 "ground_truth_dir (the folder that holds them)")
            clips = attach_ground_truth(clips, ground_truth_dir or root)
        note = f"real DCASE2023 Task 2 clips from {source} ({len(clips)} clips, {clips['machine'].nunique()} machine types)"
        if source == "dcase2023t2_dev_mini":
            note += "; 2 training and 2 test clips per machine: a smoke test, far too few clips for meaningful scores"
    return ClipTable(clips, note)


def load_low_shot(source: str, data_dir: str | None, work_dir: str | Path, seed: int, machines: list[str],
                  n_sections: int, n_train: int, n_test: int, duration: float, anomaly_db: float = -12.0) -> ClipTable:
    """The low-shot benchmark (DCASE2020 style: several sections per machine, one domain) for Table 4."""
    if source not in SOURCES_2020:
        raise ValueError(f"parameter 'lowshot_data' must be one of {SOURCES_2020}, got {source!r}")
    if source == "synthetic":
        _need_types(machines, "lowshot_machines")
        root = write_machine_dataset(Path(work_dir) / "dcase2020_synthetic", "dcase2020", tuple(machines), n_train, 0,
                                     n_test, n_sections, duration, anomaly_db,
                                     child_seed(seed, "p2/lowshot_data"))
        clips = load_dcase(root)
        note = (f"synthetic machine sounds in the DCASE2020 layout ({len(machines)} machine types x {n_sections} sections; "
                f"{n_sections * n_train} training and {2 * n_sections * n_test} test clips per machine).")
    else:
        clips = load_dcase(dataset_dir(source, data_dir), machines or None)
        note = f"real DCASE2020 Task 2 development clips ({len(clips)} clips)"
    return ClipTable(clips, note)


def draw_shots(train: pd.DataFrame, shots: int | str, seed: int) -> pd.DataFrame:
    """A random subset of one machine's training clips: ``shots`` clips, ``"half"`` or ``"full"``."""
    n = len(train)
    count = n if shots == "full" else n // 2 if shots == "half" else int(shots)
    if not 1 <= count <= n:
        raise ValueError(f"cannot draw {shots} shots from {n} training clips")
    if count == n:
        return train
    idx = np.sort(np.random.default_rng(seed).choice(n, size=count, replace=False))
    return train.iloc[idx]


@dataclass
class P2Data:
    """Both benchmarks of a run: domain shift (Tables 1-3, Fig. 1) and low-shot (Table 4; None when skipped)."""

    bench: ClipTable
    low: ClipTable | None

    @property
    def note(self) -> str:
        bench = self.bench.note if self.bench.note.endswith(".") else self.bench.note + "."
        return bench + ("" if self.low is None else f" Low-shot benchmark: {self.low.note}")

    def summary(self) -> pd.DataFrame:
        """The domain-shift benchmark's clip counts (the low-shot one's: ``low.summary()``)."""
        return self.bench.summary()


def load(cfg: P2Config, work_dir: str | Path) -> P2Data:
    """Both benchmarks of a run (the low-shot one None when ``lowshot_data="none"``).

    Synthetic clips are written under ``work_dir``; ``machines=[]`` means every machine found on
    real data and :data:`.config.SYNTHETIC_DEFAULT` on synthetic data.
    """
    bench = load_domain_shift(cfg.data, cfg.data_dir, work_dir, cfg.seed, cfg.machine_list, cfg.n_source, cfg.n_target,
                              cfg.n_test, cfg.clip_seconds, cfg.ground_truth_dir, cfg.anomaly_db)
    if cfg.lowshot_data == "none":
        return P2Data(bench, None)
    low = load_low_shot(cfg.lowshot_data, cfg.data_dir, work_dir, cfg.seed, cfg.lowshot_machine_list, cfg.lowshot_sections,
                        cfg.lowshot_train, cfg.lowshot_test, cfg.clip_seconds, cfg.anomaly_db)
    return P2Data(bench, low)
