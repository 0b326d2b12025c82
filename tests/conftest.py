"""Shared fixtures: the repository root and the real-data folder (skipped when absent)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def shared_data_dir() -> Path | None:
    """``$OODLIB_SHARED_DATA`` or ``../shared/data`` beside the checkout, if it exists."""
    env = os.environ.get("OODLIB_SHARED_DATA")
    candidates = [Path(env)] if env else []
    candidates.append(ROOT.parent / "shared" / "data")
    for c in candidates:
        if c.is_dir():
            return c
    return None


@pytest.fixture
def shared_data() -> Path:
    """The real data subsets; the test is skipped with a reason when they are absent."""
    folder = shared_data_dir()
    if folder is None:
        pytest.skip("real data subsets not found (set OODLIB_SHARED_DATA or place them at ../shared/data)")
    return folder


@pytest.fixture
def root() -> Path:
    return ROOT
