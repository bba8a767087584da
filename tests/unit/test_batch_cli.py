"""``vc-verify presentation`` and ``vc-verify batch`` as a user meets them (issue 18, points 1
and 10): an empty challenge, presentations in a batch without one, files that cannot be read
or are not documents, nothing to verify, the text summary naming every failing file, and
Ctrl-C. Real files, the real CLI (CliRunner, or a subprocess where a terminal or a signal
matters)."""

from __future__ import annotations

import copy
import json
import os
import signal
import subprocess
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

import pytest
from click.testing import CliRunner

from tradevc.issuer import sign_credential
from tradevc.vc.keys import KeyPair
from tradevc.verifier.cli import cli
from tradevc.wallet import sign_presentation

ROOT = Path(__file__).resolve().parents[2]
REFERENCE = json.loads((ROOT / "bench" / "usmca-certification-of-origin.json").read_text("utf-8"))
KEY = KeyPair.generate("Ed25519")
CHALLENGE, DOMAIN = "c-18", "cbp.gov"
NEEDS = "needs --challenge and --domain"


def credential(number: int = 0) -> dict:
    document = copy.deepcopy(REFERENCE)
    document["id"] = f"urn:uuid:00000000-0000-0000-0000-{number:012d}"
    document["issuer"]["id"] = KEY.did
    del document["validUntil"], document["credentialStatus"]
    return sign_credential(document, KEY, cryptosuite="eddsa-rdfc-2022", created="2026-01-01T00:00:00Z")


@pytest.fixture(scope="module")
def good() -> dict:
    return credential()


@pytest.fixture(scope="module")
def vp(good) -> dict:
    return sign_presentation([good], KEY, challenge=CHALLENGE, domain=DOMAIN, created="2026-06-01T00:00:00Z")


@pytest.fixture
def trust(tmp_path) -> Path:
    path = tmp_path / "trust.json"
    path.write_text(json.dumps({"trustedIssuers": [
        {"did": KEY.did, "name": "Mill", "types": ["USMCACertificationOfOrigin"]}]}))
    return path


def unreadable(path: Path) -> Path:
    """A *.json that cannot be opened, even by root: a symbolic link to nothing."""
    path.symlink_to(path.parent / "gone-missing")
    return path


@pytest.fixture
def inbox(tmp_path, good, vp) -> Path:
    """A good credential, a presentation, a garbage file, an unreadable file and a note."""
    folder = tmp_path / "inbox"
    folder.mkdir()
    (folder / "a-good.json").write_text(json.dumps(good))
    (folder / "b-vp.json").write_text(json.dumps(vp))
    (folder / "c-garbage.json").write_text("{this is not json")
    unreadable(folder / "d-unreadable.json")
    (folder / "notes.txt").write_text("not a document")
    return folder


def run(*args: str):
    return CliRunner().invoke(cli, [str(a) for a in args])


def report_of(result) -> dict:
    return json.loads(result.stdout)


# -- point 1: an empty or missing challenge ----------------------------------------------------


@pytest.mark.parametrize("challenge,domain,named", [
    ("", "", "--challenge"), ("", DOMAIN, "--challenge"), ("   ", DOMAIN, "--challenge"), (CHALLENGE, "", "--domain"),
])
def test_presentation_with_an_empty_challenge_or_domain_is_one_usage_line(tmp_path, trust, vp, challenge, domain, named):
    file = tmp_path / "vp.json"
    file.write_text(json.dumps(vp))
    r = run("presentation", file, "--trust", trust, "--offline", "--challenge", challenge, "--domain", domain)
    assert r.exit_code == 2, r.output
    assert r.exception is None or isinstance(r.exception, SystemExit)
    assert "Traceback" not in r.output and "ValueError" not in r.output
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"error: {named} is empty"), r.stderr


def test_presentation_with_its_challenge_and_domain_still_verifies(tmp_path, trust, vp):
    file = tmp_path / "vp.json"
    file.write_text(json.dumps(vp))
    r = run("presentation", file, "--trust", trust, "--offline", "--challenge", CHALLENGE, "--domain", DOMAIN)
    assert r.exit_code == 0, r.output
    assert r.stdout.startswith("VERIFIED")
