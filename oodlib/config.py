"""Validated run configurations: one frozen dataclass per paper, built from notebook parameters.

papermill and :mod:`oodlib.params` check names and types; a configuration checks
*values* (ranges, choices, combinations) in one place, before any work, and names
the parameter and what was expected::

    @dataclass(frozen=True)
    class Config(RunConfig):
        epochs: int = 60

        def check(self) -> None:
            super().check()
            at_least("epochs", self.epochs, 1)

    cfg = Config.from_params(params)   # ParameterError for epochs=0

``oodlib run`` builds the configuration of a notebook that names one in its metadata
(``{"oodlib": {"config": "module:Class"}}``), so a bad value fails before the kernel starts.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

from .params import ParameterError

C = TypeVar("C", bound="RunConfig")


def at_least(name: str, value: float, low: float, high: float | None = None) -> None:
    """Raise :class:`ParameterError` unless ``low <= value`` (and ``value <= high``) and finite."""
    if isinstance(value, float) and not math.isfinite(value):
        raise ParameterError(f"parameter {name!r} must be a finite number, got {value}")
    if value < low or (high is not None and value > high):
        bound = f">= {low}" if high is None else f"in [{low}, {high}]"
        raise ParameterError(f"parameter {name!r} must be {bound}, got {value}")


def positive(name: str, value: float) -> None:
    """Raise :class:`ParameterError` unless ``value`` is a finite number > 0."""
    if not (isinstance(value, (int, float)) and math.isfinite(value) and value > 0):
        raise ParameterError(f"parameter {name!r} must be a finite number > 0, got {value}")


def in_open_closed(name: str, value: float, high: float = 1.0) -> None:
    """Raise :class:`ParameterError` unless ``0 < value <= high`` (finite); e.g. a fraction or a learning rate."""
    positive(name, value)
    if value > high:
        raise ParameterError(f"parameter {name!r} must be in (0, {high}], got {value}")


def entries(name: str, values: list, low: float, high: float, nonempty: bool = True) -> None:
    """A list of distinct numbers, each in ``[low, high]`` (non-empty unless ``nonempty=False``);
    an entry out of range is named with its position (``k_values[1]``)."""
    if nonempty and not values:
        raise ParameterError(f"parameter {name!r} must list at least one value, got {values!r}")
    for i, v in enumerate(values):
        at_least(f"{name}[{i}]", v, low, high)
    if len(set(values)) != len(values):
        raise ParameterError(f"parameter {name!r} must not repeat a value, got {values!r}")


def names(name: str, values: list, allowed: Iterable[str]) -> None:
    """A non-empty list of distinct names, each one of ``allowed``."""
    allowed = list(allowed)
    if not values:
        raise ParameterError(f"parameter {name!r} must list at least one of {allowed}, got {values!r}")
    for v in values:
        one_of(name, v, allowed)
    if len(set(values)) != len(values):
        raise ParameterError(f"parameter {name!r} must not repeat an entry, got {values!r}")


def one_of(name: str, value: Any, choices: Iterable[Any]) -> None:
    """Raise :class:`ParameterError` unless ``value`` is one of ``choices``."""
    choices = list(choices)
    if value not in choices:
        raise ParameterError(f"parameter {name!r} must be one of {choices}, got {value!r}")


@dataclass(frozen=True)
class RunConfig:
    """The parameters every notebook shares; papers subclass it and extend :meth:`check`."""

    data: str = "synthetic"
    data_dir: str | None = None
    seed: int = 0
    device: str = "auto"

    def __post_init__(self) -> None:
        self.check()

    def check(self) -> None:
        """Validate values; raise :class:`ParameterError` naming the parameter."""
        if isinstance(self.seed, bool) or not isinstance(self.seed, int) or not 0 <= self.seed < 2**32:
            raise ParameterError(f"parameter 'seed' must be an integer in [0, 2**32), got {self.seed!r}")
        from .device import resolve_device

        try:
            resolve_device(self.device)
        except ValueError as err:
            raise ParameterError(f"parameter 'device': {err}") from None

    @classmethod
    def from_params(cls: type[C], params: Mapping[str, Any]) -> C:
        """Build from a notebook's parameter values; unknown names raise :class:`ParameterError`."""
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(params) - names)
        if unknown:
            raise ParameterError(f"{cls.__name__} has no parameters {unknown}; known: {sorted(names)}")
        return cls(**dict(params))

    def to_dict(self) -> dict[str, Any]:
        """All fields as a plain dictionary."""
        return dataclasses.asdict(self)
