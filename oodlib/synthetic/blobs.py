"""Gaussian blobs with near and far OOD sets: the tour notebook's toy problem."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass
class BlobsData:
    """ID train/test sets and named OOD sets, all float32 arrays of shape (n, dim)."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    ood: dict[str, np.ndarray]
    centres: np.ndarray


def make_blobs_ood(
    n_classes: int = 3,
    dim: int = 2,
    n_train: int = 300,
    n_test: int = 300,
    n_ood: int = 300,
    spread: float = 0.6,
    seed: int = 0,
) -> BlobsData:
    """ID classes as isotropic Gaussians on a circle of radius 3; two OOD sets.

    * ``"near"``: a Gaussian between two ID classes (radius 1.5 from the centre,
      between the first two class directions): close to the data, ambiguous.
    * ``"far"``: a Gaussian at radius 9 along the first class's direction: far
      from all data but on the first class's side, where a softmax classifier
      is *more* confident, not less - the case where MSP fails and distances work.

    Args:
        n_classes: number of ID classes (>= 2).
        dim: feature dimension (>= 2); extra dimensions carry noise only.
        n_train, n_test, n_ood: samples per class (ID) and per OOD set.
        spread: standard deviation of every blob.
        seed: fixes every random draw.
    """
    if n_classes < 2 or dim < 2:
        raise ValueError(f"need n_classes >= 2 and dim >= 2, got {n_classes} and {dim}")
    rng = np.random.default_rng(seed)
    angles = 2 * np.pi * np.arange(n_classes) / n_classes
    centres = np.zeros((n_classes, dim))
    centres[:, 0], centres[:, 1] = 3 * np.cos(angles), 3 * np.sin(angles)

    def sample(centre: np.ndarray, n: int) -> np.ndarray:
        return (centre + spread * rng.standard_normal((n, dim))).astype(np.float32)

    def labelled(n: int) -> tuple[np.ndarray, np.ndarray]:
        x = np.concatenate([sample(c, n) for c in centres])
        y = np.repeat(np.arange(n_classes), n)
        return x, y

    x_train, y_train = labelled(n_train)
    x_test, y_test = labelled(n_test)
    mid = (centres[0] + centres[1]) / 2
    near_centre = 1.5 * mid / np.linalg.norm(mid)
    far_centre = 3.0 * centres[0]
    ood = {"near": sample(near_centre, n_ood), "far": sample(far_centre, n_ood)}
    return BlobsData(x_train, y_train, x_test, y_test, ood, centres.astype(np.float32))
