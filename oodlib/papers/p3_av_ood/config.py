"""P3's notebook parameters, validated in one place before any work."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from ...config import RunConfig, at_least, one_of
from ...params import ParameterError
from .hparams import PRESETS, HParams, hparams

#: the values of ``data`` (the data module reads them from here)
SOURCES = ("synthetic", "avca_meta", "avca")


@dataclass(frozen=True)
class P3Config(RunConfig):
    """Parameters of ``notebooks/p3_av_ood.ipynb`` (see its parameters cell)."""

    dataset: str = "UCF"  # benchmark shape and the paper's hyperparameter set
    overrides: dict = field(default_factory=lambda: {"det_epochs": 20, "sc_epochs": 40, "uc_epochs": 15})
    n_train: int = 60  # synthetic samples per seen class (and per unseen test class)
    n_eval: int = 15  # synthetic validation/test samples per seen class
    ablation: bool = True  # supplementary Table 1: four more unseen classifiers
    tsne_classes: int = 6  # seen and unseen classes in the t-SNE figure
    uc_checkpoint: str | None = None  # the authors' released unseen-classifier weights, evaluated in place of training it

    def check(self) -> None:
        super().check()
        one_of("data", self.data, SOURCES)
        one_of("dataset", self.dataset, sorted(PRESETS))
        at_least("n_train", self.n_train, 2, 10_000)
        at_least("n_eval", self.n_eval, 1, 10_000)
        at_least("tsne_classes", self.tsne_classes, 1, 100)
        if self.uc_checkpoint is not None and self.data != "avca":
            raise ParameterError("parameter 'uc_checkpoint': the authors' weights expect the real SeLaVi features "
                                 f"(data='avca', with the checkpoint of dataset={self.dataset!r}), got data={self.data!r}")
        if self.uc_checkpoint is not None and not Path(self.uc_checkpoint).expanduser().is_file():
            raise ParameterError(f"parameter 'uc_checkpoint': no file {self.uc_checkpoint!r} (the authors' "
                                 "unseen-classifier state dict, loaded strictly by their tensor names)")
        try:
            self.hp  # unknown names and out-of-range values in `overrides`
        except ValueError as err:
            raise ParameterError(f"parameter 'overrides': {err}") from None

    @property
    def hp(self) -> HParams:
        """The paper's hyperparameters for ``dataset`` with ``overrides`` applied (validated)."""
        return hparams(self.dataset, **self.overrides)
