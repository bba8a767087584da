"""VC-JOSE-COSE (vc+jwt / vp+jwt), VC-JWT 1.1 and enveloped credentials: round trips for each
algorithm, and one test per attack, each against a token that is otherwise validly signed so
that the refusal is the check under test and not a bad signature."""

from __future__ import annotations

import copy
import hashlib
import hmac
import json
from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st
from jwcrypto.jwe import JWE
from jwcrypto.jwk import JWK

from conftest import StaticDidResolver, load_vector
from tradevc.vc.securing.data_integrity import sign_credential
from tradevc.vc.verification import verify_credential
from tradevc.vc.retrieval.did.resolver import DidResolvers
from tradevc.vc.securing.enveloped import envelope_credential, envelope_presentation, token_from_envelope
from tradevc.vc.securing import jose
from tradevc.vc.errors import ContextNotPinned, InvalidDocument, SigningError
from tradevc.vc.securing.jose import sign_credential_jwt, sign_presentation_jwt
from tradevc.vc.securing.jws import MAX_TOKEN_LENGTH, is_compact_jws, parse_compact_jws
from tradevc.vc.verification import verify_credential_jwt
from tradevc.vc.keys import KeyPair
from tradevc.vc.multibase import base64url_decode, base64url_encode
from tradevc.vc.checks.policy import TrustPolicy
from tradevc.vc.securing.data_integrity import sign_presentation
from tradevc.vc.verification import verify_presentation
from tradevc.vc.securing.vcjwt import sign_credential_vcjwt, sign_presentation_vcjwt

NOW = datetime(2026, 6, 15, tzinfo=timezone.utc)
CHALLENGE = "7d1f3c2a-entry-4471"
DOMAIN = "cbp.gov"
KEYS = {alg: KeyPair.generate(kt) for alg, kt in (("EdDSA", "Ed25519"), ("ES256", "P-256"), ("ES384", "P-384"))}
ISSUER = KEYS["ES384"]
HOLDER = KeyPair.generate("Ed25519")
OTHER = KeyPair.generate("P-384")
POLICY = TrustPolicy({k.did: ["AlumniCredential"] for k in [*KEYS.values(), OTHER]})


def unsigned(issuer: KeyPair = ISSUER) -> dict:
    credential = load_vector("di-eddsa/unsigned.json")
    credential["issuer"] = issuer.did
    return credential


def b64json(value: dict) -> str:
    return base64url_encode(json.dumps(value, separators=(",", ":")).encode())


def forge(header: dict, payload: dict, key: KeyPair = ISSUER) -> str:
    """A compact JWS with exactly ``header``, signed correctly by ``key`` (raw JWS signature)."""
    signing_input = f"{b64json(header)}.{b64json(payload)}"
    return f"{signing_input}.{base64url_encode(key.sign(signing_input.encode()))}"


def header_for(key: KeyPair = ISSUER, **changes) -> dict:
    header = {"alg": {"Ed25519": "EdDSA", "P-256": "ES256", "P-384": "ES384"}[key.key_type],
              "kid": key.verification_method, "typ": "vc+jwt", "cty": "vc"}
    header.update(changes)
    return {k: v for k, v in header.items() if v is not None}


REFUSED = "PROOF_VERIFICATION_ERROR"  # the code of a header the verifier refuses (ProofVerificationError)


def verify(token, **kw):
    return verify_credential(token, policy=POLICY, now=NOW, **kw)


def failed(result, name: str, code: str | None = None):
    """The check ``name`` that did not pass (the result not verified), with ``code`` if given."""
    assert not result.verified
    check = next((c for c in result.checks if c.name == name and c.outcome.value != "passed"), None)
    assert check is not None, result.summary()
    if code is not None:
        assert check.code == code, result.summary()
    return check


# -- round trips ---------------------------------------------------------------------------------


@pytest.mark.parametrize("alg", sorted(KEYS))
def test_vc_jwt_round_trip(alg):
    key = KEYS[alg]
    token = sign_credential_jwt(unsigned(key), key)
    header = parse_compact_jws(token).header
    assert header == {"alg": alg, "kid": key.verification_method, "typ": "vc+jwt", "cty": "vc"}
    assert parse_compact_jws(token).payload == unsigned(key)  # the payload is the credential itself
    result = verify(token)
    assert result.verified, result.summary()
    assert [c.name for c in result.checks] == [
        "structure", "jose_header", "context", "data_loss", "issuer_binding", "proof", "purpose", "proof_expiry",
        "validity_period", "status", "issuer_trust",
    ]
    assert result.document_id == "urn:uuid:58172aac-d8ba-11ed-83dd-0b3aef56cc33"


@pytest.mark.parametrize("alg", sorted(KEYS))
def test_enveloped_credential_round_trip(alg):
    key = KEYS[alg]
    token = sign_credential_jwt(unsigned(key), key)
    envelope = envelope_credential(token)
    assert envelope["id"].startswith("data:application/vc+jwt,ey")
    assert token_from_envelope(envelope, "EnvelopedVerifiableCredential") == token
    assert verify(envelope).verified


@pytest.mark.parametrize("alg", sorted(KEYS))
def test_vp_jwt_round_trip(alg):
    holder = KEYS[alg]
    token = sign_credential_jwt(unsigned(), ISSUER)
    vp = sign_presentation_jwt([token], holder, challenge=CHALLENGE, domain=DOMAIN)
    header = parse_compact_jws(vp).header
    assert header["typ"] == "vp+jwt" and header["cty"] == "vp" and header["alg"] == alg
    payload = parse_compact_jws(vp).payload
    assert payload["nonce"] == CHALLENGE and payload["aud"] == DOMAIN and payload["holder"] == holder.did
    result = verify_presentation(vp, challenge=CHALLENGE, domain=DOMAIN, policy=POLICY, now=NOW)
    assert result.verified, result.summary()
    assert result.credentials[0].verified
    enveloped = verify_presentation(
        envelope_presentation(vp), challenge=CHALLENGE, domain=DOMAIN, policy=POLICY, now=NOW
    )
    assert enveloped.verified


def test_tampered_payload_fails_the_signature():
    token = sign_credential_jwt(unsigned(), ISSUER)
    head, payload, signature = token.split(".")
    claims = json.loads(base64url_decode(payload))
    claims["credentialSubject"]["alumniOf"] = "Another School"
    result = verify(f"{head}.{b64json(claims)}.{signature}")
    assert failed(result, "proof").code == "PROOF_VERIFICATION_ERROR"


def test_tampered_signature_fails():
    token = sign_credential_jwt(unsigned(), ISSUER)
    head, payload, signature = token.split(".")
    raw = bytearray(base64url_decode(signature))
    raw[5] ^= 1
    assert failed(verify(f"{head}.{payload}.{base64url_encode(bytes(raw))}"), "proof").code == "PROOF_VERIFICATION_ERROR"


def test_forged_token_with_the_honest_header_verifies():
    """The helper the attack tests use makes tokens the verifier accepts when nothing is wrong."""
    assert verify(forge(header_for(), unsigned())).verified


def test_signing_refuses_an_issuer_that_is_not_the_signer():
    with pytest.raises(SigningError):
        sign_credential_jwt(unsigned(OTHER), ISSUER)


def test_signing_refuses_a_credential_with_a_data_integrity_proof():
    with pytest.raises(SigningError):
        sign_credential_jwt(sign_credential(unsigned(KEYS["EdDSA"]), KEYS["EdDSA"]), KEYS["EdDSA"])


# -- attacks, one test each ------------------------------------------------------------------------


def test_alg_none_is_refused():
    signing_input = f"{b64json(header_for(alg='none'))}.{b64json(unsigned())}"
    assert "unsecured" in failed(verify(signing_input + "."), "structure").message  # RFC 7519 unsecured JWT
    result = verify(signing_input + ".AAAA")  # with some signature bytes: refused for its alg
    assert "'alg: none'" in failed(result, "jose_header", REFUSED).message


def test_hmac_with_the_public_key_as_secret_is_refused():
    public = json.dumps(ISSUER.to_jwk(), separators=(",", ":")).encode()
    signing_input = f"{b64json(header_for(alg='HS256'))}.{b64json(unsigned())}"
    mac = hmac.new(public, signing_input.encode(), hashlib.sha256).digest()
    result = verify(f"{signing_input}.{base64url_encode(mac)}")
    assert "HMAC" in failed(result, "jose_header", REFUSED).message


def test_es256_claimed_with_a_p384_key_is_refused():
    # The key is P-384 and really signed; only the header's alg lies.
    result = verify(forge(header_for(alg="ES256"), unsigned()))
    check = failed(result, "proof")
    assert "claims ES256" in check.message and "P-384" in check.message


def test_eddsa_claimed_with_an_ec_key_is_refused():
    result = verify(forge(header_for(alg="EdDSA"), unsigned()))
    assert "claims EdDSA" in failed(result, "proof").message


@pytest.mark.parametrize("alg,why", [(None, "no 'alg'"), ("", "no 'alg'"), (["EdDSA"], "must be a string, not a list"),
                                     ({"EdDSA": 1}, "must be a string, not a JSON object"), (5, "must be a string, not a number")])
def test_alg_that_is_not_a_name_is_refused(alg, why):
    header = header_for(alg="EdDSA")
    if alg is None:
        del header["alg"]
    else:
        header["alg"] = alg
    result = verify(forge(header, unsigned()))
    assert why in failed(result, "jose_header", REFUSED).message


def test_unsupported_algorithm_is_refused():
    result = verify(forge(header_for(alg="RS256"), unsigned()))
    assert failed(result, "jose_header").code == "UNSUPPORTED_ERROR"


@pytest.mark.parametrize("parameter", ["jwk", "jku", "x5u", "x5c"])
def test_key_from_the_token_header_is_refused(parameter):
    attacker = KeyPair.generate("P-384")
    value = {
        "jwk": attacker.to_jwk(),
        "jku": "https://attacker.example/jwks.json",
        "x5u": "https://attacker.example/cert.pem",
        "x5c": ["MIIB"],
    }[parameter]
    result = verify(forge(header_for(**{parameter: value}), unsigned()))
    assert parameter in failed(result, "jose_header", REFUSED).message
    assert not any(c.name == "proof" and c.outcome.value == "passed" for c in result.checks)


def test_embedded_jwk_with_a_matching_attacker_kid_is_refused():
    """The classic CVE-2018-0114 shape: attacker key in jwk, token signed by it, issuer claimed."""
    attacker = KeyPair.generate("P-384")
    token = forge(header_for(jwk=attacker.to_jwk()), unsigned(), key=attacker)
    assert not verify(token).verified


def test_unknown_crit_header_is_refused():
    result = verify(forge(header_for(crit=["exp"], exp=1), unsigned()))
    assert "critical" in failed(result, "jose_header", REFUSED).message


def test_b64_false_is_refused():
    assert "b64" in failed(verify(forge(header_for(b64=False), unsigned())), "jose_header", REFUSED).message


def test_relative_kid_is_refused():
    kid = "#" + ISSUER.public_key_multibase
    result = verify(forge(header_for(kid=kid), unsigned()))
    assert failed(result, "jose_header").code == "INVALID_VERIFICATION_METHOD_URL"


def test_kid_without_fragment_is_refused():
    result = verify(forge(header_for(kid=ISSUER.did), unsigned()))
    assert failed(result, "jose_header").code == "INVALID_VERIFICATION_METHOD_URL"


def test_kid_of_another_did_than_the_issuer_is_refused():
    # OTHER signs a credential naming ISSUER as issuer, with its own (valid, trusted) key.
    result = verify(forge(header_for(OTHER), unsigned(ISSUER), key=OTHER))
    check = failed(result, "issuer_binding")
    assert OTHER.did in check.message and ISSUER.did in check.message
    assert not any(c.name == "proof" and c.outcome.value == "passed" for c in result.checks)


def test_iss_must_equal_the_issuer_exactly():
    payload = {**unsigned(), "iss": ISSUER.did[:-3]}  # a prefix: substring matching would accept it
    assert "'iss'" in failed(verify(forge(header_for(), payload)), "issuer_binding").message


def test_iss_equal_to_the_issuer_is_accepted():
    assert verify(sign_credential_jwt(unsigned(), ISSUER, claims={"iss": ISSUER.did})).verified


def test_compressed_token_is_refused():
    assert "zip" in failed(verify(forge(header_for(zip="DEF"), unsigned())), "jose_header", REFUSED).message


def test_encrypted_token_is_refused_not_decrypted():
    """CVE-2022-3102 shape: a JWE encrypted to the issuer's *public* key must not pass as signed."""
    jwe = JWE(json.dumps(unsigned()).encode(), protected=json.dumps(
        {"alg": "ECDH-ES", "enc": "A256GCM", "typ": "vc+jwt", "kid": ISSUER.verification_method}
    ))
    jwe.add_recipient(JWK(**ISSUER.to_jwk()))
    token = jwe.serialize(compact=True)
    assert token.count(".") == 4
    assert "encrypted" in failed(verify(token), "structure").message


def test_enc_in_a_three_part_token_is_refused():
    result = verify(forge(header_for(enc="A256GCM"), unsigned()))
    assert "enc" in failed(result, "jose_header", REFUSED).message


def test_oversized_token_is_refused_before_decoding():
    token = "e" * (MAX_TOKEN_LENGTH + 1)
    assert "at most" in failed(verify(token), "structure").message


def test_token_just_under_the_limit_is_parsed():
    token = sign_credential_jwt({**unsigned(), "description": "x" * 1000}, ISSUER)
    assert len(token) < MAX_TOKEN_LENGTH and verify(token).verified


@pytest.mark.parametrize(
    "claim, offset, message",
    [
        ("exp", -timedelta(minutes=6), "expired"),
        ("nbf", timedelta(minutes=6), "not valid before"),
        ("iat", timedelta(minutes=6), "issued in the future"),
    ],
)
def test_token_times_against_the_injected_clock(claim, offset, message):
    seconds = int((NOW + offset).timestamp())
    token = sign_credential_jwt(unsigned(), ISSUER, claims={claim: seconds})
    assert message in failed(verify(token), "proof_expiry").message
    later_or_earlier = NOW + offset  # at the claim's own time the token is fine
    assert verify_credential(token, policy=POLICY, now=later_or_earlier).verified


@pytest.mark.parametrize("claim, offset", [("exp", -timedelta(minutes=4)), ("nbf", timedelta(minutes=4))])
def test_token_times_within_the_clock_skew_pass(claim, offset):
    token = sign_credential_jwt(unsigned(), ISSUER, claims={claim: int((NOW + offset).timestamp())})
    assert verify(token).verified


def test_non_numeric_exp_is_refused():
    token = sign_credential_jwt(unsigned(), ISSUER, claims={"exp": "tomorrow"})
    assert failed(verify(token), "proof_expiry").code == "MALFORMED_VALUE_ERROR"


def test_wrong_typ_is_refused():
    result = verify(forge(header_for(typ="vp+jwt"), unsigned()))
    assert "typ" in failed(result, "jose_header", REFUSED).message


def test_wrong_cty_is_refused():
    result = verify(forge(header_for(cty="vp"), unsigned()))
    assert "cty" in failed(result, "jose_header", REFUSED).message


@pytest.mark.parametrize("typ,cty", [("application/vc+jwt", "application/vc"), ("VC+JWT", "VC"),
                                     ("Application/Vc+Jwt", None), ("vc+jwt", "application/vc")])
def test_typ_and_cty_are_media_types(typ, cty):
    """RFC 7515: media types compare case-insensitively, and 'application/' may be left out."""
    result = verify(forge(header_for(typ=typ, cty=cty), unsigned()))
    assert result.verified, result.summary()


@pytest.mark.parametrize("typ", ["application/vp+jwt", "text/vc+jwt", "application/vc+jwt/x", "vc+jwt ", 7])
def test_other_media_types_are_refused(typ):
    result = verify(forge(header_for(typ=typ), unsigned()))
    assert "typ" in failed(result, "jose_header", REFUSED).message


def test_a_vp_jwt_with_the_long_media_type_is_a_presentation():
    holder = KeyPair.generate("Ed25519")
    header = {"alg": "EdDSA", "kid": holder.verification_method, "typ": "application/vp+jwt"}
    payload = {"@context": ["https://www.w3.org/ns/credentials/v2"], "type": ["VerifiablePresentation"],
               "holder": holder.did, "verifiableCredential": [], "nonce": "c", "aud": "cbp.gov"}
    result = verify_presentation(forge(header, payload, holder), challenge="c", domain="cbp.gov", policy=POLICY, now=NOW)
    assert result.verified, result.summary()


# -- no typ: VC-JOSE-COSE says typ SHOULD be vc+jwt / vp+jwt -------------------------------------------

NO_TYP_VC = ("the token has no typ header (VC-JOSE-COSE: it SHOULD be 'vc+jwt'); "
             "verified as vc+jwt because its payload is a VC Data Model 2.0 credential")
NO_TYP_VP = ("the token has no typ header (VC-JOSE-COSE: it SHOULD be 'vp+jwt'); "
             "verified as vp+jwt because its payload is a VC Data Model 2.0 presentation")


@pytest.mark.parametrize("alg", sorted(KEYS))
def test_vc_2_0_payload_without_typ_is_verified_as_vc_jwt_with_a_warning(alg):
    key = KEYS[alg]
    result = verify(forge(header_for(key, typ=None, cty=None), unsigned(key), key=key))
    assert result.verified, result.summary()
    assert result.warnings == [NO_TYP_VC]
    assert result.check("jose_header").message == (
        f"{alg} vc+jwt (no typ header; inferred from the payload), kid {key.verification_method}"
    )
    assert f"WARNING: {NO_TYP_VC}" in result.summary()


def test_typed_vc_jwt_has_no_warning():
    assert verify(sign_credential_jwt(unsigned(), ISSUER)).warnings == []


def test_vc_2_0_payload_without_typ_keeps_the_cty_rule():
    assert verify(forge(header_for(typ=None, cty="application/vc"), unsigned())).verified
    result = verify(forge(header_for(typ=None, cty="vp"), unsigned()))
    assert "cty" in failed(result, "jose_header", REFUSED).message


@pytest.mark.parametrize("changes, code", [
    ({"alg": "none"}, "PROOF_VERIFICATION_ERROR"), ({"alg": "HS256"}, "PROOF_VERIFICATION_ERROR"),
    ({"alg": "ES256"}, None), ({"jwk": {"kty": "OKP"}}, "PROOF_VERIFICATION_ERROR"),
    ({"crit": ["exp"]}, "PROOF_VERIFICATION_ERROR"), ({"kid": "#key-1"}, "INVALID_VERIFICATION_METHOD_URL"),
], ids=repr)
def test_vc_2_0_payload_without_typ_keeps_the_header_safety(changes, code):
    result = verify(forge(header_for(typ=None, **changes), unsigned()))
    check = failed(result, "jose_header" if code else "proof")
    assert check.code == (code or "PROOF_VERIFICATION_ERROR")


def test_vc_2_0_payload_without_typ_signed_by_another_than_the_issuer():
    result = verify(forge(header_for(OTHER, typ=None), unsigned(), key=OTHER))
    assert failed(result, "issuer_binding").code == "PROOF_VERIFICATION_ERROR"


@pytest.mark.parametrize("payload", [
    {},
    {"iss": "did:example:x", "sub": "did:example:y"},
    {**unsigned(), "@context": ["https://www.w3.org/2018/credentials/v1"]},
    {**unsigned(), "@context": "https://www.w3.org/ns/credentials/v2"},
    {**unsigned(), "type": ["AlumniCredential"]},
    {**unsigned(), "type": "VerifiablePresentation"},
], ids=["empty", "claims only", "1.1 context", "context not a list", "not typed VerifiableCredential",
        "a presentation"])
def test_no_typ_and_no_vc_2_0_credential_nor_vc_claim_is_refused(payload):
    result = verify(forge(header_for(typ=None, cty=None), payload))
    check = failed(result, "jose_header")
    assert check.code == "PROOF_VERIFICATION_ERROR"
    assert check.message == (
        "the token has no typ, and its payload is not a VC Data Model 2.0 credential "
        "nor a VC-JWT 1.1 payload with a 'vc' claim"
    )
    assert result.warnings == []


def test_no_typ_with_a_vc_claim_stays_vc_jwt_1_1():
    """A vc claim decides, even next to a top-level 2.0 credential: VC-JWT 1.1, no warning."""
    payload = {**unsigned(), "vc": unsigned_v1(), "iss": ISSUER.did}
    result = verify(forge({"alg": "ES384", "kid": ISSUER.verification_method}, payload))
    assert result.verified, result.summary()
    assert "VC-JWT 1.1" in result.check("jose_header").message and result.warnings == []


def test_vc_2_0_payload_without_typ_in_an_envelope():
    """The envelope says application/vc+jwt; a typ-less 2.0 credential inside is read as one."""
    token = forge(header_for(typ=None), unsigned())
    result = verify(envelope_credential(token))
    assert result.verified, result.summary()
    assert result.warnings == [NO_TYP_VC]
    legacy = forge({"alg": "ES384", "kid": ISSUER.verification_method}, {"vc": unsigned_v1(), "iss": ISSUER.did})
    assert failed(verify(envelope_credential(legacy)), "jose_header", REFUSED).message == (
        "the token has no typ, and its payload is not a VC Data Model 2.0 credential"
    )


def test_vp_2_0_payload_without_typ_is_verified_as_vp_jwt_with_a_warning():
    payload = {"@context": ["https://www.w3.org/ns/credentials/v2"], "type": ["VerifiablePresentation"],
               "holder": HOLDER.did, "verifiableCredential": [envelope_credential(sign_credential_jwt(unsigned(), ISSUER))],
               "nonce": CHALLENGE, "aud": DOMAIN}
    vp = forge({"alg": "EdDSA", "kid": HOLDER.verification_method}, payload, key=HOLDER)
    result = vp_verify(vp)
    assert result.verified, result.summary()
    assert result.warnings == [NO_TYP_VP] and result.credentials[0].warnings == []
    assert failed(vp_verify(vp, challenge="another-session"), "challenge").code == "INVALID_CHALLENGE_ERROR"
    # the same payload given as a credential, and a typ-less credential given as a presentation
    assert "not a VC Data Model 2.0 credential" in failed(verify(vp), "jose_header", REFUSED).message
    token = forge(header_for(typ=None), unsigned())
    assert "not a VC Data Model 2.0 presentation" in failed(vp_verify(token), "jose_header", REFUSED).message


def test_token_type():
    from tradevc.vc.securing.jose import token_type

    def of(header, payload):
        return token_type(parse_compact_jws(forge(header, payload)))

    no_typ = {"alg": "ES384", "kid": ISSUER.verification_method}
    vp = {"@context": ["https://www.w3.org/ns/credentials/v2"], "type": "VerifiablePresentation"}
    assert of(no_typ, unsigned()) == "vc+jwt" and of(no_typ, vp) == "vp+jwt"
    assert of(no_typ, {"vc": unsigned_v1()}) is None and of(no_typ, {**vp, "vp": {}}) is None
    assert of({**no_typ, "typ": "Application/VP+JWT"}, unsigned()) == "vp+jwt"  # the header decides
    assert of({**no_typ, "typ": "JWT"}, unsigned()) == "jwt"


def test_credential_of_a_token_without_typ():
    from tradevc.vc.securing.jose import credential_of

    assert credential_of(forge(header_for(typ=None), unsigned())) == unsigned()
    with pytest.raises(InvalidDocument):
        credential_of(forge(header_for(typ=None), {"iss": ISSUER.did}))


def test_vc_claim_in_a_vc_jwt_payload_is_refused():
    result = verify(forge(header_for(), {"vc": unsigned(), "iss": ISSUER.did}))
    assert "'vc' claim" in failed(result, "structure").message


@pytest.mark.parametrize("token", ["", "a.b", "a.b.c.d", "e30.e30.", "WzFd.e30.AAAA"])
def test_malformed_tokens_are_failed_checks_not_exceptions(token):
    assert failed(verify(token), "structure").code == "MALFORMED_VALUE_ERROR"


def test_a_token_with_characters_outside_base64url_is_a_parsing_error():
    assert failed(verify("!!.!!.!!"), "structure").code == "PARSING_ERROR"


def test_duplicate_header_members_are_refused():
    head = base64url_encode(b'{"alg":"ES384","alg":"none","kid":"x","typ":"vc+jwt"}')
    token = f"{head}.{b64json(unsigned())}.AAAA"
    assert "duplicate" in failed(verify(token), "structure", "PARSING_ERROR").message


@pytest.mark.parametrize("separators", [(",", ":"), (", ", ": ")], ids=["compact", "spaced"])
def test_duplicate_payload_members_are_refused_in_a_validly_signed_token(separators):
    """A payload naming a member twice reads differently to different JSON parsers (the first
    or the last wins): refused, although the issuer's signature over it is good. Here the first
    credentialSubject is the forged one, the last the signed credential's own; a parser keeping
    the last would verify the token."""
    credential = unsigned()
    forged = {**credential["credentialSubject"], "alumniOf": "The School of Forgeries"}
    members = [("credentialSubject", forged), *credential.items()]
    payload = "{" + ",".join(f"{json.dumps(k)}:{json.dumps(v, separators=separators)}" for k, v in members) + "}"
    signing_input = f"{b64json(header_for())}.{base64url_encode(payload.encode())}"
    token = f"{signing_input}.{base64url_encode(ISSUER.sign(signing_input.encode()))}"
    check = failed(verify(token), "structure", "PARSING_ERROR")
    assert "duplicate member 'credentialSubject'" in check.message
    # the same bytes without the duplicate verify: the refusal is the only thing in the way
    assert verify(sign_credential_jwt(credential, ISSUER)).verified
    assert json.loads(payload) == credential  # what a last-wins parser reads: the signed credential


def test_data_integrity_proof_inside_a_vc_jwt_is_refused():
    edd = KEYS["EdDSA"]
    signed = sign_credential(unsigned(edd), edd)
    result = verify(forge(header_for(edd), signed, key=edd))
    assert "Data Integrity" in failed(result, "structure").message


def test_key_not_listed_for_assertion_is_refused():
    did = "did:example:mill"
    resolvers = DidResolvers({"example": StaticDidResolver(did, ISSUER, ["authentication"])})
    credential = {**unsigned(), "issuer": did}
    token = sign_credential_jwt(credential, ISSUER, verification_method=f"{did}#key-1")
    result = verify_credential(token, policy=TrustPolicy({did: ["AlumniCredential"]}), now=NOW, resolvers=resolvers)
    assert failed(result, "purpose").code == "INVALID_RELATIONSHIP_FOR_VERIFICATION_METHOD"


def test_enveloped_credential_with_another_media_type_is_refused():
    token = sign_credential_jwt(unsigned(), ISSUER)
    envelope = {**envelope_credential(token), "id": "data:application/jwt," + token}
    assert failed(verify(envelope), "structure").code == "MALFORMED_VALUE_ERROR"


@given(st.text(alphabet="ab-_.{[ \n\u00e9\u0660Z9=+/", max_size=12))
def test_is_compact_jws_agrees_with_its_definition(text):
    expected = (bool(text) and not text.startswith(("{", "[")) and text.count(".") in (2, 4)
                and all(c.isascii() and (c.isalnum() or c in "-_.") for c in text))
    assert is_compact_jws(text) == expected


def test_is_compact_jws_tells_tokens_from_json():
    token = sign_credential_jwt(unsigned(), ISSUER)
    assert is_compact_jws(token) and not is_compact_jws(token + "\n") and not is_compact_jws(" " + token)
    assert not is_compact_jws(json.dumps(unsigned())) and not is_compact_jws("hello world")


def test_parse_compact_jws_refuses_a_non_string():
    with pytest.raises(InvalidDocument):
        parse_compact_jws(b"abc")


# -- the same tail as Data Integrity ---------------------------------------------------------------


def test_untrusted_issuer_is_refused_by_the_same_policy_check():
    stranger = KeyPair.generate("P-256")
    result = verify(sign_credential_jwt(unsigned(stranger), stranger))
    assert failed(result, "issuer_trust").code == "UNTRUSTED_ISSUER"


def test_expired_credential_fails_validity_period():
    credential = {**unsigned(), "validUntil": "2026-01-31T00:00:00Z"}
    assert failed(verify(sign_credential_jwt(credential, ISSUER)), "validity_period").code == "RANGE_ERROR"


def test_status_without_a_checker_is_could_not_verify():
    credential = {**unsigned(), "credentialStatus": {
        "id": "https://status.example/1#5", "type": "BitstringStatusListEntry", "statusPurpose": "revocation",
        "statusListIndex": "5", "statusListCredential": "https://status.example/1",
    }}
    result = verify(sign_credential_jwt(credential, ISSUER))
    assert result.could_not_verify and result.check("status").code == "STATUS_RETRIEVAL_ERROR"


def test_unpinned_context_in_the_payload_is_refused(monkeypatch):
    credential = unsigned()
    credential["@context"] = [*credential["@context"], "https://attacker.example/context.jsonld"]
    with pytest.raises(ContextNotPinned, match="attacker.example"):  # signing refuses what verifying refuses
        sign_credential_jwt(credential, ISSUER)
    monkeypatch.setattr(jose, "refuse_contexts", lambda document, loader: None)  # a signer that does not check
    assert failed(verify(sign_credential_jwt(credential, ISSUER)), "context").code == "CONTEXT_NOT_PINNED"


# -- presentations -------------------------------------------------------------------------------


def vp_verify(vp, challenge=CHALLENGE, domain=DOMAIN):
    return verify_presentation(vp, challenge=challenge, domain=domain, policy=POLICY, now=NOW)


def test_vp_jwt_mixing_a_data_integrity_and_an_enveloped_jose_credential():
    mill = KEYS["EdDSA"]
    di = sign_credential(unsigned(mill), mill, created="2026-01-01T00:00:00Z")
    jose = sign_credential_jwt(unsigned(), ISSUER)
    vp = sign_presentation_jwt([di, envelope_credential(jose)], HOLDER, challenge=CHALLENGE, domain=DOMAIN)
    result = vp_verify(vp)
    assert result.verified, result.summary()
    assert [c.check("structure").message for c in result.credentials] == [
        "VC Data Model 2.0 credential", "VC Data Model 2.0 credential in a compact JWS"
    ]


def test_data_integrity_presentation_carrying_an_enveloped_jose_credential():
    """The other direction: a holder's Data Integrity presentation around a vc+jwt."""
    mill = KEYS["EdDSA"]
    di = sign_credential(unsigned(mill), mill, created="2026-01-01T00:00:00Z")
    envelope = envelope_credential(sign_credential_jwt(unsigned(), ISSUER))
    vp = sign_presentation([di, envelope], HOLDER, challenge=CHALLENGE, domain=DOMAIN, created="2026-06-14T23:59:00Z")
    result = vp_verify(vp)
    assert result.verified, result.summary()
    assert len(result.credentials) == 2 and all(c.verified for c in result.credentials)


def test_tampered_enveloped_credential_inside_a_presentation_fails_it():
    token = sign_credential_jwt(unsigned(), ISSUER)
    head, payload, signature = token.split(".")
    claims = json.loads(base64url_decode(payload))
    claims["credentialSubject"]["alumniOf"] = "Forged"
    vp = sign_presentation_jwt([f"{head}.{b64json(claims)}.{signature}"], HOLDER, challenge=CHALLENGE, domain=DOMAIN)
    result = vp_verify(vp)
    assert failed(result, "credentials").code == "CREDENTIAL_VERIFICATION_ERROR"
    assert failed(result.credentials[0], "proof")


def test_vp_jwt_wrong_challenge():
    vp = sign_presentation_jwt([sign_credential_jwt(unsigned(), ISSUER)], HOLDER, challenge=CHALLENGE, domain=DOMAIN)
    assert failed(vp_verify(vp, challenge="another-session"), "challenge").code == "INVALID_CHALLENGE_ERROR"


def test_vp_jwt_wrong_domain():
    vp = sign_presentation_jwt([sign_credential_jwt(unsigned(), ISSUER)], HOLDER, challenge=CHALLENGE, domain=DOMAIN)
    assert failed(vp_verify(vp, domain="cbsa-asfc.gc.ca"), "domain").code == "INVALID_DOMAIN_ERROR"


def test_vp_jwt_audience_list_must_be_the_verifiers_domain_set():
    # RFC 7519 lets aud be an array and asks only that the verifier find itself in it; as for a
    # Data Integrity domain, we ask for the very set: containment would let a token made out to
    # two parties be replayed from one to the other
    payload = {"@context": ["https://www.w3.org/ns/credentials/v2"], "type": ["VerifiablePresentation"],
               "holder": HOLDER.did, "nonce": CHALLENGE, "aud": ["cbsa-asfc.gc.ca", DOMAIN]}
    header = {"alg": "EdDSA", "kid": HOLDER.verification_method, "typ": "vp+jwt"}
    token = forge(header, payload, key=HOLDER)
    assert failed(vp_verify(token), "domain").code == "INVALID_DOMAIN_ERROR"
    assert vp_verify(token, domain=[DOMAIN, "cbsa-asfc.gc.ca"]).check("domain").outcome.value == "passed"


def test_vp_jwt_signed_by_someone_else_than_the_holder():
    payload = {"@context": ["https://www.w3.org/ns/credentials/v2"], "type": ["VerifiablePresentation"],
               "holder": HOLDER.did, "nonce": CHALLENGE, "aud": DOMAIN}
    header = {"alg": "ES384", "kid": OTHER.verification_method, "typ": "vp+jwt"}
    assert failed(vp_verify(forge(header, payload, key=OTHER)), "holder_binding").code == "PROOF_VERIFICATION_ERROR"


def unbound_vp(key: KeyPair = HOLDER, **claims) -> str:
    """A vp+jwt that names no holder (no holder, no iss), signed by ``key``."""
    payload = {"@context": ["https://www.w3.org/ns/credentials/v2"], "type": ["VerifiablePresentation"],
               "verifiableCredential": [envelope_credential(sign_credential_jwt(unsigned(), ISSUER))],
               "nonce": CHALLENGE, "aud": DOMAIN, **claims}
    return forge(header_for(key, typ="vp+jwt", cty=None), payload, key=key)


def test_vp_jwt_without_holder_verifies_and_names_the_signer():
    result = vp_verify(unbound_vp())
    assert result.verified, result.summary()
    assert [c.name for c in result.checks] == [
        "structure", "jose_header", "context", "data_loss", "proof", "purpose", "holder_binding", "proof_expiry",
        "challenge", "domain", "credentials",
    ]
    binding = result.check("holder_binding")
    assert binding.outcome.value == "skipped"
    assert binding.message == f"the presentation names no holder, so no holder binding to check; signed by {HOLDER.did}"
    assert result.signers == [HOLDER.did] and result.signer == HOLDER.did


def test_vp_jwt_without_holder_wrong_challenge_or_domain():
    assert failed(vp_verify(unbound_vp(), challenge="another-session"), "challenge").code == "INVALID_CHALLENGE_ERROR"
    assert failed(vp_verify(unbound_vp(), domain="cbsa-asfc.gc.ca"), "domain").code == "INVALID_DOMAIN_ERROR"
    assert "no challenge" in failed(vp_verify(unbound_vp(nonce=None)), "challenge").message


def test_vp_jwt_without_holder_with_a_bad_signature():
    """The kid names HOLDER but OTHER signed: no signer is named, the proof fails."""
    header = header_for(HOLDER, typ="vp+jwt", cty=None)
    head, payload, _ = unbound_vp().split(".")
    signature = forge(header, json.loads(base64url_decode(payload)), key=KeyPair.generate("Ed25519")).split(".")[2]
    result = vp_verify(f"{head}.{payload}.{signature}")
    assert failed(result, "proof").code == "PROOF_VERIFICATION_ERROR"
    assert result.signers == [] and result.signer is None
    assert result.check("holder_binding").message.endswith("; no proof verified")


def test_vp_jwt_naming_its_holder_in_iss_alone_is_bound():
    result = vp_verify(unbound_vp(iss=HOLDER.did))
    assert result.verified, result.summary()
    assert result.check("holder_binding").outcome.value == "passed" and result.signer == HOLDER.did
    check = failed(vp_verify(unbound_vp(iss=OTHER.did)), "holder_binding")
    assert check.code == "PROOF_VERIFICATION_ERROR" and OTHER.did in check.message


def test_vp_jwt_holder_and_a_different_iss_is_refused():
    result = vp_verify(unbound_vp(holder=HOLDER.did, iss=OTHER.did))
    check = failed(result, "holder_binding")
    assert check.code == "PROOF_VERIFICATION_ERROR" and "'iss'" in check.message
    assert vp_verify(unbound_vp(holder=HOLDER.did, iss=HOLDER.did)).verified


def test_vc_jwt_11_presentation_without_iss():
    token = sign_credential_vcjwt(unsigned_v1(), ISSUER)
    payload = {"vp": {"@context": ["https://www.w3.org/2018/credentials/v1"], "type": ["VerifiablePresentation"],
                      "verifiableCredential": [token]}, "nonce": CHALLENGE, "aud": DOMAIN}
    vp = forge({"alg": "EdDSA", "kid": HOLDER.verification_method, "typ": "JWT"}, payload, key=HOLDER)
    result = vp_verify(vp)
    assert result.verified, result.summary()
    assert result.check("holder_binding").outcome.value == "skipped" and result.signer == HOLDER.did
    assert failed(vp_verify(vp, domain="cbsa-asfc.gc.ca"), "domain").code == "INVALID_DOMAIN_ERROR"


def test_vp_jwt_key_not_listed_for_authentication():
    did = "did:example:importer"
    resolvers = DidResolvers({"example": StaticDidResolver(did, HOLDER, ["assertionMethod"])})
    vp = sign_presentation_jwt([], HOLDER, challenge=CHALLENGE, domain=DOMAIN, holder=did,
                               verification_method=f"{did}#key-1")
    result = verify_presentation(vp, challenge=CHALLENGE, domain=DOMAIN, policy=POLICY, now=NOW, resolvers=resolvers)
    assert failed(result, "purpose").code == "INVALID_RELATIONSHIP_FOR_VERIFICATION_METHOD"


def test_vc_jwt_given_as_a_presentation_is_refused():
    token = sign_credential_jwt(unsigned(), ISSUER)
    assert "typ" in failed(vp_verify(token), "jose_header", REFUSED).message


def test_vp_jwt_given_as_a_credential_is_refused():
    vp = sign_presentation_jwt([], HOLDER, challenge=CHALLENGE, domain=DOMAIN)
    assert "typ" in failed(verify(vp), "jose_header", REFUSED).message


# -- VC-JWT 1.1 ------------------------------------------------------------------------------------


def unsigned_v1(issuer: KeyPair = ISSUER) -> dict:
    credential = unsigned(issuer)
    credential["@context"] = ["https://www.w3.org/2018/credentials/v1", "https://www.w3.org/ns/credentials/examples/v2"]
    del credential["validFrom"]
    credential["issuanceDate"] = "2026-01-01T00:00:00Z"
    credential["expirationDate"] = "2027-01-01T00:00:00Z"
    del credential["name"], credential["description"]
    return credential


@pytest.mark.parametrize("alg", sorted(KEYS))
def test_vc_jwt_11_round_trip(alg):
    key = KEYS[alg]
    token = sign_credential_vcjwt(unsigned_v1(key), key)
    jws = parse_compact_jws(token)
    assert jws.header["typ"] == "JWT"
    claims = jws.payload
    assert claims["iss"] == key.did and claims["sub"] == "did:example:abcdefgh"
    assert claims["jti"] == "urn:uuid:58172aac-d8ba-11ed-83dd-0b3aef56cc33"
    assert claims["nbf"] == int(datetime(2026, 1, 1, tzinfo=timezone.utc).timestamp())
    assert claims["exp"] == int(datetime(2027, 1, 1, tzinfo=timezone.utc).timestamp())
    result = verify(token)
    assert result.verified, result.summary()
    assert "VC-JWT 1.1" in result.check("jose_header").message


def test_vc_jwt_11_properties_filled_from_claims():
    """Wallets often send the vc claim stripped of what the JWT claims carry."""
    key = ISSUER
    vc = unsigned_v1()
    for name in ("issuer", "id", "issuanceDate", "expirationDate"):
        del vc[name]
    del vc["credentialSubject"]["id"]
    payload = {"vc": vc, "iss": key.did, "jti": "urn:uuid:1", "sub": "did:example:abcdefgh",
               "nbf": int(datetime(2026, 1, 1, tzinfo=timezone.utc).timestamp()),
               "exp": int(datetime(2027, 1, 1, tzinfo=timezone.utc).timestamp())}
    header = {"alg": "ES384", "kid": key.verification_method, "typ": "JWT"}
    result = verify(forge(header, payload))
    assert result.verified, result.summary()
    assert result.document_id == "urn:uuid:1"


def test_vc_jwt_11_without_typ_is_accepted():
    payload = {"vc": unsigned_v1(), "iss": ISSUER.did}
    assert verify(forge({"alg": "ES384", "kid": ISSUER.verification_method}, payload)).verified


@pytest.mark.parametrize(
    "claim, value",
    [("jti", "urn:uuid:other"), ("sub", "did:example:someone-else"), ("exp", 1798761599),
     ("iss", "did:example:not-the-issuer")],
)
def test_vc_jwt_11_claims_contradicting_the_credential_are_refused(claim, value):
    payload = {"vc": unsigned_v1(), "iss": ISSUER.did, claim: value}
    result = verify(forge({"alg": "ES384", "kid": ISSUER.verification_method, "typ": "JWT"}, payload))
    assert "contradicts" in failed(result, "structure").message


def epoch(text: str) -> int:
    return int(datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp())


def legacy_token(vc: dict, **claims) -> str:
    return forge({"alg": "ES384", "kid": ISSUER.verification_method, "typ": "JWT"}, {"vc": vc, "iss": ISSUER.did, **claims})


def test_vc_jwt_11_nbf_at_signing_time_wins_over_an_earlier_issuance_date():
    """As openvc-core signs: nbf is when the token was signed, vc.issuanceDate an earlier date.
    VC Data Model 1.1 decodes issuanceDate from nbf; the report warns about the difference."""
    token = legacy_token(unsigned_v1(), nbf=epoch("2026-03-01T12:00:00Z"), exp=epoch("2027-01-01T00:00:00Z"))
    result = verify(token)
    assert result.verified, result.summary()
    assert result.warnings == [
        "the 'nbf' claim (2026-03-01T12:00:00Z) differs from vc.issuanceDate (2026-01-01T00:00:00Z); "
        "VC Data Model 1.1 decodes issuanceDate from 'nbf', so issuanceDate is 2026-03-01T12:00:00Z"
    ]
    from tradevc.vc.securing.jose import credential_of

    assert credential_of(token)["issuanceDate"] == "2026-03-01T12:00:00Z"


def test_vc_jwt_11_nbf_is_enforced_as_not_before():
    """nbf wins, so the credential is not valid before it, whatever vc.issuanceDate says."""
    token = legacy_token(unsigned_v1(), nbf=epoch("2026-03-01T12:00:00Z"))
    before = verify_credential(token, policy=POLICY, now=datetime(2026, 2, 1, tzinfo=timezone.utc))
    assert "not valid before" in failed(before, "proof_expiry").message
    assert failed(before, "validity_period").code == "RANGE_ERROR"


def test_vc_jwt_11_nbf_in_the_future_is_refused():
    token = legacy_token(unsigned_v1(), nbf=int((NOW + timedelta(days=1)).timestamp()))
    result = verify(token)
    assert failed(result, "proof_expiry").code == "PROOF_VERIFICATION_ERROR"
    assert failed(result, "validity_period").code == "RANGE_ERROR"
    assert "differs from vc.issuanceDate" in result.warnings[0]


def test_vc_jwt_11_nbf_sets_valid_from_of_a_2_0_credential():
    token = legacy_token(unsigned(), nbf=epoch("2026-03-01T12:00:00Z"))
    result = verify(token)
    assert result.verified, result.summary()
    assert result.warnings == [
        f"the 'nbf' claim (2026-03-01T12:00:00Z) differs from vc.validFrom ({unsigned()['validFrom']}); "
        "VC Data Model 1.1 decodes validFrom from 'nbf', so validFrom is 2026-03-01T12:00:00Z"
    ]


def test_vc_jwt_11_nbf_equal_to_the_issuance_date_gives_no_warning():
    token = sign_credential_vcjwt(unsigned_v1(), ISSUER)
    assert verify(token).warnings == []
    # the same second written with a fraction and another time zone is the same time
    vc = {**unsigned_v1(), "issuanceDate": "2026-01-01T01:00:00.4+01:00"}
    assert verify(legacy_token(vc, nbf=epoch("2026-01-01T00:00:00Z"))).warnings == []


@pytest.mark.parametrize("issuance", ["2026-01-01", "yesterday", 1767225600, None], ids=repr)
def test_vc_jwt_11_nbf_does_not_excuse_a_malformed_issuance_date(issuance):
    result = verify(legacy_token({**unsigned_v1(), "issuanceDate": issuance}, nbf=epoch("2026-03-01T12:00:00Z")))
    assert failed(result, "structure").code == "MALFORMED_VALUE_ERROR"
    assert result.warnings == []


def test_vc_jwt_11_nbf_after_the_expiration_date_is_refused():
    result = verify(legacy_token(unsigned_v1(), nbf=epoch("2027-06-01T00:00:00Z")))
    assert failed(result, "structure").code == "MALFORMED_VALUE_ERROR"


def test_vc_jwt_11_non_numeric_nbf_is_refused():
    result = verify(legacy_token(unsigned_v1(), nbf="2026-03-01T12:00:00Z"))
    assert "'nbf' claim must be a number" in failed(result, "structure").message


def test_vc_jwt_11_expired_by_exp():
    token = sign_credential_vcjwt(unsigned_v1(), ISSUER)
    result = verify_credential(token, policy=POLICY, now=datetime(2027, 2, 1, tzinfo=timezone.utc))
    assert failed(result, "proof_expiry") and failed(result, "validity_period")


def test_vc_jwt_11_presentation_of_vc_jwt_tokens():
    token = sign_credential_vcjwt(unsigned_v1(), ISSUER)
    vp = sign_presentation_vcjwt([token], HOLDER, challenge=CHALLENGE, domain=DOMAIN)
    claims = parse_compact_jws(vp).payload
    assert claims["vp"]["verifiableCredential"] == [token] and claims["iss"] == HOLDER.did
    result = vp_verify(vp)
    assert result.verified, result.summary()
    assert failed(vp_verify(vp, challenge="x"), "challenge")


def test_vc_jwt_11_in_an_envelope_is_refused():
    """An envelope declares application/vc+jwt; a typ JWT token inside is a mismatch."""
    token = sign_credential_vcjwt(unsigned_v1(), ISSUER)
    assert "typ" in failed(verify(envelope_credential(token)), "jose_header", REFUSED).message


def test_deep_copy_of_input_is_not_modified():
    credential = unsigned()
    before = copy.deepcopy(credential)
    sign_credential_jwt(credential, ISSUER)
    assert credential == before
    assert verify_credential_jwt(sign_credential_jwt(credential, ISSUER), policy=POLICY, now=NOW).verified


# -- interoperability with jwcrypto's own high-level JWS -------------------------------------------


@pytest.mark.parametrize("alg", sorted(KEYS))
def test_tokens_verify_with_jwcrypto_jws(alg):
    from jwcrypto.jws import JWS

    key = KEYS[alg]
    token = sign_credential_jwt(unsigned(key), key)
    jws = JWS()
    jws.deserialize(token)
    jws.verify(JWK(**key.to_jwk()), alg=alg)
    assert json.loads(jws.payload) == unsigned(key)


@pytest.mark.parametrize("alg", sorted(KEYS))
def test_jwcrypto_signed_tokens_verify_here(alg):
    from jwcrypto.jws import JWS

    key = KEYS[alg]
    jws = JWS(json.dumps(unsigned(key)).encode())
    jws.add_signature(JWK(**key.to_jwk(private=True)), alg=alg,
                      protected=json.dumps({"alg": alg, "typ": "vc+jwt", "kid": key.verification_method}))
    assert verify(jws.serialize(compact=True)).verified


def test_vp_jwt_with_a_bare_token_instead_of_an_envelope_is_refused():
    token = sign_credential_jwt(unsigned(), ISSUER)
    payload = {"@context": ["https://www.w3.org/ns/credentials/v2"], "type": ["VerifiablePresentation"],
               "holder": HOLDER.did, "verifiableCredential": [token], "nonce": CHALLENGE, "aud": DOMAIN}
    header = {"alg": "EdDSA", "kid": HOLDER.verification_method, "typ": "vp+jwt"}
    assert "EnvelopedVerifiableCredential" in failed(vp_verify(forge(header, payload, key=HOLDER)), "structure").message


def test_unsecured_credential_inside_a_vp_jwt_fails_it():
    vp = sign_presentation_jwt([unsigned()], HOLDER, challenge=CHALLENGE, domain=DOMAIN)
    result = vp_verify(vp)
    assert failed(result, "credentials") and not result.credentials[0].verified


def test_issuer_service_refuses_an_unknown_securing(tmp_path):
    from tradevc.issuer import Issuer

    with Issuer.init(tmp_path / "home", b"pass", name="X") as issuer:
        with pytest.raises(ValueError):
            issuer.issue(unsigned(), securing="cose")


def test_credential_of_reads_each_form_without_verifying():
    from tradevc.vc.securing.jose import credential_of

    token = sign_credential_jwt(unsigned(), ISSUER)
    assert credential_of(token) == credential_of(envelope_credential(token)) == unsigned()
    legacy = credential_of(sign_credential_vcjwt(unsigned_v1(), ISSUER))
    assert legacy["issuer"] == ISSUER.did and legacy["issuanceDate"] == "2026-01-01T00:00:00Z"
    with pytest.raises(InvalidDocument):
        credential_of(sign_presentation_jwt([], HOLDER, challenge=CHALLENGE, domain=DOMAIN))


def test_parsed_headers_are_copies():
    """Headers are remembered by their encoded form; each parse still gets its own dict."""
    token = sign_credential_jwt(unsigned(), ISSUER)
    first = parse_compact_jws(token)
    first.header["alg"] = "none"
    first.header["jwk"] = {"kty": "OKP"}
    second = parse_compact_jws(token)
    assert second.header["alg"] == "ES384" and "jwk" not in second.header
    assert verify(token).verified


def test_headers_with_structured_values_are_parsed_each_time():
    header = header_for(crit=["exp"])
    first = parse_compact_jws(forge(header, unsigned()))
    first.header["crit"].append("changed")
    assert parse_compact_jws(forge(header, unsigned())).header["crit"] == ["exp"]
