"""The W3C VC-JOSE-COSE test suite's JOSE inputs (tests/vectors/vc-jose-cose/, provenance in
SOURCES.md). Their ``kid`` is a JWK thumbprint of a key the suite does not publish, so none of
them can verify here, where a ``kid`` must be a DID URL resolved through the verifier's DID
resolvers; what they pin down is the parsing and each refusal. The suite's published P-256
key is used to sign and verify through did:jwk."""

from __future__ import annotations

import json
from datetime import datetime, timezone

from conftest import load_vector, read_vector
from tradevc.vc.verification import verify_credential
from tradevc.vc.retrieval.did.jwk import did_jwk
from tradevc.vc.securing.jose import sign_credential_jwt
from tradevc.vc.securing.jws import parse_compact_jws
from tradevc.vc.keys import KeyPair
from tradevc.vc.checks.policy import TrustPolicy

NOW = datetime(2026, 6, 15, tzinfo=timezone.utc)
POLICY = TrustPolicy.unsafe_any_issuer()


def verify(name: str):
    return verify_credential(read_vector(f"vc-jose-cose/{name}").strip(), policy=POLICY, now=NOW)


def failure(result):
    assert not result.verified
    return next(c for c in result.checks if c.outcome.value == "failed")


def test_minimal_credential_parses_as_the_suite_describes():
    jws = parse_compact_jws(read_vector("vc-jose-cose/credential-jose-minimal.txt").strip())
    assert jws.header == {"alg": "ES256", "cty": "vc", "kid": "73voMXFNmNlOEpuYCSJlh8eN0dscykoO6gBukgRS1uU",
                          "typ": "vc+jwt"}
    assert jws.payload["issuer"] == jws.payload["iss"] == "https://example.issuer/vc-jose-cose"
    assert "vc" not in jws.payload and jws.payload["type"] == ["VerifiableCredential", "ExampleAlumniCredential"]


def test_minimal_credential_is_refused_for_its_thumbprint_kid():
    check = failure(verify("credential-jose-minimal.txt"))
    assert (check.name, check.code) == ("jose_header", "INVALID_VERIFICATION_METHOD_URL")


def test_bad_signature_vector_never_verifies():
    assert not verify("credential-jose-bad-signature.txt").verified


def test_bad_media_type_vector_is_refused_for_its_typ():
    check = failure(verify("credential-jose-bad-media-type.txt"))
    assert (check.name, check.code) == ("jose_header", "PROOF_VERIFICATION_ERROR") and "'bad+typ'" in check.message


def test_vc_and_vp_claims_vector_is_refused():
    check = failure(verify("credential-jose-vc-vp-claims.txt"))
    assert check.name == "structure" and "'vc' claim" in check.message


def test_the_suites_p256_key_signs_and_verifies_through_did_jwk():
    key = KeyPair.from_jwk(load_vector("vc-jose-cose/p256-jwk.json"))
    did = did_jwk(key)
    payload = parse_compact_jws(read_vector("vc-jose-cose/credential-jose-minimal.txt").strip()).payload
    credential = {k: v for k, v in payload.items() if k not in ("iss", "iat", "jti")}
    credential["issuer"] = did
    token = sign_credential_jwt(credential, key, verification_method=f"{did}#0", claims={"iss": did})
    result = verify_credential(token, policy=POLICY, now=NOW)
    assert result.verified, result.summary()
    assert json.loads(json.dumps(parse_compact_jws(token).payload))["iss"] == did
