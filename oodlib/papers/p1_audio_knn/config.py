"""P1's notebook parameters, validated in one place before any work."""

from __future__ import annotations

from dataclasses import dataclass, field

from ...config import RunConfig, at_least, entries, names, one_of, positive
from ...params import ParameterError
from ...synthetic import vocab
from .sets import EXTRA_OOD_NAMES, NATIVE_NAMES, PAPER_K_VOCAL, SPEECH_COMMANDS, STANDS_IN_FOR, SYNTHETIC_K_VOCAL, VOCALISATIONS

#: ID data: the synthetic stand-ins, folder-per-class trees, or a real set in its native layout
SOURCES = ("synthetic", *SPEECH_COMMANDS, "folders", *[n for n in NATIVE_NAMES if n not in SPEECH_COMMANDS])
#: real OOD sets by data-folder name (``ood_datasets``)
OOD_DATASETS = (*NATIVE_NAMES, *EXTRA_OOD_NAMES)
CLIP_POLICIES = ("start", "centre", "loudest", "windows")
#: options a native loader takes through ``dataset_options`` (data-folder name -> option names)
DATASET_OPTIONS = {"mswc_micro_en": ("keywords", "splits_csv"), "mswc_micro_es": ("keywords", "splits_csv"),
                   "esc50": ("folds", "test_fold", "meta_file"), "crema_d": ("test_fraction",),
                   "voxforge": ("languages", "split_lists"), "fluent_speech_commands": ("label",)}
MODELS = ("mobilenet", "efficientnet")
ID_SETTINGS = ("vocal sounds", "keywords")
VOCAL_CLASSES = min(6, len(VOCALISATIONS))  # the notebook asks for 6 vocal-sound classes
# Set names the notebook already uses: an extra OOD folder must not replace one of them.
RESERVED_SET_NAMES = ("ID test", *STANDS_IN_FOR, "unknown words", "silence / noise", *EXTRA_OOD_NAMES.values(),
                      *NATIVE_NAMES.values(), "speech commands (10 words)", "custom")


@dataclass(frozen=True)
class P1Config(RunConfig):
    """Parameters of ``notebooks/p1_audio_knn.ipynb`` (see its parameters cell)."""

    id_settings: list[str] = field(default_factory=lambda: ["vocal sounds", "keywords"])  # synthetic ID settings
    models: list[str] = field(default_factory=lambda: ["mobilenet", "efficientnet"])  # MobileNetV1 and EfficientNet-B0
    epochs: int = 6  # paper: 100
    batch_size: int = 32  # paper: 128
    lr: float = 0.001  # Adam learning rate
    augment: bool = True  # random time shift and level offset while training
    clips_per_class: int = 100  # synthetic clips per ID class (before the 70/30 speaker-disjoint split)
    keyword_classes: int = 10  # synthetic keyword classes (paper: 31)
    ood_clips: int = 60  # clips per synthetic OOD set
    k_keywords: int = 5  # kNN k for the keyword setting (and every real or folder setting)
    k_vocal: int | None = None  # kNN k for a vocal-sound setting (None: the paper's 100 on VocalSound, 10 on the stand-in)
    k_values: list[int] = field(default_factory=lambda: [1, 2, 5, 10, 20, 50, 100, 200])  # the k sweep
    odin_temperature: float = 1000.0  # ODIN temperature
    odin_epsilon: float = 0.0056  # ODIN input perturbation, in standard deviations of the ID training log-mels
    odin_tuning: str = "fixed"  # "fixed": the two values above; "id_only": Hsu et al.'s rule on ID validation clips
    max_per_class: int = 0  # real data: cap clips per word and split (0 = all)
    id_train_dir: str | None = None  # data="folders": folder-per-class ID training set
    id_test_dir: str | None = None  # data="folders": folder-per-class ID test set
    ood_dirs: dict = field(default_factory=dict)  # extra OOD sets, name -> folder
    ood_datasets: list[str] | None = None  # real OOD sets by data-folder name (None: every P1 set found in data_dir)
    dataset_options: dict = field(default_factory=dict)  # native loader options, data-folder name -> {option: value}
    clip_policy: str = "loudest"  # how a clip of any length becomes 1 s: start, centre, loudest or windows
    clip_hop_s: float = 0.25  # seconds between candidate windows (loudest, windows)
    window_reduce: str = "mean"  # clip_policy="windows": a clip's score is the mean or max over its windows

    def check(self) -> None:
        super().check()
        one_of("data", self.data, SOURCES)
        names("models", self.models, MODELS)
        at_least("epochs", self.epochs, 1, 10_000)
        at_least("batch_size", self.batch_size, 2, 100_000)  # batch norm needs two clips per batch
        positive("lr", self.lr)
        at_least("lr", self.lr, 0.0, 1.0)
        at_least("clips_per_class", self.clips_per_class, 2, 100_000)  # both sides of the speaker split
        at_least("keyword_classes", self.keyword_classes, 2, len(vocab.EN_KEYWORDS))
        at_least("ood_clips", self.ood_clips, 1, 100_000)
        at_least("k_keywords", self.k_keywords, 1, 100_000)
        if self.k_vocal is not None:
            at_least("k_vocal", self.k_vocal, 1, 100_000)
        entries("k_values", self.k_values, 1, 100_000)
        positive("odin_temperature", self.odin_temperature)
        at_least("odin_temperature", self.odin_temperature, 0.0, 1e6)
        at_least("odin_epsilon", self.odin_epsilon, 0.0, 1.0)  # 0 = no input perturbation
        at_least("max_per_class", self.max_per_class, 0, 1_000_000)  # 0 = all
        one_of("odin_tuning", self.odin_tuning, ("fixed", "id_only"))
        one_of("clip_policy", self.clip_policy, CLIP_POLICIES)
        at_least("clip_hop_s", self.clip_hop_s, 0.01, 10.0)
        one_of("window_reduce", self.window_reduce, ("mean", "max"))
        self._check_datasets()
        if self.data == "synthetic":
            names("id_settings", self.id_settings, ID_SETTINGS)
            for setting in self.id_settings:  # a setting's training bank is ~70% of its clips
                n_clips = self.clips_per_class * (self.keyword_classes if setting == "keywords" else VOCAL_CLASSES)
                k_name = "k_keywords" if setting == "keywords" else "k_vocal"
                k = self.k_keywords if setting == "keywords" else self.vocal_k
                if k > n_clips:
                    raise ParameterError(
                        f"parameter {k_name!r} must be at most the {n_clips} clips of the {setting!r} setting "
                        f"(clips_per_class={self.clips_per_class}), got {k}")
                if min(self.k_values) > n_clips:
                    raise ParameterError(
                        f"parameter 'k_values' must hold a k of at most the {n_clips} clips of the {setting!r} "
                        f"setting, got {self.k_values}")
        if self.data == "folders" and not (self.id_train_dir and self.id_test_dir):
            raise ParameterError("data='folders' needs the parameters 'id_train_dir' and 'id_test_dir' "
                                 f"(folder-per-class ID sets), got {self.id_train_dir!r} and {self.id_test_dir!r}")
        if self.data == "folders" and not self.ood_dirs:  # without an OOD set there is nothing to detect
            raise ParameterError("data='folders' needs at least one OOD set in parameter 'ood_dirs' "
                                 "(name -> folder of audio files), got {}")
        for name, folder in self.ood_dirs.items():
            if not (isinstance(name, str) and name.strip()) or not (isinstance(folder, str) and folder.strip()):
                raise ParameterError(f"parameter 'ood_dirs' maps set names to folders (non-empty strings), "
                                     f"got {name!r}: {folder!r}")
            if name in RESERVED_SET_NAMES:
                raise ParameterError(f"parameter 'ood_dirs': the name {name!r} is already a set of this notebook; "
                                     f"choose another (taken: {list(RESERVED_SET_NAMES)})")


    @property
    def vocal_k(self) -> int:
        """The kNN k of a vocal-sound setting: ``k_vocal``, else the paper's 100 on real VocalSound and 10 on
        the synthetic stand-in (whose classes hold well under 100 training clips)."""
        if self.k_vocal is not None:
            return self.k_vocal
        return SYNTHETIC_K_VOCAL if self.data == "synthetic" else PAPER_K_VOCAL

    def _check_datasets(self) -> None:
        """``ood_datasets`` and ``dataset_options`` name known sets and options; real OOD sets need real ID data."""
        if self.data == "synthetic" and (self.ood_datasets is not None or self.dataset_options):
            raise ParameterError("parameters 'ood_datasets' and 'dataset_options' name real data sets: they need a real "
                                 "ID set (data), got data='synthetic' (use ood_dirs for extra OOD folders)")
        if self.ood_datasets is not None:
            names("ood_datasets", self.ood_datasets, OOD_DATASETS)
            if len(set(SPEECH_COMMANDS) & set(self.ood_datasets)) > 1:
                raise ParameterError("parameter 'ood_datasets': list one Speech Commands release, not both "
                                     f"({', '.join(SPEECH_COMMANDS)} are the same set, 'SpeechCommands')")
            if self.data in self.ood_datasets:
                raise ParameterError(f"parameter 'ood_datasets': {self.data!r} is the ID set of this run (data); "
                                     "it cannot also be an OOD set")
            if self.data in SPEECH_COMMANDS and set(SPEECH_COMMANDS) & set(self.ood_datasets):
                raise ParameterError("parameter 'ood_datasets': with Speech Commands as the ID set its unknown words "
                                     "and silence are the OOD sets already; drop the Speech Commands entry")
        if not isinstance(self.dataset_options, dict):
            raise ParameterError(f"parameter 'dataset_options' must map data-folder names to option dicts, "
                                 f"got {self.dataset_options!r}")
        for ds, opts in self.dataset_options.items():
            if ds not in DATASET_OPTIONS:
                raise ParameterError(f"parameter 'dataset_options': {ds!r} takes no options; sets with options: "
                                     f"{ {k: list(v) for k, v in DATASET_OPTIONS.items()} }")
            if not isinstance(opts, dict) or not set(opts) <= set(DATASET_OPTIONS[ds]):
                raise ParameterError(f"parameter 'dataset_options[{ds!r}]' must be a dict with keys among "
                                     f"{list(DATASET_OPTIONS[ds])}, got {opts!r}")


__all__ = ["CLIP_POLICIES", "DATASET_OPTIONS", "ID_SETTINGS", "OOD_DATASETS", "MODELS", "P1Config", "RESERVED_SET_NAMES", "SOURCES", "VOCALISATIONS"]
