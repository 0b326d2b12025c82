"""P2's notebook parameters, validated in one place before any work."""

from __future__ import annotations

from dataclasses import dataclass, field

from ...config import RunConfig, at_least, entries, in_open_closed, one_of
from ...params import ParameterError
from ...synthetic.machines import MACHINE_TYPES

#: the values of ``data`` (the data module reads them from here)
SOURCES_2023 = ("synthetic", "dcase2023t2_dev_mini", "dcase2023t2_dev", "dcase2023t2_eval")
SOURCES_2020 = ("synthetic", "dcase2020t2_dev")

LOWSHOT_SOURCES = (*SOURCES_2020, "none")
MAX_LAYERS = 48
POS_CONV_GROUPS = 16  # BEATs' positional convolution groups: the width must be a multiple of them


def _machines(name: str, values: list, synthetic: bool) -> None:
    """Synthetic data: a non-empty list of distinct machine types; real data: distinct folder names."""
    if len(set(values)) != len(values):
        raise ParameterError(f"parameter {name!r} must not repeat a machine, got {values!r}")
    if synthetic:
        bad = [m for m in values if m not in MACHINE_TYPES]
        if not values or bad:
            raise ParameterError(f"parameter {name!r} must list synthetic machine types from {list(MACHINE_TYPES)} "
                                 f"for synthetic data ([] = all applies to real folders only), got {values!r}")


def extractor_width_problem(width: int) -> str | None:
    """Why a random-weight BEATs of this width cannot be built (None when it can)."""
    heads = max(1, width // 64)  # oodlib.papers.p2_genrep.features.small_beats_config
    if width % POS_CONV_GROUPS or width % heads:
        return (f"a multiple of {POS_CONV_GROUPS} (BEATs' positional convolution groups) and of its "
                f"{heads} attention heads (width // 64), e.g. 64, 128, 192, 256, 384 or 768")
    return None


@dataclass(frozen=True)
class P2Config(RunConfig):
    """Parameters of ``notebooks/p2_genrep.ipynb`` (see its parameters cell)."""

    lowshot_data: str = "synthetic"  # "synthetic" or "dcase2020t2_dev" (Tables 3-4); "none" skips them
    ground_truth_dir: str | None = None  # DCASE2023 evaluator's ground truth (eval set labels)
    machines: list[str] = field(default_factory=lambda: ["fan", "pump", "gearbox", "valve"])  # [] = all real folders
    n_source: int = 100  # synthetic source-domain training clips per machine
    n_target: int = 10  # synthetic target-domain training clips per machine (0 = none: no MemMixup)
    n_test: int = 25  # synthetic test clips per domain and label
    anomaly_db: float = -12.0  # synthetic anomaly level relative to the machine sound
    clip_seconds: float = 4.0  # every clip is cropped or zero-padded to this length
    checkpoint: str | None = None  # an official BEATs checkpoint; None = random-weight BEATs
    extractor_width: int = 192  # random-weight BEATs: channels per token
    extractor_layers: int = 12  # random-weight BEATs: transformer blocks
    fixed_layer: int = 5  # the fixed-layer result
    mix_ks: list[int] = field(default_factory=lambda: [10, 50, 100])  # MemMixup Ks
    lam: float = 0.9  # MemMixup weight of the target feature
    lowshot_machines: list[str] = field(default_factory=lambda: ["fan", "pump", "gearbox", "valve"])
    lowshot_sections: int = 3  # synthetic DCASE2020-style sections per machine type
    lowshot_train: int = 70  # synthetic training clips per section
    lowshot_test: int = 20  # synthetic test clips per section and label
    shots: list[int] = field(default_factory=lambda: [4, 16, 50, 100, 200])  # low-shot sizes (plus half and full)
    lowshot_seeds: int = 5  # random draws per shot setting
    batch_size: int = 16  # clips per extractor forward pass

    def check(self) -> None:
        super().check()
        one_of("data", self.data, SOURCES_2023)
        one_of("lowshot_data", self.lowshot_data, LOWSHOT_SOURCES)
        _machines("machines", self.machines, self.data == "synthetic")
        _machines("lowshot_machines", self.lowshot_machines, self.lowshot_data == "synthetic")
        at_least("n_source", self.n_source, 1, 100_000)
        at_least("n_target", self.n_target, 0, 100_000)
        at_least("n_test", self.n_test, 1, 100_000)
        at_least("anomaly_db", self.anomaly_db, -80.0, 40.0)
        at_least("clip_seconds", self.clip_seconds, 0.5, 60.0)
        at_least("extractor_layers", self.extractor_layers, 1, MAX_LAYERS)
        at_least("extractor_width", self.extractor_width, POS_CONV_GROUPS, 4096)
        if not self.checkpoint:  # a checkpoint brings its own width and depth (checked when it loads)
            problem = extractor_width_problem(self.extractor_width)
            if problem:
                raise ParameterError(f"parameter 'extractor_width' must be {problem}; got {self.extractor_width}")
            at_least("fixed_layer", self.fixed_layer, 1, self.extractor_layers)
        else:
            at_least("fixed_layer", self.fixed_layer, 1, MAX_LAYERS)
        entries("mix_ks", self.mix_ks, 1, 100_000)
        if self.data == "synthetic" and max(self.mix_ks) > self.n_source:
            raise ParameterError(f"parameter 'mix_ks' must lie in [1, n_source={self.n_source}] (MemMixup mixes "
                                 f"each target clip with its Ks nearest source clips), got {self.mix_ks}")
        in_open_closed("lam", self.lam)
        at_least("lowshot_sections", self.lowshot_sections, 1, 100)
        at_least("lowshot_train", self.lowshot_train, 1, 100_000)
        at_least("lowshot_test", self.lowshot_test, 1, 100_000)
        if self.lowshot_data == "synthetic" and self.lowshot_sections * self.lowshot_train < 2:
            raise ParameterError("parameters 'lowshot_sections' x 'lowshot_train' must give at least 2 training "
                                 f"clips per machine (the 'half' setting draws half of them), got "
                                 f"{self.lowshot_sections} x {self.lowshot_train}")
        entries("shots", self.shots, 1, 1_000_000, nonempty=False)  # [] = only half and full
        at_least("lowshot_seeds", self.lowshot_seeds, 1, 100)
        at_least("batch_size", self.batch_size, 1, 10_000)


__all__ = ["LOWSHOT_SOURCES", "P2Config", "extractor_width_problem"]
