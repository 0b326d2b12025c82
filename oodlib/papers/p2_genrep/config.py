"""P2's notebook parameters, validated in one place before any work."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from ...config import RunConfig, at_least, entries, in_open_closed, names, one_of
from ...params import ParameterError
from ...synthetic.machines import MACHINE_TYPES

#: the values of ``data`` (the data module reads them from here)
SOURCES_2023 = ("synthetic", "dcase2023t2_dev_mini", "dcase2023t2_dev", "dcase2023t2_eval")
SOURCES_2020 = ("synthetic", "dcase2020t2_dev")

LOWSHOT_SOURCES = (*SOURCES_2020, "none")
LOWSHOT_PROTOCOLS = ("pooled", "per_id")
POOLING_NAMES = ("temporal", "spatial", "spectral")
#: the synthetic machine types ``machines=[]`` stands for on synthetic data
SYNTHETIC_DEFAULT = ("fan", "pump", "gearbox", "valve")
MAX_LAYERS = 48
EFFICIENTAT_LAYERS = 17  # stages of oodlib.models.efficientat (stem, 15 blocks, last conv)
POS_CONV_GROUPS = 16  # BEATs' positional convolution groups: the width must be a multiple of them


NAMED = ("efficientat_mn04", "beats_random")
PREFIXED = ("efficientat", "beats")
#: the paper's fixed layer (5 of BEATs' 12; 4 for the fine-tuned model) as a share of the depth, used
#: for extractors the paper did not study (EfficientAT: round(17 * 5 / 12) = 7)
PAPER_LAYER_SHARE = 5 / 12


def spec_problem(spec: object) -> str | None:
    """Why ``spec`` names no extractor (None when it does); checks the form, not the file."""
    if not isinstance(spec, str) or not spec:
        return "a non-empty string"
    if spec in NAMED:
        return None
    kind, sep, path = spec.partition(":")
    if sep and kind in PREFIXED and path.strip():
        return None
    return f"one of {list(NAMED)} or '<kind>:<path>' with kind in {list(PREFIXED)}"


def spec_path(spec: str) -> Path | None:
    """The weights file a ``kind:<path>`` spec names (None for a named extractor)."""
    kind, sep, path = spec.partition(":")
    return Path(path).expanduser() if sep and kind in PREFIXED else None


def _machines(name: str, values: list, synthetic: bool) -> None:
    """Distinct names; on synthetic data each a synthetic machine type ([] = every machine: the
    folders found on real data, :data:`SYNTHETIC_DEFAULT` on synthetic data)."""
    if len(set(values)) != len(values):
        raise ParameterError(f"parameter {name!r} must not repeat a machine, got {values!r}")
    if synthetic:
        bad = [m for m in values if m not in MACHINE_TYPES]
        if bad:
            raise ParameterError(f"parameter {name!r} must list synthetic machine types from {list(MACHINE_TYPES)} "
                                 f"for synthetic data ([] = {list(SYNTHETIC_DEFAULT)}), got {values!r}")


def _extractors(values: list) -> None:
    """A non-empty list of distinct extractor specs (:mod:`.extractors`); a named weights file must exist."""
    if not isinstance(values, list) or not values:
        raise ParameterError(f"parameter 'extractors' must list at least one extractor, e.g. "
                             f"['efficientat_mn04', 'beats_random'], got {values!r}")
    if len(set(values)) != len(values):
        raise ParameterError(f"parameter 'extractors' must not repeat an entry, got {values!r}")
    for i, spec in enumerate(values):
        problem = spec_problem(spec)
        if problem:
            raise ParameterError(f"parameter 'extractors[{i}]' must be {problem}, got {spec!r}")
        path = spec_path(spec)
        if path is not None and not path.is_file():
            raise ParameterError(f"parameter 'extractors[{i}]': weights file {path} does not exist")


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
    ground_truth_dir: str | None = None  # the evaluator's ground_truth_data/ + ground_truth_domain/; None = the eval set's folder
    machines: list[str] = field(default_factory=list)  # [] = every machine (real folders found / SYNTHETIC_DEFAULT)
    n_source: int = 100  # synthetic source-domain training clips per machine
    n_target: int = 10  # synthetic target-domain training clips per machine (0 = none: no MemMixup)
    n_test: int = 25  # synthetic test clips per domain and label
    anomaly_db: float = -12.0  # synthetic anomaly level relative to the machine sound
    clip_seconds: float = 4.0  # every clip is cropped or zero-padded to this length
    extractors: list[str] = field(default_factory=lambda: ["efficientat_mn04", "beats_random"])  # first = primary
    extractor_width: int = 192  # random-weight BEATs: channels per token
    extractor_layers: int = 12  # random-weight BEATs: transformer blocks
    fixed_layer: int | None = None  # the fixed-layer result; None = each extractor's own (BEATs 5, ft 4, else 5/12 of depth)
    poolings: list[str] = field(default_factory=lambda: list(POOLING_NAMES))  # temporal is required (every table)
    mix_ks: list[int] = field(default_factory=lambda: [10, 50, 100])  # MemMixup Ks
    lam: float = 0.9  # MemMixup weight of the target feature
    lowshot_machines: list[str] = field(default_factory=list)  # [] = every machine
    lowshot_protocol: str = "pooled"  # "pooled": all IDs of a machine together (reference code); "per_id"
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
        _extractors(self.extractors)
        at_least("extractor_layers", self.extractor_layers, 1, MAX_LAYERS)
        at_least("extractor_width", self.extractor_width, POS_CONV_GROUPS, 4096)
        if "beats_random" in self.extractors:  # checkpoints bring their own width and depth (checked when they load)
            problem = extractor_width_problem(self.extractor_width)
            if problem:
                raise ParameterError(f"parameter 'extractor_width' must be {problem}; got {self.extractor_width}")
        if self.fixed_layer is not None:  # a checkpoint's depth is checked when it loads
            depths = [self.extractor_layers if s == "beats_random" else EFFICIENTAT_LAYERS
                      for s in self.extractors if s == "beats_random" or s.startswith("efficientat")]
            at_least("fixed_layer", self.fixed_layer, 1, min(depths, default=MAX_LAYERS))
        names("poolings", self.poolings, POOLING_NAMES)
        if "temporal" not in self.poolings:
            raise ParameterError(f"parameter 'poolings' must include 'temporal' (Tables 1, 2 and 4 use it), got {self.poolings!r}")
        one_of("lowshot_protocol", self.lowshot_protocol, LOWSHOT_PROTOCOLS)
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


    @property
    def machine_list(self) -> list[str]:
        """``machines`` with ``[]`` resolved on synthetic data ([] stays "all folders" on real data)."""
        return list(self.machines) or (list(SYNTHETIC_DEFAULT) if self.data == "synthetic" else [])

    @property
    def lowshot_machine_list(self) -> list[str]:
        """``lowshot_machines`` with ``[]`` resolved on synthetic data."""
        return list(self.lowshot_machines) or (list(SYNTHETIC_DEFAULT) if self.lowshot_data == "synthetic" else [])


__all__ = ["LOWSHOT_PROTOCOLS", "LOWSHOT_SOURCES", "P2Config", "SYNTHETIC_DEFAULT", "extractor_width_problem"]
