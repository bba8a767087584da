"""End to end over real HTTPS: an issuer with a did:web identity (did:web:mill.example) issues,
publishes its DID document and status lists to its site on a local HTTPS server, and customs'
Verifier checks them, reading mill.example from that server through a public mirror
(vc.mirror): revocation, suspension and reinstatement, key rotation, and a list signed by
another issuer."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest
from click.testing import CliRunner

from tradevc.issuer import Issuer
from tradevc.issuer.cli import cli as issuer_cli
from tradevc.issuer.credential_types import load_example
from tradevc.verifier import TrustPolicy, Verifier
from tradevc.verifier.cli import cli as verify_cli

PASS = b"issuer passphrase"
MILL_HOST = "mill.example"
VALID_FROM = datetime.now(timezone.utc).replace(microsecond=0) - timedelta(days=1)
VALID_UNTIL = VALID_FROM + timedelta(days=300)


def stamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


@pytest.fixture
def mill(tmp_path, https_server):
    issuer = Issuer.init(
        tmp_path / "mill", PASS, name="Aceros del Norte", did_web_domain=MILL_HOST,
        status_base_url=f"https://{MILL_HOST}/status/",
    )
    yield issuer
    issuer.close()


def certificate(issuer):
    return issuer.issue(
        load_example("USMCACertificationOfOrigin"), type_name="USMCACertificationOfOrigin",
        valid_from=stamp(VALID_FROM), valid_until=stamp(VALID_UNTIL),
    )


def verifier(https_server, issuer):
    policy = TrustPolicy({issuer.did: ["USMCACertificationOfOrigin"]})
    return Verifier(policy=policy, session=https_server.session(), mirror=https_server.mirror(MILL_HOST))


def test_issue_publish_verify_revoke(mill, https_server):
    signed = certificate(mill)
    assert [e["statusPurpose"] for e in signed["credentialStatus"]] == ["revocation", "suspension"]
    mill.publish(https_server.site(MILL_HOST))
    result = verifier(https_server, mill).verify_credential(signed)
    assert result.verified, result.summary()
    assert result.check("revocation").outcome.value == "passed"

    mill.revoke(signed["id"])
    mill.publish(https_server.site(MILL_HOST))
    result = verifier(https_server, mill).verify_credential(signed)
    assert result.check("revocation").code == "REVOKED"
    assert result.verified is False and not result.could_not_verify


def test_suspend_then_reinstate(mill, https_server):
    signed = certificate(mill)
    mill.suspend(signed["id"])
    mill.publish(https_server.site(MILL_HOST))
    assert verifier(https_server, mill).verify_credential(signed).check("suspension").code == "SUSPENDED"
    mill.reinstate(signed["id"])
    mill.publish(https_server.site(MILL_HOST))
    assert verifier(https_server, mill).verify_credential(signed).verified


def test_status_list_cached_within_ttl(mill, https_server):
    signed = certificate(mill)
    mill.publish(https_server.site(MILL_HOST))
    v = verifier(https_server, mill)
    assert v.verify_credential(signed).verified
    fetched = list(https_server.requested)
    mill.revoke(signed["id"])
    mill.publish(https_server.site(MILL_HOST))
    assert v.verify_credential(signed).verified  # cached list (ttl) and cached DID document
    assert https_server.requested == fetched
    later = datetime.now(timezone.utc) + timedelta(days=2)  # past the ttl: refetched
    assert v.verify_credential(signed, now=later).check("revocation").code == "REVOKED"


def test_unreachable_status_list_is_could_not_verify(mill, https_server):
    signed = certificate(mill)
    mill.publish(https_server.site(MILL_HOST))
    for path in (https_server.site(MILL_HOST) / "status").rglob("*"):
        if path.is_file():
            path.unlink()
    result = verifier(https_server, mill).verify_credential(signed)
    assert result.could_not_verify
    assert result.check("revocation").code == "STATUS_RETRIEVAL_ERROR"


def test_list_signed_by_another_issuer(mill, https_server, tmp_path):
    signed = certificate(mill)
    mill.publish(https_server.site(MILL_HOST))
    other = Issuer.init(tmp_path / "other", PASS, name="Other", status_base_url=f"https://{MILL_HOST}/status/")
    other.issue(load_example("USMCACertificationOfOrigin"), type_name="USMCACertificationOfOrigin",
                valid_from=stamp(VALID_FROM), valid_until=stamp(VALID_UNTIL))
    other.publish(https_server.site(MILL_HOST))  # overwrites the mill's lists with its own
    other.close()
    result = verifier(https_server, mill).verify_credential(signed)
    assert result.check("revocation").code == "STATUS_VERIFICATION_ERROR"
    assert result.verified is False


def test_key_rotation_and_removal(mill, https_server):
    old = certificate(mill)
    old_key = mill.home.profile.current_key.id
    mill.home.rotate_key(PASS)
    new = certificate(mill)
    mill.publish(https_server.site(MILL_HOST))
    v = verifier(https_server, mill)
    assert v.verify_credential(old).verified and v.verify_credential(new).verified
    mill.home.remove_key(old_key)
    mill.publish(https_server.site(MILL_HOST))
    result = verifier(https_server, mill).verify_credential(old)
    assert result.check("proof").code == "INVALID_VERIFICATION_METHOD"
    assert verifier(https_server, mill).verify_credential(new).verified


def test_cli_issue_publish_verify(tmp_path, https_server):
    home, out = tmp_path / "home", tmp_path / "coo.json"
    env = {"TRADEVC_ISSUER_HOME": str(home), "TRADEVC_ISSUER_PASSPHRASE": "s3cret s3cret"}
    runner = CliRunner()
    r = runner.invoke(issuer_cli, ["init", "--name", "Aceros del Norte", "--did-web", MILL_HOST,
                                   "--status-base-url", f"https://{MILL_HOST}/status/"], env=env)
    assert r.exit_code == 0, r.output
    did = next(line.split()[1] for line in r.output.splitlines() if line.startswith("DID:"))
    subject = tmp_path / "subject.json"
    subject.write_text(json.dumps(load_example("USMCACertificationOfOrigin")))
    r = runner.invoke(issuer_cli, ["issue", "--type", "USMCACertificationOfOrigin", "--subject", str(subject),
                                   "--valid-from", stamp(VALID_FROM), "--valid-until", stamp(VALID_UNTIL),
                                   "--out", str(out)], env=env)
    assert r.exit_code == 0, r.output
    assert runner.invoke(issuer_cli, ["publish", "--out-dir", str(https_server.site(MILL_HOST))], env=env).exit_code == 0
    trust = tmp_path / "trust.json"
    trust.write_text(json.dumps({"trustedIssuers": [{"did": did, "name": "Aceros", "types": ["USMCACertificationOfOrigin"]}]}))
    args = ["credential", str(out), "--trust", str(trust), "--ca-bundle", str(https_server.ca_path),
            "--mirror", f"{MILL_HOST}={https_server.url(MILL_HOST + '/')}"]
    r = runner.invoke(verify_cli, args)
    assert r.exit_code == 0, r.output
    assert r.output.startswith("VERIFIED")
    assert f"{did} resolved from mirror {https_server.url(MILL_HOST + '/.well-known/did.json')}" in r.output
    credential_id = json.loads(out.read_text())["id"]
    assert runner.invoke(issuer_cli, ["revoke", credential_id], env=env).exit_code == 0
    assert runner.invoke(issuer_cli, ["publish", "--out-dir", str(https_server.site(MILL_HOST))], env=env).exit_code == 0
    r = runner.invoke(verify_cli, args + ["--json"])
    assert r.exit_code == 1
    assert any(c.get("code") == "REVOKED" for c in json.loads(r.output)["checks"])
    r = runner.invoke(issuer_cli, ["reinstate", credential_id], env=env)
    assert r.exit_code == 1 and "permanent" in r.output
    r = runner.invoke(issuer_cli, ["revoke", "urn:uuid:unknown"], env=env)
    assert r.exit_code == 1 and "no credential" in r.output and "Traceback" not in r.output
    r = runner.invoke(issuer_cli, ["list"], env=env)
    assert credential_id in r.output and "REVOKED" in r.output
    # wrong passphrase: one clear line
    r = runner.invoke(issuer_cli, ["revoke", credential_id], env=env | {"TRADEVC_ISSUER_PASSPHRASE": "nope"})
    assert r.exit_code == 1 and "wrong passphrase" in r.output


@pytest.mark.parametrize("flags", [["--type", "USMCACertificationOfOrigin", "--subject", ""], ["--credential", ""]])
def test_cli_issue_from_an_empty_path_is_a_usage_error(tmp_path, flags):
    """An empty --subject or --credential is refused with a usage line (it used to reach the
    file reader as None and end in a TypeError)."""
    env = {"TRADEVC_ISSUER_HOME": str(tmp_path / "home"), "TRADEVC_ISSUER_PASSPHRASE": "s3cret s3cret"}
    r = CliRunner().invoke(issuer_cli, ["issue", *flags], env=env)
    assert r.exit_code == 2, (r.output, r.exception)
    assert isinstance(r.exception, SystemExit)
    assert "--subject and --credential take a JSON file, or - for standard input" in r.output


def test_cli_could_not_verify_exit_code(tmp_path, https_server):
    home = tmp_path / "home"
    with Issuer.init(home, PASS, name="X", did_web_domain=https_server.host) as issuer:
        signed = certificate(issuer)
    path = tmp_path / "c.json"
    path.write_text(json.dumps(signed))
    trust = tmp_path / "trust.json"
    trust.write_text(json.dumps({"trustedIssuers": {issuer.did: ["USMCACertificationOfOrigin"]}}))
    # nothing published: the DID document cannot be fetched
    r = CliRunner().invoke(verify_cli, ["credential", str(path), "--trust", str(trust), "--ca-bundle", str(https_server.ca_path),
                                        "--allow-host", https_server.host])
    assert r.exit_code == 3, r.output
    r = CliRunner().invoke(verify_cli, ["credential", str(path), "--trust", str(tmp_path / "missing.json")])
    assert r.exit_code == 2


def test_concurrent_vc_issuer_processes_never_share_an_index(tmp_path):
    import subprocess
    import sys

    home = tmp_path / "home"
    with Issuer.init(home, PASS, name="Mill", status_base_url="https://mill.example/status/"):
        pass
    subject = tmp_path / "subject.json"
    subject.write_text(json.dumps(load_example("USMCACertificationOfOrigin")))
    env = {"TRADEVC_ISSUER_HOME": str(home), "TRADEVC_ISSUER_PASSPHRASE": PASS.decode(), "PATH": "/usr/bin:/bin"}
    script = (
        "import sys\nfrom tradevc.issuer.cli import main\n"
        "subject, start, end, out = sys.argv[1:5]\n"
        "for n in range(3):\n"
        "    sys.argv = ['vc-issuer', 'issue', '--type', 'USMCACertificationOfOrigin', '--subject', subject,\n"
        "                '--valid-from', start, '--valid-until', end, '--out', f'{out}-{n}.json']\n"
        "    try:\n        main()\n    except SystemExit as e:\n        assert not e.code, e.code\n"
    )
    procs = [
        subprocess.Popen([sys.executable, "-c", script, str(subject), stamp(VALID_FROM), stamp(VALID_UNTIL),
                          str(tmp_path / f"out{w}")], env=env, stderr=subprocess.PIPE, text=True)
        for w in range(3)
    ]
    errors = [p.communicate(timeout=300)[1] for p in procs]
    assert [p.returncode for p in procs] == [0, 0, 0], "\n".join(e[-3000:] for e in errors)
    indexes: dict[str, list[str]] = {"revocation": [], "suspension": []}
    for path in tmp_path.glob("out*.json"):
        for entry in json.loads(path.read_text())["credentialStatus"]:
            indexes[entry["statusPurpose"]].append(entry["statusListIndex"])
    assert all(len(v) == 9 and len(set(v)) == 9 for v in indexes.values()), indexes


def test_without_blocking_stops_before_the_network_and_verifies_from_memory(mill, https_server):
    """What the service verifies on its event loop (tradevc.vc.retrieval.http.without_blocking):
    a verification that would fetch raises WouldBlock before any request is made; once the
    DID document and the status lists are in memory it verifies there, as outside."""
    from tradevc.vc.retrieval.http import WouldBlock, without_blocking

    signed = certificate(mill)
    mill.publish(https_server.site(MILL_HOST))
    v = verifier(https_server, mill)
    with pytest.raises(WouldBlock) as stopped, without_blocking():
        v.verify_credential(signed)
    assert stopped.value.url.startswith("https://") and https_server.requested == []
    assert v.verify_credential(signed).verified and https_server.requested  # fetched, in a thread it would be
    fetched = list(https_server.requested)
    with without_blocking():
        inside = v.verify_credential(signed)
    assert inside.verified and https_server.requested == fetched
    assert [c.name for c in inside.checks] == [c.name for c in v.verify_credential(signed).checks]
    mill.revoke(signed["id"])
    mill.publish(https_server.site(MILL_HOST))
    later = datetime.now(timezone.utc) + timedelta(days=2)  # past the list's ttl: it must be fetched again
    with pytest.raises(WouldBlock), without_blocking():
        v.verify_credential(signed, now=later)
    assert https_server.requested == fetched
    assert v.verify_credential(signed, now=later).check("revocation").code == "REVOKED"
