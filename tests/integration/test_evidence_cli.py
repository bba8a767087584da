"""``vc-verify evidence-key init``, ``vc-verify credential|presentation --evidence`` and
``vc-verify replay``, against a did:web mill served by the local HTTPS server (through
``--mirror``): the bundle is written sealed, replays to the same decision after the site is
gone (exit 0), a bundle whose recorded report says otherwise replays as different (exit 1),
and a tampered one is refused in one line (exit 2)."""

from __future__ import annotations

import base64
import hashlib
import json
import shutil
from datetime import datetime, timedelta, timezone

import pytest
from click.testing import CliRunner

from tradevc import sign_presentation
from tradevc.issuer import Issuer, sign_credential
from tradevc.issuer.credential_types import load_example
from tradevc.vc.keys import KeyPair
from tradevc.verifier.cli import cli
from tradevc.verifier.evidence import open_evidence_key, seal_bundle

PASS = b"issuer passphrase"
KEY_PASS = "evidence key passphrase, long enough"
MILL = "mill.example"
T = datetime.now(timezone.utc).replace(microsecond=0)


def stamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


@pytest.fixture
def world(tmp_path, https_server):
    mill = Issuer.init(tmp_path / "mill", PASS, name="Aceros del Norte", did_web_domain=MILL,
                       status_base_url=f"https://{MILL}/status/")
    issued = mill.issue(load_example("USMCACertificationOfOrigin"), type_name="USMCACertificationOfOrigin",
                        valid_from=stamp(T - timedelta(days=90)), valid_until=stamp(T + timedelta(days=200)))
    key, method = mill.home.signing_key(PASS)
    signed = sign_credential({k: v for k, v in issued.items() if k != "proof"}, key, verification_method=method,
                             created=stamp(T - timedelta(days=60)))
    mill.publish(https_server.site(MILL))
    (tmp_path / "credential.json").write_text(json.dumps(signed))
    (tmp_path / "trust.json").write_text(json.dumps({"trustedIssuers": {mill.did: ["USMCACertificationOfOrigin"]}}))
    (tmp_path / "pass.txt").write_text(KEY_PASS + "\n")
    yield mill, signed
    mill.close()


def run(*args, env=None):
    result = CliRunner().invoke(cli, [str(a) for a in args], env=env)
    assert "Traceback" not in result.output, result.output
    return result


def fetching(tmp_path, https_server):
    return ["--trust", tmp_path / "trust.json", "--ca-bundle", https_server.ca_path,
            "--mirror", f"{MILL}={https_server.url(MILL + '/')}", "--no-cache"]


def make_key(tmp_path):
    made = run("evidence-key", "init", "--home", tmp_path / "customs", "--passphrase-file", tmp_path / "pass.txt")
    assert made.exit_code == 0, made.output
    did = made.output.strip()
    assert did.startswith("did:key:")
    assert run("evidence-key", "show", "--home", tmp_path / "customs").output.strip() == did
    again = run("evidence-key", "init", "--home", tmp_path / "customs", "--passphrase-file", tmp_path / "pass.txt")
    assert again.exit_code == 2 and again.output.startswith("error: ") and "already holds" in again.output
    return did


def test_credential_evidence_replays_after_the_site_is_gone(world, tmp_path, https_server):
    did = make_key(tmp_path)
    out = tmp_path / "bundle.json"
    verified = run("credential", tmp_path / "credential.json", *fetching(tmp_path, https_server),
                   "--evidence", out, "--evidence-home", tmp_path / "customs",
                   "--evidence-passphrase-file", tmp_path / "pass.txt")
    assert verified.exit_code == 0, verified.output
    bundle = json.loads(out.read_text())
    assert bundle["proof"]["verificationMethod"].startswith(did + "#")
    shutil.rmtree(https_server.site(MILL))

    same = run("replay", out, "--seal-key", did)
    assert same.exit_code == 0, same.output
    assert same.output.startswith("SAME DECISION: verified, as recorded\n")
    as_json = json.loads(run("replay", out, "--seal-key", did, "--json").output)
    assert as_json["same"] is True and as_json["sealKeyPinned"] is True and as_json["differences"] == []
    unpinned = run("replay", out)  # no key pinned, no evidence home: refused
    assert unpinned.exit_code == 2 and "no sealing key to check the seal against" in unpinned.output
    own = run("replay", out, "--evidence-home", tmp_path / "customs")  # the home's own key is pinned
    assert own.exit_code == 0 and own.output.startswith("SAME DECISION") and "NOT checked" not in own.output
    loose = run("replay", out, "--any-sealer")
    assert loose.exit_code == 0 and "the sealer was NOT checked against a pinned key" in loose.output

    other = run("replay", out, "--seal-key", KeyPair.generate("Ed25519").did)
    assert other.exit_code == 2 and "not one of the trusted sealing keys" in other.output
    assert len(other.output.strip().splitlines()) == 1


def test_a_different_recorded_report_replays_as_different(world, tmp_path, https_server):
    make_key(tmp_path)
    out = tmp_path / "bundle.json"
    assert run("credential", tmp_path / "credential.json", *fetching(tmp_path, https_server), "--evidence", out,
               "--evidence-home", tmp_path / "customs", env={"TRADEVC_EVIDENCE_PASSPHRASE": KEY_PASS}).exit_code == 0
    bundle = json.loads(out.read_text())
    for check in bundle["report"]["checks"]:
        if check["name"] == "revocation":
            check.update(outcome="failed", code="REVOKED")
    bundle["report"]["outcome"] = "not_verified"
    key = open_evidence_key(tmp_path / "customs", KEY_PASS)
    out.write_text(json.dumps(seal_bundle(bundle, key)))
    different = run("replay", out, "--seal-key", key.did)
    assert different.exit_code == 1, different.output
    assert different.output.startswith("DIFFERENT DECISION: recorded not_verified, replayed verified")
    assert any(line.strip().startswith("revocation") and "failed [REVOKED]" in line and "-> passed" in line
               for line in different.output.splitlines()), different.output

    bundle = json.loads(out.read_text())  # the same outcome, one check under it otherwise: exit 0, shown
    bundle["report"]["outcome"] = "verified"
    for check in bundle["report"]["checks"]:
        if check["name"] == "revocation":
            check.update(outcome="skipped", code=None)
    out.write_text(json.dumps(seal_bundle(bundle, key)))
    under = run("replay", out, "--seal-key", key.did)
    assert under.exit_code == 0, under.output
    assert under.output.startswith("SAME DECISION: verified, as recorded; but 1 difference under it")
    assert any(line.strip().startswith("revocation") and ": skipped: " in line and "-> passed: " in line
               for line in under.output.splitlines()), under.output


@pytest.mark.parametrize("what", ["report", "retrieved bytes", "proof"])
def test_a_tampered_bundle_exits_2_in_one_line(world, tmp_path, https_server, what):
    did = make_key(tmp_path)
    out = tmp_path / "bundle.json"
    assert run("credential", tmp_path / "credential.json", *fetching(tmp_path, https_server), "--evidence", out,
               "--evidence-home", tmp_path / "customs", "--evidence-passphrase-file",
               tmp_path / "pass.txt").exit_code == 0
    bundle = json.loads(out.read_text())
    if what == "report":
        bundle["report"]["checks"][0]["outcome"] = "failed"
    elif what == "retrieved bytes":
        entry = next(e for e in bundle["retrieved"] if e["kind"] == "did")
        data = bytearray(base64.b64decode(entry["bytes"]))
        data[20] ^= 4
        entry["bytes"] = base64.b64encode(bytes(data)).decode()
    else:
        jws = bundle["proof"]["jws"]
        bundle["proof"]["jws"] = jws[:-3] + ("AAA" if not jws.endswith("AAA") else "BBB")
    out.write_text(json.dumps(bundle))
    refused = run("replay", out, "--seal-key", did)
    assert refused.exit_code == 2, refused.output
    lines = refused.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), refused.output
    expected = {"report": "does not match its seal", "retrieved bytes": "does not match its sha256",
                "proof": "signature does not verify"}[what]
    assert expected in lines[0]


def test_evidence_needs_a_key_and_the_right_passphrase(world, tmp_path, https_server):
    out = tmp_path / "bundle.json"
    no_passphrase = run("evidence-key", "init", "--home", tmp_path / "customs", env={
        "TRADEVC_EVIDENCE_PASSPHRASE": "", "TRADEVC_EVIDENCE_PASSPHRASE_FILE": ""})
    assert no_passphrase.exit_code == 2 and no_passphrase.output.startswith("error: no passphrase"), no_passphrase.output
    (tmp_path / "weak.txt").write_text("short\n")
    weak = run("evidence-key", "init", "--home", tmp_path / "customs", "--passphrase-file", tmp_path / "weak.txt")
    assert weak.exit_code == 2 and weak.output.startswith("error: ") and not (tmp_path / "customs").exists(), weak.output
    no_home = run("credential", tmp_path / "credential.json", *fetching(tmp_path, https_server), "--evidence", out)
    assert no_home.exit_code == 2 and "--evidence-home" in no_home.output and not out.exists()
    make_key(tmp_path)
    (tmp_path / "wrong.txt").write_text("not the passphrase at all\n")
    wrong = run("credential", tmp_path / "credential.json", *fetching(tmp_path, https_server), "--evidence", out,
                "--evidence-home", tmp_path / "customs", "--evidence-passphrase-file", tmp_path / "wrong.txt")
    assert wrong.exit_code == 2 and "wrong passphrase" in wrong.output and not out.exists()


def test_presentation_evidence_replays_without_the_challenge_store(world, tmp_path, https_server):
    mill, signed = world
    did = make_key(tmp_path)
    store = tmp_path / "challenges.sqlite"
    issued = run("challenge", "new", "--challenges", store)
    assert issued.exit_code == 0, issued.output
    challenge = issued.output.strip().splitlines()[0]
    holder = KeyPair.generate("Ed25519")
    presentation = sign_presentation([signed], holder, challenge=challenge, domain="customs.example")
    (tmp_path / "vp.json").write_text(json.dumps(presentation))
    out = tmp_path / "vp-bundle.json"
    verified = run("presentation", tmp_path / "vp.json", *fetching(tmp_path, https_server), "--challenge", challenge,
                   "--domain", "customs.example", "--challenges", store, "--evidence", out,
                   "--evidence-home", tmp_path / "customs", "--evidence-passphrase-file", tmp_path / "pass.txt")
    assert verified.exit_code == 0, verified.output
    shutil.rmtree(https_server.site(MILL))
    same = run("replay", out, "--seal-key", did)  # the challenge is used up by now: not asked again
    assert same.exit_code == 0 and same.output.startswith("SAME DECISION: verified, as recorded\n"), same.output
    assert "note: the challenge store was not consulted on replay" in same.output


def test_credential_evidence_goes_straight_into_the_archive(world, tmp_path, https_server, monkeypatch):
    """--archive DIR --ledger DB: the sealed bundle is written and archived in one step; the
    archive shows who sealed it; after the site is gone, the decision is re-verified from it,
    and a compromised mill key changes it."""
    monkeypatch.delenv("TRADEVC_LEDGER", raising=False)
    monkeypatch.delenv("TRADEVC_ARCHIVE_SEALERS", raising=False)
    mill, signed = world
    did = make_key(tmp_path)
    out = tmp_path / "bundle.json"
    where = ["--archive", tmp_path / "archive", "--ledger", tmp_path / "ledger.db"]
    evidence = ["--evidence-home", tmp_path / "customs", "--evidence-passphrase-file", tmp_path / "pass.txt"]
    verified = run("credential", tmp_path / "credential.json", *fetching(tmp_path, https_server), "--evidence", out,
                   *evidence, *where, "--json")
    assert verified.exit_code == 0, verified.output
    assert json.loads(verified.stdout)["outcome"] == "verified"
    digest = hashlib.sha256(out.read_bytes()).hexdigest()
    assert f"evidence: archived {digest}" in verified.stderr
    listed = run("archive", "list", *where, "--json")
    assert [(b["digest"], b["sealer"]) for b in json.loads(listed.stdout)] == [(digest, f"{did}#{did[8:]}")]
    assert f"sealed by {did}" in run("archive", "list", *where).stdout

    shutil.rmtree(https_server.site(MILL))
    method = signed["proof"]["verificationMethod"]
    found = run("archive", "reverify", *where, "--sealer", did, "--verification-method", method, "--compromised",
                method, "--workers", "1", "--json")
    assert found.exit_code == 0, found.output
    outcome = json.loads(found.stdout)["outcomes"][0]
    assert outcome["recorded"] == "verified" and outcome["now"] == "not-verified" and method in outcome["reason"]
    unchanged = json.loads(run("archive", "reverify", *where, "--sealer", did, "--workers", "1", "--json").stdout)
    assert unchanged["changed"] == 0 and unchanged["outcomes"][0]["now"] == "verified"


@pytest.mark.parametrize(("extra", "message"), [
    (["--archive", "{tmp}/archive", "--ledger", "{tmp}/ledger.db"], "--archive keeps the sealed evidence bundle: "
                                                                    "give --evidence OUT.json"),
    (["--evidence", "{tmp}/b.json", "--archive", "{tmp}/archive"], "--archive needs the ledger database"),
    (["--evidence", "{tmp}/b.json", "--archive", "{tmp}/archive", "--ledger", "{tmp}/credential.json"],
     "--archive {tmp}/archive: "),
])
def test_archive_options_that_cannot_be_used_are_one_line_before_verifying(world, tmp_path, https_server, monkeypatch,
                                                                           extra, message):
    monkeypatch.delenv("TRADEVC_LEDGER", raising=False)
    make_key(tmp_path)
    https_server.requested.clear()
    args = [a.replace("{tmp}", str(tmp_path)) for a in extra]
    result = run("credential", tmp_path / "credential.json", *fetching(tmp_path, https_server), *args,
                 "--evidence-home", tmp_path / "customs", "--evidence-passphrase-file", tmp_path / "pass.txt")
    assert result.exit_code == 2, result.output
    assert result.stderr.startswith("error: ") and message.replace("{tmp}", str(tmp_path)) in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1 and https_server.requested == []
    assert not (tmp_path / "b.json").exists()
