"""``ecdsa-jcs-2019`` (W3C Data Integrity ECDSA Cryptosuites v1.0): JCS, then SHA-256 with
P-256 keys or SHA-384 with P-384 keys, ECDSA signatures as P1363 r||s."""

from tradevc.vc.securing.proofs.suite import Suite, hash_by_curve, jcs

SUITE = Suite(
    name="ecdsa-jcs-2019",
    key_types=frozenset({"P-256", "P-384"}),
    canonicalize=jcs,
    hash_for=hash_by_curve,
    uses_json_ld=False,
)
