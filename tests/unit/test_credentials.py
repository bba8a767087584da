"""sign_credential / verify_credential: the round trip and one negative test per check."""

from __future__ import annotations

import copy
import json
from datetime import datetime, timedelta, timezone

import pytest

from conftest import StaticDidResolver, load_vector
from tradevc.issuer import sign_credential as _sign_credential
from tradevc.vc.retrieval.did.key import DidKeyResolver
from tradevc.vc.retrieval.did.resolver import DidResolvers
from tradevc.vc.errors import ContextNotPinned, DataLossError, InvalidDocument, KeyMaterialError, SigningError, UnsupportedError
from tradevc.vc.jsonld import default_loader
from tradevc.vc.keys import KeyPair
from tradevc.vc.multibase import base58btc_encode
from tradevc.vc.securing.proofs.data_integrity import add_proof as _add_proof
from tradevc.verifier import TrustPolicy, verify_credential

NOW = datetime(2026, 6, 15, 12, 0, tzinfo=timezone.utc)
ANY = TrustPolicy.unsafe_any_issuer()
V1 = "https://www.w3.org/2018/credentials/v1"
DI_V2 = "https://w3id.org/security/data-integrity/v2"


@pytest.fixture(scope="module")
def key():
    return KeyPair.generate("Ed25519")


@pytest.fixture(scope="module")
def other_key():
    return KeyPair.generate("Ed25519")


CREATED = "2026-01-01T00:00:00Z"


def sign_credential(credential, key, **kw):
    """sign_credential with a fixed creation time (before NOW), unless the test gives one."""
    kw.setdefault("created", CREATED)
    return _sign_credential(credential, key, **kw)


def add_proof(document, key, **kw):
    kw.setdefault("created", CREATED)
    return _add_proof(document, key, **kw)


def make_credential(key, **changes):
    credential = load_vector("di-eddsa/unsigned.json")
    credential["issuer"] = key.did
    credential.update(changes)
    return credential


@pytest.fixture(scope="module")
def signed(key):
    return sign_credential(make_credential(key), key, created="2026-01-01T00:00:00Z")


def verify(document, *, policy=ANY, now=NOW, **kw):
    return verify_credential(document, policy=policy, now=now, **kw)


def outcome(result, name):
    return result.check(name).outcome.value


def assert_failed(result, check, code=None):
    assert result.verified is False
    failed = [c for c in result.checks if c.name == check and c.outcome.value == "failed"]
    assert failed, result.summary()
    if code is not None:
        assert failed[0].code == code, result.summary()
    return failed[0]


# -- the happy path ---------------------------------------------------------------------------


def test_sign_then_verify(signed, key):
    result = verify(signed)
    assert result.verified, result.summary()
    names = [c.name for c in result.checks]
    assert names == [
        "structure", "context", "data_loss", "proof", "purpose", "proof_expiry",
        "issuer_binding", "validity_period", "status", "issuer_trust",
    ]
    assert outcome(result, "status") == "skipped"
    assert any("unsafe_any_issuer" in w for w in result.warnings)


def test_sign_does_not_mutate_input(key):
    credential = make_credential(key)
    before = copy.deepcopy(credential)
    signed = sign_credential(credential, key)
    assert credential == before
    assert "proof" in signed and signed["proof"]["proofPurpose"] == "assertionMethod"
    assert signed["proof"]["verificationMethod"] == key.verification_method


@pytest.mark.parametrize("key_type", ["P-256", "P-384"])
def test_eddsa_refuses_ecdsa_keys(key_type):
    ec_key = KeyPair.generate(key_type)
    with pytest.raises(KeyMaterialError, match="Ed25519"):
        sign_credential(make_credential(ec_key), ec_key)


def test_result_has_no_truth_value(signed):
    result = verify(signed)
    with pytest.raises(TypeError, match="verified"):
        bool(result)
    result.raise_for_failure()


def test_trust_policy_for_issuer_and_type(signed, key):
    assert verify(signed, policy=TrustPolicy({key.did: ["AlumniCredential"]})).verified
    c = assert_failed(verify(signed, policy=TrustPolicy({"did:example:other": ["AlumniCredential"]})), "issuer_trust", "UNTRUSTED_ISSUER")
    assert key.did in c.message
    c = assert_failed(verify(signed, policy=TrustPolicy({key.did: ["MillTestReportCredential"]})), "issuer_trust", "UNTRUSTED_ISSUER")
    assert "AlumniCredential" in c.message


def test_empty_trust_policy_is_refused():
    with pytest.raises(ValueError):
        TrustPolicy({})


def test_policy_is_required(signed):
    with pytest.raises(TypeError):
        verify_credential(signed)  # type: ignore[call-arg]
    with pytest.raises(TypeError):
        verify_credential(signed, policy=None)  # type: ignore[arg-type]


def test_vc_1_1_credential(key):
    credential = {
        "@context": [V1, DI_V2],
        "type": ["VerifiableCredential"],
        "issuer": key.did,
        "issuanceDate": "2026-01-01T00:00:00Z",
        "expirationDate": "2027-01-01T00:00:00Z",
        "credentialSubject": {"id": "did:example:subject"},
    }
    signed = sign_credential(credential, key)
    assert verify(signed).verified
    assert_failed(verify(signed, now=datetime(2027, 2, 1, tzinfo=timezone.utc)), "validity_period", "RANGE_ERROR")


def v1_credential(key, *contexts):
    """A small VC Data Model 1.1 credential issued by ``key``'s DID, with ``contexts`` after the base one."""
    return {
        "@context": [V1, *contexts],
        "type": ["VerifiableCredential"],
        "issuer": key.did,
        "issuanceDate": "2026-01-01T00:00:00Z",
        "credentialSubject": {"id": "did:example:subject"},
    }


@pytest.mark.parametrize("cryptosuite", ["eddsa-rdfc-2022", "eddsa-jcs-2022"])
def test_vc_1_1_signing_injects_the_data_integrity_context(key, cryptosuite):
    # VC Data Integrity, "Context Injection": the v2 context is appended, not refused
    credential = v1_credential(key)
    signed = sign_credential(credential, key, cryptosuite=cryptosuite)
    assert signed["@context"] == [V1, DI_V2]
    assert credential["@context"] == [V1]  # the input is not changed
    assert {k: v for k, v in signed.items() if k not in ("@context", "proof")} == {
        k: v for k, v in credential.items() if k != "@context"
    }
    assert verify(signed).verified
    # the injected context is covered by the signature: taking it out again breaks the proof
    stripped = copy.deepcopy(signed)
    stripped["@context"] = [V1]
    assert not verify(stripped).verified


def test_context_injection_only_where_needed(key):
    # a 2.0 credential (credentials/v2 defines DataIntegrityProof) and a 1.1 credential that
    # lists the context already keep their @context as they are
    v2 = sign_credential(make_credential(key), key)
    assert v2["@context"] == load_vector("di-eddsa/unsigned.json")["@context"]
    listed = v1_credential(key, DI_V2)
    assert sign_credential(listed, key)["@context"] == [V1, DI_V2]


def test_no_context_injection_under_existing_proofs(key, other_key):
    # a 1.1 credential signed with the legacy suite: appending the Data Integrity context for a
    # co-signer's DataIntegrityProof would change what the first proof signed, so it is refused
    from tradevc.issuer import cosign_credential

    credential = v1_credential(key, "https://w3id.org/security/suites/ed25519-2020/v1")
    signed = sign_credential(credential, key, cryptosuite="Ed25519Signature2020")
    with pytest.raises(SigningError, match="existing proofs"):
        cosign_credential(signed, other_key, cryptosuite="eddsa-rdfc-2022", created=CREATED)
    assert verify(signed).verified


def test_legacy_proof_type_still_needs_its_context_listed(key):
    credential = v1_credential(key)
    with pytest.raises(SigningError, match="ed25519-2020"):
        sign_credential(credential, key, cryptosuite="Ed25519Signature2020")


@pytest.mark.parametrize("cryptosuite,key_type", [
    ("eddsa-jcs-2022", "Ed25519"), ("ecdsa-jcs-2019", "P-256"), ("ecdsa-jcs-2019", "P-384"),
])
def test_jcs_proofs_carry_the_document_context(cryptosuite, key_type):
    signer = KeyPair.generate(key_type)
    signed = sign_credential(make_credential(signer), signer, cryptosuite=cryptosuite)
    assert signed["proof"]["@context"] == signed["@context"]
    assert list(signed["proof"])[-2:] == ["@context", "proofValue"]
    assert verify(signed).verified
    # the proof's @context is part of the signed proof configuration and must equal the document's
    for context in (["https://www.w3.org/ns/credentials/v2"], signed["@context"] + [DI_V2]):
        tampered = copy.deepcopy(signed)
        tampered["proof"]["@context"] = context
        assert_failed(verify(tampered), "proof", "PROOF_VERIFICATION_ERROR")
    # a context appended to the document after signing is refused
    appended = copy.deepcopy(signed)
    appended["@context"] = appended["@context"] + [DI_V2]
    assert not verify(appended).verified


@pytest.mark.parametrize("cryptosuite", ["eddsa-rdfc-2022", "Ed25519Signature2020"])
def test_rdfc_proofs_do_not_carry_a_context(key, cryptosuite):
    credential = make_credential(key)
    if cryptosuite == "Ed25519Signature2020":
        credential["@context"] = credential["@context"] + ["https://w3id.org/security/suites/ed25519-2020/v1"]
    signed = sign_credential(credential, key, cryptosuite=cryptosuite)
    assert "@context" not in signed["proof"]


def test_jcs_proof_without_context_still_verifies(key):
    # what tradevc signed before proofs carried their @context: the configuration was hashed
    # with the document's @context, so the proof verifies without the member
    signed = sign_credential(make_credential(key), key, cryptosuite="eddsa-jcs-2022")
    del signed["proof"]["@context"]
    assert verify(signed).verified


# -- signing refuses what could not be verified -----------------------------------------------


def test_signing_refuses_undefined_terms(key):
    credential = make_credential(key, **{"@context": ["https://www.w3.org/ns/credentials/v2"]})
    with pytest.raises(DataLossError, match="alumniOf"):
        sign_credential(credential, key)


def test_signing_refuses_unpinned_context(key):
    credential = make_credential(key)
    credential["@context"] = credential["@context"] + ["https://evil.example/context"]
    with pytest.raises(ContextNotPinned, match="evil.example"):
        sign_credential(credential, key)


def test_signing_refuses_issuer_other_than_key(key, other_key):
    with pytest.raises(SigningError, match="issuer"):
        sign_credential(make_credential(other_key), key)


def test_signing_refuses_invalid_credential(key):
    with pytest.raises(InvalidDocument, match="credentialSubject"):
        sign_credential(make_credential(key, credentialSubject={}), key)


def test_signing_refuses_unknown_suite(key):
    with pytest.raises(UnsupportedError, match="rot13-2025"):
        sign_credential(make_credential(key), key, cryptosuite="rot13-2025")


def test_signing_needs_the_secret(key):
    public_only = KeyPair.from_multibase(key.public_key_multibase)
    with pytest.raises(KeyMaterialError):
        sign_credential(make_credential(key), public_only)


# -- one negative test per check ---------------------------------------------------------------


def test_tampered_claim(signed):
    tampered = copy.deepcopy(signed)
    tampered["credentialSubject"]["alumniOf"] = "The School of Forgery"
    c = assert_failed(verify(tampered), "proof", "PROOF_VERIFICATION_ERROR")
    assert "does not verify" in c.message


def test_tampered_proof_value(signed):
    tampered = copy.deepcopy(signed)
    value = tampered["proof"]["proofValue"]
    tampered["proof"]["proofValue"] = value[:-2] + ("1" if value[-2] != "1" else "2") + value[-1]
    assert_failed(verify(tampered), "proof")


def test_tampered_created(signed):
    tampered = copy.deepcopy(signed)
    tampered["proof"]["created"] = "2026-01-02T00:00:00Z"
    assert_failed(verify(tampered), "proof", "PROOF_VERIFICATION_ERROR")


@pytest.mark.parametrize("value", ["not-multibase", "z", "zzzz", "u" + "A" * 86])
def test_malformed_proof_value(signed, value):
    tampered = copy.deepcopy(signed)
    tampered["proof"]["proofValue"] = value
    assert_failed(verify(tampered), "proof", "MALFORMED_VALUE_ERROR")


def test_wrong_key(key, other_key):
    # signed by key, but claims the verification method of other_key (whose DID is the issuer)
    forged = add_proof(
        make_credential(other_key), key, cryptosuite="eddsa-rdfc-2022",
        verification_method=other_key.verification_method, loader=default_loader(),
    )
    assert_failed(verify(forged), "proof", "PROOF_VERIFICATION_ERROR")


def test_wrong_purpose(key):
    signed = add_proof(
        make_credential(key), key, cryptosuite="eddsa-rdfc-2022", verification_method=key.verification_method,
        proof_purpose="authentication", loader=default_loader(),
    )
    result = verify(signed)
    assert outcome(result, "proof") == "passed"
    c = assert_failed(result, "purpose", "PROOF_VERIFICATION_ERROR")
    assert "authentication" in c.message


def test_method_not_listed_under_assertion_method(key):
    did = "did:example:mill"
    resolvers = DidResolvers({"example": StaticDidResolver(did, key, ["authentication"]), "key": DidKeyResolver()})
    signed = add_proof(
        make_credential(key, issuer=did), key, cryptosuite="eddsa-rdfc-2022",
        verification_method=f"{did}#key-1", loader=default_loader(),
    )
    result = verify(signed, resolvers=resolvers)
    assert outcome(result, "proof") == "passed"
    assert_failed(result, "purpose", "INVALID_RELATIONSHIP_FOR_VERIFICATION_METHOD")

    listed = DidResolvers({"example": StaticDidResolver(did, key, ["assertionMethod"])})
    assert verify(signed, resolvers=listed).verified


def test_verification_method_missing_from_did_document(key):
    did = "did:example:mill"
    resolvers = DidResolvers({"example": StaticDidResolver(did, key, ["assertionMethod"])})
    signed = add_proof(
        make_credential(key, issuer=did), key, cryptosuite="eddsa-rdfc-2022",
        verification_method=f"{did}#key-2", loader=default_loader(),
    )
    assert_failed(verify(signed, resolvers=resolvers), "proof", "INVALID_VERIFICATION_METHOD")


def test_unsupported_did_method(key):
    signed = add_proof(
        make_credential(key, issuer="did:example:x"), key, cryptosuite="eddsa-rdfc-2022",
        verification_method="did:example:x#k", loader=default_loader(),
    )
    c = assert_failed(verify(signed), "proof", "UNSUPPORTED_ERROR")
    assert "did:example" in c.message


def test_issuer_changed_after_signing(signed, other_key):
    tampered = copy.deepcopy(signed)
    tampered["issuer"] = other_key.did
    # the issuer is signed data, so the signature no longer verifies
    assert_failed(verify(tampered), "proof", "PROOF_VERIFICATION_ERROR")


def test_issuer_binding(key, other_key):
    # signed by other_key's DID for a credential naming key's DID as issuer
    credential = make_credential(key)
    signed = add_proof(
        credential, other_key, cryptosuite="eddsa-rdfc-2022",
        verification_method=other_key.verification_method, loader=default_loader(),
    )
    result = verify(signed)
    assert outcome(result, "proof") == "passed"
    c = assert_failed(result, "issuer_binding", "PROOF_VERIFICATION_ERROR")
    assert key.did in c.message and other_key.did in c.message


def test_unknown_context(signed):
    tampered = copy.deepcopy(signed)
    tampered["@context"].append("https://evil.example/context")
    c = assert_failed(verify(tampered), "context", "CONTEXT_NOT_PINNED")
    assert "evil.example" in c.message


def test_inline_context(signed):
    tampered = copy.deepcopy(signed)
    tampered["@context"].append({"alumniOf": "https://evil.example/vocab#employer"})
    assert_failed(verify(tampered), "context", "CONTEXT_NOT_PINNED")


def test_context_swapped_after_signing(signed):
    tampered = copy.deepcopy(signed)
    tampered["@context"] = ["https://www.w3.org/ns/credentials/v2", "https://w3id.org/traceability/v1"]
    result = verify(tampered)
    assert result.verified is False
    assert outcome(result, "proof") == "failed" or outcome(result, "data_loss") == "failed"


def test_undefined_term_added_after_signing(signed):
    # credentials/v2 alone has no @vocab: an added undefined term must not slip through unsigned
    tampered = copy.deepcopy(signed)
    tampered["@context"] = ["https://www.w3.org/ns/credentials/v2"]
    c = assert_failed(verify(tampered), "data_loss", "DATA_LOSS_DETECTION_ERROR")
    assert "alumniOf" in c.message


def test_relative_id_added_after_signing(signed):
    tampered = copy.deepcopy(signed)
    tampered["credentialSubject"]["alumniOf"] = {"id": "school-1", "name": "The School of Examples"}
    c = assert_failed(verify(tampered), "data_loss", "DATA_LOSS_DETECTION_ERROR")
    assert "school-1" in c.message


def test_expired(key):
    signed = sign_credential(make_credential(key, validUntil="2026-03-01T00:00:00Z"), key)
    c = assert_failed(verify(signed), "validity_period", "RANGE_ERROR")
    assert "expired" in c.message
    assert verify(signed, now=datetime(2026, 2, 1, tzinfo=timezone.utc)).verified


def test_not_yet_valid(key):
    signed = sign_credential(make_credential(key, validFrom="2026-09-01T00:00:00Z"), key)
    c = assert_failed(verify(signed), "validity_period", "RANGE_ERROR")
    assert "not valid until" in c.message


def test_clock_skew_tolerance(key):
    signed = sign_credential(make_credential(key, validFrom="2026-06-15T12:03:00Z"), key)
    assert verify(signed).verified  # 3 minutes ahead: within the default 5 minutes
    assert_failed(verify(signed, max_clock_skew=timedelta(0)), "validity_period")


@pytest.mark.parametrize("member", ["validFrom", "validUntil"])
def test_the_default_clock_skew_is_five_minutes_on_both_ends(key, member):
    """Exactly 5 minutes out is tolerated, one second more is not: on validFrom (not yet
    valid) and on validUntil (expired) alike, with the default of verify_credential."""
    sign = -1 if member == "validUntil" else 1  # validUntil lies in the past, validFrom in the future

    def at(offset):
        moment = NOW + sign * offset
        return sign_credential(make_credential(key, **{member: moment.strftime("%Y-%m-%dT%H:%M:%SZ")}), key)

    assert verify(at(timedelta(minutes=5))).check("validity_period").outcome.value == "passed"
    check = assert_failed(verify(at(timedelta(minutes=5, seconds=1))), "validity_period", "RANGE_ERROR")
    assert ("expired" if member == "validUntil" else "not valid until") in check.message


def test_proof_expired(key):
    signed = sign_credential(make_credential(key), key, created="2026-01-01T00:00:00Z", expires="2026-02-01T00:00:00Z")
    c = assert_failed(verify(signed), "proof_expiry", "PROOF_VERIFICATION_ERROR")
    assert "expired" in c.message
    assert verify(signed, now=datetime(2026, 1, 15, tzinfo=timezone.utc)).verified


def test_proof_created_in_the_future(key):
    signed = sign_credential(make_credential(key), key, created="2026-07-01T00:00:00Z")
    assert_failed(verify(signed), "proof_expiry", "PROOF_VERIFICATION_ERROR")


def test_unknown_cryptosuite(signed):
    tampered = copy.deepcopy(signed)
    tampered["proof"]["cryptosuite"] = "eddsa-rdfc-2099"
    assert_failed(verify(tampered), "proof", "UNSUPPORTED_ERROR")


def test_wrong_proof_type(signed):
    tampered = copy.deepcopy(signed)
    tampered["proof"]["type"] = "Ed25519Signature2018"
    c = assert_failed(verify(tampered), "proof", "UNSUPPORTED_ERROR")
    assert "Ed25519Signature2018" in c.message


def test_proof_context_must_prefix_document_context(signed):
    tampered = copy.deepcopy(signed)
    tampered["proof"]["@context"] = ["https://www.w3.org/ns/credentials/examples/v2"]
    assert_failed(verify(tampered), "proof", "PROOF_VERIFICATION_ERROR")


def test_term_added_to_the_proof(signed, key):
    # under the examples context's @vocab the term is defined, so the signature catches it
    tampered = copy.deepcopy(signed)
    tampered["proof"]["note"] = "added later"
    assert_failed(verify(tampered), "proof", "PROOF_VERIFICATION_ERROR")
    # with credentials/v2 alone it is undefined: data loss, named
    plain = make_credential(key, **{"@context": ["https://www.w3.org/ns/credentials/v2"]})
    plain["credentialSubject"] = {"id": "did:example:abcdefgh", "name": "Example"}
    plain["type"] = ["VerifiableCredential"]
    tampered = sign_credential(plain, key)
    assert verify(tampered).verified
    tampered["proof"]["unsignedNote"] = "added later"
    c = assert_failed(verify(tampered), "proof", "DATA_LOSS_DETECTION_ERROR")
    assert "unsignedNote" in c.message


def test_missing_proof(key):
    c = assert_failed(verify(make_credential(key)), "structure", "PROOF_VERIFICATION_ERROR")
    assert "no proof" in c.message


@pytest.mark.parametrize("proof", [[], {}, None, [{}]], ids=repr)
def test_empty_or_null_proof(signed, proof):
    # regression: an empty proof list once produced no proof check at all, and verified
    tampered = copy.deepcopy(signed)
    tampered["proof"] = proof
    result = verify(tampered)
    assert result.verified is False
    assert result.check("structure").outcome.value == "failed"


@pytest.mark.parametrize("field", ["type", "verificationMethod", "proofPurpose", "proofValue"])
def test_proof_missing_field(signed, field):
    tampered = copy.deepcopy(signed)
    del tampered["proof"][field]
    result = verify(tampered)
    assert result.verified is False
    assert result.failures[0].code in ("MALFORMED_VALUE_ERROR", "PROOF_VERIFICATION_ERROR")


def test_weak_key_did_is_refused(signed):
    # the identity point: cryptography would accept R=identity, S=0 for every message
    weak = "did:key:z6MkeXATEjyXENzBXBxgC5EHk2JE5aqd7qMGGtDpLUH1e2Sj"
    tampered = copy.deepcopy(signed)
    tampered["issuer"] = weak
    tampered["proof"]["verificationMethod"] = f"{weak}#{weak.split(':')[2]}"
    tampered["proof"]["proofValue"] = "z" + base58btc_encode(b"\x01" + b"\x00" * 63)
    result = verify(tampered)
    assert result.verified is False
    assert result.check("proof").outcome.value == "failed"


def test_credential_status_is_not_silently_ignored(key):
    credential = make_credential(key)
    credential["credentialStatus"] = {
        "id": "https://example.com/status/1#5",
        "type": "BitstringStatusListEntry",
        "statusPurpose": "revocation",
        "statusListIndex": "5",
        "statusListCredential": "https://example.com/status/1",
    }
    result = verify(sign_credential(credential, key))
    assert result.verified is False
    assert result.could_not_verify
    assert result.check("status").code == "STATUS_RETRIEVAL_ERROR"


@pytest.mark.parametrize(
    "document",
    [None, 42, "credential", [], {}, {"@context": 5}, {"proof": []}, {"@context": ["https://www.w3.org/ns/credentials/v2"]}],
    ids=repr,
)
def test_garbage_never_raises(document):
    result = verify(document)
    assert result.verified is False
    assert result.check("structure").outcome.value == "failed"


def test_summary_names_failed_check(signed):
    tampered = copy.deepcopy(signed)
    tampered["credentialSubject"]["alumniOf"] = "x"
    text = verify(tampered).summary()
    assert text.startswith("NOT VERIFIED")
    assert "FAIL proof" in text and "PROOF_VERIFICATION_ERROR" in text


def test_trust_policy_file_with_names(tmp_path, signed, key):
    path = tmp_path / "trusted-issuers.json"
    path.write_text(json.dumps({"trustedIssuers": [
        {"did": key.did, "name": "School of Examples", "types": ["AlumniCredential"]},
        {"did": "did:web:licensing.example", "name": "Licensing Office", "types": ["SIMASteelImportLicenseCredential"]},
    ]}))
    policy = TrustPolicy.from_file(path)
    result = verify(signed, policy=policy)
    assert result.verified
    assert "School of Examples" in result.check("issuer_trust").message
    for bad in ({}, {"trustedIssuers": []}, {"trustedIssuers": [{"did": "x", "types": ["T"]}]},
                {"trustedIssuers": [{"did": key.did, "types": []}]}, {"trustedIssuers": "all"}):
        with pytest.raises(ValueError):
            TrustPolicy.from_dict(bad)
