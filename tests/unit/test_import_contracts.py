"""The import contracts of pyproject.toml ([tool.importlinter]) hold, and they are not
decoration: each planted violation below (the cycles this code once had among them) breaks the
contract that names it.

import-linter reads the package from the file system, and this repository's folders become
``tradevc.*`` only when installed, so the package is laid out in a temporary folder as
installed (``tradevc/vc``, ``tradevc/issuer``...) and checked there."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import ROOT

FOLDERS = ("vc", "issuer", "verifier", "wallet", "service", "contexts")


def lay_out(target: Path) -> Path:
    """The sources as installed under ``target/tradevc``; returns ``target``."""
    package = target / "tradevc"
    package.mkdir(parents=True)
    for module in (ROOT / "tradevc").glob("*.py"):  # __init__.py, clistyle.py
        shutil.copy(module, package / module.name)
    for folder in FOLDERS:
        shutil.copytree(ROOT / folder, package / folder, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    shutil.copy(ROOT / "pyproject.toml", target / "pyproject.toml")
    return target


def lint(tree: Path) -> subprocess.CompletedProcess[str]:
    command = [str(Path(sys.executable).with_name("lint-imports")), "pyproject.toml", "--no-cache"]
    return subprocess.run(command, cwd=tree, capture_output=True, text=True, timeout=120)


@pytest.fixture(scope="module")
def pristine(tmp_path_factory):
    return lay_out(tmp_path_factory.mktemp("contracts") / "tree")


def test_every_contract_is_kept(pristine):
    run = lint(pristine)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "0 broken" in run.stdout and not _broken(run.stdout)
    kept = [row for row in run.stdout.splitlines() if row.endswith(" KEPT")]
    assert len(kept) == 12, run.stdout  # the twelve contracts of pyproject.toml, each on its own line


def plant(tree: Path, module: str, line: str) -> None:
    path = tree / "tradevc" / Path(*module.split(".")[1:])
    path = path.with_suffix(".py") if path.with_suffix(".py").exists() else path / "__init__.py"
    path.write_text(path.read_text() + f"\n{line}\n")


@pytest.mark.parametrize(
    ("module", "line", "contract"),
    [
        # the cycle of old: the HTTPS fetcher asked JOSE whether a body was a token...
        ("tradevc.vc.retrieval.http", "from tradevc.vc.securing.jws import is_compact_jws", "vc layers"),
        # ...the status checker opened tokens with JOSE's credential_of...
        ("tradevc.vc.retrieval.status_lists", "from tradevc.vc.securing.jose import credential_of", "vc layers"),
        # ...and JOSE called back into the credential checks
        ("tradevc.vc.securing.jose", "from tradevc.vc.verification import pipeline", "vc layers"),
        ("tradevc.vc.checks.common", "from tradevc.vc.securing import data_integrity", "vc layers"),
        ("tradevc.vc.model", "from tradevc.vc.checks import integrity", "vc layers"),
        # one mechanism does not reach into another
        ("tradevc.vc.securing.data_integrity", "from tradevc.vc.securing import jose", "securing:"),
        ("tradevc.vc.securing.jws", "from tradevc.vc.securing import vcjwt", "securing:"),
        ("tradevc.vc.retrieval.did.web", "from tradevc.vc.retrieval import status_lists", "retrieval:"),
        ("tradevc.vc.checks.schemas", "from tradevc.vc.checks import policy", "checks:"),
        # the verifier's batch and service imported each other
        ("tradevc.verifier.batch", "from tradevc.verifier import service", "verifier desk"),
        ("tradevc.issuer.service", "import tradevc.verifier.service", "desks:"),
        # the desks never import the service that composes them, and its layers go one way
        ("tradevc.verifier.service", "import tradevc.service.app", "desks:"),
        ("tradevc.service.config", "from tradevc.service import routes", "service:"),
        ("tradevc.service.auth", "from tradevc.service import desks", "service:"),
        ("tradevc.vc.keys", "import click", "vc imports neither click"),
        # the desks' CLI conventions stay above the library
        ("tradevc.vc.jsontext", "from tradevc.clistyle import fail", "the desks' shared CLI conventions"),
    ],
)
def test_a_planted_violation_breaks_its_contract(tmp_path, module, line, contract):
    tree = lay_out(tmp_path / "tree")
    plant(tree, module, line)
    run = lint(tree)
    assert run.returncode != 0, run.stdout
    assert any(row.startswith(contract) for row in _broken(run.stdout)), run.stdout


def _broken(output: str) -> list[str]:
    """The names of the contracts the summary reports broken."""
    return [row[: -len(" BROKEN")] for row in output.splitlines() if row.endswith(" BROKEN")]


def test_lint_imports_runs_from_the_checkout_itself():
    """tradevc/ links to the folders (tradevc/vc -> ../vc, ...), so that tools that read the
    package from the file system see it as installed: `lint-imports` in the repository root."""
    for folder in FOLDERS:
        link = ROOT / "tradevc" / folder
        assert link.is_symlink() and link.resolve() == (ROOT / folder).resolve(), link
    run = lint(ROOT)
    assert run.returncode == 0, run.stdout + run.stderr
    assert len([row for row in run.stdout.splitlines() if row.endswith(" KEPT")]) == 12, run.stdout
