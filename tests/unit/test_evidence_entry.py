"""Evidence of an entry decision (the border world of tests/support/entries.py: did:key
issuers, a trust policy with roots and a trust store): the bundle records the declaration,
the presentation, the policy with its stored vouches and the entry rules; sealed, it replays
to the same decision, an accepted and a rejected entry alike, from the command line too."""

from __future__ import annotations

import copy
import json
from pathlib import Path

from click.testing import CliRunner

from support.entries import CHALLENGE, DOMAIN, World
from tradevc.vc.keys import KeyPair
from tradevc.verifier.cli import cli
from tradevc.verifier.evidence import read_bundle, replay, seal_bundle, with_evidence

CUSTOMS = KeyPair.generate("Ed25519")


def bundle_of(world: World) -> tuple[object, dict]:
    return with_evidence(world.verifier()).verify_entry(
        world.declaration(), world.presentation(), challenge=CHALLENGE, domain=DOMAIN,
        entry_rules=world.policy.get("entryRules"))


def test_an_accepted_entry_replays_as_accepted() -> None:
    report, bundle = bundle_of(World.steel())
    assert report.decision.value == "ACCEPT", report.summary()
    assert bundle["kind"] == "entry"
    index = bundle["index"]
    assert index["entryNumber"] == "ABC-1234567-8" and index["importer"] == "76-1234567"
    assert index["verified"] is True and index["outcome"] == "verified"
    assert len(index["issuers"]) == 3 and len(index["credentialIds"]) == 3
    assert bundle["trust"]["policy"]["kind"] == "trustPaths" and bundle["trust"]["policy"]["anchors"]
    again = replay(seal_bundle(bundle, CUSTOMS), trusted=[CUSTOMS.did])
    assert again.same, again.differences
    assert again.report["decision"] == "ACCEPT"


def test_a_rejected_entry_replays_as_rejected_and_a_changed_report_shows() -> None:
    world = World.steel()
    world.line = dict(world.line, countryOfMeltAndPour="CN")
    report, bundle = bundle_of(world)
    assert report.decision.value == "REJECT"
    assert bundle["index"]["verified"] is False and bundle["index"]["outcome"] == "not-verified"
    assert replay(seal_bundle(bundle, CUSTOMS)).same

    forged = copy.deepcopy(bundle)
    forged["report"]["decision"] = "ACCEPT"
    forged["report"]["lines"][0]["decision"] = "ACCEPT"
    again = replay(seal_bundle(forged, CUSTOMS))
    assert {d.where for d in again.differences} >= {"decision", "line 1"}, again.differences


def test_vc_verify_entry_writes_evidence_that_replays(tmp_path: Path) -> None:
    world = World.steel()
    (tmp_path / "pass.txt").write_text("evidence key passphrase, long enough\n")
    made = CliRunner().invoke(cli, ["evidence-key", "init", "--home", str(tmp_path / "customs"),
                                    "--passphrase-file", str(tmp_path / "pass.txt")])
    assert made.exit_code == 0, made.output
    out = tmp_path / "entry-bundle.json"
    decided = CliRunner().invoke(cli, ["entry", *world.cli_args(tmp_path), "--evidence", str(out),
                                       "--evidence-home", str(tmp_path / "customs"),
                                       "--evidence-passphrase-file", str(tmp_path / "pass.txt")])
    assert decided.exit_code == 0, decided.output
    assert read_bundle(out).index["entryNumber"] == "ABC-1234567-8"
    assert out.stat().st_mode & 0o777 == 0o600  # it holds the documents presented: private
    replayed = CliRunner().invoke(cli, ["replay", str(out), "--seal-key", made.output.strip(), "--json"])
    assert replayed.exit_code == 0, replayed.output
    assert json.loads(replayed.output)["replayedOutcome"] == "ACCEPT"


def test_vc_verify_entry_archives_its_evidence_beside_the_ledger(tmp_path: Path, monkeypatch) -> None:
    """One step at the border: the entry is decided, its quantities drawn in the ledger, and its
    sealed bundle archived in the same database; found by entry number, it is re-verified."""
    monkeypatch.delenv("TRADEVC_LEDGER", raising=False)
    world = World.steel()
    (tmp_path / "pass.txt").write_text("evidence key passphrase, long enough\n")
    made = CliRunner().invoke(cli, ["evidence-key", "init", "--home", str(tmp_path / "customs"),
                                    "--passphrase-file", str(tmp_path / "pass.txt")])
    did = made.output.strip()
    out, ledger, archive = tmp_path / "entry-bundle.json", str(tmp_path / "border.db"), str(tmp_path / "archive")
    decided = CliRunner().invoke(cli, ["entry", *world.cli_args(tmp_path), "--ledger", ledger, "--evidence", str(out),
                                       "--evidence-home", str(tmp_path / "customs"), "--archive", archive,
                                       "--evidence-passphrase-file", str(tmp_path / "pass.txt")],
                                 env={"TRADEVC_ARCHIVE_SEALERS": did})
    assert decided.exit_code == 0, decided.output
    assert "evidence: archived " in decided.stderr
    where = ["--archive", archive, "--ledger", ledger]
    found = CliRunner().invoke(cli, ["archive", "search", *where, "--entry-number", "ABC-1234567-8", "--json"])
    bundles = json.loads(found.stdout)
    assert len(bundles) == 1 and bundles[0]["kind"] == "entry" and bundles[0]["sealer"].startswith(did + "#")
    assert bundles[0]["importer"] == "76-1234567" and bundles[0]["outcome"] == "verified"
    again = CliRunner().invoke(cli, ["archive", "reverify", *where, "--sealer", did, "--workers", "1", "--json"])
    assert again.exit_code == 0, again.output
    assert json.loads(again.stdout)["outcomes"][0]["now"] == "verified"
    method = bundles[0]["verificationMethods"][0]
    changed = CliRunner().invoke(cli, ["archive", "reverify", *where, "--sealer", did, "--compromised", method,
                                       "--workers", "1"])
    assert changed.exit_code == 0 and "ABC-1234567-8" in changed.stdout and "verified -> not-verified" in changed.stdout
    assert method in changed.stdout
