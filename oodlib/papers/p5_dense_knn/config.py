"""P5's notebook parameters, validated in one place before any work."""

from __future__ import annotations

from dataclasses import dataclass, field

from ...config import RunConfig, at_least, entries, one_of, positive
from ...data.segmentation import CAMVID_CLASSES, FITS
from ...params import ParameterError

#: the values of ``data`` (the data module reads them from here)
SOURCES = ("synthetic", "camvid", "road_anomaly", "smiyc", "fishyscapes_lostandfound", "streethazards")

VIT_PATCH = 8  # the notebook's ViT patch (and the CNN's output stride)
VIT_HEADS = 4  # the notebook's ViT heads: vit_dim must be a multiple of them
MAX_BANK = 10_000_000


@dataclass(frozen=True)
class P5Config(RunConfig):
    """Parameters of ``notebooks/p5_dense_knn.ipynb`` (see its parameters cell)."""

    image_size: list[int] = field(default_factory=lambda: [128, 128])  # (H, W), multiples of the ViT patch (8)
    fit: str = "pad"  # real images into image_size: "pad" keeps the aspect ratio (void padding), "stretch" does not
    n_train: int = 240  # training images (real data: 0 = the whole split)
    n_test: int = 60  # test images (real data: 0 = all)
    n_ref: int = 16  # in-distribution reference images (real data: 0 = all)
    held_out: list[str] = field(default_factory=lambda: ["Pedestrian", "Bicyclist"])  # CamVid classes made anomalies
    epochs: int = 12  # segmentation training epochs for each model
    lr: float = 0.002  # AdamW peak learning rate (one-cycle schedule)
    vit_dim: int = 128  # ViT width (4 blocks, 4 heads, patch 8)
    cnn_width: int = 32  # CNN stage-1 width
    vit_checkpoint: str | None = None  # a state dict of the same ViTSegmenter
    cnn_checkpoint: str | None = None  # a state dict of the same ConvSegmenter
    bank_size: int = 30000  # reference features (paper: 100,000)
    k: int = 3  # neighbours (paper: 3)
    k_sweep: list[int] = field(default_factory=lambda: [1, 3, 10, 30])
    bank_sweep: list[int] = field(default_factory=lambda: [1000, 3000, 10000, 30000])
    runtime_banks: list[int] = field(default_factory=lambda: [10000, 30000, 100000, 300000])  # random vectors
    n_examples: int = 4  # test images in the qualitative figure

    def check(self) -> None:
        super().check()
        one_of("data", self.data, SOURCES)
        one_of("fit", self.fit, FITS)
        if len(self.image_size) != 2:
            raise ParameterError(f"parameter 'image_size' must be [H, W], got {self.image_size!r}")
        for i, side in enumerate(self.image_size):
            at_least(f"image_size[{i}]", side, 2 * VIT_PATCH, 4096)
            if side % VIT_PATCH:
                raise ParameterError(f"parameter 'image_size' must be [H, W], multiples of the ViT patch "
                                     f"({VIT_PATCH}) and at least {2 * VIT_PATCH}; got {self.image_size}")
        low = 1 if self.data == "synthetic" else 0  # 0 = every image of a real split
        for name in ("n_train", "n_test", "n_ref"):
            value = getattr(self, name)
            if self.data == "synthetic" and value == 0:
                raise ParameterError(f"parameter {name!r} = 0 means 'all images' for real data only; "
                                     "synthetic scenes need a count >= 1")
            at_least(name, value, low, 100_000)
        if len(set(self.held_out)) != len(self.held_out):
            raise ParameterError(f"parameter 'held_out' must not repeat a class, got {self.held_out!r}")
        if self.data == "camvid":
            if not self.held_out:
                raise ParameterError("parameter 'held_out' must name at least one CamVid class for data='camvid' "
                                     "(its pixels are the anomalies)")
            for c in self.held_out:
                one_of("held_out", c, CAMVID_CLASSES)
            if len(self.held_out) > len(CAMVID_CLASSES) - 2:
                raise ParameterError(f"parameter 'held_out' must leave at least 2 known CamVid classes to segment, "
                                     f"got {self.held_out}")
        at_least("epochs", self.epochs, 1, 10_000)
        positive("lr", self.lr)
        at_least("lr", self.lr, 0.0, 1.0)
        at_least("vit_dim", self.vit_dim, VIT_HEADS, 4096)
        if self.vit_dim % VIT_HEADS:
            raise ParameterError(f"parameter 'vit_dim' must be a multiple of the ViT's {VIT_HEADS} heads, "
                                 f"got {self.vit_dim}")
        at_least("cnn_width", self.cnn_width, 1, 4096)
        at_least("k", self.k, 1, 10_000)
        entries("k_sweep", self.k_sweep, 1, 10_000)
        at_least("bank_size", self.bank_size, 1, MAX_BANK)
        if self.bank_size < max([*self.k_sweep, self.k]):
            raise ParameterError(f"parameter 'bank_size' must hold every k (k={self.k}, k_sweep={self.k_sweep}), "
                                 f"got {self.bank_size}")
        entries("bank_sweep", self.bank_sweep, self.k, MAX_BANK)  # searched with k neighbours
        entries("runtime_banks", self.runtime_banks, self.k, MAX_BANK)
        at_least("n_examples", self.n_examples, 1, 100)
        if self.data == "synthetic":  # the bank is drawn from the training images' feature cells
            cells = self.n_train * (self.image_size[0] // VIT_PATCH) * (self.image_size[1] // VIT_PATCH)
            if cells < max([*self.k_sweep, self.k]):
                raise ParameterError(f"parameters 'n_train' and 'image_size' give {cells} training feature cells, "
                                     f"fewer than the largest k ({max([*self.k_sweep, self.k])})")


__all__ = ["P5Config", "VIT_HEADS", "VIT_PATCH"]
