"""``ecdsa-rdfc-2019`` (W3C Data Integrity ECDSA Cryptosuites v1.0): RDFC-1.0, then SHA-256
with P-256 keys or SHA-384 with P-384 keys, ECDSA signatures as P1363 r||s."""

from .suite import Suite, hash_by_curve, rdfc

SUITE = Suite(
    name="ecdsa-rdfc-2019",
    key_types=frozenset({"P-256", "P-384"}),
    canonicalize=rdfc,
    hash_for=hash_by_curve,
    uses_json_ld=True,
)
