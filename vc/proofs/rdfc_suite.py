"""What the RDF-canonicalizing cryptosuites (``*-rdfc-*``) share: transformation by JSON-LD
expansion (refusing data loss) and RDFC-1.0, and hashing of proof configuration and document.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any, Callable, Mapping

from ..jsonld import DocumentLoader, to_dataset
from ..keys import KeyPair
from ..rdfc import canonicalize_quads, from_pyld_dataset


def canonical_nquads(document: Mapping[str, Any], *, loader: DocumentLoader, hash_algorithm: str = "sha256") -> str:
    """Expand ``document`` losslessly and canonicalize it with RDFC-1.0.

    :raises DataLossError, ContextNotPinned, InvalidDocument: see :func:`vc.jsonld.to_dataset`.
    :raises CanonicalizationError: the canonicalization work limit was exceeded.
    """
    dataset = to_dataset(document, loader)
    return canonicalize_quads(from_pyld_dataset(dataset), hash_algorithm=hash_algorithm)


@dataclass(frozen=True)
class RdfcSuite:
    """A Data Integrity cryptosuite that canonicalizes with RDFC-1.0.

    ``hash_for`` picks the hash function from the key (ECDSA P-384 uses SHA-384);
    ``sign``/``verify`` encode and check the ``proofValue``.
    """

    name: str
    key_types: frozenset[str]
    hash_for: Callable[[KeyPair], str]
    encode: Callable[[bytes], str]
    decode: Callable[[str], bytes]
    proof_type: str = "DataIntegrityProof"

    def transform(self, document: Mapping[str, Any], *, loader: DocumentLoader) -> bytes:
        return canonical_nquads(document, loader=loader).encode("utf-8")

    def configure(self, proof_config: Mapping[str, Any], *, loader: DocumentLoader) -> bytes:
        return canonical_nquads(proof_config, loader=loader).encode("utf-8")

    def hash(self, transformed: bytes, proof_config: bytes, *, key: KeyPair) -> bytes:
        algorithm = self.hash_for(key)
        return hashlib.new(algorithm, proof_config).digest() + hashlib.new(algorithm, transformed).digest()

    def create_proof_value(self, hash_data: bytes, key: KeyPair) -> str:
        return self.encode(key.sign(hash_data))

    def verify_proof_value(self, hash_data: bytes, proof_value: str, key: KeyPair) -> None:
        key.verify(self.decode(proof_value), hash_data)
