"""Whose seal is accepted (review of issue 20, MEDIUM 1): a forger who edits a bundle and seals
it again with a key of their own is refused by ``vc-verify replay``, ``archive add``,
``archive reindex`` and ``archive reverify`` when no sealer is given, because they then require
the key of the verifier's own evidence home; with neither, they refuse to run; ``--any-sealer``
lets any key through and says so."""

from __future__ import annotations

import json
from datetime import datetime, timezone

import pytest
from click.testing import CliRunner

from support.bundles import credential, make_bundle, policy_document, to_bytes
from tradevc.vc.keys import KeyPair
from tradevc.verifier.cli import cli
from tradevc.verifier.evidence import open_evidence_key, seal_bundle

MILL = KeyPair.generate("Ed25519")
FORGER = KeyPair.generate("Ed25519")
PASSPHRASE = "evidence key passphrase, long enough"
NOT_PINNED = "NOT checked against a pinned key"


@pytest.fixture(scope="module")
def home(tmp_path_factory):
    """The verifier's evidence home (made by 'vc-verify evidence-key init'), its did:key, and
    two bundles: one it sealed, one a forger edited and sealed again with their own key."""
    folder = tmp_path_factory.mktemp("customs")
    (folder / "pass.txt").write_text(PASSPHRASE + "\n")
    made = CliRunner().invoke(cli, ["evidence-key", "init", "--home", str(folder / "home"),
                                    "--passphrase-file", str(folder / "pass.txt")])
    assert made.exit_code == 0, made.output
    key = open_evidence_key(folder / "home", PASSPHRASE)
    genuine = make_bundle(credential(MILL, 1), policy_document(MILL), at=datetime(2026, 3, 5, tzinfo=timezone.utc),
                          entry_number="316-1111111-1", importer="Acme Imports", sealer=key)
    forged = json.loads(json.dumps(genuine))
    forged["index"]["importer"] = "Someone Else"
    files = {"genuine": folder / "genuine.json", "forged": folder / "forged.json"}
    files["genuine"].write_bytes(to_bytes(genuine))
    files["forged"].write_bytes(to_bytes(seal_bundle(forged, FORGER)))
    return folder / "home", made.output.strip(), files


def run(*args, env=None):
    result = CliRunner().invoke(cli, [str(a) for a in args], env={"TRADEVC_EVIDENCE_HOME": None,
                                                                  "TRADEVC_ARCHIVE_SEALERS": None, **(env or {})})
    assert "Traceback" not in result.output, result.output
    return result


@pytest.fixture
def where(tmp_path):
    return ["--archive", tmp_path / "archive", "--ledger", tmp_path / "ledger.db"]


def test_replay_requires_a_pinned_key_and_defaults_to_the_homes(home):
    folder, did, files = home
    refused = run("replay", files["genuine"])
    assert refused.exit_code == 2 and refused.stderr.startswith("error: no sealing key to check the seal against: "
                                                                "give --seal-key DID")
    assert "--any-sealer" in refused.stderr and len(refused.stderr.strip().splitlines()) == 1

    own = run("replay", files["genuine"], "--evidence-home", folder)
    assert own.exit_code == 0 and own.stdout.startswith("SAME DECISION") and NOT_PINNED not in own.output
    assert run("replay", files["genuine"], env={"TRADEVC_EVIDENCE_HOME": str(folder)}).exit_code == 0
    assert run("replay", files["genuine"], "--seal-key", did).exit_code == 0

    for pin in (["--evidence-home", folder], ["--seal-key", did]):
        forged = run("replay", files["forged"], *pin)
        assert forged.exit_code == 2, forged.output
        assert f"sealed by {FORGER.verification_method}, which is not one of the trusted sealing keys" in forged.stderr

    inspected = run("replay", files["forged"], "--any-sealer")
    assert inspected.exit_code == 0 and f"by {FORGER.verification_method}; the sealer was {NOT_PINNED}" in inspected.stdout
    assert inspected.stderr.startswith(f"warning: the sealer was {NOT_PINNED}")
    as_json = json.loads(run("replay", files["forged"], "--any-sealer", "--json").stdout)
    assert as_json["sealKeyPinned"] is False and NOT_PINNED in as_json["sealerNote"]
    both = run("replay", files["genuine"], "--any-sealer", "--seal-key", did)
    assert both.exit_code == 2 and "give --seal-key or --any-sealer, not both" in both.stderr


def test_replay_with_a_home_without_a_key_is_refused(tmp_path, home):
    _, _, files = home
    empty = run("replay", files["genuine"], "--evidence-home", tmp_path)
    assert empty.exit_code == 2 and empty.stderr.startswith(f"error: no evidence key in {tmp_path} to check seals")


def test_archive_add_pins_the_homes_key(home, where):
    folder, did, files = home
    refused = run("archive", "add", *where, files["genuine"])
    assert refused.exit_code == 2 and "no sealing key to check the seal against: give --sealer DID" in refused.stderr
    assert run("archive", "list", *where, "--json").stdout.strip() == "[]"

    added = run("archive", "add", *where, "--evidence-home", folder, files["genuine"], files["forged"])
    assert added.exit_code == 1 and added.stdout.startswith("archived ") and NOT_PINNED not in added.output
    assert f"error: {files['forged']}: the bundle's seal does not hold: the bundle is sealed by " \
           f"{FORGER.verification_method}, which is not one of the trusted sealing keys ({did})" in added.stderr
    listed = json.loads(run("archive", "list", *where, "--json").stdout)
    assert [b["importer"] for b in listed] == ["Acme Imports"]

    both = run("archive", "add", *where, "--any-sealer", "--sealer", did, files["forged"])
    assert both.exit_code == 2 and "give --sealer or --any-sealer, not both" in both.stderr
    inspected = run("archive", "add", *where, "--any-sealer", files["forged"], "--json")
    assert inspected.exit_code == 0 and json.loads(inspected.stdout)[0]["sealerPinned"] is False
    assert f"warning: the sealer was {NOT_PINNED}" in inspected.stderr
    text = run("archive", "add", *where, "--any-sealer", files["forged"])
    assert f"(sealed by {FORGER.verification_method}; the sealer was {NOT_PINNED} (--any-sealer))" in text.stdout


def test_archive_reverify_and_reindex_pin_the_homes_key(home, where, tmp_path):
    folder, did, files = home
    assert run("archive", "add", *where, "--any-sealer", files["genuine"], files["forged"]).exit_code == 0
    refused = run("archive", "reverify", *where, "--workers", "1")
    assert refused.exit_code == 2 and "no sealing key to check the seal against" in refused.stderr

    checked = json.loads(run("archive", "reverify", *where, "--workers", "1", "--json",
                             env={"TRADEVC_EVIDENCE_HOME": str(folder)}).stdout)
    by_importer = {o["importer"]: o for o in checked["outcomes"]}
    assert checked["sealerPinned"] is True and by_importer["Acme Imports"]["now"] == "verified"
    forged = by_importer["Someone Else"]
    assert forged["now"] == "could-not-verify" and f"sealed by {FORGER.verification_method}" in forged["reason"]

    loose = run("archive", "reverify", *where, "--workers", "1", "--any-sealer", "--json")
    assert json.loads(loose.stdout)["sealerPinned"] is False and NOT_PINNED in loose.stderr

    # reindex: files the index lost are indexed again only if sealed by the pinned key
    (tmp_path / "ledger.db").unlink()
    assert run("archive", "reindex", *where).exit_code == 2
    again = run("archive", "reindex", *where, "--evidence-home", folder)
    assert again.exit_code == 1 and again.stdout.count("indexed ") == 1 and "not indexed: unindexed" in again.stderr
