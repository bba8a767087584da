"""Inline @context objects: accepted where the signature covers them (JCS proofs, JOSE), refused
where it does not (RDFC proofs: the term-swap attack) unless the deployment pins them by the
SHA-256 of their JCS serialization; protected terms stay protected; signing refuses what
verifying refuses."""

from __future__ import annotations

import copy
from datetime import datetime, timezone

import pytest

from conftest import write_context_folder
from tradevc.vc.securing import jose
from tradevc.vc.securing.data_integrity import cosign_credential, sign_credential
from tradevc.vc.verification import verify_credential
from tradevc.vc.retrieval.did.resolver import DidResolvers
from tradevc.vc.errors import ContextNotPinned, DataLossError, ProtectedTermRedefinition
from tradevc.vc.securing.jose import sign_credential_jwt
from tradevc.vc.jsonld import PinnedContextLoader, inline_context_sha256
from tradevc.vc.keys import KeyPair
from tradevc.vc.checks.policy import TrustPolicy
from tradevc.vc.securing.data_integrity import sign_presentation
from tradevc.vc.verification import verify_presentation
from tradevc.vc.securing.proofs import data_integrity
from tradevc.vc.securing.proofs.data_integrity import verify_proof

V2 = "https://www.w3.org/ns/credentials/v2"
EX = "https://trade.example/vocab#"
TERMS = {"heatNumber": EX + "heatNumber", "grade": EX + "grade"}
SWAPPED = {"heatNumber": EX + "grade", "grade": EX + "heatNumber"}
NOW = datetime(2026, 6, 15, tzinfo=timezone.utc)
CREATED = "2026-01-02T00:00:00Z"
ANY = TrustPolicy.unsafe_any_issuer()
KEY = KeyPair.generate("Ed25519")
P256 = KeyPair.generate("P-256")
HOLDER = KeyPair.generate("Ed25519")


def credential(issuer=KEY, context=TERMS, subject=None, contexts=None):
    return {
        "@context": contexts or [V2, context],
        "id": "urn:uuid:7f0c3e52-5b0a-4a43-9d55-0d6f6b4c1a01",
        "type": ["VerifiableCredential"],
        "issuer": issuer.did,
        "validFrom": "2026-01-01T00:00:00Z",
        "credentialSubject": subject or {"id": "did:example:lot-7", "heatNumber": "H-1", "grade": "A36"},
    }


@pytest.fixture(scope="module")
def pinning(tmp_path_factory):
    """A loader that pins TERMS (and only TERMS) as an inline context."""
    return PinnedContextLoader.with_user_contexts(write_context_folder(tmp_path_factory.mktemp("ctx"), inline=[TERMS]))


@pytest.fixture
def careless(monkeypatch):
    """Signing functions that skip the context checks: what an attacker or another
    implementation may produce, for the verifier to judge."""
    monkeypatch.setattr(data_integrity, "_refuse_uncovered_contexts", lambda *args: None)
    monkeypatch.setattr(jose, "refuse_contexts", lambda *args: None)


def verify(document, **kw):
    return verify_credential(document, policy=ANY, now=NOW, **kw)


def failed(result, name):
    assert result.verified is False, result.summary()
    checks = [c for c in result.checks if c.name == name and c.outcome.value == "failed"]
    assert checks, result.summary()
    return checks[0]


# -- covered by the signature: JCS and JOSE ------------------------------------------------------


@pytest.mark.parametrize("suite,key", [("eddsa-jcs-2022", KEY), ("ecdsa-jcs-2019", P256)])
def test_a_jcs_proof_covers_an_inline_context(suite, key):
    signed = sign_credential(credential(key), key, cryptosuite=suite, created=CREATED)
    result = verify(signed)
    assert result.verified, result.summary()
    # the JCS proof carries a copy of the document's @context, so the inline context is met twice
    assert signed["proof"]["@context"] == signed["@context"]
    assert f"2 inline (2 covered by the {suite} proof)" in result.check("context").message
    assert result.check("data_loss").outcome.value == "passed"  # expanded: the terms must still be defined


def test_the_jcs_signature_breaks_when_the_inline_context_is_rewritten():
    forged = sign_credential(credential(), KEY, cryptosuite="eddsa-jcs-2022", created=CREATED)
    forged["@context"][1] = SWAPPED
    forged["credentialSubject"].update(heatNumber="A36", grade="H-1")
    assert failed(verify(forged), "proof").code == "PROOF_VERIFICATION_ERROR"


def test_a_vc_jwt_covers_an_inline_context():
    token = sign_credential_jwt(credential(), KEY)
    for document in (token, jose.envelope_credential(token)):
        result = verify(document)
        assert result.verified, result.summary()
        assert "covered by the JWS" in result.check("context").message
        assert result.check("data_loss").outcome.value == "passed"


def test_null_vocab_in_an_inline_context_verifies():
    signed = sign_credential(credential(context={"@vocab": None, **TERMS}), KEY, cryptosuite="eddsa-jcs-2022",
                             created=CREATED)
    assert verify(signed).verified


# -- not covered: RDFC ---------------------------------------------------------------------------


@pytest.mark.parametrize("suite,key", [("eddsa-rdfc-2022", KEY), ("ecdsa-rdfc-2019", P256)])
def test_signing_refuses_an_inline_context_its_rdfc_proof_would_not_cover(suite, key):
    with pytest.raises(ContextNotPinned, match=f"not covered by the {suite} proof") as info:
        sign_credential(credential(key), key, cryptosuite=suite, created=CREATED)
    assert inline_context_sha256(TERMS) in info.value.message


def test_an_rdfc_proof_does_not_cover_an_inline_context_unless_it_is_pinned(pinning):
    signed = sign_credential(credential(), KEY, cryptosuite="eddsa-rdfc-2022", created=CREATED, loader=pinning)
    result = verify(signed)
    check = failed(result, "context")
    assert check.code == "CONTEXT_NOT_PINNED"
    assert "not covered by the eddsa-rdfc-2022 proof" in check.message and "rewritten" in check.message
    assert inline_context_sha256(TERMS) in check.message  # what to pin, after review
    assert [c.name for c in result.checks] == ["structure", "context"]  # nothing else read the forged JSON

    pinned = verify(signed, loader=pinning)
    assert pinned.verified, pinned.summary()
    assert "1 inline (1 pinned by SHA-256)" in pinned.check("context").message


def test_the_term_swap_keeps_the_rdfc_signature_valid_and_is_refused(pinning):
    signed = sign_credential(credential(), KEY, cryptosuite="eddsa-rdfc-2022", created=CREATED, loader=pinning)
    forged = copy.deepcopy(signed)
    forged["@context"][1] = SWAPPED  # each term now means the other...
    forged["credentialSubject"].update(heatNumber="A36", grade="H-1")  # ...and the values swap places
    # the attack is real: the RDF, and so the signature, is unchanged
    verify_proof(forged, forged["proof"], resolvers=DidResolvers.offline(), loader=PinnedContextLoader())
    check = failed(verify(forged, loader=pinning), "context")
    assert check.code == "CONTEXT_NOT_PINNED" and inline_context_sha256(SWAPPED) in check.message


def test_an_inline_context_inside_the_credential_is_found_too(pinning):
    subject = {"@context": TERMS, "id": "did:example:lot-7", "heatNumber": "H-1"}
    document = credential(contexts=[V2], subject=subject)
    with pytest.raises(ContextNotPinned, match="eddsa-rdfc-2022"):
        sign_credential(document, KEY, created=CREATED)
    signed = sign_credential(document, KEY, created=CREATED, loader=pinning)
    assert failed(verify(signed), "context").code == "CONTEXT_NOT_PINNED"
    assert verify(signed, loader=pinning).verified


def test_an_unpinned_context_url_inside_the_credential_is_refused_under_jcs(careless):
    subject = {"@context": "https://attacker.example/ctx", "id": "did:example:lot-7"}
    signed = sign_credential(credential(subject=subject), KEY, cryptosuite="eddsa-jcs-2022", created=CREATED)
    check = failed(verify(signed), "context")
    assert check.code == "CONTEXT_NOT_PINNED" and "attacker.example" in check.message


def test_a_proof_set_with_an_rdfc_proof_does_not_cover_inline_contexts(pinning):
    inspector = KeyPair.generate("Ed25519")
    jcs = sign_credential(credential(), KEY, cryptosuite="eddsa-jcs-2022", created=CREATED)
    with pytest.raises(ContextNotPinned, match="eddsa-rdfc-2022 proof of this proof set"):
        cosign_credential(jcs, inspector, cryptosuite="eddsa-rdfc-2022", created=CREATED)
    both = cosign_credential(jcs, inspector, cryptosuite="eddsa-rdfc-2022", created=CREATED, loader=pinning)
    check = failed(verify(both), "context")
    assert check.code == "CONTEXT_NOT_PINNED" and "of this proof set" in check.message
    assert verify(both, loader=pinning).verified


def test_presentations_follow_the_same_rule(pinning):
    held = sign_credential(credential(), KEY, cryptosuite="eddsa-jcs-2022", created=CREATED)
    session = {"challenge": "c-1", "domain": "cbp.gov"}

    def present(**kw):
        return sign_presentation([held], HOLDER, created=CREATED, **session, **kw)

    jcs = verify_presentation(present(cryptosuite="eddsa-jcs-2022"), policy=ANY, now=NOW, **session)
    assert jcs.verified, jcs.summary()
    with pytest.raises(ContextNotPinned, match="eddsa-rdfc-2022"):
        present()
    rdfc = present(loader=pinning)
    assert failed(verify_presentation(rdfc, policy=ANY, now=NOW, **session), "context").code == "CONTEXT_NOT_PINNED"
    assert verify_presentation(rdfc, policy=ANY, now=NOW, loader=pinning, **session).verified


# -- what inline contexts may not do, whatever covers them ----------------------------------------


PROTECTED = {
    "credentialSubject": credential(context={"credentialSubject": EX + "subject", **TERMS}),
    "VerifiableCredential": credential(context={"VerifiableCredential": EX + "Forged", **TERMS}),
    "nullified": credential(subject={"@context": None, "id": "did:example:lot-7"}),
}


@pytest.mark.parametrize("name", PROTECTED)
def test_protected_terms_cannot_be_redefined(name):
    with pytest.raises(ProtectedTermRedefinition, match="protect" if name == "nullified" else f"'{name}'"):
        sign_credential(PROTECTED[name], KEY, cryptosuite="eddsa-jcs-2022", created=CREATED)
    with pytest.raises(ProtectedTermRedefinition):
        sign_credential_jwt(PROTECTED[name], KEY)


@pytest.mark.parametrize("name", PROTECTED)
def test_the_verifier_refuses_a_protected_term_redefined(name, careless):
    for signed in (
        sign_credential(PROTECTED[name], KEY, cryptosuite="eddsa-jcs-2022", created=CREATED),
        sign_credential_jwt(PROTECTED[name], KEY),
    ):
        check = failed(verify(signed), "context")
        assert check.code == "PROTECTED_TERM_REDEFINITION", check.message


def test_an_inline_context_may_repeat_a_protected_definition_unchanged():
    # JSON-LD 1.1 accepts an identical redefinition; many contexts repeat "id": "@id"
    document = credential(context={"id": "@id", "type": {"@id": "@type"}, **TERMS})
    assert verify(sign_credential(document, KEY, cryptosuite="eddsa-jcs-2022", created=CREATED)).verified


UNDEFINED = credential(subject={"id": "did:example:lot-7", "heatNumber": "H-1", "chemistry": "C 0.21"})


def test_an_inline_context_must_define_every_term_even_under_jcs_and_jose():
    with pytest.raises(DataLossError, match="chemistry"):
        sign_credential(UNDEFINED, KEY, cryptosuite="eddsa-jcs-2022", created=CREATED)
    with pytest.raises(DataLossError, match="chemistry"):
        sign_credential_jwt(UNDEFINED, KEY)


def test_the_verifier_refuses_a_term_no_inline_context_defines(careless):
    for signed in (
        sign_credential(UNDEFINED, KEY, cryptosuite="eddsa-jcs-2022", created=CREATED),
        sign_credential_jwt(UNDEFINED, KEY),
    ):
        check = failed(verify(signed), "data_loss")
        assert check.code == "DATA_LOSS_DETECTION_ERROR" and "chemistry" in check.message


def test_inline_contexts_do_not_stay_in_the_loaders_cache():
    loader = PinnedContextLoader()
    for n in range(20):  # twenty documents, twenty distinct inline contexts
        terms = {"heatNumber": f"{EX}heatNumber{n}", "grade": EX + "grade"}
        signed = sign_credential(credential(context=terms), KEY, cryptosuite="eddsa-jcs-2022", created=CREATED,
                                 loader=loader)
        assert verify(signed, loader=loader).verified
    assert not [key for key in loader.context_cache if key.startswith("{")]
    assert "https://www.w3.org/ns/credentials/v2" in loader.context_cache  # pinned contexts are shared



def test_the_fast_path_does_not_keep_every_inline_context_it_saw(monkeypatch):
    # The fast path processes contexts with one pyld resolver for the life of the loader; the
    # resolver keeps each inline context in its per-operation cache, which must be emptied
    # with the fast path's own caches, or every distinct inline context stays in memory.
    from tradevc.vc import fastpath

    monkeypatch.setattr(fastpath, "MAX_CONTEXTS", 5)
    loader = PinnedContextLoader()
    for n in range(40):
        terms = {"heatNumber": f"{EX}heatNumber{n}", "grade": EX + "grade"}
        assert fastpath.fast_quads(credential(context=terms), loader) is not None
    resolver = fastpath._cache_for(loader).options["contextResolver"]
    inline = [key for key in resolver.per_op_cache if key.startswith("{") and "heatNumber" in key]
    assert len(inline) <= 6, len(inline)


def test_a_protected_term_redefined_in_a_wrapped_scoped_context_is_refused(careless):
    # pyld reads a context {"@context": X} as X; the definitions inside X are checked too
    scoped = {"lot": {"@id": EX + "lot", "@context": {"@context": {"issuer": EX + "issuer"}}}}
    subject = {"@context": scoped, "id": "did:example:lot-7", "lot": {"issuer": "did:example:mill"}}
    document = credential(contexts=[V2], subject=subject)
    with pytest.raises(ProtectedTermRedefinition, match="'issuer'"):
        data_integrity.check_context_use(document, PinnedContextLoader(), covered_by="the JWS")
    signed = sign_credential(document, KEY, cryptosuite="eddsa-jcs-2022", created=CREATED)
    assert failed(verify(signed), "context").code == "PROTECTED_TERM_REDEFINITION"


def test_an_inline_context_with_a_key_that_is_not_a_string_fails_a_check(careless):
    # not JSON, but verify_credential takes Python objects and never raises for bad input
    signed = sign_credential(credential(), KEY, cryptosuite="eddsa-jcs-2022", created=CREATED)
    for context in ({1: EX + "one", **TERMS}, {"lot": {"@id": EX + "lot", "@context": {1: EX + "one"}}, **TERMS}):
        forged = copy.deepcopy(signed)
        forged["@context"][1] = context
        assert verify(forged).verified is False


LOT = "https://contexts.steel.example/lot/v1"


@pytest.fixture
def lot_folder(tmp_path):
    """A folder pinning the lot vocabulary (TERMS, protected) by URL."""
    return write_context_folder(tmp_path / "ctx", contexts={LOT: {"@context": {"@protected": True, **TERMS}}})


def test_an_import_in_an_inline_context_does_not_change_the_pinned_context_it_imports(lot_folder):
    # pyld merged an inline context into the very context document it @imports (the loader's,
    # shared by every later document): one document, whatever its signature, could swap what
    # the pinned terms mean for every credential verified afterwards with the same loader.
    issued = sign_credential(credential(contexts=[V2, LOT]), KEY, cryptosuite="eddsa-rdfc-2022", created=CREATED,
                             loader=PinnedContextLoader.with_user_contexts(lot_folder))
    forged = copy.deepcopy(issued)
    forged["@context"] = [V2, "https://w3id.org/security/data-integrity/v2", LOT]  # contexts RDFC does not sign
    forged["credentialSubject"].update(heatNumber="A36", grade="H-1")

    loader = PinnedContextLoader.with_user_contexts(lot_folder)  # the verifier's, for its life
    pinned = copy.deepcopy(loader(LOT)["document"])
    attacker = KeyPair.generate("Ed25519")
    swap = {"@import": LOT, "heatNumber": EX + "grade", "grade": EX + "heatNumber"}
    poison = credential(attacker, contexts=[V2, swap])
    poison["proof"] = {
        "type": "DataIntegrityProof", "cryptosuite": "eddsa-jcs-2022", "created": CREATED, "proofValue": "z1111",
        "verificationMethod": attacker.verification_method, "proofPurpose": "assertionMethod",
    }
    assert verify(poison, loader=loader).verified is False
    assert loader(LOT)["document"] == pinned
    assert failed(verify(forged, loader=loader), "proof").code == "PROOF_VERIFICATION_ERROR"
    assert verify(issued, loader=loader).verified


def test_an_inline_context_may_import_a_pinned_context(lot_folder):
    loader = PinnedContextLoader.with_user_contexts(lot_folder)
    extra = {"@import": LOT, "chemistry": EX + "chemistry"}
    subject = {"id": "did:example:lot-7", "heatNumber": "H-1", "grade": "A36", "chemistry": "C 0.21"}
    for _ in range(2):  # the second time from the caches
        signed = sign_credential(credential(contexts=[V2, extra], subject=subject), KEY, cryptosuite="eddsa-jcs-2022",
                                 created=CREATED, loader=loader)
        assert verify(signed, loader=loader).verified
    assert "chemistry" not in loader(LOT)["document"]["@context"]
    from tradevc.vc.jsonld import expand

    expanded = expand({k: v for k, v in signed.items() if k != "proof"}, loader)[0]
    subject_node = expanded["https://www.w3.org/2018/credentials#credentialSubject"][0]
    assert {EX + "heatNumber", EX + "grade", EX + "chemistry"} <= set(subject_node)
