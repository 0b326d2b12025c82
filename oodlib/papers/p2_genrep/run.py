"""A whole P2 run: every extractor on the domain-shift benchmark, the first one also on the
low-shot benchmark, and the per-clip evidence the claims are judged on.

The first entry of ``extractors`` is the **primary** extractor: Tables 1, 3 and 4, the
submission files and the claims about GenRep's parts use it. Every extractor enters Table 2's
model comparison and Figure 1's per-layer curves.
"""

from __future__ import annotations

import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from ...claims import Evidence
from ...seeding import child_seed
from .config import P2Config
from .data import ClipTable, P2Data
from .experiments import MachineScores, Variant, evaluate_variants, low_shot
from .extractors import Extractor, build_extractors
from .features import extract_embeddings, layer_dims, memory_per_1000_clips
from .genrep import NORMALIZATIONS

#: the variants the claims compare, by (pooling, MemMixup on, DN) -> their name in the evidence
NAMED_VARIANTS = {
    ("temporal", False, "none"): "no DN",
    ("temporal", False, "transductive"): "DN",
    ("temporal", True, "none"): "MemMixup",
    ("temporal", True, "transductive"): "DN + MemMixup",
    ("temporal", False, "inductive"): "DN (inductive)",
    ("temporal", True, "inductive"): "DN (inductive) + MemMixup",
    ("spatial", False, "transductive"): "spatial",
    ("spectral", False, "transductive"): "spectral",
}


def variants_for(cfg: P2Config) -> list[Variant]:
    """Every (pooling, MemMixup Ks, DN) variant the tables need, for the poolings asked for."""
    out = [Variant("temporal", ks, norm) for ks in [None, *cfg.mix_ks] for norm in NORMALIZATIONS]
    return out + [Variant(p, None, "transductive") for p in ("spatial", "spectral") if p in cfg.poolings]


def variant_name(v: Variant, ks_main: int) -> str | None:
    """The evidence name of ``v`` (None for a MemMixup Ks other than the largest)."""
    if v.mix_ks not in (None, ks_main):
        return None
    return NAMED_VARIANTS.get((v.pooling, v.mix_ks is not None, v.normalization))


@dataclass
class ExtractorRun:
    """One extractor's results.

    Attributes:
        results: :func:`.experiments.evaluate_variants` rows of every machine, with ``extractor``.
        kept: ``{(machine, variant, layer): MachineScores}`` - the named variants and DN + MemMixup
            at every Ks at the fixed layer, and the submission variant and plain DN at every layer.
        timing: per machine, clips, extraction and scoring seconds.
        low: the low-shot rows (primary extractor only), ``low_kept`` their fixed-layer scores
            ``{machine: {(shots, seed, setting): scores}}``.
    """

    extractor: Extractor
    fixed_layer: int
    dims: list[dict[str, int]]
    memory_mb: dict[str, float]
    results: pd.DataFrame
    kept: dict[tuple[str, Variant, int], MachineScores]
    timing: pd.DataFrame
    low: pd.DataFrame | None = None
    low_kept: dict[str, dict[tuple[str, int, str], np.ndarray]] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return self.extractor.name


@dataclass
class P2Result:
    """Everything a P2 notebook run reports."""

    cfg: P2Config
    bench: ClipTable
    low_bench: ClipTable | None
    runs: list[ExtractorRun]

    @property
    def primary(self) -> ExtractorRun:
        return self.runs[0]

    @property
    def ks_main(self) -> int:
        return max(self.cfg.mix_ks)

    @property
    def has_target(self) -> bool:
        """Whether the data have target-domain training clips (MemMixup needs them)."""
        c = self.bench.clips
        return bool((c["split"].eq("train") & c["domain"].eq("target")).any())

    @property
    def export_variant(self) -> Variant:
        """The submission's variant: temporal, DN, MemMixup with the largest Ks when possible."""
        return Variant("temporal", self.ks_main if self.has_target else None, "transductive")

    @property
    def results(self) -> pd.DataFrame:
        """Every extractor's rows together (column ``extractor``)."""
        return pd.concat([r.results for r in self.runs], ignore_index=True)

    def extractor_note(self) -> str:
        """One sentence naming every extractor and where its weights come from (for the record)."""
        return "Extractors (first = primary): " + "; ".join(r.extractor.describe() for r in self.runs) + "."

    def extractor_metrics(self) -> dict[str, dict[str, float]]:
        """Per extractor: depth, fixed layer and float32 MB per 1,000 clips (record metrics)."""
        return {r.name: {"layers": r.extractor.n_layers, "fixed_layer": r.fixed_layer,
                         "mb_per_1000_clips_all_layers": r.memory_mb["all layers"],
                         "mb_per_1000_clips_one_layer": r.memory_mb["one layer"]} for r in self.runs}

    def evidence(self) -> dict[str, Evidence]:
        """Per-clip test scores for the claims (:mod:`.claims`), each set only when the run made it.

        * ``domain_shift``: the primary extractor's named variants without MemMixup
          (:data:`NAMED_VARIANTS`) at its fixed layer, ``score:<variant>``; rows = test clips,
          stratified by machine x domain x label;
        * ``memmixup`` (when there are target-domain training clips): ``no DN``, ``DN``, ``MemMixup``
          and ``DN + MemMixup`` (largest Ks), the same way;
        * ``pretrained_vs_random``: ``score:pretrained`` / ``score:random``, DN (+ MemMixup when
          there are target clips) at each one's fixed layer, for the first pretrained and the first
          random-weight extractor;
        * ``beats_pt_ft``: the same for the first pre-trained and fine-tuned BEATs checkpoints;
        * ``beats_layers``: the first BEATs checkpoint's DN scores at every layer, ``score:layer <l>``;
        * ``ks_sweep`` (two or more MemMixup Ks, target clips present): the primary's DN + MemMixup
          at each Ks, ``score:Ks=<k>``;
        * ``eval_set``: on the DCASE2023 eval set, the primary's submission variant, ``score:GenRep``;
        * ``low_shot`` (and ``low_shot_dcase2020`` on the real DCASE2020 set): the primary's
          low-shot scores at its fixed layer, ``score:<setting>|<shots>|<seed>``.
        """
        out: dict[str, Evidence] = {}
        prim = self.primary
        named = {variant_name(v, self.ks_main): (v, prim.fixed_layer) for v in variants_for(self.cfg)}
        named.pop(None, None)
        # a variant that could not be scored on some machine (inductive DN of a 2-clip bank: no spread) is left out
        named = {n: vl for n, vl in named.items() if all((m, *vl) in prim.kept for m in self.bench.machines)}
        plain = {n: (prim, v, l) for n, (v, l) in named.items() if not v.mix_ks}
        out["domain_shift"] = self._domain_evidence("domain_shift", plain)
        if self.has_target:  # MemMixup needs target-domain training clips (the 28-clip mini set has none)
            mixed = {n: (prim, v, l) for n, (v, l) in named.items() if n in ("no DN", "DN", "MemMixup", "DN + MemMixup")}
            out["memmixup"] = self._domain_evidence("memmixup", mixed)
        main = self.export_variant
        pre = next((r for r in self.runs if r.extractor.pretrained), None)
        rnd = next((r for r in self.runs if not r.extractor.pretrained), None)
        if pre is not None and rnd is not None:
            out["pretrained_vs_random"] = self._domain_evidence(
                "pretrained_vs_random", {"pretrained": (pre, main, pre.fixed_layer), "random": (rnd, main, rnd.fixed_layer)},
                {"pretrained": pre.name, "random": rnd.name})
        beats = [r for r in self.runs if r.extractor.spec.startswith("beats:")]
        ft = next((r for r in beats if r.extractor.finetuned), None)
        pt = next((r for r in beats if not r.extractor.finetuned), None)
        if ft is not None and pt is not None:
            out["beats_pt_ft"] = self._domain_evidence(
                "beats_pt_ft", {"pt": (pt, main, pt.fixed_layer), "ft": (ft, main, ft.fixed_layer)}, {"pt": pt.name, "ft": ft.name})
        if beats:
            b = beats[0]
            dn = Variant("temporal", None, "transductive")
            out["beats_layers"] = self._domain_evidence(
                "beats_layers", {f"layer {l}": (b, dn, l) for l in range(1, b.extractor.n_layers + 1)}, {"extractor": b.name})
        ks_runs = {f"Ks={k}": (prim, Variant("temporal", k, "transductive"), prim.fixed_layer) for k in self.cfg.mix_ks}
        if len(ks_runs) > 1 and all((m, *vl[1:]) in prim.kept for m in self.bench.machines for vl in ks_runs.values()):
            out["ks_sweep"] = self._domain_evidence("ks_sweep", ks_runs)
        if self.cfg.data == "dcase2023t2_eval":
            out["eval_set"] = self._domain_evidence("eval_set", {"GenRep": (prim, main, prim.fixed_layer)})
        if prim.low_kept:
            low = self._low_evidence("low_shot")
            out["low_shot"] = low
            if self.cfg.lowshot_data == "dcase2020t2_dev":
                out["low_shot_dcase2020"] = Evidence("low_shot_dcase2020", low.arrays, low.stratify, facts=low.facts, data=low.data)
        return out

    def _domain_evidence(self, name: str, scores: dict[str, tuple[ExtractorRun, Variant, int]],
                         facts: dict | None = None) -> Evidence:
        test = self.bench.clips[self.bench.clips["split"] == "test"]
        parts = []
        for machine in self.bench.machines:
            rows = test[test["machine"] == machine]
            arr = {"machine": rows["machine"].to_numpy(dtype=str), "domain": rows["domain"].to_numpy(dtype=str),
                   "is_anomaly": rows["is_anomaly"].to_numpy(dtype=bool)}
            for key, (run, v, layer) in scores.items():
                ms = run.kept[(machine, v, layer)]
                if ms.files != rows["path"].tolist():
                    raise AssertionError(f"{machine}: kept scores are not aligned with the test clips")
                arr[f"score:{key}"] = np.asarray(ms.scores, dtype=np.float64)
            parts.append(arr)
        arrays = {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}
        arrays["stratum"] = np.char.add(np.char.add(arrays["machine"], "|"),
                                        np.char.add(arrays["domain"], np.where(arrays["is_anomaly"], "|anomaly", "|normal")))
        facts = {"extractor": self.primary.name, "fixed_layer": self.primary.fixed_layer,
                 "min_test_clips_per_machine": int(test.groupby("machine").size().min()), **(facts or {})}
        return Evidence(name, arrays, stratify="stratum", facts=facts, data=self.cfg.data)

    def _low_evidence(self, name: str) -> Evidence:
        clips = self.low_bench.clips
        parts = []
        for machine, kept in self.primary.low_kept.items():
            rows = clips[(clips["machine"] == machine) & (clips["split"] == "test")]
            arr = {"machine": rows["machine"].to_numpy(dtype=str), "section": rows["section"].to_numpy(dtype=str),
                   "is_anomaly": rows["is_anomaly"].to_numpy(dtype=bool)}
            arr |= {f"score:{setting}|{shots}|{seed}": np.asarray(s, dtype=np.float64) for (shots, seed, setting), s in kept.items()}
            parts.append(arr)
        keys = set.intersection(*(set(p) for p in parts))  # a shot setting too large for one machine is left out
        arrays = {k: np.concatenate([p[k] for p in parts]) for k in sorted(keys)}
        arrays["stratum"] = np.char.add(arrays["machine"], np.where(arrays["is_anomaly"], "|anomaly", "|normal"))
        facts = {"extractor": self.primary.name, "fixed_layer": self.primary.fixed_layer,
                 "protocol": self.cfg.lowshot_protocol}
        return Evidence(name, arrays, stratify="stratum", facts=facts, data=f"{self.cfg.lowshot_data} (low-shot)")


def fixed_layer_of(cfg: P2Config, ex: Extractor) -> int:
    """``cfg.fixed_layer`` when given (checked against the depth), else the extractor's own default."""
    if cfg.fixed_layer is None:
        return ex.default_layer
    if not 1 <= cfg.fixed_layer <= ex.n_layers:
        raise ValueError(f"parameter 'fixed_layer' must be in [1, {ex.n_layers}] for {ex.name}, got {cfg.fixed_layer}")
    return cfg.fixed_layer


def run_extractor(ex: Extractor, cfg: P2Config, bench: ClipTable, work: Path, keep_all: list[Variant]) -> ExtractorRun:
    """Extract every machine's clips with ``ex`` (streamed to memory maps under ``work``), score every
    variant at every layer, and keep the scores the evidence and the submission need."""
    layer = fixed_layer_of(cfg, ex)
    variants = variants_for(cfg)
    ks_main = max(cfg.mix_ks)
    keep = [(v, layer) for v in variants if variant_name(v, ks_main) or (v.mix_ks and v.normalization == "transductive")]
    keep += [(v, l) for v in keep_all for l in range(1, ex.n_layers + 1)]
    results, kept, timing = [], {}, {}
    for machine in bench.machines:
        clips = bench.clips[bench.clips["machine"] == machine].reset_index(drop=True)
        store = work / "embeddings" / machine
        t0 = time.perf_counter()
        emb = extract_embeddings(ex, clips["path"].tolist(), cfg.clip_seconds, cfg.poolings, cfg.batch_size,
                                 desc=f"extract {machine} ({ex.name})", store=store)
        t1 = time.perf_counter()
        res, sc = evaluate_variants(machine, emb, clips, variants, cfg.lam, keep_scores=keep)
        results.append(res.assign(extractor=ex.name))
        kept.update({(machine, *k): v for k, v in sc.items()})
        timing[machine] = {"clips": len(clips), "extract s": t1 - t0, "score s": time.perf_counter() - t1}
        del emb
        shutil.rmtree(store)  # our own temporary memory maps
    timing = pd.DataFrame(timing).T
    timing["ms per clip (extract)"] = 1000 * timing["extract s"] / timing["clips"]
    return ExtractorRun(ex, layer, layer_dims(ex, cfg.clip_seconds), memory_per_1000_clips(ex, cfg.clip_seconds, cfg.poolings),
                        pd.concat(results, ignore_index=True), kept, timing)


def run_low_shot(r: ExtractorRun, cfg: P2Config, low_bench: ClipTable, work: Path) -> None:
    """Table 4 for extractor run ``r`` (filled in place: ``r.low``, ``r.low_kept``)."""
    rows = []
    seeds = [child_seed(cfg.seed, f"p2/lowshot/{i}") for i in range(cfg.lowshot_seeds)]
    for machine in low_bench.machines:
        clips = low_bench.clips[low_bench.clips["machine"] == machine].reset_index(drop=True)
        n_train = int((clips["split"] == "train").sum())
        settings = [s for s in cfg.shots if s < n_train] + ["half", "full"]
        store = work / "embeddings_low" / machine
        emb = extract_embeddings(r.extractor, clips["path"].tolist(), cfg.clip_seconds, cfg.poolings, cfg.batch_size,
                                 desc=f"extract {machine} (low-shot)", store=store)
        res, kept = low_shot(machine, emb["temporal"], clips, settings, seeds, protocol=cfg.lowshot_protocol,
                             keep_layer=r.fixed_layer)
        rows.append(res)
        r.low_kept[machine] = kept
        for pooling in [p for p in cfg.poolings if p != "temporal"]:
            rows.append(low_shot(machine, emb[pooling], clips, ["full"], seeds, pooling=pooling, settings=["label-free"],
                                 protocol=cfg.lowshot_protocol)[0])
        del emb
        shutil.rmtree(store)
    r.low = pd.concat(rows, ignore_index=True)


def run(cfg: P2Config, data: P2Data, work: str | Path) -> P2Result:
    """Every extractor on the domain-shift benchmark; the primary one also on the low-shot one.
    Embeddings are streamed to memory maps under ``work`` and deleted machine by machine."""
    work, bench, low_bench = Path(work), data.bench, data.low
    exs = build_extractors(cfg.extractors, cfg.seed, cfg.device, cfg.extractor_width, cfg.extractor_layers)
    for ex in exs:
        fixed_layer_of(cfg, ex)  # every extractor's depth fits fixed_layer before any extraction
    result = P2Result(cfg, bench, low_bench, [])
    keep_all = [result.export_variant, Variant("temporal", None, "transductive")]
    for ex in exs:
        result.runs.append(run_extractor(ex, cfg, bench, work, keep_all))
    if low_bench is not None:
        run_low_shot(result.primary, cfg, low_bench, work)
    return result
