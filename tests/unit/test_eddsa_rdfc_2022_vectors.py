"""Byte-for-byte reproduction of the W3C vc-di-eddsa test vectors for eddsa-rdfc-2022.

The vectors name an issuer (https://vc.example/issuers/5678, or another did:key) but sign with
a did:key of their own, so a verifier that binds the issuer to the key rightly refuses them as
they stand; they are used here for canonicalization, hashing and signing, and their signature
is checked on its own.
"""

from __future__ import annotations

import hashlib

import pytest

from conftest import load_vector, read_vector
from tradevc.vc.retrieval.did.resolver import DidResolvers
from tradevc.vc.jsonld import default_loader
from tradevc.vc.keys import KeyPair
from tradevc.vc.securing.proofs import get_suite
from tradevc.vc.securing.proofs.data_integrity import add_proof, verify_proof
from tradevc.verifier import TrustPolicy, verify_credential

CASES = {
    "alumni": ("di-eddsa/unsigned.json", "di-eddsa/eddsa-rdfc-2022"),
    "employ": ("di-eddsa/employmentAuth.json", "di-eddsa/eddsa-rdfc-2022/employ"),
}


@pytest.fixture(scope="module")
def key():
    pair = load_vector("di-eddsa/keyPair.json")
    return KeyPair.from_multibase(pair["publicKeyMultibase"], pair["privateKeyMultibase"])


def _text(path):
    return read_vector(path).strip()


@pytest.mark.parametrize("case", sorted(CASES))
def test_each_step_matches_the_vector(case, key):
    unsigned_path, folder = CASES[case]
    suite = get_suite("eddsa-rdfc-2022")
    loader = default_loader()
    unsigned = load_vector(unsigned_path)
    proof_config = load_vector(f"{folder}/proofConfigDataInt.json")

    canonical_doc = suite.transform(unsigned, loader=loader, key=key)
    assert canonical_doc == read_vector(f"{folder}/canonDocDataInt.txt").encode()
    assert hashlib.sha256(canonical_doc).hexdigest() == _text(f"{folder}/docHashDataInt.txt")

    canonical_proof = suite.configure(proof_config, loader=loader, key=key)
    assert canonical_proof == read_vector(f"{folder}/proofCanonDataInt.txt").encode()
    assert hashlib.sha256(canonical_proof).hexdigest() == _text(f"{folder}/proofHashDataInt.txt")

    hash_data = suite.hash(canonical_doc, canonical_proof, key=key)
    assert hash_data.hex() == _text(f"{folder}/combinedHashDataInt.txt")
    proof_value = suite.create_proof_value(hash_data, key)
    assert proof_value == _text(f"{folder}/sigBTC58DataInt.txt")
    assert key.sign(hash_data).hex() == _text(f"{folder}/sigHexDataInt.txt")


@pytest.mark.parametrize("case", sorted(CASES))
def test_add_proof_reproduces_the_signed_credential(case, key):
    unsigned_path, folder = CASES[case]
    signed = load_vector(f"{folder}/signedDataInt.json")
    proof = signed["proof"]
    ours = add_proof(
        load_vector(unsigned_path),
        key,
        cryptosuite="eddsa-rdfc-2022",
        verification_method=proof["verificationMethod"],
        created=proof["created"],
        loader=default_loader(),
    )
    assert ours == signed


@pytest.mark.parametrize("case", sorted(CASES))
def test_vector_signature_verifies_but_issuer_binding_refuses_it(case):
    _, folder = CASES[case]
    signed = load_vector(f"{folder}/signedDataInt.json")
    verified = verify_proof(signed, signed["proof"], resolvers=DidResolvers.offline(), loader=default_loader())
    assert verified.method.key.key_type == "Ed25519"

    result = verify_credential(signed, policy=TrustPolicy.unsafe_any_issuer())
    assert result.check("proof").outcome == "passed"
    binding = result.check("issuer_binding")
    assert binding.outcome == "failed"
    issuer = signed["issuer"] if isinstance(signed["issuer"], str) else signed["issuer"]["id"]
    assert issuer != verified.method.controller and issuer in binding.message
    assert result.verified is False
