"""P1 data: the ID settings and the OOD sets of a run, from its parameters (:func:`load`).

* ``"synthetic"`` (the embedded default) - eSpeak NG keywords and vocalisations as two ID settings
  and six generated OOD sets standing in for the paper's (:data:`.sets.STANDS_IN_FOR`);
* a real set in its native layout as the ID setting (``"vocalsound"``, ``"mswc_micro_en"``,
  ``"esc50"``, ... and Speech Commands' 10 words), with real OOD sets by data-folder name
  (``ood_datasets``; by default every P1 set found in the data folder: the paper's protocol
  when the ID set is MSWC Micro-EN or VocalSound);
* ``"folders"`` - folder-per-class ID trees of the user's (with ``ood_dirs``).

Real clips of any length become one-second model inputs by one :class:`~oodlib.data.clips.ClipPolicy`
(``clip_policy``), the same for ID and OOD clips. A set's ``meta["clip"]`` names the clip each
row (window) comes from; per-window scores are reduced to clips before any metric.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from ...data.audioset import AudioSet
from ...data.clips import ClipPolicy, load_windows
from ...data.folders import audio_files, folder_dataset
from ...data.paths import dataset_dir
from ...data.speech_commands import SILENCE, TEN_WORDS, UNKNOWN, load_speech_commands, speaker_disjoint_split
from ...seeding import child_seed
from ...synthetic import vocab
from ...synthetic.sounds import make_sounds
from ...synthetic.speech import SpeechSetSpec, synth_speech_set
from .config import P1Config
from .sets import EXTRA_OOD_NAMES, NATIVE_NAMES, PAPER_SUITE, SPEECH_COMMANDS, STANDS_IN_FOR, VOCALISATIONS

SAMPLE_RATE, CLIP_SAMPLES = 16000, 16000
#: data-folder name -> (module, index function, fixed keyword arguments) of its native-layout loader
INDEXERS = {
    "vocalsound": ("oodlib.data.vocalsound", "vocalsound_index", {}),
    "mswc_micro_en": ("oodlib.data.mswc", "mswc_index", {"language": "en"}),
    "mswc_micro_es": ("oodlib.data.mswc", "mswc_index", {"language": "es"}),
    "voxforge": ("oodlib.data.voxforge", "voxforge_index", {}),
    "crema_d": ("oodlib.data.crema_d", "crema_d_index", {}),
    "esc50": ("oodlib.data.esc50", "esc50_index", {}),
    "fluent_speech_commands": ("oodlib.data.fluent_speech", "fluent_speech_index", {}),
    "speech_commands_v0.02": ("oodlib.data.speech_commands", "speech_commands_ood_index", {}),
    "speech_commands_v0.02_test": ("oodlib.data.speech_commands", "speech_commands_ood_index", {}),
}
#: options a set without an official train/test split takes when it is the ID set (``dataset_options`` wins):
#: ESC-50's fold 5 as the test fold, CREMA-D's last 20% of actors (by id) as test actors
ID_DEFAULTS = {"esc50": {"test_fold": 5}, "crema_d": {"test_fraction": 0.2}}


@dataclass
class IDSetting:
    """An ID training set, an ID test set, the k the paper uses for it, and the set's own validation
    split where it has one (read only when a method is tuned on it: ``odin_tuning="id_only"``)."""

    name: str
    train: AudioSet
    test: AudioSet
    k: int
    val: AudioSet | None = None


@dataclass
class P1Data:
    """A run's ID settings and OOD sets.

    Attributes:
        settings: the ID settings (two for the synthetic default, one for real data).
        ood: OOD set name -> clips (rows are windows; ``meta["clip"]`` when a clip gives several).
        note: one paragraph saying what the data are (for the record and the notebook).
        policy: the clip-length rule of real clips (None for the synthetic one-second clips).
        missing: P1 data sets looked for and not found in the data folder (``ood_datasets=None``).
        synthetic: True for the embedded synthetic stand-ins (tables then label every row as a stand-in).
    """

    settings: list[IDSetting]
    ood: dict[str, AudioSet]
    note: str
    policy: ClipPolicy | None = None
    missing: list[str] = field(default_factory=list)
    synthetic: bool = False

    def summary(self) -> pd.DataFrame:
        """One row per set: role, clips (and windows), classes, what a synthetic set stands in for."""
        def clips(s: AudioSet) -> str:
            n = n_clips(s)
            return f"{n}" if n == len(s) else f"{n} ({len(s)} windows)"

        def stands(name: str) -> str:
            return STANDS_IN_FOR.get(name, "-") if self.synthetic else "-"

        rows = [{"set": s.name, "role": "ID train / test", "clips": f"{clips(s.train)} / {clips(s.test)}",
                 "classes": len(s.train.classes), "stands in for": stands(s.name)} for s in self.settings]
        rows += [{"set": n, "role": "OOD", "clips": clips(o), "classes": ood_class_count(o, n in NATIVE_NAMES.values()),
                  "stands in for": stands(n)}
                 for n, o in self.ood.items()]
        return pd.DataFrame(rows)


def clip_ids(s: AudioSet) -> np.ndarray:
    """The clip each row of ``s`` comes from (``meta["clip"]``; each row its own clip when absent)."""
    if len(s.meta) and "clip" in s.meta.columns:
        return s.meta["clip"].to_numpy(np.int64)
    return np.arange(len(s), dtype=np.int64)


def n_clips(s: AudioSet) -> int:
    """Number of clips (not windows) in ``s``."""
    return int(np.unique(clip_ids(s)).size)


# ----------------------------------------------------------------------------- synthetic
def _split_by_speaker(s: AudioSet, test_fraction: float, seed: int) -> tuple[AudioSet, AudioSet]:
    split = speaker_disjoint_split(s.meta, {"train": 1 - test_fraction, "test": test_fraction}, seed=seed)
    return s.subset((split == "train").to_numpy()), s.subset((split == "test").to_numpy())


def synthetic_id_setting(name: str, n_classes: int, clips_per_class: int, seed: int,
                         test_fraction: float = 0.3, k: int | None = None) -> IDSetting:
    """``"keywords"`` (English keywords, for MSWC Micro-EN) or ``"vocal sounds"`` (for VocalSound).

    Train and test are speaker-disjoint (30 pseudo-speakers, 30% held out by default). The
    clips are generated with ``child_seed(seed, "p1/data/<name>")``; the split uses ``seed``.
    """
    if clips_per_class < 1:
        raise ValueError(f"clips_per_class must be >= 1, got {clips_per_class}")
    if name == "keywords":
        if not 2 <= n_classes <= len(vocab.EN_KEYWORDS):
            raise ValueError(f"n_classes must be in [2, {len(vocab.EN_KEYWORDS)}] for keywords, got {n_classes}")
        spec = SpeechSetSpec(texts=vocab.EN_KEYWORDS[:n_classes], n_per_class=clips_per_class,
                             seed=child_seed(seed, "p1/data/keywords"))
        default_k = 5
    elif name == "vocal sounds":
        classes = tuple(VOCALISATIONS)[: max(2, min(n_classes, len(VOCALISATIONS)))]
        spec = SpeechSetSpec(texts=tuple(VOCALISATIONS[c] for c in classes), classes=classes,
                             n_per_class=clips_per_class, seed=child_seed(seed, "p1/data/vocal sounds"))
        default_k = 100
    else:
        raise ValueError(f"unknown synthetic ID setting {name!r}: use 'keywords' or 'vocal sounds'")
    full = synth_speech_set(spec, name=name)
    train, test = _split_by_speaker(full, test_fraction, seed)
    if not (len(train) and len(test)):
        raise ValueError(f"{name}: {clips_per_class} clips per class leave the speaker-disjoint "
                         f"{'test' if len(train) else 'training'} split empty; use more clips per class")
    return IDSetting(name, train, test, k or default_k)


def synthetic_ood_suite(n_per_set: int, seed: int, id_words: tuple[str, ...] = ()) -> dict[str, AudioSet]:
    """Six synthetic OOD sets mirroring the paper's categories (see :data:`.sets.STANDS_IN_FOR`).

    Speakers are drawn from pools disjoint from the ID settings' (offset 100+). Each set is
    generated with ``child_seed(seed, "p1/ood/<set>")`` (one per language for "other languages").
    ``id_words``: the ID keywords, left out of "other words" (the Speech Commands stand-in shares
    "follow" with the 18th keyword of the Micro-EN stand-in).
    """
    if n_per_set < 1:
        raise ValueError(f"n_per_set (clips per OOD set) must be >= 1, got {n_per_set}")

    def per_class(n_classes: int) -> int:
        return max(1, int(np.ceil(n_per_set / n_classes)))

    def speech(name, texts, offset, language="en", **kw) -> AudioSet:
        return synth_speech_set(SpeechSetSpec(texts=tuple(texts), language=language, n_per_class=per_class(len(texts)),
                                              speaker_offset=offset, seed=child_seed(seed, f"p1/ood/{name}"), **kw))

    langs = [synth_speech_set(SpeechSetSpec(texts=(text,), language=lang, n_per_class=per_class(6), speaker_offset=600,
                                            seed=child_seed(seed, f"p1/ood/other languages/{lang}")), name=lang)
             for lang, text in vocab.LANGUAGE_ID_SENTENCES.items()]
    lang_audio = np.concatenate([s.audio for s in langs])
    suite = {
        "keywords (Spanish)": speech("keywords (Spanish)", vocab.ES_KEYWORDS, 100, language="es"),
        "other words": speech("other words", [w for w in vocab.SPEECH_COMMANDS_WORDS if w not in id_words], 200),
        "environmental sounds": make_sounds(n_per_class=per_class(8), seed=child_seed(seed, "p1/ood/environmental sounds")),
        "emotional speech": speech("emotional speech", vocab.EMOTION_SENTENCES, 400, rate_wpm=(110, 300), pitch=(5, 95),
                                   intonation=(80, 100)),
        "command phrases": speech("command phrases", vocab.COMMAND_PHRASES, 500),
        "other languages": AudioSet(lang_audio, np.repeat(np.arange(6), per_class(6)), list(vocab.LANGUAGE_ID_SENTENCES),
                                    SAMPLE_RATE),
    }
    rng = np.random.default_rng(child_seed(seed, "p1/ood/subsets"))
    out = {}
    for name, s in suite.items():  # exactly n_per_set clips per set, chosen with the seed
        pick = np.sort(rng.choice(len(s), size=min(n_per_set, len(s)), replace=False))
        out[name] = s.subset(pick)
        out[name].name = name
    return out


# ----------------------------------------------------------------------------- real clips
def clip_set(frame: pd.DataFrame, policy: ClipPolicy, classes: list[str], name: str,
             labelled: bool = True) -> AudioSet:
    """Read the files of ``frame`` (column ``path``; ``label`` when ``labelled``) by ``policy``.

    Files are read in path order. Each row of the result is one window, ``meta`` the file's row
    with its ``clip`` index; labels index ``classes`` (-1 for a label outside them), 0 when unlabelled.
    """
    frame = frame.sort_values("path").reset_index(drop=True)
    audio, clip = load_windows(frame["path"], policy, SAMPLE_RATE, desc=name)
    if labelled:
        labels = frame["label"].map({c: i for i, c in enumerate(classes)}).fillna(-1).astype(np.int64).to_numpy()
    else:
        labels = np.zeros(len(frame), np.int64)
    meta = frame.iloc[clip].reset_index(drop=True).assign(clip=clip)
    return AudioSet(audio, labels[clip], list(classes), SAMPLE_RATE, meta, name)


def cap_per_class(frame: pd.DataFrame, cap: int, seed: int) -> pd.DataFrame:
    """At most ``cap`` clips per (label, split), chosen with ``seed`` (``cap`` 0 = all); a frame without
    labels (a folder of clips) is one class."""
    if not cap:
        return frame
    keys = [c for c in ("label", "split") if c in frame.columns]
    shuffled = frame.sample(frac=1.0, random_state=seed)
    return shuffled.groupby(keys, dropna=False).head(cap) if keys else shuffled.head(cap)


def speech_commands_setting(root: str | Path, seed: int, test_fraction: float = 0.3, k: int = 5,
                            max_per_class: int | None = None, policy: ClipPolicy | None = None,
                            with_validation: bool = False) -> tuple[IDSetting, dict[str, AudioSet]]:
    """ID = the 10 command words; OOD = ``_unknown_`` words and ``_silence_`` noise.

    The full release uses its official train/test lists (and, with ``with_validation``, its
    validation list as the setting's ``val``); the test-set layout is split speaker-disjointly
    with ``seed`` and has no validation split. ``max_per_class`` caps clips per word and split,
    and the unknown-word and silence sets, chosen with the seed, to bound the run time.
    """
    if max_per_class is not None and max_per_class < 0:
        raise ValueError(f"max_per_class must be >= 0 (0 or None = all), got {max_per_class}")
    policy = policy or ClipPolicy()
    df = load_speech_commands(root)
    if df.attrs["layout"] == "test":
        ids = df[df.label.isin(TEN_WORDS)].copy()
        ids["split"] = speaker_disjoint_split(ids, {"train": 1 - test_fraction, "test": test_fraction}, seed=seed)
    else:
        ids = df[df.label.isin(TEN_WORDS) & df.split.isin(["train", "test"])].copy()
    if max_per_class:
        ids = ids.sample(frac=1.0, random_state=seed).groupby(["label", "split"]).head(max_per_class)
    classes = list(TEN_WORDS)
    val_rows = df[df.label.isin(TEN_WORDS) & (df.split == "validation")]
    if max_per_class:
        val_rows = val_rows.sample(frac=1.0, random_state=seed).groupby("label").head(max_per_class)
    val = clip_set(val_rows, policy, classes, "ID validation") if with_validation and len(val_rows) else None
    setting = IDSetting("speech commands (10 words)", clip_set(ids[ids.split == "train"], policy, classes, "ID train"),
                        clip_set(ids[ids.split == "test"], policy, classes, "ID test"), k, val)
    test_part = df[df.split == "test"]
    if max_per_class:  # the OOD sets too: at most max_per_class clips each
        test_part = test_part.sample(frac=1.0, random_state=seed).groupby("label").head(max_per_class)
    ood = {"unknown words": clip_set(test_part[test_part.label == UNKNOWN], policy, classes, "unknown words", False)}
    if (test_part.label == SILENCE).any():
        ood["silence / noise"] = clip_set(test_part[test_part.label == SILENCE], policy, classes, "silence / noise", False)
    return setting, ood


def native_index(dataset: str, root: Path, splits: tuple[str, ...], options: dict) -> pd.DataFrame:
    """The native-layout index of ``dataset`` (rows: clips; columns ``path``, ``label``, ``split``, ...)."""
    module, function, fixed = INDEXERS[dataset]
    index = getattr(importlib.import_module(module), function)
    return index(root, splits=splits, **fixed, **options)


def native_setting(dataset: str, cfg: P1Config, policy: ClipPolicy) -> IDSetting:
    """A real set as the ID setting: its official training split to train on, its test split to test."""
    root = dataset_dir(dataset, cfg.data_dir)
    options = {**ID_DEFAULTS.get(dataset, {}), **cfg.dataset_options.get(dataset, {})}
    splits = ("train", "dev", "test") if cfg.odin_tuning != "fixed" else ("train", "test")
    df = cap_per_class(native_index(dataset, root, splits, options), cfg.max_per_class, cfg.seed)
    train, test, dev = df[df.split == "train"], df[df.split == "test"], df[df.split == "dev"]
    if train.empty or test.empty:
        raise ValueError(f"{dataset} at {root}: the ID set needs a training and a test split, got "
                         f"{len(train)} training and {len(test)} test clips")
    classes = sorted(train["label"].unique())
    unseen = sorted(set(test["label"]) - set(classes))
    if unseen:
        raise ValueError(f"{dataset} at {root}: test classes {unseen[:5]} have no training clips; "
                         "an ID set's test split must use its training classes")
    name = NATIVE_NAMES[dataset]
    k = cfg.vocal_k if dataset == "vocalsound" else cfg.k_keywords
    if k > len(train) or min(cfg.k_values) > len(train):
        raise ValueError(f"{dataset}: k={k} (k_values {cfg.k_values}) needs a training bank of at least k clips, "
                         f"got {len(train)} (max_per_class={cfg.max_per_class}); lower k or raise max_per_class")
    dev = dev[dev["label"].isin(classes)]
    val = clip_set(dev, policy, classes, f"{name} validation") if len(dev) else None
    return IDSetting(name, clip_set(train, policy, classes, f"{name} train"), clip_set(test, policy, classes, "ID test"),
                     k, val)


def native_ood_set(dataset: str, cfg: P1Config, policy: ClipPolicy, id_classes: list[str]) -> tuple[AudioSet, str]:
    """The test split of a real set as one OOD set (``dcase2023t2_dev_mini``: every clip), and a note.

    Clips of an ID class (a keyword of the ID set that the OOD set also holds, e.g. Speech Commands'
    "yes" in MSWC) are left out and counted in the note. Long noise files (Speech Commands'
    ``_background_noise_``) are cut into one-second clips, each a clip of its own, as its silence class is.
    """
    root = dataset_dir(dataset, cfg.data_dir)
    if dataset in EXTRA_OOD_NAMES:
        frame, name = audio_files(root), EXTRA_OOD_NAMES[dataset]
    else:
        frame = native_index(dataset, root, ("test",), cfg.dataset_options.get(dataset, {}))
        name = NATIVE_NAMES[dataset]
    words = frame["word"] if "word" in frame.columns else frame.get("label")
    shared = words.isin(id_classes) if words is not None else pd.Series(False, index=frame.index)
    note = (f" {int(shared.sum())} {name} clips of the ID classes ({', '.join(sorted(set(words[shared])))}) are left "
            "out of that OOD set." if shared.any() else "")
    frame = cap_per_class(frame[~shared], cfg.max_per_class, cfg.seed)
    long = frame["long_file"].fillna(False).astype(bool) if "long_file" in frame.columns else frame["path"].isna()
    out = clip_set(frame[~long], policy, [name], name, labelled=False)
    if long.any():  # every second of a long noise file is one clip
        cut = clip_set(frame[long], ClipPolicy("windows", 1.0, 1.0), [name], name, labelled=False)
        meta = pd.concat([out.meta, cut.meta.assign(clip=n_clips(out) + np.arange(len(cut)))], ignore_index=True)
        out = AudioSet(np.concatenate([out.audio, cut.audio]), np.concatenate([out.labels, cut.labels]), [name],
                       SAMPLE_RATE, meta, name)
        note += f" {name}: {int(long.sum())} long noise files cut into {len(cut)} one-second clips."
    return out, note


def ood_datasets(cfg: P1Config) -> tuple[list[str], list[str]]:
    """``(used, missing)``: the real OOD sets of a run by data-folder name.

    ``cfg.ood_datasets`` when given (each must exist); otherwise every set of the paper's suite
    other than the ID set that is found in the data folder (so the averages are over the paper's
    sets), Speech Commands from the full release if present, else the test subset; ``missing``
    names the paper's sets not found. Other sets (the DCASE machine clips) join only by name.
    """
    if cfg.ood_datasets is not None:
        return list(cfg.ood_datasets), []
    if cfg.data in ("synthetic", "folders"):
        return [], []
    found = lambda name: dataset_dir(name, cfg.data_dir, must_exist=False).is_dir()  # noqa: E731
    used, missing = [], []
    for name in PAPER_SUITE:
        if name == cfg.data or (name in SPEECH_COMMANDS and cfg.data in SPEECH_COMMANDS):
            continue
        if name == "speech_commands_v0.02" and not found(name) and found("speech_commands_v0.02_test"):
            name = "speech_commands_v0.02_test"
        (used if found(name) else missing).append(name)
    return used, missing


def ood_class_count(audio_set: AudioSet, prefer_label: bool = False) -> int | str:
    """An OOD set's own number of classes (words, sounds) from its metadata, or ``"-"`` when it has none.

    An OOD set's ``classes`` are not its own (Speech Commands' unknown words carry the ID
    classes with label -1), so they are never counted. ``prefer_label``: count a native index's
    ``label`` (the classes as the paper counts them: Speech Commands' 12, not its 35 words).
    """
    for column in (("label",) if prefer_label else ()) + ("word", "text", "category", "label"):
        if column in audio_set.meta.columns:
            return int(audio_set.meta[column].nunique())
    return "-"


def folder_setting(train_dir: str | Path, test_dir: str | Path, k: int = 5, name: str = "custom",
                   policy: ClipPolicy | None = None) -> IDSetting:
    """An ID setting from two folder-per-class trees with the same classes."""
    policy = policy or ClipPolicy()
    train_df = folder_dataset(train_dir)
    classes = train_df.attrs["classes"]
    test_df = folder_dataset(test_dir, classes=classes)  # the test set is indexed once, in the training classes' order
    return IDSetting(name, clip_set(train_df, policy, classes, f"{name} train"), clip_set(test_df, policy, classes, f"{name} test"), k)


def folder_ood_set(folder: str | Path, name: str, policy: ClipPolicy | None = None) -> AudioSet:
    """Every audio file under ``folder`` as one OOD set: flat, nested or class folders, any sample rate."""
    return clip_set(audio_files(folder), policy or ClipPolicy(), [name], name, labelled=False)


# ----------------------------------------------------------------------------- one entry point
def policy_of(cfg: P1Config) -> ClipPolicy:
    """The run's clip-length rule from its parameters."""
    return ClipPolicy(cfg.clip_policy, 1.0, cfg.clip_hop_s, cfg.window_reduce)


def load(cfg: P1Config) -> P1Data:
    """The ID settings and OOD sets of a run (see the module docstring)."""
    if cfg.data == "synthetic":
        settings = [synthetic_id_setting(name, cfg.keyword_classes if name == "keywords" else 6, cfg.clips_per_class,
                                         cfg.seed, k=cfg.k_keywords if name == "keywords" else cfg.vocal_k)
                    for name in cfg.id_settings]
        id_words = tuple(vocab.EN_KEYWORDS[: cfg.keyword_classes]) if "keywords" in cfg.id_settings else ()
        data = P1Data(settings, synthetic_ood_suite(cfg.ood_clips, cfg.seed, id_words),
                      "Synthetic: eSpeak NG keywords and vocalisations as ID, six generated OOD sets standing in for "
                      "MSWC Micro-ES, Speech Commands, ESC-50, CREMA-D, Fluent Speech Commands and Voxforge.",
                      synthetic=True)
    else:
        policy = policy_of(cfg)
        used, missing = ood_datasets(cfg)
        if cfg.data == "folders":
            settings, ood = [folder_setting(cfg.id_train_dir, cfg.id_test_dir, k=cfg.k_keywords, policy=policy)], {}
            note = f"Folder-per-class ID sets {cfg.id_train_dir} / {cfg.id_test_dir}."
        elif cfg.data in SPEECH_COMMANDS:
            setting, ood = speech_commands_setting(dataset_dir(cfg.data, cfg.data_dir), cfg.seed, k=cfg.k_keywords,
                                                   max_per_class=cfg.max_per_class or None, policy=policy,
                                                   with_validation=cfg.odin_tuning != "fixed")
            settings = [setting]
            split = ("a speaker-disjoint split of the test subset" if cfg.data.endswith("_test")
                     else "the release's official training and test lists")
            note = (f"Real Speech Commands ({cfg.data}): 10 words as ID ({split}), its unknown words "
                    "and silence/noise as OOD.")
        else:
            settings, ood = [native_setting(cfg.data, cfg, policy)], {}
            note = f"Real {NATIVE_NAMES[cfg.data]} ({cfg.data}, native layout and official splits) as ID."
        id_classes = list(settings[0].train.classes)
        for name in used:
            s, extra = native_ood_set(name, cfg, policy, id_classes)
            if s.name in ood:
                raise ValueError(f"two OOD sets are both named {s.name!r} ({name}); list one of them in ood_datasets")
            ood[s.name] = s
            note += extra
        if used:
            note += " Real OOD test splits: " + ", ".join(f"{NATIVE_NAMES.get(n) or EXTRA_OOD_NAMES[n]} ({n})" for n in used) + "."
        if missing:
            note += " Not found in the data folder, so not in the averages: " + ", ".join(missing) + "."
        for mswc in (n for n in ("mswc_micro_en", "mswc_micro_es") if n in (cfg.data, *used)):
            if not cfg.dataset_options.get(mswc, {}).get("keywords"):
                note += (f" {NATIVE_NAMES[mswc]}: every keyword of the split CSV, not P1's Micro subset (its keyword "
                         f"list is not published; give dataset_options {{{mswc}: {{keywords: [...]}}}}).")
        note += f" Clip length: {policy.describe()}."
        data = P1Data(settings, ood, note, policy, missing)
    for name, folder in cfg.ood_dirs.items():
        data.ood[name] = folder_ood_set(folder, name, data.policy)
    if not data.ood and len(data.settings) < 2:
        raise ValueError(f"data={cfg.data!r}: no OOD set to detect; give 'ood_datasets' or 'ood_dirs'")
    return data


__all__ = ["INDEXERS", "IDSetting", "P1Data", "clip_ids", "clip_set", "folder_ood_set", "folder_setting", "load",
           "n_clips", "native_ood_set", "native_setting", "ood_class_count", "ood_datasets", "policy_of",
           "speech_commands_setting", "synthetic_id_setting", "synthetic_ood_suite"]
