"""``vc-wallet present`` checks what it is about to sign: each chosen credential is verified
again (status lists over real HTTPS from a did:web issuer on a local server, expiry, proof)
and a revoked, suspended, expired or invalid one is refused with nothing signed unless
``--anyway``; one that cannot be checked is refused with exit status 3. ``--format jose``
signs a vp+jwt that ``vc-verify presentation`` accepts (and refuses with another challenge,
domain, key or after it expired). A broker's wallet adds the importer's power of attorney."""

from __future__ import annotations

import base64
import json
import shutil
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import pytest
from click.testing import CliRunner

from support.entries import BROKER, IMPORTER, PRODUCER, certification
from support.parties import power_of_attorney
from tradevc.issuer import Issuer, sign_credential
from tradevc.issuer.credential_types import load_example
from tradevc.vc.keys import KeyPair
from tradevc.vc.securing.jose import sign_credential_jwt
from tradevc.vc.securing.jws import compact_jws, parse_compact_jws
from tradevc.verifier import TrustPolicy, Verifier
from tradevc.verifier.cli import cli as vc_verify
from tradevc.wallet import HolderPolicy, Wallet

from test_wallet_cli import ISSUER, PASS, Cli, credential

NOW = datetime.now(timezone.utc).replace(microsecond=0)
CHALLENGE, DOMAIN = "7d1f3c-entry-0042", "cbp.gov"


def _iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def dated(n: int, valid_from: str, valid_until: str | None = None) -> dict:
    """A did:key credential valid from ``valid_from`` (signed then) to ``valid_until``."""
    document = load_example_alumni(f"urn:uuid:00000000-0000-4000-8000-{n:012d}")
    document["validFrom"] = valid_from
    if valid_until is not None:
        document["validUntil"] = valid_until
    return sign_credential(document, ISSUER, created=valid_from)


def present(run: Cli, *ids: str, expect: int = 0, out: Path | None = None, extra: tuple[str, ...] = ()):
    args = [a for i in ids for a in ("--credential", i)]
    if out is not None:
        args += ["--out", str(out)]
    return run("present", *args, "--challenge", CHALLENGE, "--domain", DOMAIN, *extra, expect=expect)


# -- a did:web mill whose status lists are served over HTTPS ---------------------------------------


class Mill:
    def __init__(self, tmp_path: Path, https_server) -> None:
        self.server = https_server
        self.issuer = Issuer.init(tmp_path / "mill", b"mill passphrase", name="Aceros del Norte",
                                  did_web_domain="mill.example", status_base_url="https://mill.example/status/")
        self.ca = ["--ca-bundle", str(https_server.ca_path),
                   "--mirror", f"mill.example={https_server.url('mill.example/')}"]

    def issue(self, n: int) -> dict:
        return self.issuer.issue(load_example("MillTestReportCredential"), type_name="MillTestReportCredential",
                                 valid_from=_iso(NOW - timedelta(days=1)), credential_id=f"urn:uuid:mtr-{n}")

    def publish(self) -> None:
        self.issuer.publish(self.server.site("mill.example"))


@pytest.fixture
def mill(tmp_path, https_server):
    mill = Mill(tmp_path, https_server)
    try:
        yield mill
    finally:
        mill.issuer.close()


@pytest.fixture
def held(tmp_path, mill):
    """A wallet holding three mill test reports, all valid when added (over HTTPS)."""
    run = Cli(tmp_path)
    run("init")
    reports = [mill.issue(n) for n in (1, 2, 3)]
    mill.publish()
    files = [run.file(f"mtr-{n}.json", r) for n, r in enumerate(reports, 1)]
    assert run("add", *files, *mill.ca).output.count("added ") == 3
    return run


def test_present_refuses_a_revoked_credential_and_signs_nothing(held, mill, tmp_path):
    mill.issuer.revoke("urn:uuid:mtr-1")
    mill.publish()
    out = tmp_path / "vp.json"
    result = present(held, "urn:uuid:mtr-1", "urn:uuid:mtr-2", out=out, extra=tuple(mill.ca), expect=1)
    assert "error: urn:uuid:mtr-1 is revoked (revocation: revoked by the issuer (list https://mill.example/status/" \
        in result.output
    assert "mtr-2 is" not in result.output and "--anyway" in result.output
    assert not out.exists() and "Traceback" not in result.output
    listed = {c["id"]: c["status"] for c in json.loads(held("list", "--json").output)}
    assert listed == {"urn:uuid:mtr-1": "REVOKED", "urn:uuid:mtr-2": "valid", "urn:uuid:mtr-3": "valid"}


def test_present_refuses_a_suspended_credential(held, mill, tmp_path):
    mill.issuer.suspend("urn:uuid:mtr-2")
    mill.publish()
    out = tmp_path / "vp.json"
    result = present(held, "urn:uuid:mtr-2", out=out, extra=tuple(mill.ca), expect=1)
    assert "error: urn:uuid:mtr-2 is suspended (suspension: suspended by the issuer" in result.output
    assert not out.exists()
    assert present(held, "urn:uuid:mtr-3", out=out, extra=tuple(mill.ca)).output.startswith("OK: presentation of 1")


def test_anyway_presents_with_a_warning_per_credential(held, mill, tmp_path):
    mill.issuer.revoke("urn:uuid:mtr-1")
    mill.issuer.suspend("urn:uuid:mtr-2")
    mill.publish()
    out = tmp_path / "vp.json"
    result = present(held, "urn:uuid:mtr-1", "urn:uuid:mtr-2", "urn:uuid:mtr-3", out=out,
                     extra=(*mill.ca, "--anyway"))
    assert "warning: urn:uuid:mtr-1 is revoked (revocation:" in result.output
    assert "warning: urn:uuid:mtr-2 is suspended (suspension:" in result.output
    assert "mtr-3 is" not in result.output and "presentation of 3 credential(s)" in result.output
    vp = json.loads(out.read_text())
    customs = Verifier(policy=HolderPolicy(), session=mill.server.session(), mirror=mill.server.mirror("mill.example"))
    verdict = customs.verify_presentation(vp, challenge=CHALLENGE, domain=DOMAIN)
    assert not verdict.verified  # customs sees it too
    assert [r.verified for r in verdict.credentials] == [False, False, True]


def test_a_credential_that_cannot_be_checked_is_refused_with_exit_3(held, mill, tmp_path):
    shutil.rmtree(mill.server.site("mill.example"))  # the mill's site is down
    out = tmp_path / "vp.json"
    result = present(held, "urn:uuid:mtr-1", out=out, extra=tuple(mill.ca), expect=3)
    assert "error: urn:uuid:mtr-1 could not be checked (" in result.output and "--anyway" in result.output
    assert not out.exists()
    offline = present(held, "urn:uuid:mtr-1", out=out, extra=("--offline",), expect=3)
    assert "error: urn:uuid:mtr-1 could not be checked (" in offline.output and not out.exists()
    anyway = present(held, "urn:uuid:mtr-1", out=out, extra=(*mill.ca, "--anyway"))
    assert "warning: urn:uuid:mtr-1 could not be checked (" in anyway.output
    assert json.loads(out.read_text())["verifiableCredential"][0]["id"] == "urn:uuid:mtr-1"


def test_a_bad_credential_and_one_that_cannot_be_checked_exit_1(held, tmp_path):
    """Refused outright beats could-not-verify: one credential is known to be bad."""
    expired = dated(5, "2023-01-01T00:00:00Z", "2024-01-01T00:00:00Z")
    wallet = Wallet.open(held.home, PASS, verifier=Verifier.offline(policy=HolderPolicy()))
    wallet.add(expired, now=datetime(2023, 6, 1, tzinfo=timezone.utc))  # did:key: checked without the network
    out = tmp_path / "vp.json"
    result = present(held, "urn:uuid:mtr-1", expired["id"], out=out, extra=("--offline",), expect=1)
    assert "error: urn:uuid:mtr-1 could not be checked (" in result.output
    assert f"error: {expired['id']} is expired (" in result.output and not out.exists()


@pytest.mark.parametrize("valid, word", [
    ({"validFrom": "2023-01-01T00:00:00Z", "validUntil": "2024-01-01T00:00:00Z"}, "expired"),
    ({"validFrom": "2099-01-01T00:00:00Z"}, "not yet valid"),
])
def test_present_refuses_an_expired_or_not_yet_valid_credential(tmp_path, valid, word):
    run = Cli(tmp_path)
    run("init")
    document = dated(7, valid["validFrom"], valid.get("validUntil"))
    moment = datetime.fromisoformat(valid["validFrom"].replace("Z", "+00:00")) + timedelta(days=1)
    Wallet.open(run.home, PASS, verifier=Verifier.offline(policy=HolderPolicy())).add(document, now=moment)
    run("add", run.file("one.json", credential(1)), "--offline")
    out = tmp_path / "vp.json"
    result = present(run, document["id"], credential(1)["id"], out=out, expect=1)
    assert f"error: {document['id']} is {word} (validity_period:" in result.output and not out.exists()
    assert f"warning: {document['id']} is {word}" in present(run, document["id"], out=out, extra=("--anyway",)).output
    assert out.exists()


# -- vp+jwt -----------------------------------------------------------------------------------------


def _claims(token: str) -> tuple[dict, dict]:
    jws = parse_compact_jws(token)
    return jws.header, jws.payload


@pytest.fixture
def trust(tmp_path) -> str:
    path = tmp_path / "trusted-issuers.json"
    path.write_text(json.dumps({"trustedIssuers": [{"did": ISSUER.did, "name": "Alumni office",
                                                    "types": ["AlumniCredential"]}]}))
    return str(path)


def verify_cli(path: Path, trust: str, challenge: str = CHALLENGE, domain: str = DOMAIN):
    return CliRunner().invoke(vc_verify, ["presentation", str(path), "--challenge", challenge, "--domain", domain,
                                          "--trust", trust, "--offline"])


@pytest.mark.parametrize("key_type, alg", [("Ed25519", "EdDSA"), ("P-256", "ES256"), ("P-384", "ES384")])
def test_jose_presentation_verifies_with_vc_verify(tmp_path, trust, key_type, alg):
    run = Cli(tmp_path)
    run("init", "--key-type", key_type)
    holder = run("did").output.strip()
    document = load_example_alumni("urn:uuid:jose")
    token = sign_credential_jwt(document, ISSUER)
    run("add", run.file("one.json", credential(1)), run.file("coo.jwt", token), "--offline")
    out = tmp_path / "vp.jwt"
    result = present(run, credential(1)["id"], "urn:uuid:jose", out=out, extra=("--format", "jose"))
    assert f"presentation of 2 credential(s) for {DOMAIN} -> {out}" in result.output
    vp = out.read_text()
    assert vp.endswith("\n") and vp.count(".") == 2
    header, payload = _claims(vp.strip())
    assert (header["typ"], header["alg"], header["kid"].split("#")[0]) == ("vp+jwt", alg, holder)
    assert (payload["nonce"], payload["aud"], payload["holder"]) == (CHALLENGE, DOMAIN, holder)
    assert payload["type"] == ["VerifiablePresentation"] and "proof" not in payload and "exp" not in payload
    assert abs(payload["iat"] - NOW.timestamp()) < 3600
    first, second = payload["verifiableCredential"]
    assert first == credential(1)
    assert second == {"@context": "https://www.w3.org/ns/credentials/v2", "id": f"data:application/vc+jwt,{token}",
                      "type": "EnvelopedVerifiableCredential"}

    verified = verify_cli(out, trust)
    assert verified.exit_code == 0 and "VERIFIED" in verified.output, verified.output
    customs = Verifier.offline(policy=TrustPolicy({ISSUER.did: ["AlumniCredential"]}))
    report = customs.verify_presentation(vp.strip(), challenge=CHALLENGE, domain=DOMAIN)
    assert report.verified and len(report.credentials) == 2 and report.challenge == CHALLENGE, report.summary()

    wrong_nonce = verify_cli(out, trust, challenge="another-session")
    assert wrong_nonce.exit_code == 1 and "challenge" in wrong_nonce.output
    wrong_aud = verify_cli(out, trust, domain="cbsa-asfc.gc.ca")
    assert wrong_aud.exit_code == 1 and "domain" in wrong_aud.output
    assert not customs.verify_presentation(vp.strip(), challenge="another-session", domain=DOMAIN).verified
    assert not customs.verify_presentation(vp.strip(), challenge=CHALLENGE, domain="cbsa-asfc.gc.ca").verified


def load_example_alumni(credential_id: str) -> dict:
    from conftest import load_vector

    document = load_vector("di-eddsa/unsigned.json")
    document["issuer"], document["id"] = ISSUER.did, credential_id
    return document


def test_a_jose_presentation_signed_by_another_key_is_refused(run_with_one):
    run, token = run_with_one
    header, payload = _claims(token)
    customs = Verifier.offline(policy=TrustPolicy({ISSUER.did: ["AlumniCredential"]}))
    assert customs.verify_presentation(token, challenge=CHALLENGE, domain=DOMAIN).verified
    thief = KeyPair.generate("Ed25519")
    # the holder's kid, another key's signature
    forged = compact_jws(payload, thief, typ="vp+jwt", kid=header["kid"], cty="vp")
    report = customs.verify_presentation(forged, challenge=CHALLENGE, domain=DOMAIN)
    assert not report.verified and report.check("proof").outcome.value == "failed"
    # another key's kid, still claiming the wallet's holder
    stolen = compact_jws(payload, thief, typ="vp+jwt", kid=thief.verification_method, cty="vp")
    report = customs.verify_presentation(stolen, challenge=CHALLENGE, domain=DOMAIN)
    assert not report.verified and report.check("holder_binding").outcome.value == "failed"
    # the payload changed after signing (another nonce)
    head, body, signature = token.split(".")
    changed = base64.urlsafe_b64encode(json.dumps({**payload, "nonce": "x"}).encode()).rstrip(b"=").decode()
    assert not customs.verify_presentation(f"{head}.{changed}.{signature}", challenge="x", domain=DOMAIN).verified


@pytest.fixture
def run_with_one(tmp_path):
    run = Cli(tmp_path)
    run("init")
    run("add", run.file("one.json", credential(1)), "--offline")
    token = present(run, credential(1)["id"], extra=("--format", "jose")).stdout.strip()
    return run, token


def test_a_jose_presentation_with_an_expiry(tmp_path, trust):
    run = Cli(tmp_path)
    run("init")
    run("add", run.file("one.json", credential(1)), "--offline")
    out = tmp_path / "vp.jwt"
    present(run, credential(1)["id"], out=out, extra=("--format", "jose", "--expires-in", "600"))
    token = out.read_text().strip()
    _, payload = _claims(token)
    assert payload["exp"] - payload["iat"] == 600
    policy = TrustPolicy({ISSUER.did: ["AlumniCredential"]})
    issued = datetime.fromtimestamp(payload["iat"], timezone.utc)
    soon = Verifier.offline(policy=policy, clock=lambda: issued + timedelta(minutes=5))
    assert soon.verify_presentation(token, challenge=CHALLENGE, domain=DOMAIN).verified
    late = Verifier.offline(policy=policy, clock=lambda: issued + timedelta(hours=1))
    report = late.verify_presentation(token, challenge=CHALLENGE, domain=DOMAIN)
    assert not report.verified and "expired" in report.check("proof_expiry").message
    assert verify_cli(out, trust).exit_code == 0  # now, within the ten minutes


def test_jose_options_that_do_not_fit_are_usage_errors(run_with_one):
    run, _ = run_with_one
    cid = credential(1)["id"]
    both = present(run, cid, extra=("--format", "jose", "--cryptosuite", "eddsa-jcs-2022"), expect=2)
    assert "--cryptosuite" in both.output
    assert "--expires-in" in present(run, cid, extra=("--expires-in", "60"), expect=2).output
    assert present(run, cid, extra=("--format", "jose", "--expires-in", "0"), expect=2)
    assert present(run, cid, extra=("--format", "cose"), expect=2)
    assert "--expires-in" in present(run, cid, extra=("--format", "jose", "--expires-in", "10" * 9), expect=2).output
    empty = run("present", "--credential", cid, "--challenge", " ", "--domain", DOMAIN, expect=2)
    assert "--challenge" in empty.output and "is empty" in empty.output
    assert "--domain" in run("present", "--credential", cid, "--challenge", "c", "--domain", "", expect=2).output


# -- a broker's power of attorney ---------------------------------------------------------------------


@pytest.fixture
def broker(tmp_path):
    """A broker's wallet holding a certification of origin naming the importer (Gulf Coast
    Pipe & Supply LLC) and the importer's power of attorney naming the broker."""
    run = Cli(tmp_path)
    run("init")
    holder = run("did").output.strip()
    today = date.today()
    coo = certification(day=today)
    poa = power_of_attorney(day=today, agent_did=holder, index=None)
    run("add", run.file("coo.json", coo), run.file("poa.json", poa), "--offline")
    return run, holder, coo, poa


def customs_for_broker() -> Verifier:
    return Verifier.offline(policy=TrustPolicy({PRODUCER.did: ["USMCACertificationOfOrigin"],
                                                IMPORTER.did: ["PowerOfAttorneyCredential"]}))


def test_the_brokers_power_of_attorney_goes_with_the_importers_documents(broker, tmp_path):
    run, holder, coo, poa = broker
    out = tmp_path / "vp.json"
    result = present(run, coo["id"], out=out)
    assert f"power of attorney added: {poa['id']}" in result.output
    vp = json.loads(out.read_text())
    assert [c["id"] for c in vp["verifiableCredential"]] == [coo["id"], poa["id"]]
    report = customs_for_broker().verify_presentation(vp, challenge=CHALLENGE, domain=DOMAIN)
    assert report.verified and vp["holder"] == holder, report.summary()
    token = present(run, coo["id"], extra=("--format", "jose")).stdout.strip()
    assert [c["id"] for c in _claims(token)[1]["verifiableCredential"]] == [coo["id"], poa["id"]]
    assert customs_for_broker().verify_presentation(token, challenge=CHALLENGE, domain=DOMAIN).verified
    bare = json.loads(present(run, coo["id"], extra=("--no-poa",)).stdout)
    assert [c["id"] for c in bare["verifiableCredential"]] == [coo["id"]]


def test_a_power_from_another_importer_is_not_presented(tmp_path):
    run = Cli(tmp_path)
    run("init")
    holder = run("did").output.strip()
    other = KeyPair.generate("Ed25519")
    coo = certification(day=date.today(), importer="Harbor Steel Trading Co.")
    poa = power_of_attorney(day=date.today(), principal=other, agent_did=holder, index=None)
    run("add", run.file("coo.json", coo), run.file("poa.json", poa), "--offline")
    result = present(run, coo["id"])
    assert "power of attorney added" not in result.output
    assert "power of attorney not added: no power of attorney held from the importer they name (Harbor Steel " \
        "Trading Co.)" in result.output
    assert [c["id"] for c in json.loads(result.stdout)["verifiableCredential"]] == [coo["id"]]
    chosen = present(run, coo["id"], extra=("--poa", poa["id"]))
    assert [c["id"] for c in json.loads(chosen.stdout)["verifiableCredential"]] == [coo["id"], poa["id"]]


def test_poa_must_name_a_power_for_the_holder(broker, tmp_path):
    run, holder, coo, poa = broker
    not_a_power = present(run, coo["id"], extra=("--poa", coo["id"]), expect=2)
    assert "not a power of attorney" in not_a_power.output
    for_another = power_of_attorney(day=date.today(), agent=BROKER, id="urn:uuid:poa-other", index=None)
    run("add", run.file("poa-other.json", for_another), "--offline")
    named = present(run, coo["id"], extra=("--poa", "urn:uuid:poa-other"), expect=2)
    assert f"names {BROKER.did} as agent" in named.output
    assert "no credential 'urn:uuid:nope'" in present(run, coo["id"], extra=("--poa", "urn:uuid:nope"), expect=1).output


def test_an_expired_power_of_attorney_is_refused(tmp_path):
    run = Cli(tmp_path)
    run("init")
    holder = run("did").output.strip()
    today = date.today()
    coo = certification(day=today)
    poa = power_of_attorney(day=today, agent_did=holder, index=None, from_days=-400, until_days=-35)
    run("add", run.file("coo.json", coo), "--offline")
    Wallet.open(run.home, PASS, verifier=Verifier.offline(policy=HolderPolicy())).add(
        poa, now=NOW - timedelta(days=100))
    out = tmp_path / "vp.json"
    result = present(run, coo["id"], out=out, expect=1)
    assert f"error: {poa['id']} is expired (validity_period:" in result.output and not out.exists()
    # a renewed power is chosen over the expired one
    renewed = power_of_attorney(day=today, agent_did=holder, index=None, id="urn:uuid:poa-2")
    run("add", run.file("poa-2.json", renewed), "--offline")
    result = present(run, coo["id"], out=out)
    assert "power of attorney added: urn:uuid:poa-2" in result.output
    assert [c["id"] for c in json.loads(out.read_text())["verifiableCredential"]] == [coo["id"], "urn:uuid:poa-2"]


def test_the_importer_presenting_its_own_documents_needs_no_power(tmp_path):
    run = Cli(tmp_path)
    run("init")
    coo = certification(day=date.today())
    run("add", run.file("coo.json", coo), "--offline")
    result = present(run, coo["id"])
    assert "power of attorney" not in result.output
    assert [c["id"] for c in json.loads(result.stdout)["verifiableCredential"]] == [coo["id"]]



# -- anchors are checked again too ------------------------------------------------------------------


def test_an_anchor_revoked_since_it_was_added_is_left_out(held, mill, tmp_path, https_server):
    registry = Issuer.init(tmp_path / "registry", b"registry passphrase", name="Registro Mercantil",
                           did_web_domain="registry.example", status_base_url="https://registry.example/status/")
    try:
        subject = load_example("IdentityAnchorCredential")
        subject["id"] = mill.issuer.did
        anchors = [registry.issue(subject, type_name="IdentityAnchorCredential", credential_id=f"urn:uuid:anchor-{n}",
                                  valid_from=_iso(NOW - timedelta(days=1)), valid_until=_iso(NOW + timedelta(days=300)))
                   for n in (1, 2)]
        registry.publish(https_server.site("registry.example"))
        ca = [*mill.ca, "--mirror", f"registry.example={https_server.url('registry.example/')}"]
        held("add", held.file("anchor-1.json", anchors[0]), held.file("anchor-2.json", anchors[1]), *ca)
        first = present(held, "urn:uuid:mtr-1", extra=tuple(ca))
        assert "anchor added: urn:uuid:anchor-1" in first.output and "anchor added: urn:uuid:anchor-2" in first.output

        registry.revoke("urn:uuid:anchor-1")
        registry.publish(https_server.site("registry.example"))
        out = tmp_path / "vp.json"
        result = present(held, "urn:uuid:mtr-1", out=out, extra=tuple(ca))  # not refused: only the anchor is out
        assert "anchor not added: urn:uuid:anchor-1: REVOKED when last checked" in result.output
        assert "anchor added: urn:uuid:anchor-2" in result.output
        assert [c["id"] for c in json.loads(out.read_text())["verifiableCredential"]] == ["urn:uuid:mtr-1",
                                                                                          "urn:uuid:anchor-2"]
        assert {c["id"]: c["status"] for c in json.loads(held("list", "--json").output)}["urn:uuid:anchor-1"] == "REVOKED"
    finally:
        registry.close()
