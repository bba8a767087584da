"""DID resolution by method, and verification method retrieval with the checks of
Controlled Identifiers 1.0 ("Retrieve Verification Method").

Every key used to check a proof comes through :func:`retrieve_verification_method`, which
checks that the DID document is the DID's, that the method is in it, that its controller is
the DID, and (separately, :meth:`VerificationMethod.is_listed_under`) which verification
relationships list it.
"""

from __future__ import annotations

import copy
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from typing import TYPE_CHECKING, Any, Callable

from tradevc.vc.errors import InvalidDocument, KeyMaterialError, ResolutionError, UnsupportedError, VcError
from tradevc.vc.keys import KeyPair
from tradevc.vc.multibase import base58btc_decode
from tradevc.vc.retrieval.did import DidResolver, parse_did_url
from tradevc.vc.retrieval.recording import Recorded, capture, renote

if TYPE_CHECKING:
    from datetime import datetime, timedelta

    from tradevc.vc.retrieval.disk_cache import DiskCache
    from tradevc.vc.retrieval.http import HttpsFetcher
    from tradevc.vc.retrieval.mirror import Origin

__all__ = ["DidResolvers", "VerificationMethod", "retrieve_verification_method"]


class DidResolvers:
    """Dispatches DID resolution by method name (``"key"``, ``"web"``, ``"jwk"``...), and
    caches resolved documents for ``cache_ttl`` seconds (None: no cache). One instance is
    meant to be shared by all verifications of one verifier."""

    def __init__(
        self,
        methods: Mapping[str, DidResolver],
        *,
        cache_ttl: float | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if not methods:
            raise ValueError("DidResolvers needs at least one DID method")
        self._methods = dict(methods)
        self._ttl = cache_ttl
        self._clock = clock
        # DID -> (expiry, document, the bodies it was read from: recorded again when it is used)
        self._cache: dict[str, tuple[float, dict[str, Any], tuple[Recorded, ...]]] = {}
        # Verification methods retrieved from cached DID documents: (expiry, method).
        self._method_cache: dict[str, tuple[float, VerificationMethod]] = {}
        self._lock = threading.Lock()

    @classmethod
    def offline(cls) -> "DidResolvers":
        """Resolvers that need no network: did:key and did:jwk. A did:web DID is answered with
        a retrieval error (the check that needs it could not be carried out offline), not as
        an unsupported method: the same DID verifies online."""
        from tradevc.vc.retrieval.did.jwk import DidJwkResolver
        from tradevc.vc.retrieval.did.key import DidKeyResolver

        return cls({"key": DidKeyResolver(), "jwk": DidJwkResolver(), "web": _OfflineWeb()})

    @classmethod
    def online(
        cls, fetcher: "HttpsFetcher | None" = None, *, cache_ttl: float | None = 300.0,
        disk_cache: "DiskCache | None" = None, stale_if_error: "timedelta | None" = None,
        clock: "Callable[[], datetime] | None" = None,
    ) -> "DidResolvers":
        """did:key, did:jwk and did:web (over ``fetcher``), caching documents for ``cache_ttl`` s.
        With ``disk_cache``, did:web documents are also kept on disk and, under
        ``stale_if_error``, read back when their host cannot be reached, if fetched at most
        ``cache_ttl`` + ``stale_if_error`` ago by ``clock`` (see
        :class:`~tradevc.vc.retrieval.did.web.DidWebResolver`)."""
        from datetime import timedelta

        from tradevc.vc.retrieval.did.jwk import DidJwkResolver
        from tradevc.vc.retrieval.did.key import DidKeyResolver
        from tradevc.vc.retrieval.did.web import DidWebResolver

        web = DidWebResolver(fetcher, cache=disk_cache, stale_if_error=stale_if_error,
                             freshness=timedelta(seconds=cache_ttl or 0), clock=clock)
        return cls({"key": DidKeyResolver(), "jwk": DidJwkResolver(), "web": web}, cache_ttl=cache_ttl)

    def clear_cache(self) -> None:
        with self._lock:
            self._cache.clear()
            self._method_cache.clear()

    def _is_pure(self, did_or_url: str) -> bool:
        """Whether this instance resolves the DID method of ``did_or_url`` with our own did:key
        or did:jwk resolver, whose documents are a function of the DID alone."""
        global _PURE_RESOLVERS
        if _PURE_RESOLVERS is None:
            from tradevc.vc.retrieval.did.jwk import DidJwkResolver
            from tradevc.vc.retrieval.did.key import DidKeyResolver

            _PURE_RESOLVERS = (DidKeyResolver, DidJwkResolver)
        parts = did_or_url.split(":", 2)
        resolver = self._methods.get(parts[1]) if len(parts) == 3 else None
        # process-wide entries hold the method as the default (Multikey) documents give it
        return type(resolver) in _PURE_RESOLVERS and getattr(resolver, "public_key_format", "Multikey") == "Multikey"

    def _cached_method(self, vm_url: str) -> VerificationMethod | None:
        """A verification method retrieved before and still fresh (see :meth:`_remember_method`)."""
        if self._is_pure(vm_url):
            return _PURE_METHODS.get(vm_url)
        entry = self._method_cache.get(vm_url)
        if entry is None or (entry[0] is not None and self._clock() >= entry[0]):
            return None
        hit = self._cache.get(entry[1].controller)
        if hit is not None and hit[2]:
            renote(hit[2])
        return entry[1]

    def _remember_method(self, did: str, vm_url: str, method: VerificationMethod) -> None:
        """Keep ``method`` (immutable): for the process if the DID is its own document (did:key
        and did:jwk with our resolvers), else as long as the cached DID document."""
        if self._is_pure(did):
            if len(_PURE_METHODS) >= METHOD_CACHE_SIZE:
                _PURE_METHODS.clear()
            _PURE_METHODS[vm_url] = method
            return
        with self._lock:
            hit = self._cache.get(did)
            if hit is None:
                return
            if len(self._method_cache) >= METHOD_CACHE_SIZE:
                self._method_cache.clear()
            self._method_cache[vm_url] = (hit[0], method)

    @property
    def methods(self) -> frozenset[str]:
        return frozenset(self._methods)

    def method_resolver(self, method: str) -> DidResolver | None:
        """The resolver of DID method ``method`` (``"key"``, ``"web"``...), or None."""
        return self._methods.get(method)

    def origin(self, did: str) -> "Origin | None":
        """The mirror or snapshot (a :class:`tradevc.vc.retrieval.mirror.Origin`) the DID document of ``did`` is
        read from, or None if it comes from where the DID method says. Never raises."""
        parts = did.split(":", 2) if isinstance(did, str) else []
        resolver = self._methods.get(parts[1]) if len(parts) == 3 else None
        origin = getattr(resolver, "origin", None)
        return origin(did) if callable(origin) else None

    def resolve(self, did: str) -> dict[str, Any]:
        """The DID document of ``did``.

        :raises UnsupportedError: no resolver for the DID's method.
        :raises ResolutionError: the DID is malformed or could not be resolved.
        """
        parts = did.split(":", 2) if isinstance(did, str) else []
        if len(parts) != 3 or parts[0] != "did" or not parts[1]:
            raise ResolutionError(f"{did!r} is not a DID", code="INVALID_VERIFICATION_METHOD_URL")
        if self._ttl is not None:
            with self._lock:
                hit = self._cache.get(did)
            if hit is not None and self._clock() < hit[0]:
                if hit[2]:
                    renote(hit[2])
                return copy.deepcopy(hit[1])
        resolver = self._methods.get(parts[1])
        if resolver is None:
            raise UnsupportedError(
                f"DID method did:{parts[1]} is not supported here (supported: "
                + ", ".join(f"did:{m}" for m in sorted(self._methods))
                + ")"
            )
        if self._ttl is None:
            return resolver.resolve(did)
        with capture() as used:
            document = resolver.resolve(did)
        with self._lock:
            self._cache[did] = (self._clock() + self._ttl, copy.deepcopy(document), tuple(used.items))
        return document


METHOD_CACHE_SIZE = 4096
"""Verification methods kept per DidResolvers, and for did:key/did:jwk per process (emptied
when full: memory stays bounded)."""

_PURE_METHODS: dict[str, VerificationMethod] = {}
_PURE_RESOLVERS: tuple[type, ...] | None = None

_RELATIONSHIPS = ("authentication", "assertionMethod", "keyAgreement", "capabilityInvocation", "capabilityDelegation")


@dataclass(frozen=True)
class VerificationMethod:
    """A verification method taken from its controller's DID document, with its key."""

    id: str
    type: str
    controller: str
    key: KeyPair
    relationships: frozenset[str] = field(default_factory=frozenset)

    def is_listed_under(self, relationship: str) -> bool:
        """True if the controller's DID document lists this method under ``relationship``."""
        return relationship in self.relationships


class _OfflineWeb:
    """did:web without a network: a well-formed DID is a retrieval error (it might resolve
    online), a malformed one is as invalid as online (``invalidDid``)."""

    def resolve(self, did: str) -> dict[str, Any]:
        from tradevc.vc.retrieval.http import RetrievalError
        from tradevc.vc.retrieval.did.web import document_url

        document_url(did)
        raise RetrievalError(f"{did} is a did:web DID: resolving it needs the network, and this verifier is offline")


def _absolute(ref: Any, did: str) -> Any:
    return did + ref if isinstance(ref, str) and ref.startswith("#") else ref


def retrieve_verification_method(vm_url: str, resolvers: DidResolvers) -> VerificationMethod:
    """Resolve ``vm_url`` (a DID URL with a fragment) to its verification method and key.

    :raises ResolutionError: with the Controlled Identifiers error code that applies
        (``INVALID_VERIFICATION_METHOD_URL``, ``INVALID_CONTROLLED_IDENTIFIER_DOCUMENT_ID``,
        ``INVALID_VERIFICATION_METHOD``...), or the resolver's own error.
    :raises UnsupportedError: the DID method or key type is not supported.
    """
    cached = resolvers._cached_method(vm_url) if isinstance(vm_url, str) else None
    if cached is not None:
        return cached
    try:
        did, fragment = parse_did_url(vm_url)
    except VcError as e:
        raise ResolutionError(
            f"verification method {vm_url!r} is not a DID URL: {e.message}", code="INVALID_VERIFICATION_METHOD_URL"
        ) from e
    if not fragment:
        raise ResolutionError(
            f"verification method {vm_url!r} has no fragment naming a key", code="INVALID_VERIFICATION_METHOD_URL"
        )
    document = resolvers.resolve(did)
    if not isinstance(document, dict) or document.get("id") != did:
        raise ResolutionError(
            f"the DID document resolved for {did} has id {document.get('id') if isinstance(document, dict) else None!r}",
            code="INVALID_CONTROLLED_IDENTIFIER_DOCUMENT_ID",
        )
    method = None
    candidates: list[Any] = list(document.get("verificationMethod") or [])
    for rel in _RELATIONSHIPS:
        candidates.extend(e for e in document.get(rel) or [] if isinstance(e, dict))
    for entry in candidates:
        if isinstance(entry, dict) and _absolute(entry.get("id"), did) == vm_url:
            method = entry
            break
    if method is None:
        raise ResolutionError(
            f"{vm_url} is not a verification method of {did}", code="INVALID_VERIFICATION_METHOD"
        )
    controller = method.get("controller")
    if controller != did:
        raise ResolutionError(
            f"verification method {vm_url} has controller {controller!r}, not {did}",
            code="INVALID_VERIFICATION_METHOD",
        )
    relationships = frozenset(
        rel
        for rel in _RELATIONSHIPS
        if any(
            _absolute(e if isinstance(e, str) else e.get("id") if isinstance(e, dict) else None, did) == vm_url
            for e in document.get(rel) or []
        )
    )
    try:
        key = key_from_method(method)
    except KeyMaterialError as e:
        raise ResolutionError(
            f"verification method {vm_url} has unusable key material: {e.message}", code="INVALID_VERIFICATION_METHOD"
        ) from e
    verification_method = VerificationMethod(
        id=vm_url, type=str(method.get("type")), controller=did, key=key, relationships=relationships
    )
    resolvers._remember_method(did, vm_url, verification_method)
    return verification_method


def key_from_method(method: Mapping[str, Any]) -> KeyPair:
    """The public key of a ``Multikey``, ``JsonWebKey`` (or ``JsonWebKey2020``) or legacy
    ``Ed25519VerificationKey2020`` verification method, or of a legacy
    ``Ed25519VerificationKey2018`` (``publicKeyBase58``: the 32 key bytes in base58btc, no
    multibase prefix), which the proof checks accept only for ``Ed25519Signature2018`` proofs
    under a compatibility profile (see :mod:`tradevc.vc.securing.proofs.data_integrity`).

    :raises UnsupportedError: another verification method type.
    :raises KeyMaterialError: the key material is malformed or weak, holds a secret, or does
        not match the method type.
    """
    vm_type = method.get("type")
    if vm_type in ("Multikey", "Ed25519VerificationKey2020") and isinstance(method.get("publicKeyMultibase"), str):
        key = _key_from_multibase(method["publicKeyMultibase"])
        if vm_type == "Ed25519VerificationKey2020" and key.key_type != "Ed25519":
            raise KeyMaterialError(f"an Ed25519VerificationKey2020 must hold an Ed25519 key, not {key.key_type}")
        return key
    if vm_type == "Ed25519VerificationKey2018" and isinstance(method.get("publicKeyBase58"), str):
        try:
            raw = base58btc_decode(method["publicKeyBase58"])
        except InvalidDocument as e:
            raise KeyMaterialError(f"publicKeyBase58 is not base58btc: {e.message}") from e
        return KeyPair.from_public_key_bytes("Ed25519", raw)
    if vm_type in ("JsonWebKey", "JsonWebKey2020") and isinstance(method.get("publicKeyJwk"), dict):
        jwk = method["publicKeyJwk"]
        if "d" in jwk:
            raise KeyMaterialError("a published verification method must not contain a private key")
        return KeyPair.from_jwk(jwk)
    raise UnsupportedError(f"verification method type {vm_type!r} (or its key property) is not supported")


@lru_cache(maxsize=1024)
def _key_from_multibase(public_multibase: str) -> KeyPair:
    """Parsing and checking a key (curve point, small order) costs more than the signature
    check itself; keys are immutable, so each distinct one is parsed once per process."""
    return KeyPair.from_multibase(public_multibase)
