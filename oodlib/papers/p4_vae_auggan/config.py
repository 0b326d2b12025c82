"""P4's notebook parameters, validated in one place before any work."""

from __future__ import annotations

from dataclasses import dataclass

from ...config import RunConfig, at_least, in_open_closed, one_of

#: the values of ``data`` (the data module reads them from here)
SOURCES = ("synthetic", "speech_commands_v0.01", "speech_commands_v0.02_test", "speech_commands_v0.02")
SMALL_BY = ("clips", "speakers")  # how the limited-data regime is drawn


@dataclass(frozen=True)
class P4Config(RunConfig):
    """Parameters of ``notebooks/p4_vae_auggan.ipynb`` (see its parameters cell)."""

    epochs: int = 12  # paper: 150
    batch_size: int = 32  # paper: 100
    lr: float = 0.001  # classifier Adam learning rate
    gan_lr: float = 0.0002  # VAE, generator and detector Adam learning rate
    lam: float = 0.1  # weight of the confident loss (0 = none)
    outlier_scale: float = 2.0  # outliers: G(mu + outlier_scale * sigma * eps)
    aug_copies: int = 4  # physically augmented copies of every training clip (0 = none)
    small_fraction: float = 0.1  # the limited-data regime
    small_by: str = "clips"  # it takes a fraction of each word's "clips" or of the training "speakers"
    n_train: int = 100  # synthetic clips per known word in the full training set
    n_eval: int = 20  # synthetic clips per known word in the development and test sets
    max_per_word: int = 0  # real data: cap clips per word and split (0 = all)
    ablation: bool = True  # three more trainings
    width: int = 32  # base channel width of every network
    classifier: str = "small"  # "small" (5 basic blocks, widths width..4*width) or "resnet18" (the paper's depth)
    blur: float = 0.05  # GeomLoss blur of the Sinkhorn loss and score (not given in the paper)

    def check(self) -> None:
        super().check()
        one_of("data", self.data, SOURCES)
        at_least("epochs", self.epochs, 1, 10_000)
        at_least("batch_size", self.batch_size, 2, 100_000)  # batches of one clip are skipped (batch norm)
        in_open_closed("lr", self.lr, 1.0)
        in_open_closed("gan_lr", self.gan_lr, 1.0)
        at_least("lam", self.lam, 0.0, 100.0)
        at_least("outlier_scale", self.outlier_scale, 0.0, 100.0)
        at_least("aug_copies", self.aug_copies, 0, 100)
        in_open_closed("small_fraction", self.small_fraction, 1.0)
        one_of("small_by", self.small_by, SMALL_BY)
        at_least("n_train", self.n_train, 1, 100_000)
        at_least("n_eval", self.n_eval, 1, 100_000)
        at_least("max_per_word", self.max_per_word, 0, 1_000_000)
        at_least("width", self.width, 1, 1024)
        one_of("classifier", self.classifier, ("small", "resnet18"))
        in_open_closed("blur", self.blur, 10.0)


__all__ = ["P4Config"]
