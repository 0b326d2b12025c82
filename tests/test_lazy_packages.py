"""The paper packages load lazily: checking a notebook's parameters does not import torch."""

from __future__ import annotations

import importlib
import subprocess
import sys

import pytest

CONFIGS = ["oodlib.papers.tour.config", "oodlib.papers.p1_audio_knn.config", "oodlib.papers.p2_genrep.config",
           "oodlib.papers.p3_av_ood.config", "oodlib.papers.p4_vae_auggan.config", "oodlib.papers.p5_dense_knn.config",
           "oodlib.synthetic.config"]
PACKAGES = ["tour", "p1_audio_knn", "p2_genrep", "p3_av_ood", "p4_vae_auggan", "p5_dense_knn"]


@pytest.mark.parametrize("module", CONFIGS)
def test_a_config_module_imports_without_torch(module):
    code = f"import sys, {module}; print(sorted(m for m in ('torch', 'sklearn', 'torchaudio') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert out == "[]", f"importing {module} pulled in {out}"


@pytest.mark.parametrize("name", PACKAGES)
def test_every_exported_name_resolves(name):
    pkg = importlib.import_module(f"oodlib.papers.{name}")
    for attr in pkg.__all__:
        assert getattr(pkg, attr) is not None, attr
    assert set(pkg.__all__) <= set(dir(pkg))
    with pytest.raises(AttributeError, match="no attribute 'not_a_name'"):
        pkg.not_a_name  # noqa: B018


def test_a_function_named_like_its_module_stays_the_function():
    """``tour.run`` is the function even when the submodule ``tour.run`` was imported first."""
    code = ("import oodlib.papers.tour.run, oodlib.papers.tour.claims, oodlib.papers.p3_av_ood.hparams\n"
            "from oodlib.papers import tour, p3_av_ood\n"
            "print(callable(tour.run) and type(tour.run).__name__, type(tour.claims).__name__, "
            "type(p3_av_ood.hparams).__name__)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    assert out == ["function", "function", "function"]
