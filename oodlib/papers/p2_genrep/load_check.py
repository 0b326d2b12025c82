"""Is the pretrained load real? EfficientAT ``mn04_as`` must name ESC-50 sounds with AudioSet labels.

A strict state-dict load proves that names and shapes match, not that the computation is the
one the weights were trained for (a wrong axis, padding or input scale loads just as strictly).
So the loaded tagger classifies ESC-50 clips, zero-shot, into its 527 AudioSet classes, and each
clip counts as a hit when its top-k labels include an AudioSet counterpart of its ESC-50 class
(:data:`ESC50_TO_AUDIOSET`). :data:`PASS_RULE` says when the load counts as real.

:data:`ESC50_TO_AUDIOSET` maps 46 of the 50 ESC-50 classes; it was written from the class names
and the AudioSet ontology's display names before looking at any prediction on ESC-50. Left out,
for want of a clear AudioSet counterpart: ``can_opening``, ``drinking_sipping`` and
``washing_machine`` (AudioSet has no such classes) and ``mouse_click`` (only the generic
"Clicking"). Generic parents ("Animal", "Vehicle", "Liquid") never count.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch

from ...data.audio import read_audio
from ...models.efficientat import SAMPLE_RATE, EfficientAT, audioset_labels

ESC50_SECONDS = 5.0

ESC50_TO_AUDIOSET: dict[str, tuple[str, ...]] = {
    # animals
    "dog": ("Dog", "Bark", "Bow-wow", "Growling", "Yip", "Howl", "Whimper (dog)", "Canidae, dogs, wolves"),
    "rooster": ("Chicken, rooster", "Crowing, cock-a-doodle-doo"),
    "pig": ("Pig", "Oink"),
    "cow": ("Cattle, bovinae", "Moo"),
    "frog": ("Frog", "Croak"),
    "cat": ("Cat", "Meow", "Purr", "Caterwaul"),
    "hen": ("Chicken, rooster", "Cluck", "Fowl"),
    "insects": ("Insect", "Fly, housefly", "Buzz", "Bee, wasp, etc.", "Mosquito"),
    "sheep": ("Sheep", "Bleat"),
    "crow": ("Crow", "Caw"),
    # natural soundscapes and water
    "rain": ("Rain", "Raindrop", "Rain on surface"),
    "sea_waves": ("Ocean", "Waves, surf"),
    "crackling_fire": ("Fire", "Crackle"),
    "crickets": ("Cricket",),
    "chirping_birds": ("Bird", "Bird vocalization, bird call, bird song", "Chirp, tweet"),
    "water_drops": ("Drip", "Plop", "Raindrop"),
    "wind": ("Wind", "Wind noise (microphone)"),
    "pouring_water": ("Pour", "Trickle, dribble", "Fill (with liquid)", "Gush"),
    "toilet_flush": ("Toilet flush",),
    "thunderstorm": ("Thunderstorm", "Thunder"),
    # human, non-speech
    "crying_baby": ("Baby cry, infant cry", "Crying, sobbing"),
    "sneezing": ("Sneeze",),
    "clapping": ("Clapping", "Applause"),
    "breathing": ("Breathing", "Wheeze", "Gasp", "Pant"),
    "coughing": ("Cough", "Throat clearing"),
    "footsteps": ("Walk, footsteps", "Run", "Shuffle"),
    "laughing": ("Laughter", "Baby laughter", "Giggle", "Snicker", "Belly laugh", "Chuckle, chortle"),
    "brushing_teeth": ("Toothbrush", "Electric toothbrush"),
    "snoring": ("Snoring",),
    # interior / domestic
    "door_wood_knock": ("Knock", "Door"),
    "keyboard_typing": ("Typing", "Computer keyboard", "Typewriter"),
    "door_wood_creaks": ("Creak", "Squeak", "Door"),
    "vacuum_cleaner": ("Vacuum cleaner",),
    "clock_alarm": ("Alarm clock", "Alarm", "Beep, bleep", "Buzzer"),
    "clock_tick": ("Tick", "Tick-tock", "Clock"),
    "glass_breaking": ("Shatter", "Glass", "Breaking", "Smash, crash"),
    # exterior / urban
    "helicopter": ("Helicopter",),
    "chainsaw": ("Chainsaw",),
    "siren": ("Siren", "Civil defense siren", "Police car (siren)", "Ambulance (siren)",
              "Fire engine, fire truck (siren)"),
    "car_horn": ("Vehicle horn, car horn, honking", "Toot", "Air horn, truck horn"),
    "engine": ("Engine", "Light engine (high frequency)", "Medium engine (mid frequency)",
               "Heavy engine (low frequency)", "Idling", "Accelerating, revving, vroom", "Engine starting",
               "Engine knocking"),
    "train": ("Train", "Rail transport", "Train whistle", "Train horn", "Railroad car, train wagon",
              "Train wheels squealing", "Subway, metro, underground"),
    "church_bells": ("Church bell", "Bell", "Change ringing (campanology)"),
    "airplane": ("Fixed-wing aircraft, airplane", "Aircraft", "Aircraft engine", "Jet engine", "Propeller, airscrew"),
    "fireworks": ("Fireworks", "Firecracker"),
    "hand_saw": ("Sawing",),
}

#: The rule, fixed before measuring: a class passes when its hit rate (top-1) is at least
#: PASS_MIN_HIT_RATE; the load passes when at least PASS_MIN_CLASS_FRACTION of the mapped classes pass.
PASS_MIN_HIT_RATE = 0.5
PASS_MIN_CLASS_FRACTION = 0.6
PASS_RULE = ("the top-1 AudioSet label names the right sound (an ESC50_TO_AUDIOSET counterpart) for at least "
             "half the clips in at least 60% of the mapped ESC-50 classes")


def esc50_clips(root: str | Path, fold: int | None = None) -> pd.DataFrame:
    """ESC-50 clips present under ``root``: the rows of ``meta/esc50_available.csv`` (else
    ``meta/esc50.csv``) whose ``audio/<filename>`` exists as ``.wav`` or ``.flac``; only ``fold``
    (1-5) when given and present (the shared subset has fold 4 complete: 8 clips per class).

    Returns the metadata columns with ``path`` (the file found) added. Raises
    ``FileNotFoundError`` naming the folder when the metadata or every listed clip is missing.
    """
    root = Path(root)
    meta = next((p for p in (root / "meta" / "esc50_available.csv", root / "meta" / "esc50.csv") if p.is_file()), None)
    if meta is None:
        raise FileNotFoundError(f"{root}: no meta/esc50_available.csv or meta/esc50.csv (is this an ESC-50 folder?)")
    df = pd.read_csv(meta)
    audio = root / "audio"
    paths = []
    for name in df["filename"]:
        stem = Path(name).stem
        found = next((audio / f"{stem}{ext}" for ext in (".wav", ".flac") if (audio / f"{stem}{ext}").is_file()), None)
        paths.append(str(found) if found else None)
    df["path"] = paths
    df = df[df["path"].notna()].reset_index(drop=True)
    if df.empty:
        raise FileNotFoundError(f"{audio}: none of the {meta.name} clips found (as .wav or .flac)")
    if fold is not None and (df["fold"] == fold).any():
        df = df[df["fold"] == fold].reset_index(drop=True)
    return df


@torch.inference_mode()
def top_labels(model: EfficientAT, paths: list[str], top_k: int = 1, batch_size: int = 16) -> list[list[str]]:
    """The top-k AudioSet display names (best first) of each 5 s clip, read at 32 kHz."""
    labels, n_samples, out = audioset_labels(), int(ESC50_SECONDS * SAMPLE_RATE), []
    for start in range(0, len(paths), batch_size):
        batch = np.stack([read_audio(p, SAMPLE_RATE, n_samples) for p in paths[start : start + batch_size]])
        idx = model(torch.from_numpy(batch)).topk(top_k, dim=1).indices.cpu().tolist()
        out += [[labels[i] for i in row] for row in idx]
    return out


def esc50_label_check(model: EfficientAT, clips: pd.DataFrame, top_k: int = 1, batch_size: int = 16) -> pd.DataFrame:
    """Per mapped ESC-50 class: ``clips``, ``hits`` (clips whose top-k AudioSet labels include a
    counterpart), ``hit_rate`` and the most frequent top-1 label (``top1``, with ``top1_count``).

    ``clips`` needs columns ``path`` and ``category`` (e.g. :func:`esc50_clips`); clips of unmapped
    classes are skipped. Rows are sorted by hit rate, best first.
    """
    clips = clips[clips["category"].isin(ESC50_TO_AUDIOSET)].reset_index(drop=True)
    if clips.empty:
        raise ValueError("no clips of a mapped ESC-50 class (see ESC50_TO_AUDIOSET)")
    tops = top_labels(model, clips["path"].tolist(), top_k, batch_size)
    rows = []
    for category, group in clips.groupby("category", sort=True):
        names = set(ESC50_TO_AUDIOSET[category])
        hits = sum(bool(names & set(tops[i])) for i in group.index)
        top1, count = Counter(tops[i][0] for i in group.index).most_common(1)[0]
        rows.append({"category": category, "clips": len(group), "hits": hits, "hit_rate": hits / len(group),
                     "top1": top1, "top1_count": count})
    return pd.DataFrame(rows).sort_values(["hit_rate", "category"], ascending=[False, True]).reset_index(drop=True)


def load_check_passes(table: pd.DataFrame) -> bool:
    """:data:`PASS_RULE` on a top-1 :func:`esc50_label_check` table."""
    return bool((table["hit_rate"] >= PASS_MIN_HIT_RATE).mean() >= PASS_MIN_CLASS_FRACTION)


def summary(table: pd.DataFrame) -> dict[str, float]:
    """The check in numbers: mapped classes, clips, classes at the per-class hit rate, passed (0/1)."""
    at = int((table["hit_rate"] >= PASS_MIN_HIT_RATE).sum())
    return {"classes": len(table), "clips": int(table["clips"].sum()), "classes_at_min_hit_rate": at,
            "share_of_classes": at / len(table), "passed": int(load_check_passes(table))}


def verdict_text(table: pd.DataFrame) -> str:
    """One line: PASSED or FAILED, with the counts behind it."""
    s = summary(table)
    return (f"{'PASSED' if s['passed'] else 'FAILED'}: {s['classes_at_min_hit_rate']} of {s['classes']} mapped ESC-50 classes "
            f"({s['share_of_classes']:.0%}; the rule needs {PASS_MIN_CLASS_FRACTION:.0%}) have a top-1 hit rate of at "
            f"least {PASS_MIN_HIT_RATE:.0%}, on {s['clips']} clips")


def load_check_figure(table: pd.DataFrame) -> Any:
    """Horizontal bars: hit rate per mapped ESC-50 class, the rule's per-class threshold as a line."""
    import matplotlib.pyplot as plt
    import seaborn as sns

    passed = table["hit_rate"] >= PASS_MIN_HIT_RATE
    fig, ax = plt.subplots(figsize=(6.4, 0.18 * len(table) + 1.2))
    sns.barplot(data=table.assign(passes=passed.map({True: "passes", False: "below"})), x="hit_rate",
                y="category", hue="passes", hue_order=["passes", "below"], dodge=False, ax=ax)
    ax.axvline(PASS_MIN_HIT_RATE, color="black", linestyle="--", linewidth=1)
    ax.set(xlim=(0, 1), xlabel="hit rate (top-1 AudioSet label names the sound)", ylabel="")
    ax.set_title(f"EfficientAT mn04_as on ESC-50: {int(passed.sum())}/{len(table)} classes at >= "
                 f"{PASS_MIN_HIT_RATE:.0%} (rule: {PASS_MIN_CLASS_FRACTION:.0%} of classes)")
    ax.tick_params(axis="y", labelsize=7)
    ax.legend(frameon=False, fontsize=8, loc="lower right")
    fig.tight_layout()
    return fig
