"""The legacy Ed25519Signature2018 proof type: verified only under the compatibility profile,
and checked against signing inputs built here independently of the library (pyld's URDNA2015,
hashlib, and jwcrypto's RFC 7797 detached JWS)."""

from __future__ import annotations

import copy
import json
from datetime import datetime, timezone

import pytest
from jwcrypto.jwk import JWK
from jwcrypto.jws import JWS

from conftest import load_vector
from support.ed25519_2018 import HEADER, signing_input
from support.ed25519_2018 import sign_2018 as _sign_2018
from tradevc.vc.compat import Compatibility
from tradevc.vc.securing.data_integrity import sign_credential
from tradevc.vc.verification import verify_credential
from tradevc.vc.retrieval.did.resolver import DidResolvers
from tradevc.vc.errors import UnsupportedError
from tradevc.vc.keys import KeyPair
from tradevc.vc.multibase import base58btc_encode, base64url_decode, base64url_encode
from tradevc.vc.checks.policy import TrustPolicy

NOW = datetime(2026, 6, 15, tzinfo=timezone.utc)
KEY = KeyPair.generate("Ed25519")
OTHER = KeyPair.generate("Ed25519")
POLICY = TrustPolicy({KEY.did: ["VerifiableCredential"], OTHER.did: ["VerifiableCredential"],
                      "did:example:mill": ["VerifiableCredential"]})
PILOTS = Compatibility.profile("pilots-2023")
ONLY_2018 = Compatibility.of("ed25519-signature-2018")
V1 = "https://www.w3.org/2018/credentials/v1"
V2 = "https://www.w3.org/ns/credentials/v2"
ED25519_2018 = "https://w3id.org/security/suites/ed25519-2018/v1"


def credential_11(issuer: str = KEY.did) -> dict:
    return {
        "@context": [V1], "id": "urn:uuid:2e8f5a4c-2018-4a3b-9c1d-0a1b2c3d4e5f",
        "type": ["VerifiableCredential"], "issuer": issuer, "issuanceDate": "2023-03-01T00:00:00Z",
        "credentialSubject": {"id": "did:example:importer"},
    }


def sign_2018(document: dict, key: KeyPair = KEY, **kw) -> dict:
    return _sign_2018(document, key, **kw)


def verify(document, compatibility=None, resolvers=None):
    return verify_credential(document, policy=POLICY, now=NOW, compatibility=compatibility, resolvers=resolvers)


def test_the_header_constant_is_the_suite_header():
    assert json.loads(base64url_decode(HEADER)) == {"alg": "EdDSA", "b64": False, "crit": ["b64"]}


def test_refused_by_default_naming_the_profile():
    result = verify(sign_2018(credential_11()))
    check = result.check("proof")
    assert not result.verified and check.code == "UNSUPPORTED_ERROR"
    assert "pilots-2023" in check.message and "ed25519-signature-2018" in check.message
    assert not verify(sign_2018(credential_11()), Compatibility.of("jose-typ", "encoded-list-prefix")).verified


@pytest.mark.parametrize("compatibility", [PILOTS, ONLY_2018])
def test_verified_under_the_profile_with_a_warning(compatibility):
    result = verify(sign_2018(credential_11()), compatibility)
    assert result.verified, result.summary()
    assert [w for w in result.warnings if w.startswith("compat:")] == [
        f"compat:ed25519-signature-2018: the legacy Ed25519Signature2018 proof by {KEY.verification_method} was accepted"
    ]


def test_jwcrypto_verifies_the_detached_jws_over_the_independent_payload():
    signed = sign_2018(credential_11())
    payload, _ = signing_input(signed, signed["proof"])
    jws = JWS()
    jws.deserialize(signed["proof"]["jws"])
    jws.verify(JWK(**KEY.to_jwk()), detached_payload=payload)  # raises if the construction were wrong
    assert jws.jose_header == {"alg": "EdDSA", "b64": False, "crit": ["b64"]}


def test_a_vc_2_credential_with_the_pinned_2018_context():
    document = credential_11() | {"@context": [V2, ED25519_2018], "validFrom": "2023-03-01T00:00:00Z"}
    del document["issuanceDate"]
    assert verify(sign_2018(document), PILOTS).verified
    assert verify(sign_2018(document)).check("proof").code == "UNSUPPORTED_ERROR"


def test_an_altered_claim_fails_under_the_profile():
    signed = sign_2018(credential_11())
    signed["credentialSubject"]["id"] = "did:example:someone-else"
    result = verify(signed, PILOTS)
    assert not result.verified and result.check("proof").code == "PROOF_VERIFICATION_ERROR"


def test_a_signature_by_another_key_fails():
    forged = sign_2018(credential_11(), OTHER, method=KEY.verification_method)
    assert verify(forged, PILOTS).check("proof").code == "PROOF_VERIFICATION_ERROR"


def test_the_issuer_binding_stays_strict():
    result = verify(sign_2018(credential_11(issuer=KEY.did), OTHER), PILOTS)  # a valid proof, by another DID
    assert not result.verified and result.check("issuer_binding").code == "PROOF_VERIFICATION_ERROR"


@pytest.mark.parametrize("header", [
    {"alg": "EdDSA", "b64": True, "crit": ["b64"]},
    {"alg": "EdDSA", "b64": 0, "crit": ["b64"]},
    {"alg": "EdDSA"},
    {"alg": "ES256", "b64": False, "crit": ["b64"]},
    {"alg": "EdDSA", "b64": False, "crit": ["b64"], "kid": "did:example:x#1"},
    {"alg": "EdDSA", "b64": False, "crit": []},
])
def test_other_headers_are_refused(header):
    encoded = base64url_encode(json.dumps(header, separators=(",", ":")).encode())
    result = verify(sign_2018(credential_11(), header=encoded), PILOTS)
    assert not result.verified and result.check("proof").code == "MALFORMED_VALUE_ERROR", result.summary()


def test_a_header_naming_a_member_twice_is_a_parsing_error():
    """The jws header is read by the one strict reader: "b64" twice (true, then the false a
    last-wins parser would keep) is refused, even though the signature is over exactly it."""
    encoded = base64url_encode(b'{"alg":"EdDSA","b64":true,"b64":false,"crit":["b64"]}')
    result = verify(sign_2018(credential_11(), header=encoded), PILOTS)
    assert not result.verified and result.check("proof").code == "PARSING_ERROR", result.summary()
    assert "twice" in result.check("proof").message


@pytest.mark.parametrize("change", [
    lambda jws: jws.replace("..", ".e30."),  # an attached payload
    lambda jws: jws.split("..")[1],  # no header
    lambda jws: jws + "A",  # not base64url of 64 bytes
    lambda jws: jws.split("..")[0] + "..",  # no signature
])
def test_malformed_jws_values_are_refused(change):
    signed = sign_2018(credential_11())
    signed["proof"]["jws"] = change(signed["proof"]["jws"])
    result = verify(signed, PILOTS)
    assert not result.verified and result.check("proof").code in ("MALFORMED_VALUE_ERROR", "PROOF_VERIFICATION_ERROR")


def test_a_proof_without_jws_is_refused():
    signed = sign_2018(credential_11())
    del signed["proof"]["jws"]
    result = verify(signed | {"proof": signed["proof"] | {"proofValue": "z" + base58btc_encode(bytes(64))}}, PILOTS)
    assert not result.verified and result.check("proof").code == "MALFORMED_VALUE_ERROR"


def test_the_library_does_not_sign_it():
    with pytest.raises(UnsupportedError):
        sign_credential(credential_11(), KEY, cryptosuite="Ed25519Signature2018")


# -- Ed25519VerificationKey2018 keys in DID documents --------------------------------------------


class MillResolver:
    """did:example:mill, whose DID document lists an Ed25519VerificationKey2018 (publicKeyBase58)."""

    def __init__(self, key: KeyPair) -> None:
        self.document = {
            "@context": ["https://www.w3.org/ns/did/v1", ED25519_2018], "id": "did:example:mill",
            "verificationMethod": [{"id": "did:example:mill#key-1", "type": "Ed25519VerificationKey2018",
                                    "controller": "did:example:mill",
                                    "publicKeyBase58": base58btc_encode(key.public_key_bytes)}],
            "assertionMethod": ["did:example:mill#key-1"],
        }

    def resolve(self, did: str) -> dict:
        return copy.deepcopy(self.document)


def mill_resolvers(key: KeyPair = KEY) -> DidResolvers:
    return DidResolvers({"example": MillResolver(key)})


def test_a_2018_key_from_a_did_document():
    signed = sign_2018(credential_11("did:example:mill"), method="did:example:mill#key-1")
    result = verify(signed, PILOTS, mill_resolvers())
    assert result.verified, result.summary()
    assert verify(signed, None, mill_resolvers()).check("proof").code == "UNSUPPORTED_ERROR"
    assert verify(signed, PILOTS, mill_resolvers(OTHER)).check("proof").code == "PROOF_VERIFICATION_ERROR"


def test_a_2018_key_signs_no_other_proof_type_even_under_the_profile():
    document = load_vector("di-eddsa/unsigned.json") | {"issuer": "did:example:mill"}
    signed = sign_credential(document, KEY, verification_method="did:example:mill#key-1",
                             created="2023-03-01T00:00:00Z")
    for compatibility in (None, PILOTS):
        check = verify(signed, compatibility, mill_resolvers()).check("proof")
        assert check.code == "UNSUPPORTED_ERROR" and "Ed25519VerificationKey2018" in check.message


def test_a_2018_key_signs_no_jose_token_either():
    from tradevc.vc.securing.jose import sign_credential_jwt

    document = load_vector("di-eddsa/unsigned.json") | {"issuer": "did:example:mill"}
    token = sign_credential_jwt(document, KEY, verification_method="did:example:mill#key-1")
    for compatibility in (None, PILOTS):
        check = verify(token, compatibility, mill_resolvers()).check("proof")
        assert check.code == "UNSUPPORTED_ERROR" and "Ed25519VerificationKey2018" in check.message
