"""Progress bars (tqdm) for anything that takes more than a few seconds.

Bars go to stderr, which the book hides; set ``OODLIB_PROGRESS=0`` to silence them.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterable
from typing import Any, TypeVar

from tqdm import tqdm

T = TypeVar("T")


def progress(iterable: Iterable[T], desc: str = "", total: int | None = None, **kwargs: Any) -> Iterable[T]:
    """Wrap ``iterable`` in a text tqdm bar on stderr (disabled by ``OODLIB_PROGRESS=0``)."""
    disable = os.environ.get("OODLIB_PROGRESS", "1") == "0"
    return tqdm(iterable, desc=desc, total=total, file=sys.stderr, disable=disable, mininterval=1.0, **kwargs)
