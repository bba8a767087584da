"""The legacy ``Ed25519Signature2018`` proof type (W3C CCG "Ed25519 Signature 2018",
superseded by Ed25519Signature2020 and eddsa-rdfc-2022). Verify only, and only under a
compatibility profile that allows the deviation ``ed25519-signature-2018`` (see
:mod:`tradevc.vc.compat`; :func:`tradevc.vc.securing.proofs.data_integrity.verify_proof` enforces it).

The document and the proof options (the proof without ``jws``, with the document's
``@context``) are canonicalized with URDNA2015 (= RDFC-1.0) and hashed with SHA-256, as for
Ed25519Signature2020. The signature is not a ``proofValue`` but a detached JWS with an
unencoded payload (RFC 7797) in the proof's ``jws``: ``BASE64URL(header) + ".." +
BASE64URL(signature)``, the header being ``{"alg": "EdDSA", "b64": false, "crit": ["b64"]}``,
over the bytes ``ASCII(BASE64URL(header)) + "." + SHA-256(proof options) || SHA-256(document)``.
The document's contexts must define the proof's terms: https://www.w3.org/2018/credentials/v1
does, and https://w3id.org/security/suites/ed25519-2018/v1 (pinned) for other documents.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from tradevc.vc.errors import InvalidDocument, SigningError
from tradevc.vc.jsontext import loads
from tradevc.vc.keys import KeyPair
from tradevc.vc.multibase import base64url_decode
from tradevc.vc.securing.proofs.suite import Suite, fixed_hash, rdfc

JWS_HEADER = {"alg": "EdDSA", "b64": False, "crit": ["b64"]}
"""The one protected header of an Ed25519Signature2018 ``jws``."""


def _header(segment: str) -> dict[str, Any]:
    try:
        header = loads(base64url_decode(segment))  # the one strict reader: a member twice is refused
    except InvalidDocument as e:
        raise InvalidDocument(f"the jws header is not base64url I-JSON: {e.message}", code=e.code) from e
    # compared member by member: in Python 0 == False, and the header must say exactly false
    if (
        not isinstance(header, dict)
        or set(header) != set(JWS_HEADER)
        or header["alg"] != "EdDSA"
        or header["b64"] is not False
        or header["crit"] != ["b64"]
    ):
        raise InvalidDocument(
            f"an Ed25519Signature2018 jws header must be exactly {json.dumps(JWS_HEADER)}; got {header!r}"
        )
    return header


@dataclass(frozen=True)
class _Ed25519Signature2018(Suite):
    """Suite steps as for Ed25519Signature2020, with the detached JWS as the proof value."""

    def create_proof_value(self, hash_data: bytes, key: KeyPair) -> str:
        raise SigningError("Ed25519Signature2018 is kept only to verify old credentials; sign with eddsa-rdfc-2022")

    def verify_proof_value(self, hash_data: bytes, proof_value: str, key: KeyPair) -> None:
        parts = proof_value.split(".") if isinstance(proof_value, str) else []
        if len(parts) != 3 or parts[1] != "" or not parts[0] or not parts[2]:
            raise InvalidDocument("an Ed25519Signature2018 jws must be a detached JWS, 'header..signature'")
        _header(parts[0])
        try:
            signature = base64url_decode(parts[2])
        except InvalidDocument as e:
            raise InvalidDocument(f"the jws signature is not base64url: {e.message}") from e
        if len(signature) != 64:
            raise InvalidDocument(f"the jws signature holds {len(signature)} bytes; an Ed25519 signature is 64")
        key.verify(signature, parts[0].encode("ascii") + b"." + hash_data)


SUITE = _Ed25519Signature2018(
    name="Ed25519Signature2018",
    proof_type="Ed25519Signature2018",
    key_types=frozenset({"Ed25519"}),
    canonicalize=rdfc,
    hash_for=fixed_hash("sha256"),
    uses_json_ld=True,
    proof_value_member="jws",
)
