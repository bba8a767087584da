"""did:web identifiers <-> document URLs (the did:web method specification's examples)."""

import pytest

from tradevc.vc.retrieval.did.web import did_web, document_path, document_url
from tradevc.vc.errors import ResolutionError


@pytest.mark.parametrize("did,url", [
    ("did:web:w3c-ccg.github.io", "https://w3c-ccg.github.io/.well-known/did.json"),
    ("did:web:w3c-ccg.github.io:user:alice", "https://w3c-ccg.github.io/user/alice/did.json"),
    ("did:web:example.com%3A3000:user:alice", "https://example.com:3000/user/alice/did.json"),
])
def test_spec_examples(did, url):
    assert document_url(did) == url


def test_round_trip_from_domain():
    assert did_web("Mill.Example") == "did:web:mill.example"
    assert did_web("mill.example:8443", "issuers/steel") == "did:web:mill.example%3A8443:issuers:steel"
    assert document_path("did:web:mill.example%3A8443:issuers:steel") == "issuers/steel/did.json"


@pytest.mark.parametrize("did", [
    "did:web:127.0.0.1", "did:web:10.0.0.1%3A443", "did:web:%5B%3A%3A1%5D", "did:web:example..com",
    "did:web:example.com%3A99999", "did:web:example.com:..", "did:web:-bad.example", "did:key:z6Mk", "did:web:",
    # a regex "$" matches before a final newline, and str.isdigit() is true of digits int() refuses
    "did:web:example.com%0A", "did:web:example.com:user%0A:alice".replace("%0A", "\n"),
    "did:web:example.com%3A%C2%B9", "did:web:example.com%3A%D9%A8%D9%A4%D9%A4%D9%A3",
])
def test_refused(did):
    with pytest.raises(ResolutionError) as e:
        document_url(did)
    assert e.value.error == "invalidDid"


@pytest.mark.parametrize("domain,path", [
    ("127.0.0.1", None), ("exa mple.com", None), ("example.com", "a/../b"), ("example.com\n", None),
    ("example.com:\u00b9", None), ("example.com:\u0668\u0664", None),
])
def test_did_web_refuses_bad_input(domain, path):
    with pytest.raises(ValueError):
        did_web(domain, path)


def test_offline_verification_of_a_did_web_credential_is_could_not_verify():
    """Offline, a did:web issuer cannot be resolved: the report says the check could not be
    carried out (an error), not that the credential is invalid or the method unknown."""
    from conftest import load_vector
    from tradevc.vc.jsonld import default_loader
    from tradevc.vc.keys import KeyPair
    from tradevc.vc.securing.proofs.data_integrity import add_proof
    from tradevc.verifier import TrustPolicy, verify_credential

    key = KeyPair.generate("Ed25519")
    did = "did:web:mill.example"
    document = load_vector("di-eddsa/unsigned.json")
    document["issuer"] = did
    signed = add_proof(document, key, cryptosuite="eddsa-rdfc-2022", verification_method=f"{did}#key-1",
                       created="2026-01-01T00:00:00Z", loader=default_loader())
    result = verify_credential(signed, policy=TrustPolicy({did: ["AlumniCredential"]}))
    assert not result.verified and result.could_not_verify, result.summary()
    proof = result.check("proof")
    assert proof.outcome.value == "error" and "needs the network" in proof.message


@pytest.mark.parametrize("did", ["did:web:example.com%3A%C2%B9", "did:web:example.com%0A"])
def test_a_malformed_did_web_issuer_is_a_report_not_a_traceback(did):
    """A port of superscript digits made int() raise a ValueError out of the verifier."""
    from conftest import load_vector
    from tradevc.vc.jsonld import default_loader
    from tradevc.vc.keys import KeyPair
    from tradevc.vc.securing.proofs.data_integrity import add_proof
    from tradevc.verifier import TrustPolicy, Verifier

    document = load_vector("di-eddsa/unsigned.json")
    document["issuer"] = did
    signed = add_proof(document, KeyPair.generate("Ed25519"), cryptosuite="eddsa-rdfc-2022",
                       verification_method=f"{did}#key-1", created="2026-01-01T00:00:00Z", loader=default_loader())
    verifier = Verifier(policy=TrustPolicy({did: ["AlumniCredential"]}), session=_NoNetwork())
    result = verifier.verify_credential(signed)
    assert not result.verified, result.summary()
    assert "not a valid" in result.check("proof").message, result.summary()


class _NoNetwork:
    verify = True

    def get(self, *args, **kwargs):
        raise AssertionError("a malformed did:web DID must not be fetched")
