"""P1's notebook parameters, validated in one place before any work."""

from __future__ import annotations

from dataclasses import dataclass, field

from ...config import RunConfig, at_least, entries, names, one_of, positive
from ...params import ParameterError
from ...synthetic import vocab
from .sets import STANDS_IN_FOR, VOCALISATIONS

SOURCES = ("synthetic", "speech_commands_v0.02_test", "speech_commands_v0.02", "folders")
MODELS = ("mobilenet", "efficientnet")
ID_SETTINGS = ("vocal sounds", "keywords")
VOCAL_CLASSES = min(6, len(VOCALISATIONS))  # the notebook asks for 6 vocal-sound classes
# Set names the notebook already uses: an extra OOD folder must not replace one of them.
RESERVED_SET_NAMES = ("ID test", *STANDS_IN_FOR, "unknown words", "silence / noise", "machine sounds",
                      "speech commands (10 words)", "custom")


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
    k_vocal: int = 10  # kNN k for the vocal-sound setting
    k_values: list[int] = field(default_factory=lambda: [1, 2, 5, 10, 20, 50, 100, 200])  # the k sweep
    odin_temperature: float = 1000.0  # ODIN temperature
    odin_epsilon: float = 0.0056  # ODIN input perturbation, in standard deviations of the ID training log-mels
    max_per_class: int = 0  # real data: cap clips per word and split (0 = all)
    id_train_dir: str | None = None  # data="folders": folder-per-class ID training set
    id_test_dir: str | None = None  # data="folders": folder-per-class ID test set
    ood_dirs: dict = field(default_factory=dict)  # extra OOD sets, name -> folder

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
        at_least("k_vocal", self.k_vocal, 1, 100_000)
        entries("k_values", self.k_values, 1, 100_000)
        positive("odin_temperature", self.odin_temperature)
        at_least("odin_temperature", self.odin_temperature, 0.0, 1e6)
        at_least("odin_epsilon", self.odin_epsilon, 0.0, 1.0)  # 0 = no input perturbation
        at_least("max_per_class", self.max_per_class, 0, 1_000_000)  # 0 = all
        if self.data == "synthetic":
            names("id_settings", self.id_settings, ID_SETTINGS)
            for setting in self.id_settings:  # a setting's training bank is ~70% of its clips
                n_clips = self.clips_per_class * (self.keyword_classes if setting == "keywords" else VOCAL_CLASSES)
                k_name = "k_keywords" if setting == "keywords" else "k_vocal"
                k = self.k_keywords if setting == "keywords" else self.k_vocal
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


__all__ = ["ID_SETTINGS", "MODELS", "P1Config", "RESERVED_SET_NAMES", "SOURCES", "VOCALISATIONS"]
