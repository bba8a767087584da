"""``ecdsa-rdfc-2019`` (W3C Data Integrity ECDSA Cryptosuites v1.0): with P-256 keys, RDFC-1.0
and SHA-256; with P-384 keys, RDFC-1.0 using SHA-384 as its hash function and SHA-384 for
the proof and document hashes. ECDSA signatures as P1363 r||s."""

from tradevc.vc.securing.proofs.suite import Suite, hash_by_curve, rdfc

SUITE = Suite(
    name="ecdsa-rdfc-2019",
    key_types=frozenset({"P-256", "P-384"}),
    canonicalize=rdfc,
    hash_for=hash_by_curve,
    uses_json_ld=True,
)
