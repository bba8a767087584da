"""The published W3C vectors of the other suites (vc-di-ecdsa, vc-di-eddsa): ecdsa-rdfc-2019
(P-256, P-384), ecdsa-jcs-2019, eddsa-jcs-2022 and the legacy Ed25519Signature2020.

Ed25519 is deterministic, and so is our ECDSA (RFC 6979), as the W3C vectors' signer was:
the signed vectors are reproduced exactly, whole proof objects byte for byte, and the
canonical forms and hashes are compared along the way. See tests/vectors/SOURCES.md for
which revision each file is.
"""

from __future__ import annotations

import hashlib

import pytest
import rfc8785

from conftest import load_vector, read_vector
from tradevc.vc.retrieval.did.resolver import DidResolvers
from tradevc.vc.jsonld import default_loader
from tradevc.vc.keys import KeyPair
from tradevc.vc.multibase import base58btc_encode
from tradevc.vc.securing.proofs import get_suite
from tradevc.vc.securing.proofs.data_integrity import add_proof, verify_proof

LOADER = default_loader()
ED2020 = "https://w3id.org/security/suites/ed25519-2020/v1"


def text(path: str) -> str:
    return read_vector(path).strip()


def key_from(path: str) -> KeyPair:
    pair = load_vector(path)
    return KeyPair.from_multibase(pair["publicKeyMultibase"], pair.get("secretKeyMultibase") or pair["privateKeyMultibase"])


P256 = "di-ecdsa/p256KeyPair.json"
P384 = "di-ecdsa/p384KeyPair.json"
ED25519 = "di-eddsa/keyPair.json"


@pytest.mark.parametrize("folder,key_file,suffix", [
    ("di-ecdsa/ecdsa-rdfc-2019-p256/employ", P256, "ECDSAP256"),
    ("di-ecdsa/ecdsa-rdfc-2019-p384/employ", P384, "ECDSAP384"),
])
def test_ecdsa_rdfc_signed_employment_credentials_verify(folder, key_file, suffix):
    signed = load_vector(f"{folder}/signed{suffix}.json")
    verified = verify_proof(signed, signed["proof"], resolvers=DidResolvers.offline(), loader=LOADER)
    assert verified.method.key.public_key_multibase == key_from(key_file).public_key_multibase


def test_ecdsa_rdfc_p384_canonicalizes_with_sha384():
    folder = "di-ecdsa/ecdsa-rdfc-2019-p384/employ"
    key = key_from(P384)
    suite = get_suite("ecdsa-rdfc-2019")
    signed = load_vector(f"{folder}/signedECDSAP384.json")
    body = {k: v for k, v in signed.items() if k != "proof"}
    options = {k: v for k, v in signed["proof"].items() if k != "proofValue"} | {"@context": body["@context"]}
    canonical = suite.transform(body, loader=LOADER, key=key)
    assert canonical == read_vector(f"{folder}/canonDocECDSAP384.txt").encode()
    assert hashlib.sha384(canonical).hexdigest() == text(f"{folder}/docHashECDSAP384.txt")
    proof_canon = suite.configure(options, loader=LOADER, key=key)
    assert hashlib.sha384(proof_canon).hexdigest() == text(f"{folder}/proofHashECDSAP384.txt")
    combined = suite.hash(canonical, proof_canon, key=key)
    assert combined.hex() == text(f"{folder}/combinedHashECDSAP384.txt")
    key.verify(bytes.fromhex(text(f"{folder}/sigHexECDSAP384.txt")), combined)


@pytest.mark.parametrize("folder,key_file,suffix,hash_name", [
    ("di-ecdsa/ecdsa-rdfc-2019-p256", P256, "ECDSAP256", "sha256"),
    ("di-ecdsa/ecdsa-rdfc-2019-p384", P384, "ECDSAP384", "sha384"),
])
def test_ecdsa_rdfc_alumni_document_hash_and_signature(folder, key_file, suffix, hash_name):
    key = key_from(key_file)
    suite = get_suite("ecdsa-rdfc-2019")
    combined = bytes.fromhex(text(f"{folder}/combinedHash{suffix}.txt"))
    digest_size = hashlib.new(hash_name).digest_size
    canonical = suite.transform(load_vector("di-eddsa/unsigned.json"), loader=LOADER, key=key)
    assert hashlib.new(hash_name, canonical).digest() == combined[digest_size:]
    signature = bytes.fromhex(text(f"{folder}/sigHex{suffix}.txt"))
    key.verify(signature, combined)
    assert "z" + base58btc_encode(signature) == text(f"{folder}/sigBTC58{suffix}.txt")


@pytest.mark.parametrize("folder,key_file,suffix,hash_name", [
    ("di-ecdsa/ecdsa-jcs-2019-p256", P256, "JCSECDSAP256", "sha256"),
    ("di-ecdsa/ecdsa-jcs-2019-p384", P384, "JCSECDSAP384", "sha384"),
    ("di-eddsa/eddsa-jcs-2022", ED25519, "JCS", "sha256"),
])
def test_jcs_vectors_canonical_forms_hashes_and_signatures(folder, key_file, suffix, hash_name):
    key = key_from(key_file)
    unsigned = load_vector("di-eddsa/unsigned.json")
    suite = get_suite("eddsa-jcs-2022" if key.key_type == "Ed25519" else "ecdsa-jcs-2019")
    canonical = suite.transform(unsigned, loader=LOADER, key=key)
    assert canonical == read_vector("di-eddsa/eddsa-jcs-2022/canonDocJCS.txt").encode()
    combined = bytes.fromhex(text(f"{folder}/combinedHash{suffix}.txt"))
    digest_size = hashlib.new(hash_name).digest_size
    assert hashlib.new(hash_name, canonical).digest() == combined[digest_size:]
    # this revision's proof configuration has no @context (see SOURCES.md): JCS of it as given
    proof_canon = rfc8785.dumps(load_vector(f"{folder}/proofConfig{suffix}.json"))
    assert proof_canon == read_vector(f"{folder}/proofCanon{suffix}.txt").encode()
    assert hashlib.new(hash_name, proof_canon).digest() == combined[:digest_size]
    signature = bytes.fromhex(text(f"{folder}/sigHex{suffix}.txt"))
    key.verify(signature, combined)
    signed = load_vector(f"{folder}/signed{suffix}.json")
    assert signed["proof"]["proofValue"] == text(f"{folder}/sigBTC58{suffix}.txt")


def test_eddsa_jcs_proof_configuration_matches_the_recommendation_revision():
    folder = "di-eddsa/eddsa-jcs-2022"
    key = key_from(ED25519)
    suite = get_suite("eddsa-jcs-2022")
    unsigned = load_vector("di-eddsa/unsigned.json")
    config = load_vector(f"{folder}/proofConfigJCS.json") | {"@context": unsigned["@context"]}
    proof_canon = suite.configure(config, loader=LOADER, key=key)
    assert proof_canon == read_vector(f"{folder}/rec-proof-context/proofCanonJCS.txt").encode()
    combined = suite.hash(suite.transform(unsigned, loader=LOADER, key=key), proof_canon, key=key)
    assert combined.hex() == text(f"{folder}/rec-proof-context/combinedHashJCS.txt")
    # and add_proof signs exactly that (Ed25519 is deterministic)
    signed = add_proof(
        unsigned, key, cryptosuite="eddsa-jcs-2022", verification_method=config["verificationMethod"],
        created=config["created"], loader=LOADER,
    )
    assert signed["proof"]["proofValue"] == suite.create_proof_value(combined, key)
    verify_proof(signed, signed["proof"], resolvers=DidResolvers.offline(), loader=LOADER)


def test_ed25519_signature_2020_reproduced_byte_for_byte():
    folder = "ed25519-signature-2020"
    key = key_from(ED25519)
    suite = get_suite("Ed25519Signature2020")
    unsigned = load_vector("di-eddsa/unsigned.json")
    unsigned["@context"] = unsigned["@context"] + [ED2020]
    assert suite.transform(unsigned, loader=LOADER, key=key) == read_vector(f"{folder}/canonDocEdSig.txt").encode()
    signed = add_proof(
        unsigned, key, cryptosuite="Ed25519Signature2020", verification_method=key.verification_method,
        created="2023-02-24T23:36:38Z", loader=LOADER,
    )
    options = {k: v for k, v in signed["proof"].items() if k != "proofValue"} | {"@context": unsigned["@context"]}
    assert suite.configure(options, loader=LOADER, key=key) == read_vector(f"{folder}/proofCanonEdSig.txt").encode()
    assert signed["proof"]["proofValue"] == text(f"{folder}/sigBTC58EdSig.txt")
    assert "cryptosuite" not in signed["proof"]
    verify_proof(signed, signed["proof"], resolvers=DidResolvers.offline(), loader=LOADER)


def test_ed25519_signature_2020_superseded_signed_document_signature():
    # the earlier revision's verification method is an https URL we cannot resolve; its
    # signature still checks over its combined hash with the vector key
    folder = "ed25519-signature-2020/superseded-vc-example"
    key = key_from(ED25519)
    signed = load_vector(f"{folder}/signedEdSig.json")
    combined = bytes.fromhex(text(f"{folder}/combinedHashEdSig.txt"))
    suite = get_suite("Ed25519Signature2020")
    body = {k: v for k, v in signed.items() if k != "proof"}
    options = {k: v for k, v in signed["proof"].items() if k != "proofValue"} | {"@context": body["@context"]}
    assert suite.hash(suite.transform(body, loader=LOADER, key=key), suite.configure(options, loader=LOADER, key=key),
                      key=key) == combined
    suite.verify_proof_value(combined, signed["proof"]["proofValue"], key)


def _json_bytes(value) -> bytes:
    import json

    return json.dumps(value, indent=2, ensure_ascii=False).encode()


@pytest.mark.parametrize("folder,key_file,suffix", [
    ("di-ecdsa/ecdsa-rdfc-2019-p256/employ", P256, "ECDSAP256"),
    ("di-ecdsa/ecdsa-rdfc-2019-p384/employ", P384, "ECDSAP384"),
])
def test_ecdsa_rdfc_signed_vectors_reproduced_byte_for_byte(folder, key_file, suffix):
    signed = load_vector(f"{folder}/signed{suffix}.json")
    body = {k: v for k, v in signed.items() if k != "proof"}
    proof = signed["proof"]
    ours = add_proof(
        body, key_from(key_file), cryptosuite=proof["cryptosuite"], verification_method=proof["verificationMethod"],
        created=proof["created"], loader=LOADER,
    )
    assert _json_bytes(ours["proof"]) == _json_bytes(proof)
    assert ours == signed


REC_JCS = [
    ("di-eddsa/eddsa-jcs-2022/rec-proof-context/signedJCS.json", ED25519, "eddsa-jcs-2022"),
    ("di-ecdsa/ecdsa-jcs-2019-p256/rec-proof-context/signedJCSECDSAP256.json", P256, "ecdsa-jcs-2019"),
    ("di-ecdsa/ecdsa-jcs-2019-p384/rec-proof-context/signedJCSECDSAP384.json", P384, "ecdsa-jcs-2019"),
]


@pytest.mark.parametrize("path,key_file,cryptosuite", REC_JCS, ids=["eddsa-jcs-2022", "ecdsa-jcs-2019-p256", "ecdsa-jcs-2019-p384"])
def test_jcs_recommendation_vectors_reproduced_byte_for_byte(path, key_file, cryptosuite):
    # the Recommendations' signed examples, whose proofs carry the document's @context
    signed = load_vector(path)
    unsigned = load_vector("di-eddsa/unsigned.json")
    assert {k: v for k, v in signed.items() if k != "proof"} == unsigned
    key = key_from(key_file)
    ours = add_proof(
        unsigned, key, cryptosuite=cryptosuite, verification_method=signed["proof"]["verificationMethod"],
        created=signed["proof"]["created"], loader=LOADER,
    )
    assert _json_bytes(ours["proof"]) == _json_bytes(signed["proof"])
    assert ours == signed
    verified = verify_proof(signed, signed["proof"], resolvers=DidResolvers.offline(), loader=LOADER)
    assert verified.method.key.public_key_multibase == key.public_key_multibase


def test_eddsa_jcs_recommendation_vector_hashes():
    # the same proof configuration as the REC revision's proofCanonJCS / combinedHashJCS files
    signed = load_vector(REC_JCS[0][0])
    key = key_from(ED25519)
    suite = get_suite("eddsa-jcs-2022")
    options = {k: v for k, v in signed["proof"].items() if k != "proofValue"}
    canon = suite.configure(options, loader=LOADER, key=key)
    assert canon == read_vector("di-eddsa/eddsa-jcs-2022/rec-proof-context/proofCanonJCS.txt").encode()
    body = {k: v for k, v in signed.items() if k != "proof"}
    combined = suite.hash(suite.transform(body, loader=LOADER, key=key), canon, key=key)
    assert combined.hex() == text("di-eddsa/eddsa-jcs-2022/rec-proof-context/combinedHashJCS.txt")


@pytest.mark.parametrize("path,key_file,cryptosuite", REC_JCS, ids=["eddsa-jcs-2022", "ecdsa-jcs-2019-p256", "ecdsa-jcs-2019-p384"])
def test_jcs_recommendation_vectors_refuse_a_changed_proof_context(path, key_file, cryptosuite):
    from tradevc.vc.errors import ProofVerificationError

    signed = load_vector(path)
    for context in (["https://www.w3.org/ns/credentials/v2"], signed["@context"][::-1]):
        tampered = dict(signed, proof=dict(signed["proof"], **{"@context": context}))
        with pytest.raises(ProofVerificationError):
            verify_proof(tampered, tampered["proof"], resolvers=DidResolvers.offline(), loader=LOADER)
        # changing both the document's and the proof's context keeps them equal, but the
        # signature covers them
        both = dict(tampered, **{"@context": context})
        with pytest.raises(ProofVerificationError):
            verify_proof(both, both["proof"], resolvers=DidResolvers.offline(), loader=LOADER)
