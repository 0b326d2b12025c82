"""Run configurations of the notebooks without a paper package shape yet (00_synthetic_audio, P1, P2,
P4, P5): nonsense values fail before any work, the defaults cannot drift from the parameters
cells, and the error paths of issue 16 item 9 name their cause."""

from __future__ import annotations

import dataclasses
import json
import os
import pickle

import numpy as np
import pytest
import torch
import yaml

from oodlib.params import ParameterError, notebook_parameters
from oodlib.papers.p1_audio_knn.config import P1Config
from oodlib.papers.p2_genrep.config import P2Config, extractor_width_problem
from oodlib.papers.p4_vae_auggan.config import P4Config
from oodlib.papers.p5_dense_knn.config import P5Config
from oodlib.runner import check_config, notebook_config_class, run_notebook
from oodlib.synthetic.config import SyntheticAudioConfig

CONFIGS = {
    "00_synthetic_audio": SyntheticAudioConfig,
    "p1_audio_knn": P1Config,
    "p2_genrep": P2Config,
    "p4_vae_auggan": P4Config,
    "p5_dense_knn": P5Config,
}
NAN = float("nan")

# ---------------------------------------------------------------- the configurations and their notebooks


@pytest.mark.parametrize("stem", sorted(CONFIGS))
def test_config_fields_equal_the_parameters_cell(root, stem):
    """Same names, annotations and defaults as the notebook's parameters cell, so the two cannot drift."""
    specs = notebook_parameters(root / "notebooks" / f"{stem}.ipynb")
    cls = CONFIGS[stem]
    fields = {f.name: f for f in dataclasses.fields(cls)}
    assert set(fields) == set(specs)
    defaults = cls().to_dict()
    for name, spec in specs.items():
        assert defaults[name] == spec.default, name
        assert fields[name].type == spec.annotation, name
    cls.from_params({n: s.default for n, s in specs.items()})  # the defaults pass their own checks


@pytest.mark.parametrize("stem", sorted(CONFIGS))
def test_notebook_names_its_config_and_builds_it_first(root, stem):
    nb_path = root / "notebooks" / f"{stem}.ipynb"
    assert notebook_config_class(nb_path) is CONFIGS[stem]
    nb = json.loads(nb_path.read_text(encoding="utf-8"))
    idx = next(i for i, c in enumerate(nb["cells"]) if "parameters" in c["metadata"].get("tags", []))
    after = "".join(nb["cells"][idx + 1]["source"])
    assert after.startswith("params = guard.check(globals())")
    assert f"{CONFIGS[stem].__name__}.from_params(params)" in after
    assert "raise ValueError" not in after  # the inline checks moved into the configuration


def test_every_profile_passes_its_notebooks_config(root):
    profiles = yaml.safe_load((root / "notebooks" / "profiles.yaml").read_text())
    for profile in profiles.values():
        for stem, params in (profile or {}).items():
            if stem in CONFIGS:
                specs = notebook_parameters(root / "notebooks" / f"{stem}.ipynb")
                check_config(root / "notebooks" / f"{stem}.ipynb", {**{n: s.default for n, s in specs.items()},
                                                                     **(params or {})})


@pytest.mark.parametrize("params,match", [
    ({"timing_clips": 0}, "timing_clips"), ({"timing_clips": -5}, "timing_clips"),
    ({"clips_per_class": 0}, "clips_per_class"), ({"data": "speech_commands_v0.02"}, "'data'"),
    ({"seed": -1}, "seed"), ({"device": "tpu"}, "device"), ({"clip_per_class": 2}, "no parameters"),
])
def test_synthetic_audio_config_rejects_nonsense(params, match):
    with pytest.raises(ParameterError, match=match):
        SyntheticAudioConfig.from_params(params)


@pytest.mark.parametrize("params,match", [
    ({"epochs": 0}, "'epochs'"), ({"epochs": -3}, "'epochs'"), ({"lr": 0.0}, "'lr'"), ({"lr": NAN}, "'lr'"),
    ({"lr": -1e-3}, "'lr'"), ({"batch_size": 1}, "'batch_size'"), ({"data": "esc-50"}, "'data'"),
    ({"models": ["resnet"]}, "'models'"), ({"models": []}, "'models'"), ({"models": ["mobilenet"] * 2}, "repeat"),
    ({"id_settings": ["music"]}, "'id_settings'"), ({"id_settings": []}, "'id_settings'"),
    ({"clips_per_class": 0}, "clips_per_class"), ({"ood_clips": 0}, "ood_clips"),
    ({"keyword_classes": 1}, "keyword_classes"), ({"keyword_classes": 40}, "keyword_classes"),
    ({"k_keywords": 0}, "k_keywords"), ({"k_vocal": -1}, "k_vocal"), ({"k_values": []}, "k_values"),
    ({"k_values": [1, 0]}, r"k_values\[1\]"), ({"odin_temperature": 0.0}, "odin_temperature"),
    ({"odin_epsilon": -0.1}, "odin_epsilon"), ({"odin_epsilon": float("inf")}, "odin_epsilon"),
    ({"max_per_class": -3}, "max_per_class"),
    ({"clips_per_class": 5, "k_vocal": 31}, "k_vocal"),  # the vocal setting has 6 x 5 clips
    ({"clips_per_class": 2, "k_values": [100]}, "k_values"),
    ({"data": "folders"}, "id_train_dir"), ({"data": "folders", "id_train_dir": "a"}, "id_test_dir"),
    ({"ood_dirs": {"ID test": "x"}}, "ood_dirs"), ({"ood_dirs": {"other words": "x"}}, "ood_dirs"),
    ({"ood_dirs": {"mine": ""}}, "ood_dirs"), ({"ood_dirs": {"ESC-50": "x"}}, "ood_dirs"),
    ({"data": "crema_d", "ood_datasets": ["esc-50"]}, "ood_datasets"),
    ({"data": "crema_d", "ood_datasets": ["esc50", "esc50"]}, "repeat"),
    ({"ood_datasets": ["esc50"]}, "need a real ID set"), ({"dataset_options": {"esc50": {}}}, "need a real ID set"),
    ({"data": "speech_commands_v0.02_test", "ood_datasets": ["speech_commands_v0.02"]}, "unknown words"),
    ({"data": "crema_d", "dataset_options": {"vocalsound": {"x": 1}}}, "takes no options"),
    ({"data": "crema_d", "dataset_options": {"esc50": {"fold": 1}}}, r"dataset_options\['esc50'\]"),
    ({"clip_policy": "middle"}, "clip_policy"), ({"clip_hop_s": 0.0}, "clip_hop_s"), ({"window_reduce": "median"}, "window_reduce"),
])
def test_p1_config_rejects_nonsense(params, match):
    with pytest.raises(ParameterError, match=match):
        P1Config.from_params(params)


def test_p1_folders_without_an_ood_set_fail_before_any_work():
    with pytest.raises(ParameterError, match="ood_dirs"):
        P1Config.from_params({"data": "folders", "id_train_dir": "train", "id_test_dir": "test"})


def test_p1_config_accepts_what_the_notebook_allows():
    P1Config.from_params({"data": "folders", "id_train_dir": "train", "id_test_dir": "test", "ood_dirs": {"mine": "x"}})
    P1Config.from_params({"data": "speech_commands_v0.02_test", "id_settings": [], "k_keywords": 500})  # real: no bound
    P1Config.from_params({"odin_epsilon": 0.0, "max_per_class": 0, "models": ["efficientnet"]})


@pytest.mark.parametrize("params,match", [
    ({"data": "dcase2024"}, "'data'"), ({"lowshot_data": "dcase2021"}, "lowshot_data"),
    ({"machines": ["drill"]}, "'machines'"), ({"machines": ["fan", "fan"]}, "'machines'"),
    ({"extractors": []}, "'extractors'"), ({"extractors": ["beats"]}, r"extractors\[0\]"),
    ({"extractors": ["beats_random", "beats_random"]}, "repeat"), ({"extractors": ["beats:/no/such.pt"]}, "does not exist"),
    ({"fixed_layer": 18, "extractors": ["efficientat_mn04"]}, "fixed_layer"),
    ({"poolings": ["spatial"]}, "'temporal'"), ({"poolings": ["temporal", "mean"]}, "poolings"),
    ({"lowshot_protocol": "per_machine"}, "lowshot_protocol"),
    ({"lowshot_machines": ["fan", "fan"]}, "lowshot_machines"),
    ({"n_source": 0}, "n_source"), ({"n_target": -1}, "n_target"), ({"n_test": 0}, "n_test"),
    ({"anomaly_db": NAN}, "anomaly_db"), ({"clip_seconds": 0.1}, "clip_seconds"), ({"clip_seconds": -4.0}, "clip_seconds"),
    ({"extractor_width": 100}, "extractor_width"), ({"extractor_width": 0}, "extractor_width"),
    ({"extractor_layers": 0}, "extractor_layers"), ({"fixed_layer": 13}, "fixed_layer"), ({"fixed_layer": 0}, "fixed_layer"),
    ({"mix_ks": []}, "mix_ks"), ({"mix_ks": [0, 10]}, r"mix_ks\[0\]"), ({"mix_ks": [10, 500]}, "n_source"),
    ({"lam": 0.0}, "'lam'"), ({"lam": 1.5}, "'lam'"), ({"lam": NAN}, "'lam'"),
    ({"lowshot_sections": 0}, "lowshot_sections"), ({"lowshot_train": 0}, "lowshot_train"),
    ({"lowshot_sections": 1, "lowshot_train": 1}, "at least 2 training"), ({"lowshot_test": 0}, "lowshot_test"),
    ({"shots": [0, 4]}, r"shots\[0\]"), ({"lowshot_seeds": 0}, "lowshot_seeds"), ({"batch_size": 0}, "batch_size"),
])
def test_p2_config_rejects_nonsense(params, match):
    with pytest.raises(ParameterError, match=match):
        P2Config.from_params(params)


def test_p2_config_accepts_real_and_checkpoint_settings(tmp_path):
    P2Config.from_params({"data": "dcase2023t2_dev_mini", "machines": [], "clip_seconds": 10.0, "mix_ks": [990]})
    ckpt = tmp_path / "BEATs_iter3.pt"
    ckpt.write_bytes(b"")  # existence is checked here; the contents when it loads
    P2Config.from_params({"extractors": [f"beats:{ckpt}"], "extractor_width": 100, "fixed_layer": 30})
    P2Config.from_params({"lowshot_data": "none", "lowshot_machines": [], "shots": [], "n_target": 0})
    assert P2Config().machine_list == ["fan", "pump", "gearbox", "valve"]
    assert P2Config(data="dcase2023t2_dev").machine_list == []  # every folder found
    with pytest.raises(ParameterError, match="fixed_layer"):
        P2Config.from_params({"extractors": [f"beats:{ckpt}"], "fixed_layer": 0})


def test_p2_extractor_width_rule_matches_the_architecture():
    from oodlib.models.beats import BEATs
    from oodlib.papers.p2_genrep.features import small_beats_config

    for width in (16, 24, 64, 72, 100, 128, 144, 192, 208):
        try:
            BEATs(small_beats_config(width, 1))
            builds = True
        except ValueError:
            builds = False
        assert builds == (extractor_width_problem(width) is None), width


@pytest.mark.parametrize("params,match", [
    ({"epochs": 0}, "'epochs'"), ({"epochs": -2}, "'epochs'"), ({"lr": 0.0}, "'lr'"), ({"lr": NAN}, "'lr'"),
    ({"gan_lr": -1e-4}, "gan_lr"), ({"gan_lr": 2.0}, "gan_lr"), ({"batch_size": 1}, "batch_size"),
    ({"data": "speech_commands"}, "'data'"), ({"lam": -0.1}, "'lam'"), ({"outlier_scale": NAN}, "outlier_scale"),
    ({"aug_copies": -1}, "aug_copies"), ({"small_fraction": 0.0}, "small_fraction"),
    ({"small_fraction": 1.5}, "small_fraction"), ({"n_train": 0}, "n_train"), ({"n_eval": 0}, "n_eval"),
    ({"max_per_word": -1}, "max_per_word"), ({"width": 0}, "width"), ({"blur": 0.0}, "'blur'"),
    ({"small_by": "words"}, "small_by"), ({"classifier": "resnet50"}, "'classifier'"),
])
def test_p4_config_rejects_nonsense(params, match):
    with pytest.raises(ParameterError, match=match):
        P4Config.from_params(params)


def test_p4_config_accepts_the_documented_zeros():
    P4Config.from_params({"lam": 0.0, "aug_copies": 0, "max_per_word": 0, "small_fraction": 1.0, "outlier_scale": 0.0})


@pytest.mark.parametrize("params,match", [
    ({"epochs": 0}, "'epochs'"), ({"epochs": -1}, "'epochs'"), ({"lr": 0.0}, "'lr'"), ({"lr": NAN}, "'lr'"),
    ({"data": "cityscapes"}, "'data'"), ({"image_size": [128]}, "image_size"), ({"image_size": [100, 128]}, "image_size"),
    ({"image_size": [8, 8]}, "image_size"), ({"n_train": 0}, "n_train"), ({"n_test": -1}, "n_test"),
    ({"n_ref": 0}, "n_ref"), ({"data": "camvid", "n_train": -1}, "n_train"),
    ({"data": "camvid", "held_out": ["Dog"]}, "held_out"), ({"data": "camvid", "held_out": []}, "held_out"),
    ({"held_out": ["Pedestrian", "Pedestrian"]}, "held_out"),
    ({"vit_dim": 130}, "vit_dim"), ({"vit_dim": 0}, "vit_dim"), ({"cnn_width": 0}, "cnn_width"),
    ({"k": 0}, "'k'"), ({"k_sweep": []}, "k_sweep"), ({"k_sweep": [0, 3]}, r"k_sweep\[0\]"),
    ({"bank_size": 2}, "bank_size"), ({"bank_sweep": [2]}, r"bank_sweep\[0\]"), ({"runtime_banks": [0]}, "runtime_banks"),
    ({"n_examples": 0}, "n_examples"), ({"n_train": 1, "image_size": [16, 16], "k_sweep": [1, 10]}, "feature cells"),
    ({"fit": "crop"}, "'fit'"),
])
def test_p5_config_rejects_nonsense(params, match):
    with pytest.raises(ParameterError, match=match):
        P5Config.from_params(params)


def test_p5_config_keeps_zero_as_all_for_real_data():
    P5Config.from_params({"data": "camvid", "image_size": [144, 192], "n_train": 0, "n_test": 0, "n_ref": 0})
    P5Config.from_params({"data": "road_anomaly", "held_out": [], "n_test": 0})


@pytest.mark.parametrize("stem,params,match", [
    ("00_synthetic_audio", {"timing_clips": 0}, "timing_clips"),
    ("p1_audio_knn", {"epochs": 0}, "epochs"),
    ("p2_genrep", {"lam": 0.0}, "lam"),
    ("p4_vae_auggan", {"epochs": -1}, "epochs"),
    ("p5_dense_knn", {"image_size": [100, 128]}, "image_size"),
])
def test_oodlib_run_checks_values_before_the_kernel_starts(root, tmp_path, stem, params, match):
    with pytest.raises(ParameterError, match=f"{stem}.ipynb.*{match}"):
        run_notebook(root / "notebooks" / f"{stem}.ipynb", params, output_dir=tmp_path / "nb", records_dir=tmp_path)
    assert not [p for p in tmp_path.rglob("*") if not p.name.startswith(".")]  # no notebook, no record


# ---------------------------------------------------------------- errors that name their cause (issue 16, item 9)


def _cnn():
    from oodlib.papers import p5_dense_knn as p5

    return p5.build_model("cnn", 4, (32, 32), width=8)


def test_p5_checkpoint_errors_name_the_file(tmp_path):
    from oodlib.papers import p5_dense_knn as p5

    with pytest.raises(FileNotFoundError, match="missing.pt"):
        p5.load_checkpoint(_cnn(), str(tmp_path / "missing.pt"))
    garbage = tmp_path / "garbage.pt"
    garbage.write_bytes(b"not a checkpoint at all")
    with pytest.raises(ValueError, match="garbage.pt"):
        p5.load_checkpoint(_cnn(), str(garbage))
    listed = tmp_path / "list.pt"
    torch.save([1, 2, 3], listed)
    with pytest.raises(ValueError, match="list.pt.*no state dict"):
        p5.load_checkpoint(_cnn(), str(listed))
    other = tmp_path / "other.pt"
    torch.save({"model": p5.build_model("cnn", 5, (32, 32), width=8).state_dict()}, other)
    with pytest.raises(ValueError, match="other.pt.*does not match ConvSegmenter"):
        p5.load_checkpoint(_cnn(), str(other))


class _Evil:
    def __reduce__(self):
        return (os.system, ("touch pwned",))


def test_p5_checkpoint_never_runs_code(tmp_path, monkeypatch):
    from oodlib.papers import p5_dense_knn as p5

    monkeypatch.chdir(tmp_path)
    evil = tmp_path / "evil.pt"
    with open(evil, "wb") as f:
        pickle.dump({"model": _Evil()}, f, protocol=2)
    with pytest.raises(ValueError, match="evil.pt"):
        p5.load_checkpoint(_cnn(), str(evil))
    assert not (tmp_path / "pwned").exists()


def _deny(monkeypatch, target):
    """Make listing ``target`` fail with EACCES, as chmod 000 does for a non-root user."""
    real_scandir, real_listdir = os.scandir, os.listdir

    def check(path):
        if os.fspath(path) == os.fspath(target):
            raise PermissionError(13, "Permission denied", os.fspath(path))

    monkeypatch.setattr(os, "scandir", lambda path=".": (check(path), real_scandir(path))[1])
    monkeypatch.setattr(os, "listdir", lambda path=".": (check(path), real_listdir(path))[1])


def _class_tree(tmp_path):
    import soundfile as sf

    for cls in ("cat", "dog"):
        (tmp_path / cls).mkdir(parents=True)
        sf.write(tmp_path / cls / "a.wav", np.zeros(1600), 16000)
    return tmp_path


def test_folder_dataset_reports_an_unreadable_class_folder(tmp_path, monkeypatch):
    from oodlib.data.folders import folder_dataset

    root = _class_tree(tmp_path)
    assert len(folder_dataset(root)) == 2
    _deny(monkeypatch, root / "dog")
    with pytest.raises(PermissionError, match=r"cannot read folder .*dog.*Permission denied"):
        folder_dataset(root)


def test_folder_dataset_reports_an_unreadable_root(tmp_path, monkeypatch):
    from oodlib.data.folders import folder_dataset

    root = _class_tree(tmp_path)
    _deny(monkeypatch, root)
    with pytest.raises(PermissionError, match=f"cannot read folder {root}"):
        folder_dataset(root)


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="root reads every folder whatever its mode")
def test_folder_dataset_reports_a_chmod_000_folder(tmp_path):
    from oodlib.data.folders import folder_dataset

    root = _class_tree(tmp_path)
    (root / "dog").chmod(0)
    try:
        with pytest.raises(PermissionError, match="dog"):
            folder_dataset(root)
    finally:
        (root / "dog").chmod(0o755)


def test_p1_nonsense_sizes_raise_named_errors_not_key_errors(tmp_path):
    from oodlib.papers import p1_audio_knn as p1

    rng = np.random.default_rng(0)
    train, test = rng.normal(size=(5, 4)), rng.normal(size=(3, 4))
    with pytest.raises(ValueError, match=r"every k in \[10, 20\] exceeds the 5 training features"):
        p1.k_sweep(train, test, {"ood": rng.normal(size=(3, 4))}, [10, 20])
    with pytest.raises(ValueError, match="n_per_set"):
        p1.synthetic_ood_suite(0, seed=0)
    with pytest.raises(ValueError, match="clips_per_class"):
        p1.synthetic_id_setting("keywords", 3, 0, seed=0)
    with pytest.raises(ValueError, match="max_per_class"):
        p1.speech_commands_setting(tmp_path, seed=0, max_per_class=-3)  # refused before any file is read
