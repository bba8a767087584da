"""Ed25519Signature2018 proofs made the way the legacy suite describes them, built here
independently of the library (pyld's own URDNA2015, hashlib, the JWS header written out): the
library only verifies this proof type, so its tests sign with this."""

from __future__ import annotations

import copy
import hashlib

from pyld import jsonld

from tradevc.vc.jsonld import default_loader
from tradevc.vc.keys import KeyPair
from tradevc.vc.multibase import base64url_encode

HEADER = "eyJhbGciOiJFZERTQSIsImI2NCI6ZmFsc2UsImNyaXQiOlsiYjY0Il19"
"""BASE64URL('{"alg":"EdDSA","b64":false,"crit":["b64"]}'): the header every implementation writes."""


def urdna2015(document: dict) -> bytes:
    """pyld's own URDNA2015, not the library's RDFC-1.0 implementation or its fast path."""
    options = {"algorithm": "URDNA2015", "format": "application/n-quads", "documentLoader": default_loader()}
    return jsonld.normalize(copy.deepcopy(document), options).encode("utf-8")


def signing_input(document: dict, proof: dict) -> tuple[bytes, bytes]:
    """The RFC 7797 payload (SHA-256(proof options) || SHA-256(document)) and the JWS signing
    input ASCII(BASE64URL(header)) + '.' + payload, built from the suite's description."""
    options = {k: v for k, v in proof.items() if k != "jws"} | {"@context": document["@context"]}
    unsecured = {k: v for k, v in document.items() if k != "proof"}
    payload = hashlib.sha256(urdna2015(options)).digest() + hashlib.sha256(urdna2015(unsecured)).digest()
    return payload, HEADER.encode("ascii") + b"." + payload


def sign_2018(document: dict, key: KeyPair, *, method: str | None = None, purpose: str = "assertionMethod",
              header: str = HEADER) -> dict:
    proof = {"type": "Ed25519Signature2018", "created": "2023-03-01T00:00:00Z",
             "verificationMethod": method or key.verification_method, "proofPurpose": purpose}
    _, to_sign = signing_input(document, proof)
    to_sign = header.encode("ascii") + to_sign[len(HEADER):]
    return document | {"proof": proof | {"jws": f"{header}..{base64url_encode(key.sign(to_sign))}"}}
