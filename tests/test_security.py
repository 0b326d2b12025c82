"""Loading files runs no code; paths from manifests stay inside the data folder; runs never clobber.

Issue 16, cases 1 (checkpoints), 2 (word2vec pickles), 3 (path traversal) and 6 (one run per record).
Every attack here would create a marker file if its payload ran; each test asserts it does not exist.
"""

from __future__ import annotations

import io
import re
import subprocess
import sys
import tarfile
import time
from pathlib import Path

import numpy as np
import pytest
import torch
import yaml

from oodlib.data import fetch as fetch_mod
from oodlib.data.avca import load_avca_meta, load_word2vec
from oodlib.data.fetch import DownloadError
from oodlib.data.manifests import load_manifest, parse_manifest
from oodlib.data.paths import dataset_dir
from oodlib.models.beats import BEATs, BEATsConfig
from oodlib.runner import RunInProgressError, run_notebook

TINY = dict(encoder_layers=1, encoder_embed_dim=16, encoder_ffn_embed_dim=32, encoder_attention_heads=2, embed_dim=16,
            conv_pos=8, conv_pos_groups=2, relative_position_embedding=True, num_buckets=8, max_distance=16,
            gru_rel_pos=True, deep_norm=True)


class Payload:
    """Unpickles as ``open(path, "w")``: creates ``path`` if (and only if) the pickle is executed."""

    def __init__(self, path: Path) -> None:
        self.path = str(path)

    def __reduce__(self):
        return (open, (self.path, "w"))


# ------------------------------------------------------------------ 1: checkpoints


def test_official_beats_format_loads_with_weights_only(tmp_path):
    model = BEATs(BEATsConfig(**TINY), seed=0)
    cfg = model.cfg.to_dict() | {"an_unused_training_flag": 1}
    path = tmp_path / "BEATs_tiny.pt"
    torch.save({"cfg": cfg, "model": model.state_dict(), "label_dict": {0: "/m/0"}}, path)
    loaded = BEATs.from_checkpoint(path)
    for k, v in model.state_dict().items():
        assert torch.equal(loaded.state_dict()[k], v), k


def test_crafted_checkpoint_is_refused_without_running_code(tmp_path):
    marker = tmp_path / "pwned"
    model = BEATs(BEATsConfig(**TINY), seed=0)
    evil = tmp_path / "evil.pt"
    torch.save({"cfg": model.cfg.to_dict(), "model": model.state_dict(), "extra": Payload(marker)}, evil)
    with pytest.raises(ValueError, match=r"evil\.pt.*(refus|not a plain)") as err:
        BEATs.from_checkpoint(evil)
    assert not marker.exists()
    assert str(evil) in str(err.value)


def test_corrupt_checkpoint_error_names_the_file(tmp_path):
    bad = tmp_path / "broken.pt"
    bad.write_bytes(b"this is not a checkpoint")
    with pytest.raises(ValueError, match=r"broken\.pt"):
        BEATs.from_checkpoint(bad)


# ------------------------------------------------------------------ 2: word2vec pickles


def test_word2vec_real_format_loads(tmp_path):
    table = {"Apply Eye Makeup": np.ones(300, np.float32) / np.sqrt(300),
             "Archery": np.eye(1, 300, dtype=np.float64)[0]}
    path = tmp_path / "word_embeddings_ucf_normed.npy"
    np.save(path, np.array(table, dtype=object), allow_pickle=True)
    loaded = load_word2vec(path)
    assert sorted(loaded) == sorted(table)
    for k, v in table.items():
        assert loaded[k].dtype == np.float32 and np.allclose(loaded[k], v)


def test_word2vec_malicious_npy_is_refused_without_running_code(tmp_path):
    marker = tmp_path / "pwned"
    path = tmp_path / "word_embeddings_ucf_normed.npy"
    np.save(path, np.array(Payload(marker), dtype=object), allow_pickle=True)
    with pytest.raises(ValueError, match=r"word_embeddings_ucf_normed\.npy.*(open|not allowed)"):
        load_word2vec(path)
    assert not marker.exists()
    # a dict holding a payload as a value is refused too
    np.save(path, np.array({"Archery": Payload(marker)}, dtype=object), allow_pickle=True)
    with pytest.raises(ValueError, match="not allowed"):
        load_word2vec(path)
    assert not marker.exists()


def test_word2vec_wrong_contents_are_named(tmp_path):
    path = tmp_path / "w.npy"
    np.save(path, np.array({"a": np.array(["x"], dtype=object)}, dtype=object), allow_pickle=True)
    with pytest.raises(ValueError, match=r"w\.npy"):
        load_word2vec(path)
    np.save(path, np.array({"a": "text"}, dtype=object), allow_pickle=True)
    with pytest.raises(ValueError, match=r"w\.npy.*'a'"):
        load_word2vec(path)
    np.save(path, np.zeros(3))  # a plain float array: not a dict
    with pytest.raises(ValueError, match=r"w\.npy.*dict"):
        load_word2vec(path)


def test_real_word2vec_files_load(shared_data):
    folder = shared_data / "avca_gzsl_meta" / "w2v_features"
    for tag in ("ucf", "activity", "vggsound"):
        table = load_word2vec(folder / f"word_embeddings_{tag}_normed.npy")
        assert len(table) > 40 and all(v.shape == (300,) and v.dtype == np.float32 for v in table.values())
    meta = load_avca_meta(shared_data / "avca_gzsl_meta", "UCF")
    assert len(meta.seen) == 42


# ------------------------------------------------------------------ 3: path traversal


def _manifest(**download) -> dict:
    good = dict(load_manifest("esc50").raw)
    good["downloads"] = [{**good["downloads"][0], **download}]
    return good


@pytest.mark.parametrize("field, value", [
    ("filename", "../../evil.zip"), ("filename", "/tmp/evil.zip"), ("filename", "sub/evil.zip"), ("filename", ".."),
    ("subdir", "../outside"), ("subdir", "/etc"), ("subdir", "a/../../b"),
])
def test_manifest_paths_outside_the_data_folder_are_refused(field, value):
    with pytest.raises(ValueError, match=f"{field}.*" + re.escape(repr(value))):
        parse_manifest(_manifest(**{field: value}), source="evil.yaml")


@pytest.mark.parametrize("value", ["../elsewhere", "/abs/esc50", "a/b", ".."])
def test_manifest_local_names_outside_the_data_folder_are_refused(value):
    with pytest.raises(ValueError, match="local_names.*" + re.escape(repr(value))):
        parse_manifest({**_manifest(), "local_names": [value]}, source="evil.yaml")


def test_dataset_names_with_paths_are_refused(tmp_path, monkeypatch):
    mdir = tmp_path / "manifests"
    mdir.mkdir()
    outside = dict(load_manifest("esc50").raw, name="evil")
    (tmp_path / "evil.yaml").write_text(yaml.safe_dump(outside))  # a manifest outside the manifests folder
    monkeypatch.setenv("OODLIB_MANIFESTS_DIR", str(mdir))
    for name in ("../evil", "/etc/passwd", "a/b"):
        with pytest.raises(ValueError, match="dataset name " + re.escape(repr(name))):
            load_manifest(name)
        with pytest.raises(ValueError, match="dataset name " + re.escape(repr(name))):
            dataset_dir(name, tmp_path / "data")


def _tar(tmp_path: Path, add) -> Path:
    path = tmp_path / "evil.tar"
    with tarfile.open(path, "w") as tf:
        add(tf)
    return path


def _member(tf: tarfile.TarFile, name: str, data: bytes = b"x", **kw) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    for k, v in kw.items():
        setattr(info, k, v)
    tf.addfile(info, io.BytesIO(data) if info.isfile() else None)


@pytest.mark.parametrize("kind", ["dotdot", "absolute", "symlink"])
def test_tar_traversal_is_refused_with_a_clear_message(tmp_path, kind):
    def add(tf):
        if kind == "dotdot":
            _member(tf, "../evil.txt")
        elif kind == "absolute":
            _member(tf, str(tmp_path / "evil.txt"))
        else:
            _member(tf, "link", b"", type=tarfile.SYMTYPE, linkname="../../")
            _member(tf, "link/evil.txt")

    archive = _tar(tmp_path, add)
    with pytest.raises(DownloadError, match=r"evil\.tar.*(outside|refus)"):
        fetch_mod.extract(archive, tmp_path / "out" / "ds")
    assert not (tmp_path / "evil.txt").exists() and not (tmp_path / "out" / "evil.txt").exists()


# ------------------------------------------------------------------ 6: one run per record


def _tiny_notebook(path: Path) -> Path:
    import nbformat

    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell("seed: int = 0", metadata={"tags": ["parameters"]})]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, path)
    return path


def test_second_run_of_one_notebook_into_one_folder_is_refused(tmp_path):
    nb = _tiny_notebook(tmp_path / "tiny.ipynb")
    records = tmp_path / "records"
    records.mkdir()
    (records / "tiny.json").write_text("{}")  # the first run's record, which the second must not remove
    holder = subprocess.Popen(
        [sys.executable, "-c", "import sys, time; from pathlib import Path; from oodlib.runner import record_lock\n"
         "with record_lock(Path(sys.argv[1]), Path(sys.argv[2])):\n    print('held', flush=True); time.sleep(30)",
         str(records), str(nb)],
        stdout=subprocess.PIPE, text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "held"
        t0 = time.monotonic()
        with pytest.raises(RunInProgressError, match=r"tiny\.ipynb.*tiny\.json.*\.tiny\.lock") as err:
            run_notebook(nb, {}, output_dir=tmp_path / "out", records_dir=records)
        assert time.monotonic() - t0 < 10, "refused at once, without running the notebook"
        assert "another" in str(err.value)
        assert (records / "tiny.json").read_text() == "{}"
        assert not (tmp_path / "out" / "tiny.ipynb").exists()
    finally:
        holder.kill()
        holder.wait(timeout=10)


def test_run_lock_is_released_after_a_failed_run(tmp_path):
    from oodlib.runner import record_lock

    records = tmp_path / "records"
    with pytest.raises(FileNotFoundError):
        run_notebook(tmp_path / "missing.ipynb", {}, output_dir=tmp_path, records_dir=records)
    with record_lock(records, tmp_path / "missing.ipynb"):  # free again
        with pytest.raises(RunInProgressError):
            with record_lock(records, tmp_path / "missing.ipynb"):
                pass
