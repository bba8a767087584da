"""Every cryptosuite: round trips with each key type it takes, and the negative cases."""

from __future__ import annotations

import copy
from datetime import datetime, timezone

import pytest

from conftest import load_vector
from tradevc.issuer import sign_credential
from tradevc.vc.errors import InvalidDocument, KeyMaterialError
from tradevc.vc.jsonld import default_loader
from tradevc.vc.keys import KeyPair
from tradevc.vc.multibase import base58btc_decode, base58btc_encode
from tradevc.vc.securing.proofs import get_suite
from tradevc.vc.securing.proofs.data_integrity import add_proof
from tradevc.verifier import TrustPolicy, verify_credential

NOW = datetime(2026, 6, 15, tzinfo=timezone.utc)
CREATED = "2026-01-01T00:00:00Z"
ED2020 = "https://w3id.org/security/suites/ed25519-2020/v1"

SUITE_KEYS = [
    ("eddsa-rdfc-2022", "Ed25519"),
    ("eddsa-jcs-2022", "Ed25519"),
    ("ecdsa-rdfc-2019", "P-256"),
    ("ecdsa-rdfc-2019", "P-384"),
    ("ecdsa-jcs-2019", "P-256"),
    ("ecdsa-jcs-2019", "P-384"),
    ("Ed25519Signature2020", "Ed25519"),
]
IDS = [f"{s}-{k}" for s, k in SUITE_KEYS]
KEYS = {t: KeyPair.generate(t) for t in ("Ed25519", "P-256", "P-384")}
OTHER_KEYS = {t: KeyPair.generate(t) for t in ("Ed25519", "P-256", "P-384")}


def credential_for(suite: str, key: KeyPair) -> dict:
    credential = load_vector("di-eddsa/unsigned.json")
    credential["issuer"] = key.did
    if suite == "Ed25519Signature2020":
        credential["@context"] = credential["@context"] + [ED2020]
    return credential


def verify(document, **kw):
    kw.setdefault("now", NOW)
    return verify_credential(document, policy=TrustPolicy.unsafe_any_issuer(), **kw)


def failed_check(result, name):
    assert result.verified is False, result.summary()
    matches = [c for c in result.checks if c.name == name and c.outcome.value == "failed"]
    assert matches, result.summary()
    return matches[0]


@pytest.fixture(params=SUITE_KEYS, ids=IDS)
def case(request):
    suite, key_type = request.param
    key = KEYS[key_type]
    signed = sign_credential(credential_for(suite, key), key, cryptosuite=suite, created=CREATED)
    return suite, key, signed


def test_round_trip(case):
    suite, key, signed = case
    result = verify(signed)
    assert result.verified, result.summary()
    assert (signed["proof"].get("cryptosuite") or signed["proof"]["type"]) == suite
    expected_data_loss = "passed" if get_suite(suite).uses_json_ld else "skipped"
    assert result.check("data_loss").outcome.value == expected_data_loss


def test_legacy_proof_shape():
    key = KEYS["Ed25519"]
    signed = sign_credential(credential_for("Ed25519Signature2020", key), key, cryptosuite="Ed25519Signature2020")
    assert signed["proof"]["type"] == "Ed25519Signature2020"
    assert "cryptosuite" not in signed["proof"]


def test_tampered_claim(case):
    _, _, signed = case
    tampered = copy.deepcopy(signed)
    tampered["credentialSubject"]["alumniOf"] = "Forged"
    assert failed_check(verify(tampered), "proof").code == "PROOF_VERIFICATION_ERROR"


def test_tampered_proof(case):
    _, _, signed = case
    tampered = copy.deepcopy(signed)
    signature = bytearray(base58btc_decode(tampered["proof"]["proofValue"][1:]))
    signature[len(signature) // 2] ^= 0x01
    tampered["proof"]["proofValue"] = "z" + base58btc_encode(bytes(signature))
    assert failed_check(verify(tampered), "proof").code == "PROOF_VERIFICATION_ERROR"


def test_tampered_proof_options(case):
    _, _, signed = case
    tampered = copy.deepcopy(signed)
    tampered["proof"]["created"] = "2026-01-01T00:00:01Z"
    assert failed_check(verify(tampered), "proof").code == "PROOF_VERIFICATION_ERROR"


def test_wrong_key(case):
    suite, key, _ = case
    other = OTHER_KEYS[key.key_type]
    forged = add_proof(
        credential_for(suite, other), key, cryptosuite=suite, verification_method=other.verification_method,
        created=CREATED, loader=default_loader(),
    )
    assert failed_check(verify(forged), "proof").code == "PROOF_VERIFICATION_ERROR"


def test_wrong_purpose(case):
    suite, key, _ = case
    signed = add_proof(
        credential_for(suite, key), key, cryptosuite=suite, verification_method=key.verification_method,
        proof_purpose="authentication", created=CREATED, loader=default_loader(),
    )
    assert "authentication" in failed_check(verify(signed), "purpose").message


def test_unpinned_context(case):
    _, _, signed = case
    tampered = copy.deepcopy(signed)
    tampered["@context"] = tampered["@context"] + ["https://evil.example/context"]
    assert failed_check(verify(tampered), "context").code == "CONTEXT_NOT_PINNED"


def test_context_appended_after_signing(case):
    # a pinned context appended later: never accepted (JCS: not covered; RDFC: meaning changes)
    _, _, signed = case
    tampered = copy.deepcopy(signed)
    tampered["@context"] = tampered["@context"] + ["https://w3id.org/traceability/v1"]
    assert verify(tampered).verified is False


@pytest.mark.parametrize("suite", ["ecdsa-rdfc-2019", "ecdsa-jcs-2019"])
def test_ecdsa_suite_refuses_an_ed25519_verification_method(suite):
    key = KEYS["Ed25519"]
    p256 = KEYS["P-256"]
    # sign with a P-256 key but point at an Ed25519 verification method
    forged = add_proof(
        credential_for(suite, key), p256, cryptosuite=suite, verification_method=key.verification_method,
        created=CREATED, loader=default_loader(),
    )
    message = failed_check(verify(forged), "proof").message
    assert "Ed25519" in message and "P-256 or P-384" in message


@pytest.mark.parametrize("suite", ["eddsa-rdfc-2022", "eddsa-jcs-2022", "Ed25519Signature2020"])
def test_eddsa_suite_refuses_an_ecdsa_verification_method(suite):
    key = KEYS["Ed25519"]
    p256 = KEYS["P-256"]
    forged = add_proof(
        credential_for(suite, p256), key, cryptosuite=suite, verification_method=p256.verification_method,
        created=CREATED, loader=default_loader(),
    )
    message = failed_check(verify(forged), "proof").message
    assert "needs a Ed25519 key" in message and "P-256" in message


@pytest.mark.parametrize("suite", ["ecdsa-rdfc-2019", "ecdsa-jcs-2019"])
def test_p384_signature_under_a_p256_key(suite):
    p256, p384 = KEYS["P-256"], KEYS["P-384"]
    forged = add_proof(
        credential_for(suite, p256), p384, cryptosuite=suite, verification_method=p256.verification_method,
        created=CREATED, loader=default_loader(),
    )
    check = failed_check(verify(forged), "proof")
    assert check.code == "MALFORMED_VALUE_ERROR"
    assert "96 bytes" in check.message and "P-384" in check.message and "P-256 key" in check.message


@pytest.mark.parametrize("suite,key_type", [("ecdsa-rdfc-2019", "Ed25519"), ("eddsa-jcs-2022", "P-384")])
def test_signing_with_the_wrong_key_type(suite, key_type):
    key = KEYS[key_type]
    with pytest.raises(KeyMaterialError, match=key_type):
        sign_credential(credential_for(suite, key), key, cryptosuite=suite)


@pytest.mark.parametrize("value", [b"\x00" * 64, b"\xff" * 64])
def test_ecdsa_zero_and_high_signatures_are_refused(value):
    key = KEYS["P-256"]
    signed = sign_credential(credential_for("ecdsa-rdfc-2019", key), key, cryptosuite="ecdsa-rdfc-2019", created=CREATED)
    signed["proof"]["proofValue"] = "z" + base58btc_encode(value)
    assert failed_check(verify(signed), "proof").code == "PROOF_VERIFICATION_ERROR"


def test_jcs_covers_the_json_exactly():
    # JCS signs the JSON text: a change that means the same in JSON-LD still breaks it
    key = KEYS["Ed25519"]
    signed = sign_credential(credential_for("eddsa-jcs-2022", key), key, cryptosuite="eddsa-jcs-2022", created=CREATED)
    tampered = copy.deepcopy(signed)
    tampered["type"] = list(reversed(tampered["type"]))
    assert failed_check(verify(tampered), "proof").code == "PROOF_VERIFICATION_ERROR"


def test_jcs_refuses_numbers_it_cannot_represent():
    key = KEYS["Ed25519"]
    credential = credential_for("eddsa-jcs-2022", key)
    credential["credentialSubject"]["bigNumber"] = 2**60
    with pytest.raises(InvalidDocument, match="2\\*\\*53") as refused:  # not I-JSON: refused before JCS
        sign_credential(credential, key, cryptosuite="eddsa-jcs-2022")
    assert refused.value.code == "PARSING_ERROR"


def test_each_proof_parsed_once_and_parsed_proof_passed_through(monkeypatch):
    """verify_credential hands the proofs parsed by the structure check to verify_proof
    instead of parsing each proof a second time."""
    import tradevc.vc.securing.data_integrity as mechanism
    import tradevc.vc.securing.proofs.data_integrity as di
    key = KEYS["Ed25519"]
    signed = sign_credential(credential_for("eddsa-jcs-2022", key), key, cryptosuite="eddsa-jcs-2022", created=CREATED)
    calls = []
    real = mechanism.parse_proof

    def counting(proof):
        calls.append(proof)
        return real(proof)

    monkeypatch.setattr(mechanism, "parse_proof", counting)
    monkeypatch.setattr(di, "parse_proof", counting)
    result = verify(signed)
    assert result.verified, result.summary()
    assert len(calls) == 1


@pytest.mark.parametrize("cryptosuite", ["eddsa-rdfc-2022", "eddsa-jcs-2022"])
def test_a_lone_surrogate_is_a_failed_proof_not_a_traceback(cryptosuite):
    """JSON may escape half a surrogate pair ("\\ud800"), which json.loads keeps: RDFC's N-Quads
    could not be encoded as UTF-8, and UnicodeEncodeError came out of verify_credential."""
    import json

    key = KeyPair.generate("Ed25519")
    document = load_vector("di-eddsa/unsigned.json") | {"issuer": key.did}
    signed = sign_credential(document, key, cryptosuite=cryptosuite, created="2026-01-01T00:00:00Z")
    hostile = json.loads(json.dumps(signed).replace('"alumniOf": "', '"alumniOf": "\\ud800', 1))
    assert hostile["credentialSubject"]["alumniOf"].startswith("\ud800")
    result = verify_credential(hostile, policy=TrustPolicy({key.did: ["AlumniCredential"]}))
    # not I-JSON (issue 15): refused before any proof is checked
    assert not result.verified and result.check("structure").code == "PARSING_ERROR", result.summary()
