"""A legacy Ed25519Signature2020 proof that carries its own ``@context`` (what SpruceID's
didkit emits when the credential does not list the suite's context). For legacy proof types
the proof's context only serves to canonicalize the proof options (the Linked Data Proofs
algorithm); the rule that the document's @context must equal the proof's belongs to
``DataIntegrityProof`` alone.

The signed credentials here are built without the library's signing code: pyld's URDNA2015
over the pinned contexts, SHA-256, and an Ed25519 signature from ``cryptography``.
"""

from __future__ import annotations

import copy
import hashlib
from datetime import datetime, timezone

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from pyld import jsonld

from conftest import load_vector
from tradevc.vc.jsonld import default_loader
from tradevc.vc.keys import KeyPair
from tradevc.vc.multibase import base58btc_encode
from tradevc.verifier import TrustPolicy, verify_credential

ED2020 = "https://w3id.org/security/suites/ed25519-2020/v1"
NOW = datetime(2026, 6, 15, tzinfo=timezone.utc)
ANY = TrustPolicy.unsafe_any_issuer()
LOADER = default_loader()


def _nquads(document) -> bytes:
    options = {"algorithm": "URDNA2015", "format": "application/n-quads", "documentLoader": LOADER}
    return jsonld.normalize(copy.deepcopy(document), options).encode()


def _didkit_style(proof_context):
    """A VC 2.0 credential without the ed25519-2020 context, signed with an
    Ed25519Signature2020 proof whose own @context is ``proof_context``."""
    secret = Ed25519PrivateKey.generate()
    public = secret.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    key = KeyPair.from_public_key_bytes("Ed25519", public)
    credential = load_vector("di-eddsa/unsigned.json")
    credential["issuer"] = key.did
    options = {
        "@context": proof_context,
        "type": "Ed25519Signature2020",
        "created": "2026-01-01T00:00:00Z",
        "verificationMethod": key.verification_method,
        "proofPurpose": "assertionMethod",
    }
    data = hashlib.sha256(_nquads(options)).digest() + hashlib.sha256(_nquads(credential)).digest()
    signed = dict(credential)
    signed["proof"] = dict(options, proofValue="z" + base58btc_encode(secret.sign(data)))
    return signed


@pytest.mark.parametrize("proof_context", [ED2020, [ED2020], ["https://www.w3.org/ns/credentials/v2", ED2020]])
def test_legacy_proof_with_its_own_context_verifies(proof_context):
    signed = _didkit_style(proof_context)
    assert ED2020 not in signed["@context"]
    result = verify_credential(signed, policy=ANY, now=NOW)
    assert result.verified, result.summary()


def _set_proof_context(document, value):
    document["proof"]["@context"] = value


def _change_a_claim(document, value):
    document["credentialSubject"]["alumniOf"] = value


@pytest.mark.parametrize("tamper,value,check,codes", [
    # the proof options are canonicalized under the proof's own context: credentials/v2 alone
    # does not define the legacy proof's terms, so they cannot be read (and would not
    # canonicalize to what was signed)
    (_set_proof_context, "https://www.w3.org/ns/credentials/v2", "proof",
     ("PROOF_VERIFICATION_ERROR", "DATA_LOSS_DETECTION_ERROR")),
    # the proof's own context does not loosen the signature over the claims
    (_change_a_claim, "Another School", "proof", ("PROOF_VERIFICATION_ERROR",)),
    # nor the rule that every context is pinned
    (_set_proof_context, "https://example.com/not-pinned/v1", "context", ("CONTEXT_NOT_PINNED",)),
], ids=["proof-context-changed", "claim-changed", "proof-context-not-pinned"])
def test_legacy_proof_with_its_own_context_still_fails_when_tampered(tamper, value, check, codes):
    tampered = copy.deepcopy(_didkit_style(ED2020))
    tamper(tampered, value)
    result = verify_credential(tampered, policy=ANY, now=NOW)
    assert not result.verified
    assert result.check(check).code in codes, result.summary()
