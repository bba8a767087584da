"""did:jwk (https://github.com/quartzjer/did-jwk): the DID is ``did:jwk:`` + base64url(JWK).

The DID document has one verification method, ``#0``, of type ``JsonWebKey``. A JWK with
private members is refused, as are symmetric keys; a key marked ``"use": "enc"`` would only be
for key agreement, so it gets no signing relationships.

Refusals are :class:`tradevc.vc.retrieval.did.DidResolutionError`: ``invalidDid`` when the identifier is not
base64url I-JSON (read by :func:`tradevc.vc.jsontext.loads`: a member name given twice, at any
depth, is refused, since one parser would keep the last, another the first, and the one DID
would name two keys) or not a valid
public JWK (as the did:jwk specification says), and
``unsupportedPublicKeyType`` for a well-formed JWK of a key type this library cannot use
(RSA, X25519, P-521...).
"""

from __future__ import annotations

import json
from typing import Any

from tradevc.vc.errors import KeyMaterialError, UnsupportedError, VcError
from tradevc.vc.jsontext import loads
from tradevc.vc.keys import KeyPair
from tradevc.vc.multibase import base64url_decode, base64url_encode
from tradevc.vc.retrieval.did import DidResolutionError

__all__ = ["resolve", "DidJwkResolver", "did_jwk"]

_PRIVATE_MEMBERS = ("d", "p", "q", "dp", "dq", "qi", "k")


def did_jwk(key: KeyPair) -> str:
    """The did:jwk of ``key``'s public JWK (members in lexicographic order, no whitespace)."""
    jwk = key.to_jwk()
    return "did:jwk:" + base64url_encode(json.dumps(jwk, sort_keys=True, separators=(",", ":")).encode())


def resolve(did: str) -> dict[str, Any]:
    """The DID document of a did:jwk.

    :raises DidResolutionError: (a :class:`tradevc.vc.errors.ResolutionError`) ``invalidDid``: not
        did:jwk, not base64url I-JSON (a member twice...), not a JWK object, a private or symmetric key, or malformed
        key material; ``unsupportedPublicKeyType``: a key type we cannot verify with (named).
    """
    if not isinstance(did, str) or not did.startswith("did:jwk:") or "#" in did:
        raise DidResolutionError(f"{did!r} is not a did:jwk DID", error="invalidDid")
    try:
        jwk = loads(base64url_decode(did[len("did:jwk:"):]))  # I-JSON: a member twice is refused
    except VcError as e:
        raise DidResolutionError(
            f"{did}: the identifier is not base64url-encoded I-JSON ({e.message})", error="invalidDid"
        ) from e
    if not isinstance(jwk, dict):
        raise DidResolutionError(f"{did}: the identifier is not a JWK object", error="invalidDid")
    if jwk.get("kty") == "oct" or any(m in jwk for m in _PRIVATE_MEMBERS):
        raise DidResolutionError(
            f"{did}: a did:jwk must hold a public key only (no private or symmetric key)", error="invalidDid"
        )
    try:
        KeyPair.from_jwk(jwk)
    except UnsupportedError as e:
        raise DidResolutionError(f"{did}: unusable key: {e.message}", error="unsupportedPublicKeyType") from e
    except KeyMaterialError as e:
        raise DidResolutionError(f"{did}: unusable key: {e.message}", error="invalidDid") from e
    vm_id = f"{did}#0"
    document: dict[str, Any] = {
        "@context": ["https://www.w3.org/ns/did/v1", "https://w3id.org/security/jwk/v1"],
        "id": did,
        "verificationMethod": [{"id": vm_id, "type": "JsonWebKey", "controller": did, "publicKeyJwk": jwk}],
    }
    if jwk.get("use") != "enc":
        for relationship in ("assertionMethod", "authentication", "capabilityInvocation", "capabilityDelegation"):
            document[relationship] = [vm_id]
    if jwk.get("use") != "sig":
        document["keyAgreement"] = [vm_id]
    return document


class DidJwkResolver:
    """The did:jwk method for :class:`tradevc.vc.retrieval.did.resolver.DidResolvers`."""

    def resolve(self, did: str) -> dict[str, Any]:
        """The DID document of a did:jwk; see :func:`resolve`.

        :raises DidResolutionError: as :func:`resolve`.
        """
        return resolve(did)
