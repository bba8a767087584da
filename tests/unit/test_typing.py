"""``mypy --strict`` accepts the whole package, with the configuration of pyproject.toml
([tool.mypy]), and it is not decoration: a type error planted in the laid-out tree is reported.

As for the import contracts, the package is laid out as installed (``tradevc/vc``,
``tradevc/issuer``...) in a temporary folder, with pyproject.toml beside it, and checked
there (see :func:`unit.test_import_contracts.lay_out`)."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from conftest import ROOT
from unit.test_import_contracts import lay_out


def mypy(tree: Path) -> subprocess.CompletedProcess[str]:
    """``mypy --strict -p tradevc`` in ``tree``, reading its pyproject.toml, with a cache of its own."""
    command = [sys.executable, "-m", "mypy", "--strict", "--no-color-output", "--cache-dir", str(tree / ".mypy_cache"),
               "-p", "tradevc"]
    return subprocess.run(command, cwd=tree, capture_output=True, text=True, timeout=300)


@pytest.fixture(scope="module")
def pristine(tmp_path_factory):
    return lay_out(tmp_path_factory.mktemp("typing") / "tree")


def test_the_configuration_is_strict_and_read():
    """pyproject.toml asks for strict checking under Python 3.11 and names only untyped libraries
    in its overrides (so no module of tradevc escapes the check)."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["mypy"]
    assert config["strict"] is True
    assert config["python_version"] == "3.11"
    for override in config.get("overrides", []):
        assert not any(m.startswith("tradevc") for m in override["module"]), override
        assert set(override) == {"module", "ignore_missing_imports"}, override


def test_mypy_strict_accepts_the_package(pristine):
    run = mypy(pristine)
    assert run.returncode == 0, run.stdout + run.stderr
    assert run.stdout.startswith("Success: no issues found in "), run.stdout
    checked = int(run.stdout.split(" in ")[1].split()[0])
    # every module was read (mypy also counts the data folders, contexts/schemas and issuer/examples)
    assert checked >= len(list((pristine / "tradevc").rglob("*.py"))) > 60, run.stdout


PLANTED = [
    # a plain type error in a primitive...
    ("vc/multibase.py", "def _planted() -> int:\n    return 'not an int'", "return-value"),
    # ...an Any leaking out of a desk, which only --strict refuses...
    ("wallet/service.py", "def _planted(x: dict[str, Any]) -> str:\n    return x['y']", "no-any-return"),
    # ...and an unannotated function, which only --strict refuses
    ("issuer/registry.py", "def _planted(x):\n    return x", "no-untyped-def"),
]


def test_planted_type_errors_are_reported(tmp_path):
    """Each planted error, and nothing else, is reported (one run for the three: mypy takes
    seconds per run)."""
    tree = lay_out(tmp_path / "tree")
    for module, line, _ in PLANTED:
        path = tree / "tradevc" / module
        path.write_text(path.read_text() + f"\n\n{line}\n")
    run = mypy(tree)
    assert run.returncode == 1, run.stdout + run.stderr
    errors = [row for row in run.stdout.splitlines() if ": error: " in row]
    assert len(errors) == len(PLANTED), run.stdout
    for module, _, code in PLANTED:
        assert any(e.startswith(f"tradevc/{module}:") and e.endswith(f"[{code}]") for e in errors), run.stdout
