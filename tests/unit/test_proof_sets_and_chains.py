"""Proof sets and proof chains (VC Data Integrity 1.0): the W3C vc-di-eddsa proof-set-chain
vectors reproduced byte for byte, and a mill plus an independent inspector on one credential."""

from __future__ import annotations

import copy
from datetime import datetime, timezone

import pytest

from conftest import load_vector
from tradevc.issuer import cosign_credential, sign_credential
from tradevc.vc.retrieval.did.resolver import DidResolvers
from tradevc.vc.errors import ProofVerificationError, SigningError
from tradevc.vc.jsonld import default_loader
from tradevc.vc.keys import KeyPair
from tradevc.vc.securing.proofs.data_integrity import add_proof, verify_proof
from tradevc.verifier import TrustPolicy, verify_credential

FOLDER = "di-eddsa/proof-set-chain"
# each step: (signed document after it, its proof config, the key pair that signs it)
STEPS = [
    ("signedProofSet1.json", "proofSetConfig1.json", "keyPair1"),
    ("signedProofSet2.json", "proofSetConfig2.json", "keyPair2"),
    ("signedProofChain1.json", "proofChainConfig1.json", "keyPair3"),
    ("signedProofChain2.json", "proofChainConfig2.json", "keyPair4"),
]
NOW = datetime(2026, 6, 15, tzinfo=timezone.utc)


def vector_key(name):
    pair = load_vector(f"{FOLDER}/multiKeyPairs.json")[name]
    return KeyPair.from_multibase(pair["publicKeyMultibase"], pair["privateKeyMultibase"])


def test_signing_reproduces_each_step_byte_for_byte():
    document = load_vector(f"{FOLDER}/unsigned.json")
    for signed_name, config_name, key_name in STEPS:
        config = load_vector(f"{FOLDER}/{config_name}")
        document = add_proof(
            document,
            vector_key(key_name),
            cryptosuite=config["cryptosuite"],
            verification_method=config["verificationMethod"],
            created=config["created"],
            proof_id=config.get("id"),
            previous_proof=config.get("previousProof"),
            loader=default_loader(),
        )
        assert document == load_vector(f"{FOLDER}/{signed_name}"), signed_name


@pytest.mark.parametrize("signed_name", [s for s, _, _ in STEPS])
def test_every_proof_of_the_vectors_verifies(signed_name):
    document = load_vector(f"{FOLDER}/{signed_name}")
    proofs = document["proof"] if isinstance(document["proof"], list) else [document["proof"]]
    for proof in proofs:
        verify_proof(document, proof, resolvers=DidResolvers.offline(), loader=default_loader())


def test_chained_proof_fails_when_the_proof_it_names_is_gone():
    document = load_vector(f"{FOLDER}/signedProofChain2.json")
    document["proof"] = [p for p in document["proof"] if p.get("id") != "urn:uuid:d94f792a-c546-4d06-b38a-da070ab56c23"]
    last = document["proof"][-1]
    with pytest.raises(ProofVerificationError, match="names no proof"):
        verify_proof(document, last, resolvers=DidResolvers.offline(), loader=default_loader())


def test_chained_proof_fails_when_the_proof_it_names_changed():
    document = load_vector(f"{FOLDER}/signedProofChain1.json")
    document["proof"][0]["created"] = "2023-02-24T23:36:39Z"
    chained = document["proof"][2]
    with pytest.raises(ProofVerificationError, match="does not verify"):
        verify_proof(document, chained, resolvers=DidResolvers.offline(), loader=default_loader())


# -- a mill and an independent inspector ------------------------------------------------------

MILL = KeyPair.generate("Ed25519")
INSPECTOR = KeyPair.generate("P-384")


def mill_report():
    credential = load_vector("di-eddsa/unsigned.json")
    credential["issuer"] = MILL.did
    return sign_credential(credential, MILL, created="2026-01-01T00:00:00Z")


def verify(document):
    return verify_credential(document, policy=TrustPolicy({MILL.did: ["AlumniCredential"]}), now=NOW)


def test_proof_set_mill_and_inspector():
    signed = cosign_credential(mill_report(), INSPECTOR, cryptosuite="ecdsa-rdfc-2019", created="2026-01-02T00:00:00Z")
    assert len(signed["proof"]) == 2
    result = verify(signed)
    assert result.verified, result.summary()
    assert [c.outcome.value for c in result.checks if c.name == "proof"] == ["passed", "passed"]
    assert INSPECTOR.did in result.check("issuer_binding").message


def test_proof_set_fails_if_any_proof_fails():
    signed = cosign_credential(mill_report(), INSPECTOR, cryptosuite="ecdsa-rdfc-2019", created="2026-01-02T00:00:00Z")
    signed["proof"][1]["created"] = "2026-01-03T00:00:00Z"
    result = verify(signed)
    assert result.verified is False
    assert [c.outcome.value for c in result.checks if c.name == "proof"] == ["passed", "failed"]


def test_proof_chain_mill_then_inspector():
    credential = load_vector("di-eddsa/unsigned.json")
    credential["issuer"] = MILL.did
    report = sign_credential(credential, MILL, created="2026-01-01T00:00:00Z", proof_id="urn:uuid:mill-proof")
    chained = cosign_credential(
        report, INSPECTOR, cryptosuite="ecdsa-jcs-2019", previous_proof="urn:uuid:mill-proof",
        created="2026-01-02T00:00:00Z",
    )
    assert chained["proof"][1]["previousProof"] == "urn:uuid:mill-proof"
    result = verify(chained)
    assert result.verified, result.summary()
    assert any("chained to urn:uuid:mill-proof" in c.message for c in result.checks if c.name == "proof")

    # dropping the mill's proof leaves the inspector's chained proof dangling
    dangling = copy.deepcopy(chained)
    dangling["proof"] = [dangling["proof"][1]]
    result = verify(dangling)
    assert result.verified is False
    assert "names no proof" in result.failures[0].message


def test_cosigning_needs_an_existing_proof_and_a_real_previous_proof():
    unsigned = load_vector("di-eddsa/unsigned.json")
    unsigned["issuer"] = MILL.did
    with pytest.raises(SigningError, match="no proof yet"):
        cosign_credential(unsigned, INSPECTOR, cryptosuite="ecdsa-rdfc-2019")
    with pytest.raises(SigningError, match="names no proof"):
        cosign_credential(mill_report(), INSPECTOR, cryptosuite="ecdsa-rdfc-2019", previous_proof="urn:uuid:nope")


def test_inspector_alone_is_not_the_issuer():
    credential = load_vector("di-eddsa/unsigned.json")
    credential["issuer"] = MILL.did
    only_inspector = add_proof(
        credential, INSPECTOR, cryptosuite="ecdsa-rdfc-2019", verification_method=INSPECTOR.verification_method,
        created="2026-01-02T00:00:00Z", loader=default_loader(),
    )
    result = verify(only_inspector)
    assert result.check("proof").outcome.value == "passed"
    assert result.check("issuer_binding").outcome.value == "failed"
