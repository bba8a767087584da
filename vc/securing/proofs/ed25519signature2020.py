"""The legacy ``Ed25519Signature2020`` proof type (W3C CCG, superseded by eddsa-rdfc-2022):
URDNA2015 (= RDFC-1.0), SHA-256, Ed25519; the proof has no ``cryptosuite`` and the document
must use the context https://w3id.org/security/suites/ed25519-2020/v1. Kept to verify, and to
sign for older wallets."""

from tradevc.vc.securing.proofs.suite import Suite, fixed_hash, rdfc

SUITE = Suite(
    name="Ed25519Signature2020",
    proof_type="Ed25519Signature2020",
    key_types=frozenset({"Ed25519"}),
    canonicalize=rdfc,
    hash_for=fixed_hash("sha256"),
    uses_json_ld=True,
)
