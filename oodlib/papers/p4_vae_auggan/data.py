"""P4's open-set speech-command data: 10 known words, unknown words, a full and a 10% regime.

Every source gives the same :class:`OpenSetData`: waveforms of the known-word training set
(full) and the limited-data subset drawn from it (seeded: a fraction of each word's clips, or of
the training speakers), a development set (known and unknown words, to choose thresholds) and a
test set (known and unknown words); the record states each run's unknown share.

* ``"synthetic"``: the ten words and unknown words spoken by eSpeak NG; train, development and
  test speakers are disjoint pseudo-speaker pools; development and test unknown words are
  disjoint word lists.
* ``"speech_commands_v0.01"`` (the paper's corpus, 30 words) and ``"speech_commands_v0.02"`` (35):
  the official lists. Training = the ten words' clips in neither list; development = their
  ``validation_list.txt`` clips plus as many clips of the other words from the same list (drawn
  with the seed); test = their ``testing_list.txt`` clips plus as many clips of the other words
  from that list, so half of the test set is unknown as the paper states (all of the other
  words' clips when there are fewer). The lists are speaker-disjoint by construction.
* ``"speech_commands_v0.02_test"``: the test-set layout has no lists: the ten words split
  60/10/30 by speaker into train/dev/test, ``_unknown_`` words split by word into development and
  test halves (its test set is about 20% unknown).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from ...data.audio import load_clips
from ...data.paths import dataset_dir
from ...data.speech_commands import TEN_WORDS, UNKNOWN, load_speech_commands, speaker_disjoint_split
from ...synthetic.speech import SpeechSetSpec, synth_speech_set
from ...synthetic.vocab import EN_KEYWORDS, SPEECH_COMMANDS_WORDS
from .config import SMALL_BY, SOURCES

if TYPE_CHECKING:
    from .config import P4Config

DEV_UNKNOWN = tuple(w for w in SPEECH_COMMANDS_WORDS if w not in TEN_WORDS)  # 25 other command words
TEST_UNKNOWN = tuple(w for w in EN_KEYWORDS if w not in SPEECH_COMMANDS_WORDS)[:25]  # everyday English words, none a dev word


@dataclass
class OpenSetData:
    """Waveforms (n, samples) at ``sample_rate`` and labels 0..9 (known) or -1 (unknown).

    ``train_speakers``: the speaker of each full-training clip (for the by-speaker 10% regime).
    """

    train_full: tuple[np.ndarray, np.ndarray]
    train_small: tuple[np.ndarray, np.ndarray]
    dev: tuple[np.ndarray, np.ndarray]
    test: tuple[np.ndarray, np.ndarray]
    classes: tuple[str, ...]
    sample_rate: int
    note: str
    train_speakers: np.ndarray | None = None

    def summary(self) -> dict[str, int]:
        out = {}
        for name in ("train_full", "train_small", "dev", "test"):
            y = getattr(self, name)[1]
            out[f"{name}_known"] = int((y >= 0).sum())
            out[f"{name}_unknown"] = int((y < 0).sum())
        return out


def small_subset(y: np.ndarray, fraction: float, seed: int, speakers: np.ndarray | None = None) -> np.ndarray:
    """Indices (sorted) of the limited-data regime: a ``fraction`` of each class's clips (at least
    one per class) or, with ``speakers`` (n,), every clip of a ``fraction`` of the speakers (at least
    one), drawn with ``seed``."""
    if not 0 < fraction <= 1:
        raise ValueError(f"fraction must be in (0, 1], got {fraction}")
    rng = np.random.default_rng(seed)
    if speakers is not None:
        names = np.array(sorted(set(np.asarray(speakers).tolist())))
        chosen = rng.choice(names, max(1, int(round(fraction * len(names)))), replace=False)
        return np.flatnonzero(np.isin(speakers, chosen))
    keep = [rng.choice(np.flatnonzero(y == c), max(1, int(round(fraction * np.sum(y == c)))), replace=False)
            for c in np.unique(y)]
    return np.sort(np.concatenate(keep))


def _synthetic(n_train: int, n_eval: int, seed: int) -> tuple[dict, str]:
    def speak(texts, n, offset, label):
        s = synth_speech_set(SpeechSetSpec(texts=tuple(texts), n_per_class=n, speaker_offset=offset, seed=seed))
        speakers = s.meta["speaker"].to_numpy() if "speaker" in s.meta else None
        return s.audio, (s.labels if label is None else np.full(len(s.labels), label)), speakers

    n_unknown = max(1, round(10 * n_eval / 25))  # about as many unknown clips as known ones
    parts = {
        "train": speak(TEN_WORDS, n_train, 0, None),
        "dev_known": speak(TEN_WORDS, n_eval, 300, None),
        "dev_unknown": speak(DEV_UNKNOWN, n_unknown, 300, -1),
        "test_known": speak(TEN_WORDS, n_eval, 600, None),
        "test_unknown": speak(TEST_UNKNOWN, n_unknown, 600, -1),
    }
    speakers = parts["train"][2]
    parts = {k: v[:2] for k, v in parts.items()}
    parts["train_speakers"] = speakers
    return parts, ("Synthetic: the ten command words and unknown words spoken by eSpeak NG; disjoint pseudo-speakers "
                   "for train, development and test; development unknowns are the other 25 Speech Commands words, "
                   "test unknowns 25 everyday English words.")


def cap_per_word(known: pd.DataFrame, max_per_word: int, seed: int) -> pd.DataFrame:
    """At most ``max_per_word`` clips of each (word, split) pair, drawn at random with ``seed``
    (0 = all); the rows keep their order."""
    if not max_per_word:
        return known
    shuffled = known.sample(frac=1.0, random_state=seed)
    return shuffled.groupby(["label", "part"], group_keys=False).head(max_per_word).sort_index()


def _clips(d: pd.DataFrame) -> np.ndarray:
    return load_clips(d["path"].tolist(), sample_rate=16000, num_samples=16000)


def _labels(d: pd.DataFrame) -> np.ndarray:
    return np.array([TEN_WORDS.index(w) for w in d["label"]], dtype=np.int64)


def _real(root: Path, seed: int, max_per_word: int) -> tuple[dict, str]:
    df = load_speech_commands(root)
    df = df[df["label"] != "_silence_"].reset_index(drop=True)
    if df.attrs.get("layout") == "full":
        return _official_lists(df, root, seed, max_per_word)
    known = df[df["label"] != UNKNOWN].copy()
    known["part"] = speaker_disjoint_split(known, {"train": 0.6, "dev": 0.1, "test": 0.3}, seed=seed).to_numpy()
    known = cap_per_word(known, max_per_word, seed)
    unk = df[df["label"] == UNKNOWN]
    words = sorted(unk["word"].unique())
    rng = np.random.default_rng(seed)
    dev_words = set(rng.choice(words, len(words) // 2, replace=False))
    parts = {}
    for p in ("train", "dev", "test"):
        d = known[known["part"] == p]
        parts[p if p == "train" else f"{p}_known"] = (_clips(d), _labels(d))
    parts["train_speakers"] = known.loc[known["part"] == "train", "speaker"].to_numpy()
    for p, sel in (("dev_unknown", unk["word"].isin(dev_words)), ("test_unknown", ~unk["word"].isin(dev_words))):
        d = unk[sel]
        parts[p] = (_clips(d), np.full(len(d), -1, dtype=np.int64))
    note = (f"Real Speech Commands ({root.name}, test-set layout: no official lists): the ten words split 60/10/30 by "
            f"speaker into train/dev/test; unknown words split by word: {len(dev_words)} for development, "
            f"{len(words) - len(dev_words)} for test.")
    return parts, note


def _official_lists(df: pd.DataFrame, root: Path, seed: int, max_per_word: int) -> tuple[dict, str]:
    """The open set on the official lists (module docstring): half of development and test unknown."""
    known = df[df["label"] != UNKNOWN].copy()
    known["part"] = known["split"].map({"train": "train", "validation": "dev", "test": "test"})
    known = cap_per_word(known, max_per_word, seed)
    unk = df[df["label"] == UNKNOWN]
    rng = np.random.default_rng(seed)
    parts = {"train": (_clips(t := known[known["part"] == "train"]), _labels(t)),
             "train_speakers": t["speaker"].to_numpy()}
    shares = {}
    for part, split in (("dev", "validation"), ("test", "test")):
        k = known[known["part"] == part]
        pool = unk[unk["split"] == split]
        take = np.sort(rng.choice(len(pool), min(len(k), len(pool)), replace=False))
        u = pool.iloc[take]
        parts[f"{part}_known"] = (_clips(k), _labels(k))
        parts[f"{part}_unknown"] = (_clips(u), np.full(len(u), -1, dtype=np.int64))
        shares[part] = len(u) / max(len(u) + len(k), 1)
    words = sorted(unk["word"].unique())
    note = (f"Real Speech Commands ({root.name}, official lists): training = the ten words' clips in neither list; "
            f"development and test = their validation_list / testing_list clips plus as many clips of the other "
            f"{len(words)} words from the same list (drawn with the seed; unknown share dev "
            f"{100 * shares['dev']:.0f}%, test {100 * shares['test']:.0f}%).")
    return parts, note


def load_open_set(data: str = "synthetic", data_dir: str | Path | None = None, seed: int = 0,
                  small_fraction: float = 0.1, n_train: int = 100, n_eval: int = 20,
                  max_per_word: int = 0, small_by: str = "clips") -> OpenSetData:
    """The open-set data for ``data`` (see the module docstring).

    Args:
        small_fraction: size of the limited-data regime relative to the full training set.
        n_train, n_eval: synthetic clips per known word for training and per evaluation set.
        max_per_word: real data: cap clips per word and split (0 = all), drawn with ``seed``.
        small_by: the limited-data regime takes a fraction of each word's ``"clips"`` or of the
            training ``"speakers"`` (all their clips).
    """
    if small_by not in SMALL_BY:
        raise ValueError(f"small_by must be one of {SMALL_BY}, got {small_by!r}")
    if data == "synthetic":
        parts, note = _synthetic(n_train, n_eval, seed)
    elif data in SOURCES:
        parts, note = _real(dataset_dir(data, data_dir), seed, max_per_word)
    else:
        raise ValueError(f"parameter 'data' must be one of {SOURCES}, got {data!r}")
    xa, ya = parts["train"]
    speakers = parts.get("train_speakers")
    small = small_subset(ya, small_fraction, seed, speakers if small_by == "speakers" else None)
    missing = sorted(set(TEN_WORDS[c] for c in np.unique(ya)) - set(TEN_WORDS[c] for c in np.unique(ya[small])))
    if missing:
        raise ValueError(f"small_fraction={small_fraction} by {small_by} leaves the word(s) {missing} without a training "
                         "clip; use a larger small_fraction or small_by='clips'")
    cat = lambda a, b: (np.concatenate([a[0], b[0]]), np.concatenate([a[1], b[1]]))  # noqa: E731
    regime = (f" The {100 * small_fraction:g}% regime: {len(small)} of {len(ya)} training clips, drawn by "
              f"{'speaker' if small_by == 'speakers' else 'clip within each word'}.")
    return OpenSetData((xa, ya), (xa[small], ya[small]), cat(parts["dev_known"], parts["dev_unknown"]),
                       cat(parts["test_known"], parts["test_unknown"]), TEN_WORDS, 16000, note + regime, speakers)


@dataclass
class P4Data:
    """The open-set sets as 32 x 32 log-mel images in [-1, 1], (n, 1, 32, 32) float32, with labels
    0..9 (known words) or -1 (unknown), and the waveforms they come from (``clips``).

    ``*_small_aug``: the limited-data set followed by its physically augmented copies.
    """

    clips: OpenSetData
    x_full: np.ndarray
    y_full: np.ndarray
    x_small: np.ndarray
    y_small: np.ndarray
    x_small_aug: np.ndarray
    y_small_aug: np.ndarray
    x_dev: np.ndarray
    y_dev: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray

    @property
    def note(self) -> str:
        return self.clips.note

    @property
    def classes(self) -> tuple[str, ...]:
        return self.clips.classes

    @property
    def unknown_share(self) -> float:
        """Fraction of unknown clips in the test set (AUPR-In/-Out depend on it)."""
        return float(np.mean(self.y_test < 0))

    def summary(self) -> pd.DataFrame:
        """Clips per set, known and unknown."""
        import pandas as pd

        return pd.DataFrame([self.clips.summary()]).T.rename(columns={0: "clips"})


def load(cfg: P4Config) -> P4Data:
    """The open-set data of ``cfg`` (:func:`load_open_set`) as features, with ``cfg.aug_copies``
    augmented copies of the limited-data set (:func:`.augment.augment_set`, seeded by ``cfg.seed``)."""
    from .augment import augment_set
    from .features import segmented_mel

    ds = load_open_set(cfg.data, cfg.data_dir, cfg.seed, cfg.small_fraction, cfg.n_train, cfg.n_eval, cfg.max_per_word,
                       cfg.small_by)
    feats = lambda a: segmented_mel(a, ds.sample_rate)  # noqa: E731
    x_small, y_small = feats(ds.train_small[0]), ds.train_small[1]
    x_aug = feats(augment_set(ds.train_small[0], cfg.aug_copies, cfg.seed, ds.sample_rate))
    return P4Data(ds, feats(ds.train_full[0]), ds.train_full[1], x_small, y_small,
                  np.concatenate([x_small, x_aug]), np.concatenate([y_small, np.repeat(y_small, cfg.aug_copies)]),
                  feats(ds.dev[0]), ds.dev[1], feats(ds.test[0]), ds.test[1])
