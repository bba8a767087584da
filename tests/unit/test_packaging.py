"""The package as configured: every folder with an ``__init__.py`` is listed in pyproject.toml,
``tradevc`` exports what it says it does (to Python and to type checkers alike), and the
three commands tell their version. Building and installing the wheel is in
tests/integration/test_wheel.py."""

from __future__ import annotations

import ast
import importlib.metadata
import json
import shutil
import subprocess
import sys
import sysconfig
import tomllib
from pathlib import Path

import pytest

import tradevc
from conftest import ROOT

SKIP_DIRS = {"__pycache__", "build", "dist"}


def setuptools_config(root: Path) -> dict:
    return tomllib.loads((root / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["setuptools"]


def package_folders(root: Path) -> dict[str, Path]:
    """Each package that a folder of ``root`` makes (a folder with an ``__init__.py`` under one
    of the folders of ``package-dir``), by its import name."""
    found: dict[str, Path] = {}
    for name, folder in setuptools_config(root)["package-dir"].items():
        base = root / folder
        for init in sorted(base.rglob("__init__.py")):
            parts = init.parent.relative_to(base).parts
            if SKIP_DIRS.intersection(parts) or any(p.endswith(".egg-info") for p in parts):
                continue
            found[".".join((name, *parts))] = init.parent
    return found


def unlisted(root: Path) -> tuple[set[str], set[str]]:
    """(packages with a folder but not listed in ``packages``, listed packages with no folder)."""
    listed = set(setuptools_config(root)["packages"])
    present = set(package_folders(root))
    return present - listed, listed - present


def test_every_package_folder_is_listed_in_pyproject():
    missing, stale = unlisted(ROOT)
    assert not missing, f"add to [tool.setuptools] packages in pyproject.toml: {sorted(missing)}"
    assert not stale, f"listed in [tool.setuptools] packages but no folder with an __init__.py: {sorted(stale)}"
    assert {"tradevc", "tradevc.vc", "tradevc.issuer", "tradevc.verifier", "tradevc.wallet"} <= set(
        package_folders(ROOT)
    )


def test_a_forgotten_subpackage_is_found(tmp_path):
    """The same check on a copy of the configuration whose vc/ has one more subpackage and
    which lists one that is gone."""
    config = setuptools_config(ROOT)
    lines = ["[tool.setuptools]", f"packages = {json.dumps([*config['packages'], 'tradevc.vc.gone'])}"]
    lines += ["[tool.setuptools.package-dir]", *(f"{json.dumps(k)} = {json.dumps(v)}" for k, v in config["package-dir"].items())]
    (tmp_path / "pyproject.toml").write_text("\n".join(lines) + "\n", encoding="utf-8")
    for name, folder in package_folders(ROOT).items():
        target = tmp_path / folder.relative_to(ROOT)
        target.mkdir(parents=True, exist_ok=True)
        (target / "__init__.py").write_text("")
    (tmp_path / "vc" / "extra" / "__pycache__").mkdir(parents=True)
    (tmp_path / "vc" / "extra" / "__init__.py").write_text("")
    (tmp_path / "vc" / "extra" / "__pycache__" / "__init__.py").write_text("")  # not a package
    assert unlisted(tmp_path) == ({"tradevc.vc.extra"}, {"tradevc.vc.gone"})


def test_every_exported_name_resolves():
    assert set(tradevc.__all__) == {"__version__", *tradevc._EXPORTS}
    for name in tradevc.__all__:
        value = getattr(tradevc, name)
        assert value is not None, name
        if name != "__version__":
            assert value.__module__ == tradevc._EXPORTS[name], name
    with pytest.raises(AttributeError, match="NoSuchName"):
        tradevc.NoSuchName  # noqa: B018
    assert tradevc.__version__ == importlib.metadata.version("tradevc")


def test_type_checkers_see_the_same_exports():
    """A type checker cannot run ``__getattr__``: it reads ``__all__`` (for ``from tradevc
    import *``, so it must be a plain list of strings) and the imports under TYPE_CHECKING,
    which must name each export from its module."""
    tree = ast.parse((ROOT / "tradevc" / "__init__.py").read_text(encoding="utf-8"))
    all_lists = [
        node.value for node in tree.body
        if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == "__all__" for t in node.targets)
    ]
    assert len(all_lists) == 1 and isinstance(all_lists[0], ast.List)
    assert all(isinstance(e, ast.Constant) for e in all_lists[0].elts), "__all__ must be a literal list of names"
    assert [e.value for e in all_lists[0].elts] == tradevc.__all__
    checking = [node for node in tree.body if isinstance(node, ast.If) and ast.unparse(node.test) == "TYPE_CHECKING"]
    assert len(checking) == 1
    seen = {}
    for node in checking[0].body:
        assert isinstance(node, ast.ImportFrom)
        for alias in node.names:
            assert alias.asname == alias.name, f"{alias.name}: re-export as 'import {alias.name} as {alias.name}'"
            seen[alias.name] = node.module
    assert seen == tradevc._EXPORTS


def console_script(name: str) -> str:
    path = Path(sysconfig.get_path("scripts")) / name
    return str(path) if path.exists() else (shutil.which(name) or pytest.fail(f"{name} is not installed"))


@pytest.mark.parametrize("command", ["vc-issuer", "vc-verify", "vc-wallet"])
def test_commands_tell_their_version(command):
    done = subprocess.run([console_script(command), "--version"], capture_output=True, text=True, timeout=60)
    assert (done.returncode, done.stdout, done.stderr) == (
        0, f"{command} (tradevc) {importlib.metadata.version('tradevc')}\n", ""
    )


def test_python_m_runs_the_verifier():
    done = subprocess.run(
        [sys.executable, "-m", "tradevc.verifier", "--help"], capture_output=True, text=True, timeout=60, cwd=ROOT
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("Usage: ")
    assert {"credential", "presentation", "batch"} <= {line.split()[0] for line in done.stdout.split("Commands:")[1].splitlines() if line.strip()}
    wrong = subprocess.run(
        [sys.executable, "-m", "tradevc.verifier", "no-such-command"], capture_output=True, text=True, timeout=60
    )
    assert wrong.returncode == 2 and "Traceback" not in wrong.stderr
