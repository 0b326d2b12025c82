"""P3's notebook parameters, validated in one place before any work."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from ...config import RunConfig, at_least, names, one_of
from ...params import ParameterError
from .hparams import PRESETS, HParams, hparams

#: the values of ``data`` (the data module reads them from here)
SOURCES = ("synthetic", "avca_meta", "avca")
#: the paper's three benchmarks, in the order of its tables
DATASETS = ("VGGSound", "UCF", "ActivityNet")
#: the embedded default's CPU budget: the paper's schedule cut to a few CPU minutes for all three datasets
DEFAULT_OVERRIDES = {"gen_steps": 15, "det_epochs": 20, "sc_epochs": 30, "uc_epochs": 10, "uc_steps": 10,
                     "VGGSound": {"det_epochs": 60}, "ActivityNet": {"n_syn_unseen": 100}}


@dataclass(frozen=True)
class P3Config(RunConfig):
    """Parameters of ``notebooks/p3_av_ood.ipynb`` (see its parameters cell).

    ``overrides`` holds hyperparameters for every dataset (``{"det_epochs": 20}``) and, under a
    dataset's name, those of one dataset only (``{"UCF": {"det_lr": 0.009}}``); the latter win.
    """

    datasets: list[str] = field(default_factory=lambda: list(DATASETS))
    overrides: dict = field(default_factory=lambda: dict(DEFAULT_OVERRIDES))
    n_train: int = 30  # synthetic samples per seen class (and per unseen test class)
    n_eval: int = 10  # synthetic validation/test samples per seen class
    ablation: bool = True  # supplementary Table 1: four more unseen classifiers per dataset
    tsne_classes: int = 6  # seen and unseen classes in the t-SNE figure
    uc_checkpoints: dict = field(default_factory=dict)  # dataset -> the authors' released unseen-classifier weights

    def check(self) -> None:
        super().check()
        one_of("data", self.data, SOURCES)
        names("datasets", self.datasets, DATASETS)
        at_least("n_train", self.n_train, 2, 10_000)
        at_least("n_eval", self.n_eval, 1, 10_000)
        at_least("tsne_classes", self.tsne_classes, 1, 100)
        self._check_checkpoints()
        for name in self.datasets:
            try:
                self.hp(name)  # unknown names and out-of-range values in `overrides`
            except ValueError as err:
                raise ParameterError(f"parameter 'overrides': {err}") from None
        stray = sorted(k for k, v in self.overrides.items() if isinstance(v, dict) and k not in DATASETS)
        if stray:
            raise ParameterError(f"parameter 'overrides': per-dataset entries {stray} name no dataset; a dict "
                                 f"entry's key must be one of {list(DATASETS)} (entries of datasets not run apply "
                                 "to nothing)")

    def _check_checkpoints(self) -> None:
        if not self.uc_checkpoints:
            return
        if self.data != "avca":
            raise ParameterError("parameter 'uc_checkpoints': the authors' weights expect the real SeLaVi features "
                                 f"(data='avca'), got data={self.data!r}")
        for name, path in self.uc_checkpoints.items():
            one_of("uc_checkpoints (a key)", name, self.datasets)
            if not isinstance(path, str) or not Path(path).expanduser().is_file():
                raise ParameterError(f"parameter 'uc_checkpoints': no file {path!r} for {name} (the authors' "
                                     "unseen-classifier state dict, loaded strictly by their tensor names)")

    def hp(self, dataset: str) -> HParams:
        """The paper's hyperparameters for ``dataset`` with the common, then that dataset's ``overrides``."""
        if dataset not in PRESETS:
            raise ValueError(f"unknown dataset {dataset!r}; expected one of {sorted(PRESETS)}")
        common = {k: v for k, v in self.overrides.items() if not isinstance(v, dict)}
        own = self.overrides.get(dataset, {})
        return hparams(dataset, **{**common, **(own if isinstance(own, dict) else {})})

    def checkpoint(self, dataset: str) -> str | None:
        """The authors' weights for ``dataset``'s unseen classifier, or None (trained here)."""
        return self.uc_checkpoints.get(dataset)
