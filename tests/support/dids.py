"""DID documents for the did:web tests: one Multikey method, listed under assertionMethod."""

from __future__ import annotations

from typing import Any

from tradevc.vc.keys import KeyPair


def did_document(did: str, key: KeyPair, **overrides: Any) -> dict[str, Any]:
    """The DID document of ``did`` with ``key`` as its method ``#key-1``; ``overrides``
    replace members (``id=...`` to serve another DID's document, say)."""
    vm = f"{did}#key-1"
    return {
        "@context": ["https://www.w3.org/ns/did/v1", "https://w3id.org/security/multikey/v1"],
        "id": did,
        "verificationMethod": [{"id": vm, "type": "Multikey", "controller": did,
                                "publicKeyMultibase": key.public_key_multibase}],
        "assertionMethod": [vm],
    } | overrides
