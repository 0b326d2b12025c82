"""P2's paper recipe (README) by parameters alone, on fixtures in the official layouts: the DCASE2023
eval set (test names without labels; the evaluator's ground-truth folders beside the machines) and the
DCASE2020 development set, with two official-format BEATs checkpoints (pt and ft)."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import soundfile as sf
import torch

from oodlib.models.beats import BEATS_BASE, BEATs

TINY = dataclasses.replace(BEATS_BASE, embed_dim=24, encoder_embed_dim=32, encoder_ffn_embed_dim=64,
                           encoder_attention_heads=4, encoder_layers=6, conv_pos=16, conv_pos_groups=4,
                           num_buckets=32, max_distance=64)
RATE = 16000


def _wav(path: Path, rng: np.random.Generator, anomalous: bool = False, seconds: float = 1.0) -> None:
    t = np.arange(int(seconds * RATE)) / RATE
    x = 0.2 * np.sin(2 * np.pi * 220 * t) + 0.02 * rng.normal(size=t.size)
    if anomalous:
        x += 0.2 * np.sin(2 * np.pi * 1760 * t)
    path.parent.mkdir(parents=True, exist_ok=True)
    sf.write(path, x.astype(np.float32), RATE, subtype="PCM_16")


def eval_fixture(root: Path, machines=("ToyDrone", "bandsaw"), n_source=8, n_target=2, n_test=12) -> None:
    """DCASE2023 Task 2 eval layout: labelled training names, unlabelled test names
    ``section_00_<idx>.wav``, and ``ground_truth_{data,domain}/`` beside the machine folders."""
    rng = np.random.default_rng(0)
    for m in machines:
        for dom, n in (("source", n_source), ("target", n_target)):
            for i in range(n):
                _wav(root / m / "train" / f"section_00_{dom}_train_normal_{i:04d}_noAttribute.wav", rng)
        labels = np.arange(n_test) % 2
        domains = (np.arange(n_test) // 2) % 2
        names = [f"section_00_{i:04d}.wav" for i in range(n_test)]
        for name, y in zip(names, labels):
            _wav(root / m / "test" / name, rng, anomalous=bool(y))
        for sub, values in (("ground_truth_data", labels), ("ground_truth_domain", domains)):
            (root / sub).mkdir(exist_ok=True)
            pd.DataFrame({"f": names, "v": values}).to_csv(root / sub / f"ground_truth_{m}_section_00_test.csv",
                                                          header=False, index=False)


def dcase2020_fixture(root: Path, machines=("fan", "pump"), ids=("00", "02"), n_train=6, n_test=3) -> None:
    """DCASE2020 Task 2 dev layout: ``<normal|anomaly>_id_<ss>_<idx>.wav``."""
    rng = np.random.default_rng(1)
    for m in machines:
        for sid in ids:
            for i in range(n_train):
                _wav(root / m / "train" / f"normal_id_{sid}_{i:08d}.wav", rng)
            for i in range(n_test):
                _wav(root / m / "test" / f"normal_id_{sid}_{i:08d}.wav", rng)
                _wav(root / m / "test" / f"anomaly_id_{sid}_{i:08d}.wav", rng, anomalous=True)


def beats_checkpoint(path: Path, finetuned: bool, seed: int) -> Path:
    """An official-format BEATs checkpoint ({'cfg', 'model'}) of a tiny configuration."""
    cfg = dataclasses.replace(TINY, finetuned_model=finetuned, predictor_class=5)
    model = BEATs(cfg, seed=seed)
    torch.save({"cfg": cfg.to_dict(), "model": model.state_dict()}, path)
    return path


@pytest.mark.slow
def test_the_readme_recipe_runs_on_eval_layout_fixtures(tmp_path):
    from oodlib.runner import run_notebook

    data = tmp_path / "data"
    eval_fixture(data / "dcase2023t2_eval")
    dcase2020_fixture(data / "dcase2020t2_dev")
    ft = beats_checkpoint(tmp_path / "BEATs_ft.pt", True, 1)
    pt = beats_checkpoint(tmp_path / "BEATs_pt.pt", False, 2)
    params = {"data": "dcase2023t2_eval", "lowshot_data": "dcase2020t2_dev", "data_dir": str(data),
              "clip_seconds": 1.0, "mix_ks": [2, 8], "extractors": [f"beats:{ft}", f"beats:{pt}", "beats_random"],
              "extractor_width": 64, "extractor_layers": 2, "shots": [4], "lowshot_seeds": 2,
              "lowshot_protocol": "per_id"}
    run_notebook(Path(__file__).resolve().parents[1] / "notebooks" / "p2_genrep.ipynb", params,
                 output_dir=tmp_path / "nb", records_dir=tmp_path / "rec")
    record = json.loads((tmp_path / "rec" / "p2_genrep.json").read_text())
    assert record["data_source"] == "dcase2023t2_eval" and "2 machine types" in record["data_note"]
    claims = {c["id"]: c for c in record["claims"]}
    # every claim was judged on this data: nothing is "not run" with both checkpoints, the eval set and DCASE2020
    assert all(c["verdict"] != "not run" for c in claims.values()), {k: c["verdict"] for k, c in claims.items()}
    assert claims["p2/200_shots_match_autoencoder"]["verdict"] == "inconclusive"  # no 200-shot setting in a 12-clip set
    assert claims["p2/lowshot_graceful"]["data"] == "dcase2020t2_dev (low-shot)"
    models = record["metrics"]["table2_models_fixed"]
    assert {r.split(" / ")[0] for r in models} == {"BEATs BEATs_ft (fine-tuned)", "BEATs BEATs_pt (pre-trained)",
                                                    "BEATs, random weights"}
    layers = record["metrics"]["extractor"]
    assert layers["BEATs BEATs_ft (fine-tuned)"]["fixed_layer"] == 4 and layers["BEATs BEATs_pt (pre-trained)"]["fixed_layer"] == 5
    assert record["metrics"]["submission"]["files"] == 4  # a score and a decision file per eval machine


def test_eval_labels_come_from_the_ground_truth_folders_beside_the_machines(tmp_path):
    from oodlib.papers import p2_genrep as p2

    eval_fixture(tmp_path / "dcase2023t2_eval", machines=("ToyTank",), n_test=4)
    cfg = p2.P2Config(data="dcase2023t2_eval", data_dir=str(tmp_path), lowshot_data="none", extractors=["beats_random"])
    data = p2.load(cfg, tmp_path / "work")
    bench, test = data.bench, data.bench.clips[data.bench.clips["split"] == "test"]
    assert data.low is None and bench.machines == ["ToyTank"] and data.note.startswith(bench.note)
    assert test["label"].tolist() == ["normal", "anomaly"] * 2 and test["domain"].tolist() == ["source", "source", "target", "target"]
    for sub in ("ground_truth_data", "ground_truth_domain"):
        for f in (tmp_path / "dcase2023t2_eval" / sub).iterdir():
            f.unlink()
        (tmp_path / "dcase2023t2_eval" / sub).rmdir()
    with pytest.raises(ValueError, match="ground_truth_data/ and ground_truth_domain/"):
        p2.load(cfg, tmp_path / "work")
