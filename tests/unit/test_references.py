"""The module paths that docstrings, comments and messages name exist: every ``tradevc.*``
dotted name resolves to a module or an object in one, no Sphinx role names a path without the
``tradevc`` import root (``vc.jose``, ``verifier.batch``: paths from before the restructure,
or that only the source folders have), and every unqualified ``:func:``, ``:class:`` or
``:data:`` reference names something its own module has.

README.md and ARCHITECTURE.md are not scanned here."""

from __future__ import annotations

import builtins
import importlib
import re
from pathlib import Path

import pytest

from conftest import ROOT

FOLDERS = ("vc", "issuer", "verifier", "wallet")
DOTTED = re.compile(r"(?<![\w./-])tradevc(?:\.[A-Za-z_]\w*)+")
UNROOTED_ROLE = re.compile(r":[a-z]+:`~?((?:vc|issuer|verifier|wallet|contexts)\.[\w.]*)`")
LOCAL_ROLE = re.compile(r":(?:func|class|data|exc):`~?([A-Za-z_]\w*)`")


def sources() -> list[Path]:
    return sorted(p for folder in FOLDERS for p in (ROOT / folder).rglob("*.py") if "__pycache__" not in p.parts)


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return "tradevc." + ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def prose(path: Path) -> list[tuple[int, str]]:
    """The lines of ``path`` that are not import statements (which Python itself checks)."""
    return [(n, line) for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
            if not line.lstrip().startswith(("import ", "from "))]


def resolves(dotted: str) -> bool:
    """True if ``dotted`` is a module, or an attribute (a dataclass field too) of one."""
    parts = dotted.split(".")
    for split in range(len(parts), 0, -1):
        try:
            target: object = importlib.import_module(".".join(parts[:split]))
        except ModuleNotFoundError:
            continue
        for name in parts[split:]:
            if hasattr(target, name):
                target = getattr(target, name)
            elif name in getattr(target, "__dataclass_fields__", {}):
                target = None
            else:
                return False
        return True
    return False


@pytest.mark.parametrize(
    ("dotted", "expected"),
    [
        ("tradevc.vc.securing.jose", True),
        ("tradevc.vc.verification.pipeline.verify_credential_jwt", True),
        ("tradevc.vc.report.PresentationResult.signers", True),  # a dataclass field
        ("tradevc.verifier.Verifier.verify_many", True),
        ("tradevc.vc.jose.verify_credential_jwt", False),  # before the restructure
        ("tradevc.vc.securing.jose.verify_credential_jwt", False),  # it lives in the pipeline
        ("tradevc.vc.credentials", False),
    ],
)
def test_resolves_tells_live_paths_from_stale_ones(dotted, expected):
    assert resolves(dotted) is expected


def test_every_tradevc_path_named_in_the_sources_exists():
    stale = [f"{path.relative_to(ROOT)}:{n}: {name}"
             for path in sources() for n, line in prose(path) for name in DOTTED.findall(line)
             if not resolves(name)]
    assert not stale, "\n".join(stale)


def test_no_role_names_a_path_without_the_import_root():
    unrooted = [f"{path.relative_to(ROOT)}:{n}: {name}"
                for path in sources() for n, line in prose(path) for name in UNROOTED_ROLE.findall(line)]
    assert not unrooted, "\n".join(unrooted)


def test_unqualified_references_name_something_of_their_module():
    missing = []
    for path in sources():
        if path.name == "__main__.py":  # importing it would run the command
            continue
        module = importlib.import_module(module_name(path))
        for n, line in prose(path):
            for name in LOCAL_ROLE.findall(line):
                if not hasattr(module, name) and not hasattr(builtins, name):
                    missing.append(f"{path.relative_to(ROOT)}:{n}: {name}")
    assert not missing, "\n".join(missing)
