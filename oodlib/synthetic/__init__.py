"""Generated data for the embedded defaults (no download needed). Deterministic for a seed."""

from .blobs import BlobsData, make_blobs_ood

__all__ = ["BlobsData", "make_blobs_ood"]
