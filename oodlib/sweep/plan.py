"""Planning a sweep: seeds, grids, run ids and the validated list of runs (:class:`RunSpec`)."""

from __future__ import annotations

import hashlib
import itertools
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from ..params import ParameterError, notebook_parameters, parse_cli_value, validate


def parse_seeds(text: str) -> list[int]:
    """``"0-4"`` -> ``[0, 1, 2, 3, 4]``; ``"0,2,5"`` -> ``[0, 2, 5]``; ``"0-2,7"`` mixes both.

    Raises :class:`ParameterError` for an empty list, a negative or descending range, or a repeat.
    """
    seeds: list[int] = []
    for part in str(text).replace(" ", "").split(","):
        if not part:
            raise ParameterError(f"--seeds {text!r}: empty item (use e.g. 0-4 or 0,2,5)")
        low, sep, high = part.partition("-")
        try:
            first, last = int(low), int(high) if sep else int(low)
        except ValueError:
            raise ParameterError(f"--seeds {text!r}: {part!r} is not a seed or a range a-b of seeds") from None
        if last < first:
            raise ParameterError(f"--seeds {text!r}: range {part!r} runs backwards")
        seeds.extend(range(first, last + 1))
    if len(set(seeds)) != len(seeds):
        raise ParameterError(f"--seeds {text!r} names a seed twice")
    return seeds


def load_grid(path: str | Path) -> dict[str, list[Any]]:
    """Read a grid file: a YAML mapping of parameter name to a list of values (a scalar = one value)."""
    try:
        loaded = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as err:
        raise ParameterError(f"cannot read grid file {path}: {err}") from err
    if not isinstance(loaded, dict) or not loaded:
        raise ParameterError(f"grid file {path} must hold a non-empty mapping of name: [values]")
    return {str(k): v if isinstance(v, list) else [v] for k, v in loaded.items()}


def expand_grid(grid: Mapping[str, Sequence[Any]] | None) -> list[dict[str, Any]]:
    """Every combination of the grid's values (the first name varies slowest); ``[{}]`` for no grid."""
    if not grid:
        return [{}]
    for name, values in grid.items():
        if not isinstance(values, (list, tuple)) or not values:
            raise ParameterError(f"grid parameter {name!r} needs a non-empty list of values, got {values!r}")
    names = list(grid)
    return [dict(zip(names, combo)) for combo in itertools.product(*(grid[n] for n in names))]


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), default=str)


def notebook_digest(notebook: str | Path) -> str:
    """SHA-256 of the notebook file's bytes."""
    return hashlib.sha256(Path(notebook).read_bytes()).hexdigest()




def code_version() -> dict[str, Any]:
    """oodlib's version and, when oodlib sits in a git checkout, its commit (``None`` otherwise).

    Uncommitted edits do not change it: commit (or pass another ``--name``) to separate them.
    """
    from .. import __version__
    from ..provenance import git_state

    return {"oodlib": __version__, "git": git_state()["commit"]}


def run_id(digest: str, values: Mapping[str, Any], code: Mapping[str, Any]) -> str:
    """The run's id: 12 hex digits of SHA-256 over notebook hash, parameter values and code version."""
    payload = _canonical({"notebook": digest, "parameters": dict(values), "code": dict(code)})
    return hashlib.sha256(payload.encode()).hexdigest()[:12]


@dataclass(frozen=True)
class RunSpec:
    """One planned run of a sweep.

    Attributes:
        run_id: see :func:`run_id`.
        notebook: absolute path of the notebook.
        overrides: the parameters passed to papermill (profile, ``-p``, grid point, seed).
        values: every parameter's value (defaults filled in): what the id hashes.
        seed: the run's seed.
        group: id of the run's parameters without the seed (runs of one group are judged together).
        digest: the notebook's SHA-256.
        code: :func:`code_version` when planned.
        profile: the build profile (passed to the record; ``-smoke`` marks verdicts as smoke).
    """

    run_id: str
    notebook: str
    overrides: dict[str, Any]
    values: dict[str, Any]
    seed: int
    group: str
    digest: str
    code: dict[str, Any]
    profile: str = ""

    @property
    def stem(self) -> str:
        """The notebook's stem (names its record and score file)."""
        return Path(self.notebook).stem

    def describe(self) -> dict[str, Any]:
        """What ``run.json`` holds (everything the id is made of, plus the overrides)."""
        return {"run_id": self.run_id, "notebook": self.notebook, "notebook_sha256": self.digest,
                "parameters": self.values, "overrides": self.overrides, "seed": self.seed,
                "code": self.code, "profile": self.profile}


def profile_overrides(notebook: Path, profile: str) -> dict[str, Any]:
    """The parameters ``notebooks/profiles.yaml`` gives ``notebook`` in ``profile`` (``{}`` for none)."""
    if not profile:
        return {}
    from ..book import profile_parameters
    from ..records import project_root

    root = project_root(notebook.parent) or notebook.resolve().parent.parent
    return dict(profile_parameters(root, profile).get(notebook.stem) or {})


def _grid_value(spec: Any, value: Any) -> Any:
    """YAML 1.1 reads ``1e-3`` as text: read it as a number for a ``float`` parameter."""
    if isinstance(value, str) and spec is not None and "float" in spec.annotation:
        return parse_cli_value(spec, value)
    return value


def _point_overrides(base: Mapping[str, Any], point: Mapping[str, Any], seeds: Sequence[int] | None) -> list[dict]:
    clash = sorted(set(base) & set(point))
    if clash:
        raise ParameterError(f"parameters {clash} are set both with -p and in the grid; set each in one place")
    if seeds is None:
        return [{**base, **point}]
    if "seed" in point or "seed" in base:
        raise ParameterError("give the seeds either with --seeds or as a parameter 'seed', not both")
    return [{**base, **point, "seed": s} for s in seeds]


def plan_sweep(notebook: str | Path, seeds: Sequence[int] | None = None, parameters: Mapping[str, Any] | None = None,
               grid: Mapping[str, Sequence[Any]] | None = None, profile: str = "") -> list[RunSpec]:
    """Every run of the sweep, each validated (names, types, ranges) before anything runs.

    A run's overrides are the profile's parameters, then ``parameters`` (``-p``), then the grid
    point, then the seed. Duplicates (same id) are kept once.

    Raises:
        oodlib.params.ParameterError: the first bad run's problem, naming the parameter.
        FileNotFoundError: the notebook does not exist.
    """
    from ..runner import check_config

    nb = Path(notebook).resolve()
    if not nb.is_file():
        raise FileNotFoundError(f"notebook {notebook} does not exist")
    specs = notebook_parameters(nb)
    defaults = {n: s.default for n, s in specs.items()}
    base = {**profile_overrides(nb, profile), **dict(parameters or {})}
    if seeds is not None and "seed" not in specs:
        raise ParameterError(f"{nb.name} has no 'seed' parameter, so --seeds cannot vary it")
    digest, code = notebook_digest(nb), code_version()
    plan: dict[str, RunSpec] = {}
    for point in expand_grid(grid):
        point = {k: _grid_value(specs.get(k), v) for k, v in point.items()}
        for overrides in _point_overrides(base, point, seeds):
            checked = validate(specs, overrides, where=nb.name)
            values = {**defaults, **checked}
            check_config(nb, values)
            rid = run_id(digest, values, code)
            rest = {k: v for k, v in values.items() if k != "seed"}
            group = hashlib.sha256(_canonical(rest).encode()).hexdigest()[:8]
            plan.setdefault(rid, RunSpec(rid, str(nb), checked, values, int(values.get("seed", 0)), group,
                                         digest, code, profile))
    return list(plan.values())
