"""Notebook parameters: declared with types, checked before and during a run.

papermill injects whatever ``-p NAME VALUE`` it is given, misspelt names and
wrong types included. oodlib closes that gap twice:

* before a run, :func:`validate` checks overrides against the notebook's
  ``parameters`` cell (``oodlib run`` does this);
* inside the notebook, :class:`ParameterGuard` checks what papermill injected,
  so a plain ``papermill`` call is protected too.

A parameters cell holds one annotated assignment per parameter::

    data: str = "synthetic"      # "synthetic" or a real dataset name
    seed: int = 0
    epochs: int = 3
    ood_sets: list[str] = ["esc50", "speech_commands"]
    checkpoint: str | None = None

Supported annotations: ``str``, ``int``, ``float`` (ints accepted), ``bool``,
``list`` / ``list[T]``, ``dict``, and ``T | None``.
"""

from __future__ import annotations

import ast
import difflib
import math
import re
import inspect
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

_SCALARS: dict[str, type] = {"str": str, "int": int, "float": float, "bool": bool, "list": list, "dict": dict}


class ParameterError(ValueError):
    """A notebook parameter is unknown or has the wrong type."""


@dataclass(frozen=True)
class ParamSpec:
    """One declared parameter: name, annotation text and default value."""

    name: str
    annotation: str
    default: Any

    def check(self, value: Any) -> Any:
        """Return ``value`` (ints widened to float for ``float``) or raise :class:`ParameterError`."""
        ok, coerced = _matches(self.annotation, value)
        if not ok:
            raise ParameterError(
                f"parameter {self.name!r} expects {self.annotation}, got {type(value).__name__} {value!r}"
            )
        return coerced


def _matches(annotation: str, value: Any) -> tuple[bool, Any]:
    node = ast.parse(annotation, mode="eval").body
    return _match_node(node, value, annotation)


def _match_node(node: ast.expr, value: Any, text: str) -> tuple[bool, Any]:
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.BitOr):
        for part in (node.left, node.right):
            ok, coerced = _match_node(part, value, text)
            if ok:
                return True, coerced
        return False, value
    if isinstance(node, ast.Constant) and node.value is None:
        return value is None, value
    if isinstance(node, ast.Subscript) and isinstance(node.value, ast.Name) and node.value.id == "list":
        if not isinstance(value, (list, tuple)):
            return False, value
        items = []
        for item in value:
            ok, c = _match_node(node.slice, item, text)
            if not ok:
                return False, value
            items.append(c)
        return True, items
    if isinstance(node, ast.Name) and node.id in _SCALARS:
        want = _SCALARS[node.id]
        if want is float and isinstance(value, float) and not math.isfinite(value):
            return False, value  # NaN and infinities are never a parameter value
        if want is float and isinstance(value, int) and not isinstance(value, bool):
            return True, float(value)
        if want is int and isinstance(value, bool):
            return False, value
        if want is list and isinstance(value, tuple):
            return True, list(value)
        return isinstance(value, want), value
    raise ParameterError(f"unsupported parameter annotation {text!r} (use str, int, float, bool, list[T], dict, T | None)")


def parse_parameters_source(source: str) -> dict[str, ParamSpec]:
    """Read the annotated assignments of a parameters cell into specs.

    Every statement must be ``name: annotation = literal``; anything else is an
    error, so a parameter can never be declared without a type.
    """
    specs: dict[str, ParamSpec] = {}
    for stmt in ast.parse(source).body:
        if not (isinstance(stmt, ast.AnnAssign) and isinstance(stmt.target, ast.Name) and stmt.value is not None):
            raise ParameterError(
                f"parameters cell line {stmt.lineno}: expected 'name: type = value', got {ast.unparse(stmt)!r}"
            )
        name = stmt.target.id
        annotation = ast.unparse(stmt.annotation)
        try:
            default = ast.literal_eval(stmt.value)
        except ValueError as err:
            raise ParameterError(f"parameter {name!r}: default must be a literal, got {ast.unparse(stmt.value)!r}") from err
        spec = ParamSpec(name, annotation, default)
        spec.check(default)
        specs[name] = spec
    return specs


def notebook_parameters(path: str | Path) -> dict[str, ParamSpec]:
    """The specs of the cell tagged ``parameters`` in the notebook at ``path``."""
    path = Path(path)
    try:
        nb = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as err:
        raise ParameterError(f"cannot read notebook {path}: {err}") from err
    cells = [c for c in nb.get("cells", []) if "parameters" in c.get("metadata", {}).get("tags", [])]
    if len(cells) != 1:
        raise ParameterError(f"{path} must have exactly one cell tagged 'parameters', found {len(cells)}")
    source = cells[0]["source"]
    return parse_parameters_source("".join(source) if isinstance(source, list) else source)


def _unknown(name: str, specs: dict[str, ParamSpec], where: str) -> ParameterError:
    close = difflib.get_close_matches(name, specs, n=1)
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    return ParameterError(f"unknown parameter {name!r} for {where}{hint}. Known parameters: {', '.join(specs)}")


def validate(specs: dict[str, ParamSpec], overrides: dict[str, Any], where: str = "this notebook") -> dict[str, Any]:
    """Check ``overrides`` against ``specs``; return them with ints widened for floats.

    Raises :class:`ParameterError` naming the first unknown or mistyped parameter.
    """
    out = {}
    for name, value in overrides.items():
        if name not in specs:
            raise _unknown(name, specs, where)
        out[name] = specs[name].check(value)
    return out


_DECIMAL = re.compile(r"^[+-]?\d+$")


def parse_cli_value(spec: ParamSpec | None, text: str) -> Any:
    """Turn a ``-p NAME VALUE`` string into a value: YAML syntax, except plain ``str`` stays text.

    Integers are read as decimal (YAML 1.1 would read ``010`` as octal 8); for a ``float``
    parameter, ``1e-3`` is a number (YAML 1.1 would keep it as text).
    """
    if spec is not None and spec.annotation in ("str", "str | None") and text not in ("null", "None", "~"):
        return text
    if _DECIMAL.match(text.strip()):
        return int(text.strip(), 10)
    if spec is not None and "float" in spec.annotation:
        try:
            return float(text)  # YAML 1.1 reads "1e-3" (no dot) as a string
        except ValueError:
            pass
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as err:
        raise ParameterError(f"cannot parse value {text!r}: {err}") from err


class ParameterGuard:
    """Check, inside a running notebook, what papermill injected.

    Use in the cell *before* the parameters cell::

        guard = ParameterGuard(globals())

    and first thing in the cell *after* it (papermill's injected cell sits in between)::

        params = guard.check(globals())

    Declared parameters are the parameters cell's annotated names (Python keeps
    them in ``__annotations__``). Any other new public name is an unknown
    injected parameter; declared ones are type-checked.
    """

    def __init__(self, namespace: dict[str, Any]) -> None:
        self._before = set(namespace)
        self._before_annotations = set(namespace.get("__annotations__", {}))

    def check(self, namespace: dict[str, Any]) -> dict[str, Any]:
        """Return ``{name: value}`` of the declared parameters after validation."""
        annotations = namespace.get("__annotations__", {})
        declared = {n: a for n, a in annotations.items() if n not in self._before_annotations}
        if not declared:
            raise ParameterError("no annotated parameters found: declare them as 'name: type = value'")
        specs = {n: ParamSpec(n, a if isinstance(a, str) else _annotation_text(a), None) for n, a in declared.items()}
        new_names = {n for n in set(namespace) - self._before if _could_be_injected(n, namespace[n], self)}
        for name in sorted(new_names - set(specs)):
            raise _unknown(name, specs, "this notebook")
        values = {n: namespace[n] for n in specs}
        checked = validate(specs, values)
        namespace.update(checked)
        return checked


def _could_be_injected(name: str, value: Any, guard: ParameterGuard) -> bool:
    """papermill injects literals only: skip private names, modules, classes and functions."""
    if name.startswith("_") or value is guard:
        return False
    return not (inspect.ismodule(value) or inspect.isclass(value) or callable(value))


def _annotation_text(annotation: Any) -> str:
    if isinstance(annotation, type):
        return annotation.__name__
    return str(annotation).replace("typing.", "")
