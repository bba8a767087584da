"""The ``eddsa-rdfc-2022`` cryptosuite (W3C Data Integrity EdDSA Cryptosuites v1.0):
RDFC-1.0 canonicalization, SHA-256, Ed25519, proofValue as base58btc multibase."""

from __future__ import annotations

from ..errors import InvalidDocument
from ..multibase import base58btc_decode, base58btc_encode
from .rdfc_suite import RdfcSuite

NAME = "eddsa-rdfc-2022"


def _encode(signature: bytes) -> str:
    return "z" + base58btc_encode(signature)


def _decode(proof_value: str) -> bytes:
    if not isinstance(proof_value, str) or not proof_value.startswith("z"):
        raise InvalidDocument(f"{NAME} proofValue must be a base58btc multibase string starting with 'z'")
    signature = base58btc_decode(proof_value[1:])
    if len(signature) != 64:
        raise InvalidDocument(f"{NAME} proofValue must encode 64 bytes, not {len(signature)}")
    return signature


SUITE = RdfcSuite(
    name=NAME,
    key_types=frozenset({"Ed25519"}),
    hash_for=lambda key: "sha256",
    encode=_encode,
    decode=_decode,
)
