"""An RDFC signature covers statements, not member names: a claim moved from its term to the
IRI the term stands for keeps the signature, and would hide from every check that reads the
claim by its term. Properties written as IRIs are refused wherever an RDFC proof secures them."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from conftest import load_vector
from tradevc.vc.securing.data_integrity import sign_credential
from tradevc.vc.verification import verify_credential
from tradevc.vc.errors import DataLossError
from tradevc.vc.jsonld import refuse_hidden_properties
from tradevc.vc.keys import KeyPair
from tradevc.vc.checks.policy import TrustPolicy

NOW = datetime(2026, 6, 15, tzinfo=timezone.utc)
KEY = KeyPair.generate("Ed25519")
POLICY = TrustPolicy({KEY.did: ["AlumniCredential"]})
DATE_TIME = "http://www.w3.org/2001/XMLSchema#dateTime"


def signed(cryptosuite="eddsa-rdfc-2022", expires=None, **claims):
    return sign_credential(load_vector("di-eddsa/unsigned.json") | {"issuer": KEY.did} | claims, KEY,
                           cryptosuite=cryptosuite, created="2026-01-01T00:00:00Z", expires=expires)


def renamed(document, term, iri):
    return {(iri if k == term else k): ({"@value": v, "@type": DATE_TIME} if k == term else v)
            for k, v in document.items()}


def test_an_expired_credential_does_not_hide_its_valid_until_behind_an_iri():
    expired = signed(validUntil="2026-02-01T00:00:00Z")
    assert verify_credential(expired, policy=POLICY, now=NOW).check("validity_period").code == "RANGE_ERROR"
    hidden = renamed(expired, "validUntil", "https://www.w3.org/2018/credentials#validUntil")
    result = verify_credential(hidden, policy=POLICY, now=NOW)
    assert not result.verified and result.check("data_loss").code == "DATA_LOSS_DETECTION_ERROR", result.summary()


def test_an_expired_proof_does_not_hide_its_expires_behind_an_iri():
    expired = signed(expires="2026-02-01T00:00:00Z")
    assert verify_credential(expired, policy=POLICY, now=NOW).check("proof_expiry").code == "PROOF_VERIFICATION_ERROR"
    hidden = expired | {"proof": renamed(expired["proof"], "expires", "https://w3id.org/security#expiration")}
    result = verify_credential(hidden, policy=POLICY, now=NOW)
    assert not result.verified and "as an IRI" in result.check("proof").message, result.summary()


def test_jcs_signs_member_names_so_they_stay_as_they_are():
    # JCS signs the JSON itself: renaming a member breaks the signature; nothing to refuse
    expired = signed("eddsa-jcs-2022", validUntil="2026-02-01T00:00:00Z")
    hidden = renamed(expired, "validUntil", "https://www.w3.org/2018/credentials#validUntil")
    result = verify_credential(hidden, policy=POLICY, now=NOW)
    assert not result.verified and result.check("proof").code == "PROOF_VERIFICATION_ERROR"


def test_signing_refuses_what_verification_refuses():
    document = load_vector("di-eddsa/unsigned.json") | {"issuer": KEY.did,
                                                        "https://www.w3.org/2018/credentials#validUntil": {
                                                            "@value": "2027-01-01T00:00:00Z", "@type": DATE_TIME}}
    with pytest.raises(DataLossError, match="as an IRI"):
        sign_credential(document, KEY, created="2026-01-01T00:00:00Z")
    sign_credential(document, KEY, cryptosuite="eddsa-jcs-2022", created="2026-01-01T00:00:00Z")


@pytest.mark.parametrize("member", [
    "https://www.w3.org/2018/credentials#credentialStatus", "cred:credentialStatus", "@included", "@reverse", "@graph",
    "@nest",
])
def test_the_fast_path_leaves_hidden_members_to_the_walk(member):
    # the data_loss check skips the walk of member names when the fast path converted the
    # document, so the fast path must give up on every member the walk refuses
    from tradevc.vc.checks.common import fast_quads
    from tradevc.vc.jsonld import default_loader

    document = {k: v for k, v in signed().items() if k != "proof"}
    assert fast_quads(document, default_loader()) is not None
    document[member] = {"id": "urn:uuid:hidden"} if not member.startswith("@") else [{"id": document["id"]}]
    assert fast_quads(document, default_loader()) is None
    with pytest.raises(DataLossError):
        refuse_hidden_properties(document)
