"""``eddsa-rdfc-2022`` (W3C Data Integrity EdDSA Cryptosuites v1.0): RDFC-1.0, SHA-256, Ed25519."""

from tradevc.vc.securing.proofs.suite import Suite, fixed_hash, rdfc

SUITE = Suite(
    name="eddsa-rdfc-2022",
    key_types=frozenset({"Ed25519"}),
    canonicalize=rdfc,
    hash_for=fixed_hash("sha256"),
    uses_json_ld=True,
)
