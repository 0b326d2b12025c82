"""P1's pipeline: data settings, training, the detectors' scores and the tables (see the package docstring)."""


from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from ... import scores as sc
from ...augment import ShiftAndGain
from ...data.audio import load_clips
from ...data.audioset import AudioSet
from ...data.folders import audio_files, folder_dataset
from ...data.speech_commands import SILENCE, TEN_WORDS, UNKNOWN, load_speech_commands, speaker_disjoint_split
from ...device import resolve_device
from ...frontends import LogMel
from ...knn import KNNScorer
from ...metrics import ood_report
from ...models import EfficientNetB0, MobileNetV1
from ...seeding import child_seed, seeded
from ...synthetic import vocab
from ...synthetic.sounds import make_sounds
from ...synthetic.speech import SpeechSetSpec, synth_speech_set
from ...training import TrainHistory, infer, predict, train_classifier
from .sets import STANDS_IN_FOR, TASK_SHARING, VOCALISATIONS

SAMPLE_RATE, CLIP_SAMPLES = 16000, 16000
METHODS = ("MSP", "ODIN", "GradNorm", "kNN")
CLASSICAL = {"IForest": "iforest", "OCSVM": "ocsvm", "LODA": "loda", "LOF": "lof", "PCA": "pca"}



@dataclass
class IDSetting:
    """An ID training set, an ID test set and the k the paper uses for it."""

    name: str
    train: AudioSet
    test: AudioSet
    k: int


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


def synthetic_ood_suite(n_per_set: int, seed: int) -> dict[str, AudioSet]:
    """Six synthetic OOD sets mirroring the paper's categories (see :data:`STANDS_IN_FOR`).

    Speakers are drawn from pools disjoint from the ID settings' (offset 100+). Each set is
    generated with ``child_seed(seed, "p1/ood/<set>")`` (one per language for "other languages").
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
        "other words": speech("other words", vocab.SPEECH_COMMANDS_WORDS, 200),
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


def speech_commands_setting(root: str | Path, seed: int, test_fraction: float = 0.3, k: int = 5,
                            max_per_class: int | None = None) -> tuple[IDSetting, dict[str, AudioSet]]:
    """ID = the 10 command words; OOD = ``_unknown_`` words and ``_silence_`` noise.

    The full release uses its official train/test lists; the test-set layout is
    split speaker-disjointly with ``seed``. ``max_per_class`` caps clips per word
    (chosen with the seed) to bound the run time.
    """
    if max_per_class is not None and max_per_class < 0:
        raise ValueError(f"max_per_class must be >= 0 (0 or None = all), got {max_per_class}")
    df = load_speech_commands(root)
    if df.attrs["layout"] == "test":
        ids = df[df.label.isin(TEN_WORDS)].copy()
        ids["split"] = speaker_disjoint_split(ids, {"train": 1 - test_fraction, "test": test_fraction}, seed=seed)
    else:
        ids = df[df.label.isin(TEN_WORDS) & df.split.isin(["train", "test"])].copy()
    if max_per_class:
        ids = ids.sample(frac=1.0, random_state=seed).groupby(["label", "split"]).head(max_per_class)
    classes = list(TEN_WORDS)

    def to_set(frame: pd.DataFrame, name: str, labelled: bool = True) -> AudioSet:
        frame = frame.sort_values("path")
        labels = frame.label.map({c: i for i, c in enumerate(classes)}).fillna(-1).astype(np.int64).to_numpy()
        return AudioSet(load_clips(frame.path, SAMPLE_RATE, CLIP_SAMPLES, desc=name), labels if labelled else np.zeros(len(frame), np.int64),
                        classes, SAMPLE_RATE, frame.reset_index(drop=True), name)

    setting = IDSetting("speech commands (10 words)", to_set(ids[ids.split == "train"], "ID train"),
                        to_set(ids[ids.split == "test"], "ID test"), k)
    test_part = df[df.split == "test"]
    ood = {"unknown words": to_set(test_part[test_part.label == UNKNOWN], "unknown words", False)}
    if (test_part.label == SILENCE).any():
        ood["silence / noise"] = to_set(test_part[test_part.label == SILENCE], "silence / noise", False)
    return setting, ood


def long_clips_as_seconds(paths: list[Path], n_crops: int, name: str) -> AudioSet:
    """Read long files and cut each into ``n_crops`` evenly spaced one-second windows."""
    from ...data.audio import read_audio

    windows = []
    for p in paths:
        x = read_audio(p, SAMPLE_RATE)
        starts = np.linspace(0, max(0, len(x) - CLIP_SAMPLES), n_crops).astype(int)
        windows += [np.pad(x[s : s + CLIP_SAMPLES], (0, max(0, CLIP_SAMPLES - len(x[s:])))) for s in starts]
    audio = np.stack(windows).astype(np.float32)
    return AudioSet(audio, np.zeros(len(audio), np.int64), [name], SAMPLE_RATE, name=name)


def folder_setting(train_dir: str | Path, test_dir: str | Path, k: int = 5, name: str = "custom") -> IDSetting:
    """An ID setting from two folder-per-class trees with the same classes."""
    train_df = folder_dataset(train_dir)
    classes = train_df.attrs["classes"]
    test_df = folder_dataset(test_dir, classes=classes)  # the test set is indexed once, in the training classes' order
    make = lambda df, n: AudioSet(load_clips(df.path, SAMPLE_RATE, CLIP_SAMPLES, desc=n),  # noqa: E731
                                  df.label_id.to_numpy(np.int64), classes, SAMPLE_RATE, df, n)
    return IDSetting(name, make(train_df, f"{name} train"), make(test_df, f"{name} test"), k)


def ood_class_count(audio_set: AudioSet) -> int | str:
    """An OOD set's own number of classes (words, sounds) from its metadata, or ``"-"`` when it has none.

    An OOD set's ``classes`` are not its own (Speech Commands' unknown words carry the ID
    classes with label -1), so they are never counted.
    """
    for column in ("word", "text", "category", "label"):
        if column in audio_set.meta.columns:
            return int(audio_set.meta[column].nunique())
    return "-"


def folder_ood_set(folder: str | Path, name: str) -> AudioSet:
    """Every audio file under ``folder`` as one OOD set: flat, nested or class folders, any sample rate."""
    df = audio_files(folder)
    return AudioSet(load_clips(df.path, SAMPLE_RATE, CLIP_SAMPLES, desc=name), np.zeros(len(df), np.int64),
                    [name], SAMPLE_RATE, df, name)


def logmel_inputs(audio_set: AudioSet, batch_size: int = 256) -> torch.Tensor:
    """Log-mel model inputs (n, 1, 64, 98) for one-second clips (P1's front end), on the CPU."""
    if audio_set.audio.shape[1] != CLIP_SAMPLES:
        raise ValueError(f"{audio_set.name}: clips must be {CLIP_SAMPLES} samples, got {audio_set.audio.shape[1]}")
    return torch.from_numpy(infer(LogMel(), audio_set.audio, batch_size, device="cpu"))[:, None]


def make_model(arch: str, n_classes: int) -> torch.nn.Module:
    """``"mobilenet"`` (MobileNetV1 / YAMNet, 1024-d) or ``"efficientnet"`` (EfficientNet-B0, 1280-d)."""
    if arch == "mobilenet":
        return MobileNetV1(n_classes)
    if arch == "efficientnet":
        return EfficientNetB0(n_classes)
    raise ValueError(f"unknown model {arch!r}: use 'mobilenet' or 'efficientnet'")


def train_model(arch: str, x_train: torch.Tensor, y_train: np.ndarray, n_classes: int, epochs: int, seed: int,
                device: str = "auto", batch_size: int = 128, lr: float = 1e-3,
                augment: bool = True) -> tuple[torch.nn.Module, TrainHistory]:
    """Train from scratch with cross-entropy and Adam (P1: lr 1e-3, batch 128). Returns the model in eval mode.

    ``augment`` adds random time shifts and level offsets (:class:`~oodlib.augment.ShiftAndGain`);
    P1 does not mention augmentation, but the short CPU runs generalise poorly without it.
    Randomness: initial weights from ``seeded(child_seed(seed, "p1/<arch>/init"))``; batch
    order, augmentation and dropout from ``seed`` (:func:`~oodlib.training.train_classifier`).
    """
    with seeded(child_seed(seed, f"p1/{arch}/init")):
        model = make_model(arch, n_classes)
    hist = train_classifier(model, x_train, y_train, epochs=epochs, lr=lr, batch_size=batch_size, seed=seed,
                            device=device, desc=f"train {arch}", augment=ShiftAndGain() if augment else None)
    return model, hist


def score_all(model: torch.nn.Module, train_feats: np.ndarray, inputs: Mapping[str, torch.Tensor], k: int,
              *, odin_input_std: float, device: str = "auto", odin_temperature: float = 1000.0,
              odin_epsilon: float = sc.posthoc.ODIN_EPSILON) -> dict:
    """MSP, ODIN, GradNorm and kNN scores (higher = more OOD) for every named input set.

    ODIN moves each input by ``odin_epsilon`` standard deviations of the input, i.e.
    ``odin_epsilon * odin_input_std`` log-mel units; pass ``odin_input_std =
    oodlib.scores.posthoc.input_std(<ID training inputs>)``, the same number for every set. The
    default epsilon, :data:`oodlib.scores.posthoc.ODIN_EPSILON` (0.0056 stds), is ODIN's 0.0014 on
    [0, 1] image pixels expressed in the same units (pixel std about 0.25).

    Returns ``{"scores": {method: {set: array}}, "features": {set: array}, "logits": {set: array}}``.
    """
    dev = resolve_device(device)
    knn = KNNScorer(k=k, normalize=True, squared=True).fit(train_feats)
    out: dict = {"scores": {m: {} for m in METHODS}, "features": {}, "logits": {}}
    for name, x in inputs.items():
        logits, feats = predict(model, x, device=device)
        out["logits"][name], out["features"][name] = logits, feats
        out["scores"]["MSP"][name] = sc.msp(logits)
        out["scores"]["ODIN"][name] = sc.odin(model.to(dev).eval(), x.to(dev), odin_temperature, odin_epsilon,
                                             input_std=odin_input_std, batch_size=128)
        out["scores"]["GradNorm"][name] = sc.gradnorm(feats, model.fc)
        out["scores"]["kNN"][name] = knn.score(feats)
    return out


def classical_scores(train_feats: np.ndarray, feats: Mapping[str, np.ndarray], seed: int,
                     pyod_scores: bool = False) -> dict[str, dict[str, np.ndarray]]:
    """The five classical detectors fitted on ID training embeddings (raw, as P1), scored on every set.

    ``pyod_scores=True`` scores LODA and PCA with PyOD's own functions, as P1 ran them; the
    default corrects them (:mod:`oodlib.scores.classical`). See :func:`embedding_geometry` for
    why the global detectors can still fall below chance.
    """
    out = {}
    for label, name in CLASSICAL.items():
        det = sc.ClassicalDetector(name, seed=seed, pyod_scores=pyod_scores).fit(train_feats)
        out[label] = {s: det.score(f) for s, f in feats.items()}
    return out


def embedding_geometry(train_feats: np.ndarray, feats: Mapping[str, np.ndarray],
                       id_name: str = "ID test") -> pd.DataFrame:
    """Where each set's raw embeddings lie relative to the ID training cloud: why global detectors fail.

    IForest, LODA, OCSVM with PyOD's ``gamma="auto"`` (a kernel far wider than the pooled
    features' spread) and PyOD's own PCA score (about the standardised distance to the training
    mean) rank points by how far they are from the bulk of the training cloud. An ID embedding
    sits at its class cluster, away from the global mean; an input with weak, unspecific class
    evidence (silence, noise, an unknown word) gives a blend of the clusters near the mean, which
    these detectors call more normal than ID test: AUROC below 50. kNN on L2-normalised
    features, LOF and Shyu's PCA score are not fooled (see ``tests/test_scores.py``).

    Args:
        train_feats: ID training embeddings (n, d), the detectors' fit set.
        feats: set name -> embeddings (m, d); must hold ``id_name``.
    Returns:
        One row per set: ``norm`` (mean L2 norm), ``centre distance`` (mean Euclidean distance
        to the training mean, divided by that of ``id_name``: below 1 = nearer the centre than
        ID test) and ``centre AUROC`` (percent, ID positive, of that distance as an OOD score).
    """
    mu = np.asarray(train_feats, np.float64).mean(axis=0)
    dist = {s: np.linalg.norm(np.asarray(f, np.float64) - mu, axis=1) for s, f in feats.items()}
    rows = {s: {"norm": float(np.linalg.norm(np.asarray(f, np.float64), axis=1).mean()),
                "centre distance": float(dist[s].mean() / dist[id_name].mean()),
                "centre AUROC": (ood_report(dist[id_name], dist[s], positive="id", percent=True)["auroc"]
                                 if s != id_name else float("nan"))} for s, f in feats.items()}
    return pd.DataFrame.from_dict(rows, orient="index").rename_axis("set")


def ood_table(scores: Mapping[str, Mapping[str, np.ndarray]], id_name: str = "ID test") -> pd.DataFrame:
    """Rows: OOD sets (+ ``Average``); columns ``"<method> FPR95"``, ``"<method> AUROC"``; percent, ID positive."""
    rows: dict[str, dict[str, float]] = {}
    for method, per_set in scores.items():
        for s, values in per_set.items():
            if s == id_name:
                continue
            rep = ood_report(per_set[id_name], values, positive="id", percent=True)
            rows.setdefault(s, {})[f"{method} FPR95"] = rep["fpr"]
            rows[s][f"{method} AUROC"] = rep["auroc"]
    table = pd.DataFrame.from_dict(rows, orient="index")
    table.loc["Average"] = table.mean()
    table.index.name = "ood_set"
    return table


def average_table(table: pd.DataFrame, methods: tuple[str, ...]) -> pd.DataFrame:
    """The ``Average`` row of an :func:`ood_table` as one row per method (columns FPR95, AUROC)."""
    avg = table.loc["Average"]
    return pd.DataFrame({m: {"FPR95": avg[f"{m} FPR95"], "AUROC": avg[f"{m} AUROC"]} for m in methods}).T


def best_method(avg: pd.DataFrame) -> tuple[str, str]:
    """(method with the lowest FPR95, method with the highest AUROC) in an :func:`average_table`."""
    return str(avg["FPR95"].idxmin()), str(avg["AUROC"].idxmax())


def paper_names(table: pd.DataFrame) -> pd.DataFrame:
    """Rename synthetic set names to the paper dataset each stands in for (others unchanged)."""
    return table.rename(index=lambda s: STANDS_IN_FOR.get(s, s))


def k_sweep(train_feats: np.ndarray, id_feats: np.ndarray, ood_feats: Mapping[str, np.ndarray],
            ks: list[int]) -> pd.DataFrame:
    """Average FPR95 / AUROC (percent, ID positive) of kNN over the OOD sets for each k.

    Values of k larger than the bank are skipped; ``ValueError`` when none is left.
    """
    rows = []
    for k in ks:
        if k > len(train_feats):
            continue
        knn = KNNScorer(k=k, normalize=True, squared=True).fit(train_feats)
        s_id = knn.score(id_feats)
        reps = [ood_report(s_id, knn.score(f), positive="id", percent=True) for f in ood_feats.values()]
        rows.append({"k": k, "FPR95": np.mean([r["fpr"] for r in reps]), "AUROC": np.mean([r["auroc"] for r in reps])})
    if not rows:
        raise ValueError(f"k sweep: every k in {list(ks)} exceeds the {len(train_feats)} training features "
                         "(or none was given); pass smaller values of k")
    return pd.DataFrame(rows).set_index("k")
