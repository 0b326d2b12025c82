"""Small helpers used inside the book's notebooks."""

from __future__ import annotations

from typing import Any

import numpy as np


def glue(name: str, value: Any) -> None:
    """Store ``value`` for MyST-NB's ``{glue:text}`name:.1f``` roles, hidden from the output.

    NumPy scalars are turned into Python numbers first (MyST-NB formats the
    text repr, which must parse as a number).
    """
    from myst_nb import glue as _glue

    if isinstance(value, np.generic):
        value = value.item()
    _glue(name, value, display=False)
