"""``eddsa-jcs-2022`` (W3C Data Integrity EdDSA Cryptosuites v1.0): JCS, SHA-256, Ed25519."""

from tradevc.vc.securing.proofs.suite import Suite, fixed_hash, jcs

SUITE = Suite(
    name="eddsa-jcs-2022",
    key_types=frozenset({"Ed25519"}),
    canonicalize=jcs,
    hash_for=fixed_hash("sha256"),
    uses_json_ld=False,
)
