"""Every manifest passes the schema; citations resolve; the real subsets verify."""

from __future__ import annotations

import re

import pytest

from oodlib.data import fetch as fetch_mod
from oodlib.data.manifests import list_manifests, load_manifest, parse_manifest
from oodlib.data.paths import dataset_dir, resolve_data_dir

REQUIRED = {
    "vocalsound", "mswc_micro_en", "mswc_micro_es", "voxforge", "crema_d", "esc50", "speech_commands_v0.02",
    "speech_commands_v0.02_test", "fluent_speech_commands", "dcase2023t2_dev", "dcase2023t2_eval", "dcase2020t2_dev",
    "avca_gzsl_features", "avca_gzsl_meta", "beats_checkpoints", "cityscapes", "camvid", "road_anomaly",
    "streethazards", "smiyc", "fishyscapes_lostandfound",
}
SHARED_SUBSETS = ["speech_commands_v0.02_test", "dcase2023t2_dev_mini", "avca_gzsl_meta", "camvid"]


def test_every_required_dataset_has_a_valid_manifest():
    names = set(list_manifests())
    assert REQUIRED <= names, f"missing manifests: {REQUIRED - names}"
    for name in names:
        m = load_manifest(name)  # validates against the schema
        assert m.name == name and m.local_names
        if m.obtain == "download":
            assert m.downloads and all(d.url for d in m.downloads)
            if not any(d.sha256 or d.md5 for d in m.downloads):
                assert m.checksum_note, f"{name}: no checksum and no note saying so"
        assert m.layout.get("dirs") or m.layout.get("files") or m.layout.get("counts"), f"{name}: no checkable layout"


def test_citations_resolve(root):
    keys = set(re.findall(r"@\w+\{([^,]+),", (root / "references.bib").read_text()))
    for name in list_manifests():
        assert load_manifest(name).citation in keys, f"{name}: citation key not in references.bib"


def test_schema_rejects_bad_manifests():
    good = load_manifest("esc50").raw
    with pytest.raises(ValueError, match="invalid manifest.*papers"):
        parse_manifest({**good, "papers": ["P9"]})
    with pytest.raises(ValueError, match="downloads"):
        parse_manifest({k: v for k, v in good.items() if k != "downloads"})
    with pytest.raises(ValueError, match="sha256"):
        parse_manifest({**good, "downloads": [{**good["downloads"][0], "sha256": "xyz"}]})


def test_data_dir_resolution(tmp_path, monkeypatch):
    monkeypatch.setenv("OODLIB_DATA_DIR", str(tmp_path / "env"))
    assert resolve_data_dir(tmp_path / "explicit") == tmp_path / "explicit"
    assert resolve_data_dir() == tmp_path / "env"
    monkeypatch.delenv("OODLIB_DATA_DIR")
    assert resolve_data_dir().name == "data" and "oodlib" in str(resolve_data_dir())
    with pytest.raises(FileNotFoundError, match="oodlib data fetch esc50"):
        dataset_dir("esc50", tmp_path)


@pytest.mark.parametrize("name", SHARED_SUBSETS)
def test_shared_subsets_verify(shared_data, name):
    report = fetch_mod.verify(name, shared_data)
    assert report.ok, report.problems
    assert dataset_dir(name, shared_data).name == name


@pytest.mark.parametrize("name", SHARED_SUBSETS)
def test_shared_subsets_verify_deep(shared_data, name, monkeypatch):
    monkeypatch.setenv("OODLIB_PROGRESS", "0")
    report = fetch_mod.verify(name, shared_data, deep=True)  # decodes every audio file (issue 16, case 5)
    assert report.ok, report.problems[:5]
