"""P5's notebook parameters, validated in one place before any work."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from ...config import RunConfig, at_least, entries, one_of, positive
from ...data.segmentation import CAMVID_CLASSES, FITS
from ...params import ParameterError

#: the values of ``data`` (the data module reads them from here)
SOURCES = ("synthetic", "camvid", "camvid_pasted", "road_anomaly", "smiyc", "fishyscapes_lostandfound", "streethazards")

VIT_PATCH = 8  # the notebook's ViT patch (and the CNN's output stride)
VIT_HEADS = 4  # the notebook's ViT heads: vit_dim must be a multiple of them
MAX_BANK = 10_000_000
#: the values of ``models``: two trained here from scratch, two pretrained on Cityscapes (ESPNet)
TRAINED_MODELS = ("vit", "cnn")
PRETRAINED_MODELS = ("espnet", "espnet_c")
MODELS = TRAINED_MODELS + PRETRAINED_MODELS
EXPORTS = ("smiyc", "fishyscapes_lostandfound")  # data sources whose score maps export_dir writes
MMSEG_PREFIX = "mmseg:"  # "mmseg:<path>": a Segmenter or SETR checkpoint of mmsegmentation (oodlib.models.mmseg_vit)


def is_pretrained(spec: str) -> bool:
    """Whether a ``models`` entry is a pretrained model (ESPNet or an mmseg checkpoint), not trained here."""
    return spec in PRETRAINED_MODELS or spec.startswith(MMSEG_PREFIX)
PRETRAINED_STRIDE = 8  # ESPNet's input sides must be multiples of 8


@dataclass(frozen=True)
class P5Config(RunConfig):
    """Parameters of ``notebooks/p5_dense_knn.ipynb`` (see its parameters cell)."""

    image_size: list[int] = field(default_factory=lambda: [128, 128])  # (H, W), multiples of the ViT patch (8)
    fit: str = "pad"  # real images into image_size: "pad" keeps the aspect ratio (void padding), "stretch" does not
    n_train: int = 240  # training images (real data: 0 = the whole split)
    n_test: int = 60  # test images (real data: 0 = all)
    n_ref: int = 16  # in-distribution reference images (real data: 0 = all)
    held_out: list[str] = field(default_factory=lambda: ["Pedestrian", "Bicyclist"])  # CamVid classes made anomalies
    models: list[str] = field(default_factory=lambda: ["vit", "cnn"])  # MODELS or "mmseg:<path>"; the first is the primary
    espnet_checkpoint: str | None = None  # None: <data_dir>/espnet_cityscapes/espnet_p_2_q_8_{decoder,encoder}.pth
    pretrained_size: list[int] = field(default_factory=lambda: [360, 480])  # (H, W) real images enter ESPNet at
    epochs: int = 12  # segmentation training epochs for each model
    lr: float = 0.002  # AdamW peak learning rate (one-cycle schedule)
    vit_dim: int = 128  # ViT width (4 blocks, 4 heads, patch 8)
    cnn_width: int = 32  # CNN stage-1 width
    vit_checkpoint: str | None = None  # a state dict of the same ViTSegmenter
    cnn_checkpoint: str | None = None  # a state dict of the same ConvSegmenter
    bank_size: int = 30000  # reference features (paper: 100,000)
    bank_images: int = 500  # training images the bank is drawn from, evenly (the reference code: 500)
    k: int = 3  # neighbours (paper: 3)
    k_sweep: list[int] = field(default_factory=lambda: [1, 3, 10, 30])
    bank_sweep: list[int] = field(default_factory=lambda: [1000, 3000, 10000, 30000])
    runtime_banks: list[int] = field(default_factory=lambda: [10000, 30000, 100000, 300000])  # random vectors
    n_examples: int = 4  # test images in the qualitative figure
    export_dir: str | None = None  # smiyc / fishyscapes_lostandfound: write the primary score maps there, native size

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
        self._check_models()
        if self.export_dir and self.data not in EXPORTS:
            raise ParameterError(f"parameter 'export_dir' writes submission files for data in {list(EXPORTS)}, "
                                 f"got data={self.data!r}")
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
        at_least("bank_images", self.bank_images, 1, 1_000_000)
        if self.bank_size < max([*self.k_sweep, self.k]):
            raise ParameterError(f"parameter 'bank_size' must hold every k (k={self.k}, k_sweep={self.k_sweep}), "
                                 f"got {self.bank_size}")
        entries("bank_sweep", self.bank_sweep, self.k, MAX_BANK)  # searched with k neighbours
        entries("runtime_banks", self.runtime_banks, self.k, MAX_BANK)
        at_least("n_examples", self.n_examples, 1, 100)
        if self.data == "synthetic":  # the bank is drawn from the training images' feature cells
            cells = min(self.n_train, self.bank_images) * (self.image_size[0] // VIT_PATCH) * (self.image_size[1] // VIT_PATCH)
            if cells < max([*self.k_sweep, self.k]):
                raise ParameterError(f"parameters 'n_train' and 'image_size' give {cells} training feature cells, "
                                     f"fewer than the largest k ({max([*self.k_sweep, self.k])})")

    def _check_models(self) -> None:
        if not self.models:
            raise ParameterError(f"parameter 'models' must name at least one of {list(MODELS)}, got []")
        if len(set(self.models)) != len(self.models):
            raise ParameterError(f"parameter 'models' must not repeat a model, got {self.models!r}")
        for m in self.models:
            if m.startswith(MMSEG_PREFIX):
                path = Path(m[len(MMSEG_PREFIX):])
                if not path.is_file():
                    raise ParameterError(f"parameter 'models': {m!r} names no file ({path} does not exist); "
                                         f"'{MMSEG_PREFIX}<path>' takes an mmsegmentation Segmenter or SETR checkpoint")
                continue
            one_of("models", m, [*MODELS, f"{MMSEG_PREFIX}<path>"])
        for name, model in (("vit_checkpoint", "vit"), ("cnn_checkpoint", "cnn")):
            if getattr(self, name) and model not in self.models:
                raise ParameterError(f"parameter {name!r} is set but {model!r} is not in models {self.models}")
        if self.espnet_checkpoint and not set(self.models) & set(PRETRAINED_MODELS):
            raise ParameterError(f"parameter 'espnet_checkpoint' is set but models {self.models} has no ESPNet "
                                 f"({' or '.join(PRETRAINED_MODELS)})")
        if self.espnet_checkpoint and {"espnet", "espnet_c"} <= set(self.models):
            raise ParameterError("parameter 'espnet_checkpoint' names one file, but models lists both 'espnet' and "
                                 "'espnet_c'; leave it None to use the two released files")
        if len(self.pretrained_size) != 2 or any(
                not isinstance(v, int) or v < 2 * PRETRAINED_STRIDE or v > 4096 or v % PRETRAINED_STRIDE
                for v in self.pretrained_size):
            raise ParameterError(f"parameter 'pretrained_size' must be [H, W], multiples of {PRETRAINED_STRIDE} in "
                                 f"[{2 * PRETRAINED_STRIDE}, 4096], got {self.pretrained_size!r}")


__all__ = ["MMSEG_PREFIX", "MODELS", "P5Config", "PRETRAINED_MODELS", "TRAINED_MODELS", "VIT_HEADS", "VIT_PATCH",
           "is_pretrained"]
