"""Lazy exports for the paper packages (PEP 562): ``import oodlib.papers.pX.config`` stays light.

Validating a notebook's parameters imports only its ``config`` module, so ``oodlib run`` and each
sweep worker check parameters in a fraction of a second instead of importing torch, pandas and
scikit-learn first (about 10 s on two cores). The package's names resolve on first use.
"""

from __future__ import annotations

import importlib
import sys
import types
from collections.abc import Mapping
from typing import Any


class _LazyPackage(types.ModuleType):
    """A package whose exported names load on first use (``_exports``: name -> ``".module"``).

    A function named like its own module (``run`` in ``.run``, ``claims`` in ``.claims``) stays
    the package's ``run`` even after the import system binds the submodule ``.run`` to the package.
    """

    _exports: Mapping[str, str]

    def __getattr__(self, name: str) -> Any:
        exports = self.__dict__.get("_exports", {})
        if name not in exports:
            raise AttributeError(f"module {self.__name__!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(exports[name], self.__name__), name)
        super().__setattr__(name, value)
        return value

    def __setattr__(self, name: str, value: Any) -> None:
        exports = self.__dict__.get("_exports", {})
        if (isinstance(value, types.ModuleType) and exports.get(name) == f".{name}"
                and value.__name__ == f"{self.__name__}.{name}" and hasattr(value, name)):
            value = getattr(value, name)
        super().__setattr__(name, value)

    def __dir__(self) -> list[str]:
        return sorted({*self.__dict__, *self.__dict__.get("_exports", {})})


def lazy_exports(package: str, exports: Mapping[str, str]) -> list[str]:
    """Make ``package`` resolve ``exports`` (name -> ``".module"``) on first use; return its ``__all__``.

    A name is imported from its module the first time it is asked for and then cached in the
    package, so later look-ups are plain attribute reads. An unknown name raises ``AttributeError``.
    """
    module = sys.modules[package]
    module._exports = dict(exports)
    module.__class__ = _LazyPackage
    return sorted(exports)
