"""The did:key method (W3C CCG did:key v0.9): the DID *is* the public key, so resolution is
pure decoding, with no network.

``did:key:<publicKeyMultibase>`` resolves to a DID document with one ``Multikey``
verification method, ``<did>#<publicKeyMultibase>``, listed under authentication,
assertionMethod, capabilityDelegation and capabilityInvocation. Supported keys: Ed25519
(``z6Mk...``), P-256 (``zDna...``) and P-384 (``z82...``); the key is checked as
:meth:`vc.keys.KeyPair.from_multibase` checks it (weak Ed25519 keys are refused).
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from ..errors import KeyMaterialError, ResolutionError
from ..keys import KeyPair

__all__ = ["resolve", "DidKeyResolver", "CONTEXT"]

PREFIX = "did:key:"

CONTEXT = ["https://www.w3.org/ns/did/v1", "https://w3id.org/security/multikey/v1"]
"""The ``@context`` of every did:key DID document produced here."""


def _parse(did: object) -> str:
    """The publicKeyMultibase of a did:key DID."""
    if not isinstance(did, str):
        raise ResolutionError(f"a DID must be a string, not {type(did).__name__}")
    if not did.startswith(PREFIX):
        raise ResolutionError(f"{did!r} is not a did:key DID (it must start with {PREFIX!r})")
    value = did[len(PREFIX):]
    for char, part in (("/", "a path"), ("?", "a query"), ("#", "a fragment")):
        if char in value:
            raise ResolutionError(f"{did!r} has {part}: resolve the DID alone, without path, query or fragment")
    if not value:
        raise ResolutionError(f"{did!r} has no key after {PREFIX!r}")
    if not value.startswith("z"):
        raise ResolutionError(f"{did!r}: the key must be base58btc multibase, starting with 'z'")
    return value


@lru_cache(maxsize=1024)
def _public_key(multibase: str) -> tuple[KeyPair, str]:
    """The key and its did:key DID. Checking the curve point costs about as much as a
    signature check; a KeyPair is immutable, so each distinct key is parsed once per process
    (bounded)."""
    key = KeyPair.from_multibase(multibase)
    return key, key.did


def resolve(did: str) -> dict[str, Any]:
    """The DID document of a did:key DID.

    :raises ResolutionError: the value is not a did:key DID; it has a path, query or fragment;
        the key is not 'z' multibase, not valid base58btc, has an unknown multicodec or the wrong
        length, is not a valid point, or is a weak (small-order or non-canonical) Ed25519 key.
        The underlying :class:`vc.errors.KeyMaterialError` is chained as the cause.
    """
    multibase = _parse(did)
    try:
        key, key_did = _public_key(multibase)
    except KeyMaterialError as e:
        raise ResolutionError(f"cannot resolve {did}: {e.message}") from e
    # base58btc and minimal varints have one encoding per value, and from_multibase refuses
    # non-canonical keys, so this cannot fail; it guards the "DID is the key" invariant.
    if key_did != did:
        raise ResolutionError(f"cannot resolve {did}: the key is not in its canonical encoding")
    vm_id = f"{did}#{multibase}"
    return {
        "@context": list(CONTEXT),
        "id": did,
        "verificationMethod": [
            {"id": vm_id, "type": "Multikey", "controller": did, "publicKeyMultibase": multibase}
        ],
        "authentication": [vm_id],
        "assertionMethod": [vm_id],
        "capabilityDelegation": [vm_id],
        "capabilityInvocation": [vm_id],
    }


class DidKeyResolver:
    """A :class:`vc.did.DidResolver` for did:key."""

    def resolve(self, did: str) -> dict[str, Any]:
        """The DID document of a did:key DID; see :func:`resolve`.

        :raises ResolutionError: the DID is malformed or its key is invalid or weak.
        """
        return resolve(did)

    def __repr__(self) -> str:
        return "DidKeyResolver()"
