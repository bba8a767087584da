"""The did:key method (W3C CCG did:key v0.9): the DID *is* the public key, so resolution is
pure decoding, with no network.

``did:key:<publicKeyMultibase>`` resolves to a DID document with one verification method,
``<did>#<publicKeyMultibase>``, listed under authentication, assertionMethod,
capabilityDelegation and capabilityInvocation. Supported keys: Ed25519 (``z6Mk...``), P-256
(``zDna...``) and P-384 (``z82...``); the key is checked as
:meth:`tradevc.vc.keys.KeyPair.from_multibase` checks it (weak Ed25519 keys are refused). An X25519
did:key (``z6LS...``) is a key agreement key: its method is listed under ``keyAgreement``
only; the key must be a canonical u-coordinate of a point of Curve25519 (not of its twist)
whose order is not small.

Two options of the method's document creation algorithm are supported:

* ``public_key_format``: ``"Multikey"`` (the default; ``publicKeyMultibase``, with the context
  https://w3id.org/security/multikey/v1) or ``"JsonWebKey2020"`` (``publicKeyJwk``, with the
  context https://w3id.org/security/suites/jws-2020/v1, which is emitted but not pinned in
  ``contexts/``: nothing here JSON-LD-processes a DID document). Any other format is refused
  with ``unsupportedPublicKeyType``.
* ``enable_encryption_key_derivation`` (default True): an Ed25519 key also gets an X25519
  ``keyAgreement`` method, ``<did>#z6LS...``, whose key is the Montgomery form of the Ed25519
  public key (multicodec ``x25519-pub``, 0xec). P-256 and P-384 keys get no derived key.

Errors are :class:`tradevc.vc.retrieval.did.DidResolutionError` with the method's error names: ``invalidDid``
(not a did:key DID, not base58btc, no valid multicodec prefix), ``unsupportedPublicKeyType``
(a multicodec other than ed25519-pub, p256-pub, p384-pub, x25519-pub; or an unknown public
key format),
``invalidPublicKeyLength`` (wrong key length for the multicodec) and ``invalidPublicKey``
(not a valid point, not canonical, or weak).
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey

from tradevc.vc.errors import InvalidDocument, KeyMaterialError
from tradevc.vc.jsontext import json_kind
from tradevc.vc.keys import KeyPair
from tradevc.vc.multibase import base58btc_encode, base64url_encode, multibase_decode, multicodec_unwrap, multicodec_wrap
from tradevc.vc.retrieval.did import DidResolutionError

__all__ = [
    "resolve",
    "DidKeyResolver",
    "CONTEXT",
    "JWK_CONTEXT",
    "PUBLIC_KEY_FORMATS",
    "x25519_from_ed25519",
]

PREFIX = "did:key:"

CONTEXT = ["https://www.w3.org/ns/did/v1", "https://w3id.org/security/multikey/v1"]
"""The ``@context`` of a did:key DID document with ``Multikey`` methods (the default)."""

JWK_CONTEXT = ["https://www.w3.org/ns/did/v1", "https://w3id.org/security/suites/jws-2020/v1"]
"""The ``@context`` of a did:key DID document with ``JsonWebKey2020`` methods."""

PUBLIC_KEY_FORMATS = ("Multikey", "JsonWebKey2020")
"""The values of the did:key ``publicKeyFormat`` option supported here."""

X25519_PUB = 0xEC
"""The ``x25519-pub`` multicodec."""

# did:key's table of public key multicodecs and their lengths, for the keys supported here.
_KEY_LENGTHS = {0xED: 32, 0x1200: 33, 0x1201: 49, X25519_PUB: 32}

_P = 2**255 - 19


def x25519_from_ed25519(public_key: bytes) -> bytes:
    """The X25519 public key (RFC 7748 u-coordinate, 32 bytes little-endian) that corresponds to
    an Ed25519 public key under the birational map u = (1 + y) / (1 - y) mod 2^255 - 19.

    The key must already be checked (as :class:`tradevc.vc.keys.KeyPair` does): for the weak key with
    y = 1 (the identity) the map is undefined.

    :raises ValueError: ``public_key`` is not 32 bytes, or has y = 1.
    """
    if not isinstance(public_key, (bytes, bytearray)) or len(public_key) != 32:
        raise ValueError("an Ed25519 public key is 32 bytes")
    y = int.from_bytes(public_key, "little") & ((1 << 255) - 1)  # the top bit is the sign of x
    if (1 - y) % _P == 0:
        raise ValueError("the Ed25519 identity point has no X25519 counterpart")
    u = (1 + y) * pow(1 - y, -1, _P) % _P
    return u.to_bytes(32, "little")


_CURVE25519_A = 486662
# Any clamped scalar is a multiple of 8, so with it X25519 of a small-order point is all zeros,
# which OpenSSL refuses: one exchange finds every point of small order.
_PROBE = X25519PrivateKey.from_private_bytes(bytes(range(1, 33)))


def _check_x25519_public(data: bytes) -> None:
    """Refuse non-canonical, twist and small-order X25519 public keys (KeyMaterialError)."""
    u = int.from_bytes(data, "little")
    if u >= _P:
        raise KeyMaterialError("non-canonical X25519 public key: u is not reduced modulo 2^255-19")
    rhs = (u * u * u + _CURVE25519_A * u * u + u) % _P  # v^2 of the point with this u
    if rhs and pow(rhs, (_P - 1) // 2, _P) != 1:
        raise KeyMaterialError("invalid X25519 public key: u is a point of the twist, not of Curve25519")
    try:
        _PROBE.exchange(X25519PublicKey.from_public_bytes(data))
    except ValueError as e:
        raise KeyMaterialError(
            "weak X25519 public key: a point of small order (every shared secret with it is zero)"
        ) from e


@lru_cache(maxsize=1024)
def _x25519_key(multibase: str) -> bytes | None:
    """The raw key of an X25519 (``x25519-pub``) did:key, or None for any other multicodec.

    :raises DidResolutionError: an x25519-pub key of the wrong length or refused by
        :func:`_check_x25519_public`.
    """
    try:
        code, data = multicodec_unwrap(multibase_decode(multibase))
    except InvalidDocument:
        return None
    if code != X25519_PUB:
        return None
    did = PREFIX + multibase
    if len(data) != 32:
        raise DidResolutionError(
            f"cannot resolve {did}: an X25519 public key (x25519-pub) is 32 bytes, not {len(data)}",
            error="invalidPublicKeyLength",
        )
    try:
        _check_x25519_public(data)
    except KeyMaterialError as e:
        raise DidResolutionError(f"cannot resolve {did}: {e.message}", error="invalidPublicKey") from e
    # as for the other keys: one encoding per key, so the DID is the key (a guard, cannot fail)
    if "z" + base58btc_encode(multicodec_wrap(X25519_PUB, data)) != multibase:
        raise DidResolutionError(
            f"cannot resolve {did}: the key is not in its canonical encoding", error="invalidPublicKey"
        )
    return data


def _key_agreement_document(did: str, multibase: str, key: bytes, public_key_format: str) -> dict[str, Any]:
    vm_id = f"{did}#{multibase}"
    if public_key_format == "JsonWebKey2020":
        jwk = {"kty": "OKP", "crv": "X25519", "x": base64url_encode(key)}
        method: dict[str, Any] = {"id": vm_id, "type": "JsonWebKey2020", "controller": did, "publicKeyJwk": jwk}
    else:
        method = {"id": vm_id, "type": "Multikey", "controller": did, "publicKeyMultibase": multibase}
    return {
        "@context": list(JWK_CONTEXT if public_key_format == "JsonWebKey2020" else CONTEXT),
        "id": did,
        "verificationMethod": [method],
        "keyAgreement": [vm_id],
    }


def _parse(did: object) -> str:
    """The publicKeyMultibase of a did:key DID."""
    if not isinstance(did, str):
        raise DidResolutionError(f"a DID must be a string, not {json_kind(did)}", error="invalidDid")
    if not did.startswith(PREFIX):
        raise DidResolutionError(f"{did!r} is not a did:key DID (it must start with {PREFIX!r})", error="invalidDid")
    value = did[len(PREFIX):]
    for char, part in (("/", "a path"), ("?", "a query"), ("#", "a fragment")):
        if char in value:
            raise DidResolutionError(
                f"{did!r} has {part}: resolve the DID alone, without path, query or fragment", error="invalidDid"
            )
    if not value:
        raise DidResolutionError(f"{did!r} has no key after {PREFIX!r}", error="invalidDid")
    if not value.startswith("z"):
        raise DidResolutionError(f"{did!r}: the key must be base58btc multibase, starting with 'z'", error="invalidDid")
    return value


def _classify(multibase: str) -> str:
    """The did:key error name for a key that :meth:`KeyPair.from_multibase` refused."""
    try:
        code, data = multicodec_unwrap(multibase_decode(multibase))
    except InvalidDocument:
        return "invalidDid"
    expected = _KEY_LENGTHS.get(code)
    if expected is None:
        return "unsupportedPublicKeyType"
    if len(data) != expected:
        return "invalidPublicKeyLength"
    return "invalidPublicKey"


@lru_cache(maxsize=1024)
def _public_key(multibase: str) -> tuple[KeyPair, str, bytes | None, str | None]:
    """The key, its did:key DID and, for Ed25519, the derived X25519 key (raw and multibase).
    Checking the curve point costs about as much as a signature check; a KeyPair is immutable,
    so each distinct key is parsed once per process (bounded)."""
    key = KeyPair.from_multibase(multibase)
    if key.key_type != "Ed25519":
        return key, key.did, None, None
    x25519 = x25519_from_ed25519(key.public_key_bytes)
    return key, key.did, x25519, "z" + base58btc_encode(multicodec_wrap(X25519_PUB, x25519))


def resolve(
    did: str, *, public_key_format: str = "Multikey", enable_encryption_key_derivation: bool = True
) -> dict[str, Any]:
    """The DID document of a did:key DID (the method's document creation algorithm).

    ``public_key_format`` is ``"Multikey"`` (``@context`` :data:`CONTEXT`) or
    ``"JsonWebKey2020"`` (:data:`JWK_CONTEXT`); with ``enable_encryption_key_derivation`` an
    Ed25519 key also gets its X25519 ``keyAgreement`` method. An X25519 did:key's only
    method is listed under ``keyAgreement``.

    :raises DidResolutionError: (a :class:`tradevc.vc.errors.ResolutionError`) with ``error``
        ``invalidDid``: the value is not a did:key DID; it has a path, query or fragment; the
        key is not 'z' multibase, not valid base58btc or has no valid multicodec prefix;
        ``unsupportedPublicKeyType``: an unknown or unsupported multicodec, or another
        ``public_key_format``; ``invalidPublicKeyLength``: the wrong length for the multicodec;
        ``invalidPublicKey``: not a valid point (for X25519: a point of the twist), or a weak
        (small-order or non-canonical) Ed25519 or X25519 key. A refused key's
        :class:`tradevc.vc.errors.KeyMaterialError` is chained as the cause.
    :raises TypeError: ``enable_encryption_key_derivation`` is not a bool.
    """
    multibase = _parse(did)
    if public_key_format not in PUBLIC_KEY_FORMATS:
        raise DidResolutionError(
            f"public key format {public_key_format!r} is not supported (supported: {', '.join(PUBLIC_KEY_FORMATS)})",
            error="unsupportedPublicKeyType",
        )
    if not isinstance(enable_encryption_key_derivation, bool):
        raise TypeError("enable_encryption_key_derivation must be True or False")
    try:
        key, key_did, x25519, x25519_multibase = _public_key(multibase)
    except KeyMaterialError as e:
        agreement_key = _x25519_key(multibase)
        if agreement_key is not None:
            return _key_agreement_document(did, multibase, agreement_key, public_key_format)
        raise DidResolutionError(f"cannot resolve {did}: {e.message}", error=_classify(multibase)) from e
    # base58btc and minimal varints have one encoding per value, and from_multibase refuses
    # non-canonical keys, so this cannot fail; it guards the "DID is the key" invariant.
    if key_did != did:
        raise DidResolutionError(
            f"cannot resolve {did}: the key is not in its canonical encoding", error="invalidPublicKey"
        )
    vm_id = f"{did}#{multibase}"
    jwk = public_key_format == "JsonWebKey2020"
    if jwk:
        method: dict[str, Any] = {
            "id": vm_id, "type": "JsonWebKey2020", "controller": did, "publicKeyJwk": key.to_jwk()
        }
    else:
        method = {"id": vm_id, "type": "Multikey", "controller": did, "publicKeyMultibase": multibase}
    document: dict[str, Any] = {
        "@context": list(JWK_CONTEXT if jwk else CONTEXT),
        "id": did,
        "verificationMethod": [method],
        "authentication": [vm_id],
        "assertionMethod": [vm_id],
        "capabilityDelegation": [vm_id],
        "capabilityInvocation": [vm_id],
    }
    if enable_encryption_key_derivation and x25519 is not None and x25519_multibase is not None:
        ka_id = f"{did}#{x25519_multibase}"
        if jwk:
            agreement: dict[str, Any] = {
                "id": ka_id,
                "type": "JsonWebKey2020",
                "controller": did,
                "publicKeyJwk": {"kty": "OKP", "crv": "X25519", "x": base64url_encode(x25519)},
            }
        else:
            agreement = {"id": ka_id, "type": "Multikey", "controller": did, "publicKeyMultibase": x25519_multibase}
        document["verificationMethod"].append(agreement)
        document["keyAgreement"] = [ka_id]
    return document


class DidKeyResolver:
    """A :class:`tradevc.vc.retrieval.did.DidResolver` for did:key, with the method's options as defaults (see
    :func:`resolve`)."""

    def __init__(self, *, public_key_format: str = "Multikey", enable_encryption_key_derivation: bool = True) -> None:
        self.public_key_format = public_key_format
        self.enable_encryption_key_derivation = enable_encryption_key_derivation

    def resolve(self, did: str) -> dict[str, Any]:
        """The DID document of a did:key DID; see :func:`resolve`.

        :raises DidResolutionError: the DID is malformed or its key is invalid or weak.
        """
        return resolve(
            did,
            public_key_format=self.public_key_format,
            enable_encryption_key_derivation=self.enable_encryption_key_derivation,
        )

    def resolve_with_options(self, did: str, options: dict[str, Any]) -> dict[str, Any]:
        """The DID document of a did:key DID with the resolution options ``publicKeyFormat``
        and ``enableEncryptionKeyDerivation`` (others are ignored; absent ones take this
        resolver's defaults).

        :raises DidResolutionError: as :func:`resolve`.
        :raises TypeError: ``enableEncryptionKeyDerivation`` is not a bool.
        """
        return resolve(
            did,
            public_key_format=options.get("publicKeyFormat", self.public_key_format),
            enable_encryption_key_derivation=options.get(
                "enableEncryptionKeyDerivation", self.enable_encryption_key_derivation
            ),
        )

    def __repr__(self) -> str:
        return (
            f"DidKeyResolver(public_key_format={self.public_key_format!r}, "
            f"enable_encryption_key_derivation={self.enable_encryption_key_derivation!r})"
        )
