"""vc+jwt end to end over real HTTPS: a did:web issuer with a P-384 key issues ES384 vc+jwt
credentials with status entries, publishes, and customs verifies them (library, with
did:web:mill.example read from the local server through a public mirror; and CLI, with the
server's own host); revocation works exactly as for Data Integrity credentials."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest
from click.testing import CliRunner

from tradevc.issuer import Issuer
from tradevc.issuer.cli import cli as issuer_cli
from tradevc.issuer.credential_types import load_example
from tradevc.vc.securing.enveloped import envelope_credential
from tradevc.vc.securing.jose import sign_presentation_jwt
from tradevc.vc.securing.jws import parse_compact_jws
from tradevc.vc.keys import KeyPair
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
        status_base_url=f"https://{MILL_HOST}/status/", key_type="P-384", cryptosuite="ecdsa-rdfc-2019",
    )
    yield issuer
    issuer.close()


def issue_jwt(issuer):
    return issuer.issue(
        load_example("USMCACertificationOfOrigin"), type_name="USMCACertificationOfOrigin",
        valid_from=stamp(VALID_FROM), valid_until=stamp(VALID_UNTIL), securing="jose",
    )


def customs(mill, https_server):
    return Verifier(policy=TrustPolicy({mill.did: ["USMCACertificationOfOrigin"]}), session=https_server.session(),
                    mirror=https_server.mirror(MILL_HOST))


def test_es384_vc_jwt_over_did_web_with_revocation(mill, https_server):
    token = issue_jwt(mill)
    header = parse_compact_jws(token).header
    assert header["alg"] == "ES384" and header["kid"].startswith(mill.did + "#")
    mill.publish(https_server.site(MILL_HOST))
    verifier = customs(mill, https_server)
    result = verifier.verify_credential(token)
    assert result.verified, result.summary()
    assert result.check("revocation").outcome.value == "passed"
    document = https_server.url(f"{MILL_HOST}/.well-known/did.json")
    assert result.check("proof").message.endswith(f"; {mill.did} resolved from mirror {document}")
    assert result.check("proof").data == {"didDocumentFrom": f"mirror {document}"}
    assert verifier.verify_credential(envelope_credential(token)).verified

    credential_id = parse_compact_jws(token).payload["id"]
    mill.revoke(credential_id)
    mill.publish(https_server.site(MILL_HOST))
    result = customs(mill, https_server).verify_credential(token)
    assert result.check("revocation").code == "REVOKED" and not result.verified


def test_unpublished_did_web_is_could_not_verify(mill, https_server):
    token = issue_jwt(mill)  # nothing published: the DID document cannot be fetched
    result = customs(mill, https_server).verify_credential(token)
    assert result.could_not_verify and result.check("proof").outcome.value == "error"
    assert "from mirror https://localhost:" in result.check("proof").message


def test_cli_issue_jose_and_verify(tmp_path, https_server):
    home, out = tmp_path / "home", tmp_path / "coo.jwt"
    env = {"TRADEVC_ISSUER_HOME": str(home), "TRADEVC_ISSUER_PASSPHRASE": "s3cret s3cret"}
    runner = CliRunner()
    r = runner.invoke(issuer_cli, ["init", "--name", "Aceros del Norte", "--did-web", https_server.host,
                                   "--status-base-url", https_server.url("status/"), "--key-type", "P-384",
                                   "--cryptosuite", "ecdsa-rdfc-2019"], env=env)
    assert r.exit_code == 0, r.output
    did = next(line.split()[1] for line in r.output.splitlines() if line.startswith("DID:"))
    subject = tmp_path / "subject.json"
    subject.write_text(json.dumps(load_example("USMCACertificationOfOrigin")))
    r = runner.invoke(issuer_cli, ["issue", "--type", "USMCACertificationOfOrigin", "--subject", str(subject),
                                   "--valid-from", stamp(VALID_FROM), "--valid-until", stamp(VALID_UNTIL),
                                   "--format", "jose", "--out", str(out)], env=env)
    assert r.exit_code == 0, r.output
    token = out.read_text().strip()
    assert parse_compact_jws(token).header["typ"] == "vc+jwt"
    assert f"OK: issued {parse_compact_jws(token).payload['id']}" in r.output
    assert runner.invoke(issuer_cli, ["publish", "--out-dir", str(https_server.root)], env=env).exit_code == 0

    trust = tmp_path / "trust.json"
    trust.write_text(json.dumps({"trustedIssuers": {did: ["USMCACertificationOfOrigin"]}}))
    common = ["--trust", str(trust), "--ca-bundle", str(https_server.ca_path), "--allow-host", https_server.host]
    r = runner.invoke(verify_cli, ["credential", str(out), *common])
    assert r.exit_code == 0, r.output
    assert r.output.startswith("VERIFIED") and "ES384 JWS verified" in r.output

    # the same token as an EnvelopedVerifiableCredential, and on stdin
    enveloped = tmp_path / "enveloped.json"
    enveloped.write_text(json.dumps(envelope_credential(token)))
    assert runner.invoke(verify_cli, ["credential", str(enveloped), *common]).exit_code == 0
    assert runner.invoke(verify_cli, ["credential", "-", *common], input=token + "\n").exit_code == 0

    # a tampered token: exit 1, the failed check named, no stack trace
    head, payload, signature = token.split(".")
    tampered = tmp_path / "tampered.jwt"
    tampered.write_text(f"{head}.{payload[:-4]}AAAA.{signature}")
    r = runner.invoke(verify_cli, ["credential", str(tampered), *common])
    assert r.exit_code == 1 and "FAIL" in r.output and "Traceback" not in r.output

    # a presentation of it, as vp+jwt
    importer = KeyPair.generate("Ed25519")
    vp = tmp_path / "vp.jwt"
    vp.write_text(sign_presentation_jwt([token], importer, challenge="entry-42", domain="cbp.gov"))
    r = runner.invoke(verify_cli, ["presentation", str(vp), *common, "--challenge", "entry-42", "--domain", "cbp.gov"])
    assert r.exit_code == 0, r.output
    r = runner.invoke(verify_cli, ["presentation", str(vp), *common, "--challenge", "replayed", "--domain", "cbp.gov"])
    assert r.exit_code == 1 and "INVALID_CHALLENGE_ERROR" in r.output


@pytest.mark.parametrize(
    "content",
    ["eyJhbGciOiJub25lIn0.e30.", "not.a.token", "a.b.c.d.e", b"\xff\xfe binary", "{\"truncated\": "],
)
def test_cli_bad_input_is_a_report_not_a_traceback(tmp_path, content):
    path = tmp_path / "input"
    path.write_bytes(content if isinstance(content, bytes) else content.encode())
    trust = tmp_path / "trust.json"
    trust.write_text(json.dumps({"trustedIssuers": {"did:web:example.com": ["X"]}}))
    r = CliRunner().invoke(verify_cli, ["credential", str(path), "--trust", str(trust), "--offline"])
    assert "Traceback" not in r.output
    assert r.exception is None or isinstance(r.exception, SystemExit)
    if isinstance(content, bytes):  # not UTF-8 text: bad input, said as such (exit 2), not a document that failed
        assert r.exit_code == 2 and r.output.startswith(f"error: {path}: not UTF-8 text"), r.output
        return
    assert r.exit_code == 1, r.output
    assert r.output.startswith("NOT VERIFIED")
