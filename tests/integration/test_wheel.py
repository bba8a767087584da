"""The project as its users get it: a wheel built offline, installed into a fresh virtual
environment, run from a folder that holds ``wallet/``, ``vc/`` and ``contexts/`` of its own,
and type-checked with ``mypy --strict`` the way a user's code that follows the README is.

Nothing here reaches the network: pip runs with ``--no-index`` (and ``--no-build-isolation``,
using the setuptools of the test extra), and the fresh environment sees the runtime
dependencies of this one through a ``.pth`` file instead of installing them. Tests that
share the wheel and the environment build them once (the first one pays).
"""

from __future__ import annotations

import importlib.metadata
import json
import os
import shutil
import subprocess
import sys
import sysconfig
import textwrap
import tomllib
import zipfile
from pathlib import Path
from types import SimpleNamespace

import pytest

from conftest import ROOT

COMMANDS = ("vc-issuer", "vc-verify", "vc-wallet", "tradevc-serve")
# What the build reads besides the package folders (those come from pyproject.toml).
BUILD_FILES = ("pyproject.toml", "README.md")
IGNORED = shutil.ignore_patterns("__pycache__", "*.pyc", "build", "dist", "*.egg-info")


def package_dirs() -> dict[str, str]:
    """Import prefix in the wheel (``tradevc/vc``) -> folder of the repository (``vc``)."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["setuptools"]
    return {name.replace(".", "/"): folder for name, folder in config["package-dir"].items()}


def clean_env(**extra: str) -> dict[str, str]:
    """This environment without what would point Python or pip elsewhere."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PIP_", "PYTHON", "VIRTUAL_ENV"))}
    env.update(PIP_DISABLE_PIP_VERSION_CHECK="1", PYTHONDONTWRITEBYTECODE="1", **extra)
    return env


def run(command: list[str], *, cwd: Path, env: dict[str, str] | None = None, timeout: float = 180):
    done = subprocess.run(command, cwd=cwd, env=env or clean_env(), capture_output=True, text=True, timeout=timeout)
    assert done.returncode == 0, f"{' '.join(map(str, command))} failed:\n{done.stdout}\n{done.stderr}"
    return done


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    """The wheel, built from a copy of the sources (a build in the checkout would leave
    build/ there, whose stale files a later build would package)."""
    work = tmp_path_factory.mktemp("wheel")
    source = work / "source"
    source.mkdir()
    for name in BUILD_FILES:
        shutil.copy2(ROOT / name, source / name)
    for folder in package_dirs().values():
        shutil.copytree(ROOT / folder, source / folder, ignore=IGNORED)
    run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--no-index",
         "-w", str(work / "dist"), str(source)], cwd=work)
    wheels = list((work / "dist").glob("*.whl"))
    assert len(wheels) == 1, wheels
    return wheels[0]


@pytest.fixture(scope="module")
def installed(wheel, tmp_path_factory) -> SimpleNamespace:
    """A fresh virtual environment with the wheel installed (by this environment's pip, offline)
    and this environment's site-packages, for the runtime dependencies, behind its own."""
    venv = tmp_path_factory.mktemp("venv") / "venv"
    run([sys.executable, "-m", "venv", "--without-pip", str(venv)], cwd=venv.parent)
    python = venv / "bin" / "python"
    run([sys.executable, "-m", "pip", "--python", str(python), "install", "--no-deps", "--no-index", str(wheel)],
        cwd=venv.parent)
    purelib = Path(run([str(python), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
                       cwd=venv.parent).stdout.strip())
    # Lines of a .pth file are appended to sys.path after the new site-packages, and .pth files
    # in the directories they name are not run: the editable install of this checkout (an
    # import hook started by a .pth file there) stays out, and the wheel's copy is imported.
    ours = dict.fromkeys([sysconfig.get_path("purelib"), sysconfig.get_path("platlib")])
    (purelib / "tradevc_test_dependencies.pth").write_text("\n".join(ours) + "\n", encoding="utf-8")
    return SimpleNamespace(root=venv, python=python, bin=venv / "bin", site_packages=purelib)


def test_the_wheel_holds_one_import_root_and_every_file(wheel):
    with zipfile.ZipFile(wheel) as archive:
        names = [n for n in archive.namelist() if not n.endswith("/")]
        dist_info = next(n.split("/")[0] for n in names if n.endswith(".dist-info/METADATA"))
        top_level = archive.read(f"{dist_info}/top_level.txt").decode().split()
        entry_points = archive.read(f"{dist_info}/entry_points.txt").decode()
    roots = {n.split("/")[0] for n in names if not n.split("/")[0].endswith((".dist-info", ".data"))}
    assert roots == {"tradevc"} and top_level == ["tradevc"]

    expected = set()
    for prefix, folder in package_dirs().items():
        for path in (ROOT / folder).rglob("*"):
            relative = path.relative_to(ROOT / folder)
            if path.is_file() and "__pycache__" not in relative.parts and path.suffix != ".pyc":
                expected.add(f"{prefix}/{relative.as_posix()}")
    packaged = {n for n in names if n.startswith("tradevc/")}
    assert not expected - packaged, f"in the repository but not in the wheel: {sorted(expected - packaged)}"
    assert not packaged - expected, f"in the wheel but not in the repository: {sorted(packaged - expected)}"

    # The data files by kind, so that an empty listing above cannot pass for a complete one.
    def count(prefix: str, suffix: str) -> int:
        return sum(1 for n in packaged if n.startswith(prefix) and n.endswith(suffix) and "/" not in n[len(prefix):])

    assert count("tradevc/contexts/", ".jsonld") == len(list((ROOT / "contexts").glob("*.jsonld"))) >= 10
    assert "tradevc/contexts/index.json" in packaged
    assert count("tradevc/contexts/schemas/", ".json") == len(list((ROOT / "contexts" / "schemas").glob("*.json"))) >= 5
    assert count("tradevc/issuer/examples/", ".json") == len(list((ROOT / "issuer" / "examples").glob("*.json"))) >= 4
    for package in ("tradevc", "tradevc/vc", "tradevc/issuer", "tradevc/verifier", "tradevc/wallet", "tradevc/service"):
        assert f"{package}/py.typed" in packaged
    for command in COMMANDS:
        assert f"{command} = tradevc." in entry_points


def lookalike_folder(tmp_path: Path, installed: SimpleNamespace) -> tuple[Path, str]:
    """A working directory like a README user's: ``wallet/`` made by the installed
    ``vc-wallet init`` with ``TRADEVC_WALLET_HOME=./wallet``, and ``vc/`` and ``contexts/``
    that break whatever reads them instead of the installed package."""
    work = tmp_path / "work"
    (work / "vc").mkdir(parents=True)
    (work / "vc" / "__init__.py").write_text('raise ImportError("imported ./vc instead of tradevc.vc")\n')
    (work / "contexts").mkdir()
    (work / "contexts" / "index.json").write_text('{"contexts": "not the pinned ones"}\n')
    (work / "contexts" / "credentials-v2.jsonld").write_text("not JSON\n")
    (work / "wallet-passphrase.txt").write_text("correct horse battery staple\n")
    env = clean_env(TRADEVC_WALLET_HOME="./wallet", TRADEVC_WALLET_PASSPHRASE_FILE="./wallet-passphrase.txt")
    init = run([str(installed.bin / "vc-wallet"), "init"], cwd=work, env=env)
    holder = init.stdout.split("holder DID:")[1].split()[0]
    assert (work / "wallet").is_dir() and holder.startswith("did:key:")
    return work, holder


# The README's flows, from the names `tradevc` exports: run in the fresh environment, and
# checked with mypy --strict, where assert_type fails for a type that came out as Any.
README_API = textwrap.dedent('''\
    """Sign, verify, present, and JOSE, as the README shows them."""

    from __future__ import annotations

    import sys
    from datetime import datetime, timezone
    from typing import Any, assert_type

    import tradevc
    from tradevc import (
        CheckResult, Issuer, KeyPair, PresentationResult, TrustPolicy, VerificationResult, Verifier,
        sign_credential, sign_credential_jwt, sign_presentation, verify_credential, verify_presentation,
    )
    from tradevc.verifier.batch import iter_verify_many
    from tradevc.wallet import Wallet
    from tradevc.wallet.service import CheckChange


    def issuing(issuer: Issuer, subject: dict[str, Any]) -> None:  # type-checked only: needs an issuer home
        assert_type(issuer.issue(subject, type_name="USMCACertificationOfOrigin"), dict[str, Any])
        assert_type(issuer.issue(subject, type_name="USMCACertificationOfOrigin", securing="jose"), str)


    key = KeyPair.generate("Ed25519")  # or "P-256", "P-384"
    assert_type(key.did, str)
    credential: dict[str, Any] = {
        "@context": ["https://www.w3.org/ns/credentials/v2", "https://w3id.org/traceability/v1"],
        "type": ["VerifiableCredential", "USMCACertificationOfOrigin"],
        "issuer": key.did,
        "validFrom": "2026-01-01T00:00:00Z",
        "validUntil": "2026-12-31T23:59:59Z",
        "credentialSubject": {"type": ["USMCAClaims"], "goods": [{"type": ["Product"], "commodityCode": "730419"}]},
    }
    signed = sign_credential(credential, key, cryptosuite="eddsa-rdfc-2022", created="2026-01-02T09:00:00Z")
    assert_type(signed, dict[str, Any])

    policy = TrustPolicy({key.did: ["USMCACertificationOfOrigin"]})
    at_the_border = datetime(2026, 6, 1, tzinfo=timezone.utc)
    result = verify_credential(signed, policy=policy, now=at_the_border)
    assert_type(result, VerificationResult)
    assert_type(result.verified, bool)
    assert_type(result.checks, list[CheckResult])
    assert_type(result.summary(), str)
    assert result.verified, result.summary()
    assert [check.name for check in result.checks if check.outcome == "failed"] == []
    code = result.check("proof").code
    assert_type(code, str | None)

    signed["credentialSubject"]["goods"][0]["commodityCode"] = "720851"  # tamper with one claim
    tampered = verify_credential(signed, policy=policy, now=at_the_border)
    assert not tampered.verified and tampered.check("proof").code == "PROOF_VERIFICATION_ERROR"

    importer = KeyPair.generate("Ed25519")
    signed = sign_credential(credential, key, created="2026-01-02T09:00:00Z")
    vp = sign_presentation([signed], importer, challenge="b2c6e1f0-entry-0042", domain="cbp.gov",
                           created="2026-05-31T23:58:00Z")
    presented = verify_presentation(vp, challenge="b2c6e1f0-entry-0042", domain="cbp.gov", policy=policy,
                                    now=at_the_border)
    assert_type(presented, PresentationResult)
    assert_type(presented.credentials[0].verified, bool)
    assert presented.verified and presented.credentials[0].verified

    mill = KeyPair.generate("P-384")  # ES384
    token = sign_credential_jwt(dict(credential, issuer=mill.did), mill)
    assert_type(token, str)
    both = TrustPolicy({key.did: ["USMCACertificationOfOrigin"], mill.did: ["USMCACertificationOfOrigin"]})
    customs = Verifier(policy=both, network=False, clock=lambda: at_the_border)
    reports = customs.verify_many([signed, token], workers=1)
    assert_type(reports, list[VerificationResult])
    assert [r.verified for r in reports] == [True, True], [r.summary() for r in reports]
    assert [r.verified for r in iter_verify_many(customs, [token], workers=1)] == [True]

    if len(sys.argv) > 1:  # the wallet that vc-wallet init made in ./wallet, and its passphrase
        wallet = Wallet.open("wallet", sys.argv[1])
        assert_type(wallet, Wallet)
        assert_type(wallet.holder_did, str)
        changes = wallet.check(now=at_the_border)
        assert_type(changes, list[CheckChange])
        assert changes == []
        print(wallet.holder_did)
    assert_type(tradevc.__version__, str)
    print(tradevc.__file__)
    ''')


def test_the_installed_wheel_works_from_a_folder_of_lookalikes(installed, tmp_path):
    work, holder = lookalike_folder(tmp_path, installed)
    env = clean_env()
    script = work / "readme_api.py"  # its folder, with vc/ and contexts/, comes first on sys.path
    script.write_text(README_API, encoding="utf-8")
    done = run([str(installed.python), str(script), "correct horse battery staple"], cwd=work, env=env)
    wallet_did, module_file = done.stdout.split()
    assert wallet_did == holder
    assert Path(module_file).is_relative_to(installed.site_packages), module_file

    imports = run([str(installed.python), "-c", textwrap.dedent("""\
        import sys
        from tradevc.wallet import Wallet
        from tradevc import Verifier, TrustPolicy, sign_credential, verify_credential, sign_presentation, verify_presentation, KeyPair
        print(sorted(m for m in sys.modules if m.split(".")[0] in ("vc", "wallet", "contexts", "issuer", "verifier")))
        """)], cwd=work, env=env)
    assert imports.stdout.strip() == "[]"

    version = importlib.metadata.version("tradevc")
    for command in COMMANDS:
        done = run([str(installed.bin / command), "--version"], cwd=work, env=env)
        assert done.stdout == f"{command} (tradevc) {version}\n"
    help_text = run([str(installed.python), "-m", "tradevc.verifier", "--help"], cwd=work, env=env).stdout
    assert help_text.startswith("Usage: ") and "batch" in help_text
    for package, command in (("tradevc.issuer", "vc-issuer"), ("tradevc.wallet", "vc-wallet")):
        assert run([str(installed.python), "-m", package, "--version"], cwd=work, env=env).stdout.endswith(
            f"(tradevc) {version}\n"
        ), command


WRONG = textwrap.dedent('''\
    from tradevc import TrustPolicy, verify_credential

    verified: str = verify_credential({}, policy=TrustPolicy({"did:example:1": ["X"]})).verified
    ''')

STAR = textwrap.dedent('''\
    from typing import assert_type

    from tradevc import *

    assert_type(KeyPair.generate("P-256"), KeyPair)
    assert_type(Verifier(policy=TrustPolicy({"did:example:1": ["X"]})).verify_credential({}), VerificationResult)
    ''')


def test_mypy_strict_accepts_the_readme_api_against_the_installed_wheel(installed, tmp_path):
    """``readme_api.py`` and ``star.py`` pass; ``wrong.py`` shows that mypy read the installed
    types (without them, a missing import would be the error instead)."""
    work = tmp_path / "typecheck"
    work.mkdir()
    (work / "readme_api.py").write_text(README_API, encoding="utf-8")
    (work / "star.py").write_text(STAR, encoding="utf-8")
    (work / "wrong.py").write_text(WRONG, encoding="utf-8")
    done = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--python-executable", str(installed.python),
         "--cache-dir", str(tmp_path / "mypy-cache"), "--no-color-output", "--no-error-summary",
         "readme_api.py", "star.py", "wrong.py"],
        cwd=work, env=clean_env(), capture_output=True, text=True, timeout=300,
    )
    assert done.stderr == ""
    assert done.stdout.splitlines() == [
        'wrong.py:3: error: Incompatible types in assignment (expression has type "bool", variable has type "str")'
        "  [assignment]",
    ], done.stdout
    assert done.returncode == 1
