"""Evidence of JOSE-secured documents: a vc+jwt credential and a vp+jwt presentation carrying
it (offline, did:key). The index names the issuer, credential id and the tokens' kid; the
bundle replays the same."""

from __future__ import annotations

from datetime import datetime, timezone

from tradevc.vc.checks.policy import TrustPolicy
from tradevc.vc.keys import KeyPair
from tradevc.vc.securing.jose import sign_credential_jwt, sign_presentation_jwt
from tradevc.verifier import Verifier
from tradevc.verifier.evidence import replay, seal_bundle, with_evidence

NOW = datetime(2026, 6, 15, tzinfo=timezone.utc)
MILL, HOLDER, CUSTOMS = (KeyPair.generate("Ed25519") for _ in range(3))


def token() -> str:
    return sign_credential_jwt({
        "@context": ["https://www.w3.org/ns/credentials/v2", "https://w3id.org/traceability/v1"],
        "id": "urn:uuid:coo-jwt-1", "type": ["VerifiableCredential", "USMCACertificationOfOrigin"],
        "issuer": MILL.did, "validFrom": "2026-01-01T00:00:00Z",
        "credentialSubject": {"type": ["USMCAClaims"], "goods": [{"type": ["Product"], "commodityCode": "730419"}]},
    }, MILL)


def verifier() -> Verifier:
    return Verifier.offline(policy=TrustPolicy({MILL.did: ["USMCACertificationOfOrigin"]}))


def test_a_vc_jwt_bundle_replays():
    result, bundle = with_evidence(verifier()).verify_credential(token(), now=NOW)
    assert result.verified, result.summary()
    assert isinstance(bundle["input"]["documents"][0], str)  # the token, as given
    index = bundle["index"]
    assert index["issuers"] == [MILL.did] and index["credentialIds"] == ["urn:uuid:coo-jwt-1"]
    assert any(m.startswith(MILL.did) for m in index["verificationMethods"])
    assert any(e["kind"] == "context" and e["url"].endswith("traceability/v1") for e in bundle["retrieved"])
    assert replay(seal_bundle(bundle, CUSTOMS)).same


def test_a_vp_jwt_bundle_replays():
    vp = sign_presentation_jwt([token()], HOLDER, challenge="c-9", domain="cbp.gov")
    result, bundle = with_evidence(verifier()).verify_presentation(vp, challenge="c-9", domain="cbp.gov", now=NOW)
    assert result.verified, result.summary()
    assert bundle["index"]["issuers"] == [MILL.did] and bundle["index"]["credentialIds"] == ["urn:uuid:coo-jwt-1"]
    again = replay(seal_bundle(bundle, CUSTOMS))
    assert again.same, again.differences
