"""Typed notebook parameters: parsing, validation, the CLI and the in-notebook guard."""

from __future__ import annotations

import pytest

from oodlib import cli
from oodlib.params import ParameterError, ParameterGuard, parse_cli_value, parse_parameters_source, validate

SOURCE = '''
data: str = "synthetic"  # comment
seed: int = 0
lr: float = 1e-3
flag: bool = False
sets: list[str] = ["a", "b"]
ckpt: str | None = None
'''


def test_parse_and_validate():
    specs = parse_parameters_source(SOURCE)
    assert list(specs) == ["data", "seed", "lr", "flag", "sets", "ckpt"]
    assert specs["sets"].default == ["a", "b"]
    out = validate(specs, {"lr": 1, "ckpt": "/x.pt", "sets": ("c",), "seed": 4})
    assert out == {"lr": 1.0, "ckpt": "/x.pt", "sets": ["c"], "seed": 4}
    assert isinstance(out["lr"], float)


@pytest.mark.parametrize(
    "overrides, message",
    [
        ({"sed": 1}, r"unknown parameter 'sed'.*did you mean 'seed'"),
        ({"seed": "1"}, r"parameter 'seed' expects int, got str"),
        ({"seed": True}, r"parameter 'seed' expects int, got bool"),
        ({"seed": 1.5}, r"expects int, got float"),
        ({"flag": 1}, r"parameter 'flag' expects bool"),
        ({"sets": ["a", 2]}, r"parameter 'sets' expects list\[str\]"),
        ({"data": None}, r"parameter 'data' expects str"),
    ],
)
def test_bad_overrides_are_named(overrides, message):
    with pytest.raises(ParameterError, match=message):
        validate(parse_parameters_source(SOURCE), overrides)


def test_parameters_cell_must_be_typed():
    with pytest.raises(ParameterError, match="expected 'name: type = value'"):
        parse_parameters_source("seed = 0")
    with pytest.raises(ParameterError, match="expects int"):
        parse_parameters_source('seed: int = "zero"')
    with pytest.raises(ParameterError, match="unsupported parameter annotation"):
        parse_parameters_source("x: set = 1")


def test_cli_value_parsing():
    specs = parse_parameters_source(SOURCE)
    assert parse_cli_value(specs["seed"], "3") == 3
    assert parse_cli_value(specs["sets"], "[x, y]") == ["x", "y"]
    assert parse_cli_value(specs["data"], "123") == "123"  # plain strings stay text
    assert parse_cli_value(specs["ckpt"], "null") is None


def test_guard_catches_injected_unknowns_and_types():
    ns: dict = {"__annotations__": {}}
    guard = ParameterGuard(ns)
    ns["guard"] = guard
    # the parameters cell (annotated) and papermill's injected cell (plain assignments)
    ns["__annotations__"].update({"seed": "int", "data": "str"})
    ns.update(seed=0, data="synthetic")
    ns.update(seed=5)
    ns["np"] = pytest  # a module imported later is not a parameter
    assert guard.check(dict(ns)) == {"seed": 5, "data": "synthetic"}
    bad = dict(ns, sedd=3)
    with pytest.raises(ParameterError, match="unknown parameter 'sedd'.*did you mean 'seed'"):
        guard.check(bad)
    with pytest.raises(ParameterError, match="expects int"):
        guard.check(dict(ns, seed="5"))


def test_cli_rejects_misspelt_parameter(root, capsys):
    code = cli.main(["run", str(root / "notebooks" / "00_tour.ipynb"), "-p", "epoch", "3"])
    err = capsys.readouterr().err
    assert code == 2
    assert "unknown parameter 'epoch'" in err and "did you mean 'epochs'" in err


def test_cli_rejects_wrong_type(root, capsys):
    code = cli.main(["run", str(root / "notebooks" / "00_tour.ipynb"), "-p", "epochs", "many"])
    assert code == 2
    assert "parameter 'epochs' expects int, got str 'many'" in capsys.readouterr().err


def test_cli_lists_parameters(root, capsys):
    assert cli.main(["params", str(root / "notebooks" / "00_tour.ipynb")]) == 0
    assert "seed: int = 0" in capsys.readouterr().out


def test_integers_are_decimal_and_floats_finite():
    from oodlib.params import ParamSpec, ParameterError, parse_cli_value

    seed = ParamSpec("seed", "int", 0)
    assert parse_cli_value(seed, "010") == 10 and parse_cli_value(seed, "-3") == -3
    lr = ParamSpec("lr", "float", 0.1)
    for bad in (float("nan"), float("inf"), float("-inf")):
        with pytest.raises(ParameterError, match="lr"):
            lr.check(bad)
    assert lr.check(parse_cli_value(lr, "1e-3")) == 1e-3


def test_cli_rejects_out_of_range_values_before_running(root, capsys, tmp_path):
    code = cli.main(["run", str(root / "notebooks" / "00_tour.ipynb"), "-p", "epochs", "0",
                     "--records-dir", str(tmp_path)])
    assert code == 2 and "parameter 'epochs' must be" in capsys.readouterr().err
    assert not list(tmp_path.glob("*.json"))


def test_cli_prints_the_notebooks_own_error_first(tmp_path, capsys):
    import nbformat

    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell("x: int = 1", metadata={"tags": ["parameters"]}),
                nbformat.v4.new_code_cell("raise ValueError(\"parameter 'x' must be even, got 1\")")]
    path = tmp_path / "bad.ipynb"
    nbformat.write(nb, path)
    code = cli.main(["run", str(path), "--output-dir", str(tmp_path / "out"), "--records-dir", str(tmp_path / "rec")])
    first = capsys.readouterr().err.splitlines()[0]
    assert code == 1 and first.startswith("oodlib: error: ValueError: parameter 'x' must be even, got 1")
