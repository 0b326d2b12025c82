"""A whole P5 run: get every segmenter (trained here or pretrained), draw each probe's reference bank
from the training images while extracting, and score the test and reference images, streamed.

Memory stays bounded: the bank keeps ``bank_size`` features drawn evenly from at most
``bank_images`` training images (the reference code: 100,000 from 500), the test features are
searched batch by batch and only their distance maps are kept.
"""

from __future__ import annotations

import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from ...data.paths import dataset_dir
from ...data.segmentation import VOID
from ...device import resolve_device
from ...knn import KNNScorer
from ...metrics.per_image import per_image_metrics
from ...models import espnet
from ...seeding import child_seed, seeded
from .config import MMSEG_PREFIX, PRETRAINED_MODELS, P5Config, is_pretrained
from .data import DenseBenchmark
from .load_check import LOAD_CHECK_IMAGES, LoadCheck, load_check
from .dense import combine, grid_labels, minmax_range, pixel_metrics, search_time_vs_bank, upsample_nearest
from .models import CNN_PROBES, FIXED_PROBES, VIT_PROBES, build_model, load_checkpoint, n_parameters
from .train import mean_iou, to_tensor, train_segmenter

#: display name of each ``models`` entry, and its probes
NAMES = {"vit": "ViT", "cnn": "CNN", "espnet": "ESPNet", "espnet_c": "ESPNet-C"}
PROBES = {"ViT": VIT_PROBES, "CNN": CNN_PROBES, "ESPNet": espnet.PROBES, "ESPNet-C": espnet.PROBES,
          "Segmenter": VIT_PROBES, "SETR": VIT_PROBES}
RELEASE_FILES = {"espnet": "espnet_p_2_q_8_decoder.pth", "espnet_c": "espnet_p_2_q_8_encoder.pth"}
BATCH = 8


def knn_label(model: str, probe: str) -> str:
    """The feature-table row of a kNN score, e.g. ``"ViT keys (kNN)"``."""
    return f"{model} {probe} (kNN)"


def lse_label(model: str) -> str:
    return f"{model} 1 - LogSumExp"


def combined_label(model: str) -> str:
    return f"{model} combined ({FIXED_PROBES[model]} kNN + LogSumExp)"


# ----------------------------------------------------------------------------- models
def espnet_path(cfg: P5Config, spec: str) -> Path:
    """The checkpoint of ``spec`` ("espnet" / "espnet_c"): ``espnet_checkpoint`` or the released file."""
    if cfg.espnet_checkpoint:
        return Path(cfg.espnet_checkpoint)
    return dataset_dir("espnet_cityscapes", cfg.data_dir) / RELEASE_FILES[spec]


def _pretrained(model: torch.nn.Module, weights: str) -> dict:
    return {"parameters": n_parameters(model), "train s": 0.0, "final loss": float("nan"), "weights": weights}


def get_model(cfg: P5Config, spec: str, bench: DenseBenchmark) -> tuple[torch.nn.Module, dict, str]:
    """Train (``vit``/``cnn``, or load ``*_checkpoint``) or load a pretrained ESPNet or mmseg ViT;
    returns (model, info, display name)."""
    t0 = time.perf_counter()
    if spec.startswith(MMSEG_PREFIX):
        from ...models.mmseg_vit import load_mmseg_vit

        path = spec[len(MMSEG_PREFIX):]
        model = load_mmseg_vit(path)
        name = "SETR" if model.c.head == "setr_naive" else "Segmenter"
        return model, _pretrained(model, f"pretrained, mmsegmentation checkpoint {path} ({model.c.describe()})"), name
    name = NAMES[spec]
    if spec in PRETRAINED_MODELS:
        model = espnet.load_espnet(espnet_path(cfg, spec), spec)
        return model, _pretrained(model, f"pretrained ({espnet.WEIGHTS_ORIGIN})"), name
    n_classes = len(bench.class_names)
    with seeded(child_seed(cfg.seed, f"p5/{spec}/init")):  # each model's initial weights depend on its own seed only
        model = (build_model("vit", n_classes, bench.image_size, dim=cfg.vit_dim) if spec == "vit"
                 else build_model("cnn", n_classes, bench.image_size, width=cfg.cnn_width))
    checkpoint = cfg.vit_checkpoint if spec == "vit" else cfg.cnn_checkpoint
    if checkpoint:
        load_checkpoint(model, checkpoint)
        hist, weights = [], f"checkpoint {checkpoint}"
    else:
        hist = train_segmenter(model, bench.train_images, bench.train_labels, epochs=cfg.epochs, lr=cfg.lr,
                               seed=child_seed(cfg.seed, f"p5/{name}/train"), device=cfg.device, desc=f"train {name}")
        weights = f"trained here from scratch ({cfg.epochs} epochs)"
    return model, {"parameters": n_parameters(model), "train s": time.perf_counter() - t0,
                   "final loss": hist[-1] if hist else float("nan"), "weights": weights}, name


# ----------------------------------------------------------------------------- bank and scoring
def _forward(model: torch.nn.Module, images: np.ndarray, probes: tuple[str, ...], dev: torch.device) -> dict:
    with torch.no_grad():
        return model.probe(to_tensor(images).to(dev), probes)


def _quota(n: int, m: int) -> np.ndarray:
    """How many of ``n`` features each of ``m`` images gives: ``n // m``, one more for the first ``n % m``."""
    return np.full(m, n // m) + (np.arange(m) < n % m)


@dataclass
class StreamedBank:
    """Per training image, its valid feature cells in a random order (float32 (cells, C) each, cut
    at the largest share any bank needs). :meth:`take` makes the bank of ``n`` features: the first
    ``n // m`` (+1) cells of every image, so a smaller bank is a subset of a larger one and the same
    ``n`` always gives the same features, whatever other sizes were drawn."""

    parts: list[np.ndarray]

    def take(self, n: int) -> np.ndarray:
        quota = _quota(n, len(self.parts))
        bank = np.concatenate([p[:q] for p, q in zip(self.parts, quota)]).astype(np.float32)
        if len(bank) < n:
            warnings.warn(f"bank of {n} features: only {len(bank)} drawn from the {len(self.parts)} training images "
                          "(their valid cells, up to the largest bank the stream was drawn for); using all of them",
                          UserWarning, stacklevel=2)
        return np.ascontiguousarray(bank)


def stream_bank(model: torch.nn.Module, images: np.ndarray, labels: np.ndarray, probes: tuple[str, ...], n: int,
                max_images: int, seed: int, device: str = "auto", batch_size: int = BATCH) -> dict[str, StreamedBank]:
    """Each probe's reference features, drawn while extracting: up to ``n / m`` non-void cells from each of
    ``m = min(max_images, len(images))`` training images chosen at random (the other features are dropped).

    Args:
        images: uint8 (N, H, W, 3); labels: (N, H, W) class ids (255 = void; a cell takes its centre
            pixel's label, :func:`.dense.grid_labels`).
        n: the largest bank that will be taken (:meth:`StreamedBank.take`).
    The random choices (images, each image's cell order) do not depend on ``n``.
    """
    rng = np.random.default_rng(seed)
    dev = resolve_device(device)
    model.to(dev).eval()
    m = min(max_images, len(images))
    chosen = np.sort(rng.choice(len(images), m, replace=False))
    quota = _quota(n, m)
    parts: dict[str, list[np.ndarray]] = {p: [] for p in probes}
    for s in range(0, m, batch_size):
        idx = chosen[s:s + batch_size]
        out = _forward(model, images[idx], probes, dev)
        for p in probes:
            f = out[p].permute(0, 2, 3, 1).float().cpu().numpy()
            cells = grid_labels(labels[idx], f.shape[1:3]).reshape(len(idx), -1)
            for j in range(len(idx)):
                order = rng.permutation(np.flatnonzero(cells[j] != VOID))
                parts[p].append(f[j].reshape(-1, f.shape[-1])[order[:quota[s + j]]])
    return {p: StreamedBank(v) for p, v in parts.items()}


@dataclass
class Scored:
    """One model's outputs on one split: grid kNN maps by search name (n, h, w), ``lse`` and ``pred``
    (n, H, W), and per-image times: the forward pass and each search."""

    knn: dict[str, np.ndarray]
    lse: np.ndarray
    pred: np.ndarray
    extract_s: float
    search_s: dict[str, float]
    extract_per_image: np.ndarray | None = None  # (n,) seconds: each batch's time shared by its images
    search_per_image: dict[str, np.ndarray] = field(default_factory=dict)


Search = tuple[str, KNNScorer, dict[str, int]]  # (probe, fitted scorer, {output map name: k})


def score_images(model: torch.nn.Module, images: np.ndarray, searches: dict[str, Search],
                 device: str = "auto", batch_size: int = BATCH) -> Scored:
    """Run ``model.probe`` batch by batch and search each batch's features at once (features are dropped).

    ``searches``: ``{name: (probe, fitted KNNScorer, {output: k})}``: one search per entry, for the
    largest k of its outputs; each output map is the mean distance to its own k nearest (so a k sweep
    costs one search). Several entries may search one probe (another bank).
    """
    from ...scores.posthoc import free_energy

    dev = resolve_device(device)
    model.to(dev).eval()
    probes = tuple(dict.fromkeys(p for p, _, _ in searches.values()))
    knn: dict[str, list[np.ndarray]] = {o: [] for _, _, outs in searches.values() for o in outs}
    lse, pred = [], []
    t_extract: list[np.ndarray] = []
    t_search: dict[str, list[np.ndarray]] = {s: [] for s in searches}
    for s in range(0, len(images), batch_size):
        b = len(images[s:s + batch_size])
        t0 = time.perf_counter()
        out = _forward(model, images[s:s + batch_size], probes, dev)
        if dev.type == "cuda":
            torch.cuda.synchronize()
        t_extract.append(np.full(b, (time.perf_counter() - t0) / b))
        logits = out["logits"].float()
        lse.append((1.0 + free_energy(logits)).cpu().numpy())
        pred.append(logits.argmax(1).to(torch.uint8).cpu().numpy())
        feats = {p: out[p].permute(0, 2, 3, 1).float().cpu().numpy() for p in probes}
        for name, (p, scorer, outs) in searches.items():
            f = feats[p]
            t0 = time.perf_counter()
            dist, _ = scorer.kneighbors(f.reshape(-1, f.shape[-1]), max(outs.values()))
            t_search[name].append(np.full(b, (time.perf_counter() - t0) / b))
            for o, k in outs.items():
                knn[o].append(dist[:, :k].mean(axis=1).reshape(f.shape[:3]))
    extract = np.concatenate(t_extract)
    search = {k: np.concatenate(v) for k, v in t_search.items()}
    return Scored({k: np.concatenate(v) for k, v in knn.items()}, np.concatenate(lse), np.concatenate(pred),
                  float(extract.mean()), {k: float(v.mean()) for k, v in search.items()}, extract, search)


def _scorer(bank: np.ndarray, k: int, device: str) -> KNNScorer:
    return KNNScorer(k=k, reduction="mean", device=device).fit(bank)


# ----------------------------------------------------------------------------- a run
@dataclass
class ModelRun:
    """One segmenter's run: its benchmark (image size), feature dims, info, and scored splits."""

    name: str
    bench: DenseBenchmark
    info: dict
    dims: dict[str, int]
    grids: dict[str, tuple[int, int]]
    test: Scored
    ref: Scored
    bank_sizes: dict[str, int]
    load_check: LoadCheck | str | None = None  # pretrained models: the CamVid check, or why it was not run


@dataclass
class P5Result:
    """Every model's run; ``rows``: metrics (fractions) by feature-table row; ``maps``: the test pixel
    maps (n, H, W) of every row (each probe's kNN map, LogSumExp, the combination); ``sweep``: the primary model's
    fixed feature under other k and bank sizes (rows setting, value, bank, k, AP, FPR95 in %)."""

    runs: dict[str, ModelRun]
    rows: dict[str, dict[str, float]]
    maps: dict[str, np.ndarray] = field(default_factory=dict)
    sweep: pd.DataFrame | None = None
    primary: str = "ViT"
    official: dict[str, float] | None = None  # StreetHazards: the primary fixed feature under the official protocol


def _searches(banks: dict[str, np.ndarray], streamed: StreamedBank, cfg: P5Config, name: str,
              primary: bool) -> tuple[dict[str, Search], dict[str, str]]:
    """The test searches: every probe at (bank_size, k); for the primary model's fixed probe also the
    k sweep (same bank) and the bank sweep (:meth:`StreamedBank.take`: the bank ``bank_size`` = that
    size would draw). Also ``{sweep map: main map}`` for sweep points that are the main bank."""
    s = {p: (p, _scorer(bank, cfg.k, cfg.device), {p: cfg.k}) for p, bank in banks.items()}
    aliases: dict[str, str] = {}
    if primary:
        fixed = FIXED_PROBES[name]
        s["k sweep"] = (fixed, _scorer(banks[fixed], max(cfg.k_sweep), cfg.device),
                        {f"k={kk}": kk for kk in cfg.k_sweep})
        for nb in sorted(set(cfg.bank_sweep)):
            with warnings.catch_warnings():  # a size above the valid cells is capped, as the table says
                warnings.simplefilter("ignore", UserWarning)
                sub = streamed.take(nb)
            key = f"bank size={len(sub)}"
            if len(sub) == len(banks[fixed]):  # the main bank (capped at the valid cells): its map is the main one
                aliases[key] = fixed
            else:
                s.setdefault(key, (fixed, _scorer(sub, cfg.k, cfg.device), {key: cfg.k}))
    return s, aliases


def run_model(cfg: P5Config, spec: str, bench: DenseBenchmark, primary: bool) -> ModelRun:
    """Get one segmenter, draw its banks, score test and reference images."""
    model, info, name = get_model(cfg, spec, bench)
    probes = PROBES[name]
    largest = max([cfg.bank_size, *cfg.bank_sweep]) if primary else cfg.bank_size
    streamed = stream_bank(model, bench.train_images, bench.train_labels, probes, largest, cfg.bank_images,
                           seed=child_seed(cfg.seed, f"p5/{name}/bank"), device=cfg.device)
    banks = {p: streamed[p].take(cfg.bank_size) for p in probes}
    searches, aliases = _searches(banks, streamed[FIXED_PROBES[name]], cfg, name, primary)
    test = score_images(model, bench.test_images, searches, cfg.device)
    test.knn.update({key: test.knn[src] for key, src in aliases.items()})
    fixed = FIXED_PROBES[name]
    ref = score_images(model, bench.ref_images, {fixed: (fixed, _scorer(banks[fixed], cfg.k, cfg.device), {fixed: cfg.k})},
                       cfg.device)
    if not is_pretrained(spec) and bench.ref_labels is not None:
        info["mIoU (reference images, %)"] = 100 * mean_iou(ref.pred, bench.ref_labels, len(bench.class_names))
    dims = {p: b.shape[1] for p, b in banks.items()}
    grids = {p: test.knn[p].shape[1:3] for p in probes}
    run = ModelRun(name, bench, info, dims, grids, test, ref, {p: len(b) for p, b in banks.items()})
    if spec in PRETRAINED_MODELS:
        run.load_check = check_pretrained(cfg, model)
    return run


def _metrics(up: np.ndarray, bench: DenseBenchmark) -> dict[str, float]:
    return pixel_metrics(up, bench.test_ood, bench.test_counts)


def evaluate(run: ModelRun, primary: bool, result: P5Result, k: int) -> None:
    """Pixel metrics of every probe, LogSumExp and the combination (at native resolution), into ``result``."""
    b, size, name = run.bench, run.bench.image_size, run.name
    fixed = FIXED_PROBES[name]
    for p in PROBES[name]:
        up = upsample_nearest(run.test.knn[p], size)
        result.rows[knn_label(name, p)] = {**_metrics(up, b), "search s/image": run.test.search_s[p]}
        result.maps[knn_label(name, p)] = up
    result.rows[lse_label(name)] = _metrics(run.test.lse, b)
    result.maps[lse_label(name)] = run.test.lse
    known = b.ref_ood == 0
    comb = combine(result.maps[knn_label(name, fixed)], run.test.lse,
                   minmax_range(upsample_nearest(run.ref.knn[fixed], size), known), minmax_range(run.ref.lse, known))
    result.rows[combined_label(name)] = _metrics(comb, b)
    result.maps[combined_label(name)] = comb
    if primary and "official_counts" in b.extra:
        result.official = per_image_metrics(result.maps[knn_label(name, fixed)], b.extra["official_ood"],
                                            b.extra["official_counts"])
    if primary:
        sweep = []
        for key in run.test.knn:
            if key.startswith(("k=", "bank size=")):
                setting, value = key.split("=")
                m = _metrics(upsample_nearest(run.test.knn[key], size), b)
                sweep.append({"setting": setting, "value": int(value),
                              "bank": int(value) if setting == "bank size" else run.bank_sizes[fixed],
                              "k": int(value) if setting == "k" else k, "AP": 100 * m["ap"],
                              "FPR95": 100 * m["fpr95"]})
        result.sweep = pd.DataFrame(sweep)


def check_pretrained(cfg: P5Config, model: torch.nn.Module) -> LoadCheck | str:
    """The CamVid load check (:func:`.load_check.load_check`, first 20 val images at ``pretrained_size``),
    or why it was not run (no CamVid in the data directory)."""
    root = dataset_dir("camvid", cfg.data_dir, must_exist=False)
    if not root.is_dir():
        return f"CamVid not found at {root}"
    return load_check(model, str(root), "val", LOAD_CHECK_IMAGES, tuple(cfg.pretrained_size), cfg.fit, cfg.device)


def run(cfg: P5Config, bench: DenseBenchmark, pretrained_bench: DenseBenchmark | None = None) -> P5Result:
    """Every model of ``cfg.models`` in order (the first is the primary: it gets the k and bank sweeps).

    Pretrained models see ``pretrained_bench`` (the same images at ``pretrained_size``) when given.
    """
    result = P5Result({}, {})
    for i, spec in enumerate(cfg.models):
        b = pretrained_bench if (is_pretrained(spec) and pretrained_bench is not None) else bench
        r = run_model(cfg, spec, b, primary=i == 0)
        if r.name in result.runs:
            raise ValueError(f"models {cfg.models}: two entries are both a {r.name}; give each kind once")
        if i == 0:
            result.primary = r.name
        result.runs[r.name] = r
        evaluate(r, i == 0, result, cfg.k)
    return result


def search_growth(cfg: P5Config, result: P5Result) -> pd.DataFrame:
    """Exact search time for one test image of the primary model's fixed feature (its cells as queries)
    against random banks of ``runtime_banks`` sizes: rows bank, seconds, queries_per_s, ms/image."""
    main = result.runs[result.primary]
    fixed = FIXED_PROBES[result.primary]
    rows = search_time_vs_bank(main.dims[fixed], tuple(cfg.runtime_banks), int(np.prod(main.grids[fixed])), k=cfg.k,
                               seed=cfg.seed, device=cfg.device)
    df = pd.DataFrame(rows)
    df["ms/image"] = 1000 * df["seconds"]
    return df.set_index("bank")


def export_scores(cfg: P5Config, result: P5Result) -> list[Path]:
    """Write the primary fixed feature's kNN maps at each test image's native size to ``cfg.export_dir``
    in the benchmark's layout (:mod:`.export`: SMIYC's HDF5 files, Fishyscapes' offline output folder);
    ``[]`` without ``export_dir``."""
    from ...data.segmentation import to_native
    from .export import export_fishyscapes, export_smiyc

    if not cfg.export_dir:
        return []
    main = result.runs[result.primary]
    bench = main.bench
    if bench.test_placements is None or bench.test_names is None:
        raise ValueError(f"data={cfg.data!r} keeps no test image placements: nothing to export")
    maps = result.maps[knn_label(result.primary, FIXED_PROBES[result.primary])]
    native = [to_native(m, where) for m, where in zip(maps, bench.test_placements)]
    if cfg.data == "smiyc":
        return export_smiyc(native, list(bench.test_names), cfg.export_dir)
    return export_fishyscapes(native, list(bench.test_names), cfg.export_dir, naming="stem")  # not DDDD_ inputs
