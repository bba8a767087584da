"""What the hash-then-sign cryptosuites share.

Every suite here follows the same steps (VC Data Integrity 1.0, and the EdDSA and ECDSA
cryptosuite specifications): canonicalize the unsecured document and the proof
configuration (RDFC-1.0 after lossless JSON-LD expansion, or JCS), hash each, sign
``hash(proof configuration) || hash(document)``, and encode the signature as a base58btc
multibase ``proofValue``. A suite module only picks the canonicalization, the key types and
the hash function; :class:`Suite` does the rest.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Callable

import rfc8785

from tradevc.vc.errors import InvalidDocument
from tradevc.vc.fastpath import canonical_nquads as fast_canonical_nquads
from tradevc.vc.fastpath import fast_jcs
from tradevc.vc.jsonld import DocumentLoader
from tradevc.vc.keys import KeyPair
from tradevc.vc.multibase import base58btc_decode, base58btc_encode

Canonicalizer = Callable[[Mapping[str, Any], DocumentLoader, str], bytes]
"""``(document, loader, hash_name) -> canonical bytes``; RDFC uses the hash for blank node labels."""

SIGNATURE_LENGTHS = {"Ed25519": 64, "P-256": 64, "P-384": 96}
"""Raw signature sizes: Ed25519, and IEEE P1363 r||s for ECDSA."""


def canonical_nquads(document: Mapping[str, Any], *, loader: DocumentLoader, hash_name: str = "sha256") -> str:
    """Expand ``document`` losslessly and canonicalize it with RDFC-1.0 (with ``hash_name`` as
    its hash function: ecdsa-rdfc-2019 uses SHA-384 with P-384 keys).

    :raises DataLossError, ContextNotPinned, InvalidDocument: see :func:`tradevc.vc.jsonld.to_dataset`.
    :raises CanonicalizationError: the canonicalization work limit was exceeded.

    Documents the fast path of :mod:`tradevc.vc.fastpath` handles skip pyld's expansion; it gives the
    same bytes as the general path (:func:`tradevc.vc.fastpath.reference_canonical_nquads`).
    """
    return fast_canonical_nquads(document, loader=loader, hash_name=hash_name)


def rdfc(document: Mapping[str, Any], loader: DocumentLoader, hash_name: str) -> bytes:
    """RDFC-1.0 canonical N-Quads of ``document``, UTF-8.

    :raises InvalidDocument: a string holds a lone surrogate (JSON's ``"\\ud800"``), which
        is not Unicode text.
    """
    nquads = canonical_nquads(document, loader=loader, hash_name=hash_name)
    try:
        return nquads.encode("utf-8")
    except UnicodeEncodeError as e:
        raise InvalidDocument(f"the document holds a lone surrogate, which is not Unicode text: {e.reason}") from e


def jcs(document: Mapping[str, Any], loader: DocumentLoader, hash_name: str) -> bytes:
    """The JSON Canonicalization Scheme (RFC 8785) serialization of ``document``.

    :raises InvalidDocument: the document holds values JCS cannot represent exactly
        (integers beyond 2**53, NaN or infinite numbers).
    """
    fast = fast_jcs(document)
    if fast is not None:  # the standard library's encoder, where it is exactly JCS
        return fast
    try:
        return rfc8785.dumps(document)
    except (rfc8785.CanonicalizationError, TypeError, RecursionError) as e:
        raise InvalidDocument(f"the document cannot be canonicalized with JCS (RFC 8785): {e}") from e


@dataclass(frozen=True)
class Suite:
    """A Data Integrity cryptosuite defined by its canonicalization, key types and hash.

    ``hash_for`` maps the signing key to the hash function name (``"sha256"``/``"sha384"``).
    ``uses_json_ld`` is True for suites that interpret the document as JSON-LD (RDFC); JCS
    suites sign the JSON itself. ``proof_value_member`` is the proof member holding the
    signature (``jws`` for the legacy Ed25519Signature2018).
    """

    name: str
    key_types: frozenset[str]
    canonicalize: Canonicalizer
    hash_for: Callable[[KeyPair], str]
    uses_json_ld: bool
    proof_type: str = "DataIntegrityProof"
    proof_value_member: str = "proofValue"

    def transform(self, document: Mapping[str, Any], *, loader: DocumentLoader, key: KeyPair) -> bytes:
        return self.canonicalize(document, loader, self.hash_for(key))

    def configure(self, proof_config: Mapping[str, Any], *, loader: DocumentLoader, key: KeyPair) -> bytes:
        return self.canonicalize(proof_config, loader, self.hash_for(key))

    def hash(self, transformed: bytes, proof_config: bytes, *, key: KeyPair) -> bytes:
        algorithm = self.hash_for(key)
        return hashlib.new(algorithm, proof_config).digest() + hashlib.new(algorithm, transformed).digest()

    def create_proof_value(self, hash_data: bytes, key: KeyPair) -> str:
        return "z" + base58btc_encode(key.sign(hash_data))

    def verify_proof_value(self, hash_data: bytes, proof_value: str, key: KeyPair) -> None:
        if not isinstance(proof_value, str) or not proof_value.startswith("z"):
            raise InvalidDocument(f"{self.name} proofValue must be a base58btc multibase string starting with 'z'")
        signature = base58btc_decode(proof_value[1:])
        expected = SIGNATURE_LENGTHS[key.key_type]
        if len(signature) != expected:
            others = sorted(t for t, n in SIGNATURE_LENGTHS.items() if n == len(signature) and t != key.key_type)
            hint = f" (the size of a {' or '.join(others)} signature)" if others else ""
            raise InvalidDocument(
                f"{self.name} proofValue holds {len(signature)} bytes{hint}, but the verification method "
                f"is a {key.key_type} key, whose signatures are {expected} bytes"
            )
        key.verify(signature, hash_data)


def fixed_hash(name: str) -> Callable[[KeyPair], str]:
    """A ``hash_for`` that always uses ``name``."""
    return lambda key: name


def hash_by_curve(key: KeyPair) -> str:
    """SHA-384 for P-384 keys, SHA-256 otherwise (the ECDSA cryptosuites' rule)."""
    return "sha384" if key.key_type == "P-384" else "sha256"
