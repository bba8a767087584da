"""Decentralized Identifiers: the resolver interface and DID URL parsing.

Method implementations live in submodules (:mod:`tradevc.vc.retrieval.did.key`); dispatch by method and
verification method retrieval are in :mod:`tradevc.vc.retrieval.did.resolver`; DID Resolution results
(``resolve``, ``dereference``) in :mod:`tradevc.vc.retrieval.did.resolution`.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any, Protocol, runtime_checkable

from tradevc.vc.errors import ResolutionError
from tradevc.vc.jsontext import json_kind

__all__ = ["DidResolver", "DidResolutionError", "RESOLUTION_ERRORS", "parse_did_url", "DID_RE"]


RESOLUTION_ERRORS = frozenset(
    {
        "invalidDid",
        "invalidDidUrl",
        "notFound",
        "methodNotSupported",
        "representationNotSupported",
        "invalidDidDocument",
        "invalidPublicKey",
        "invalidPublicKeyLength",
        "unsupportedPublicKeyType",
        "invalidOptions",
        "internalError",
    }
)
"""The error names of DID Core 1.0 section 7.1.2 / DID Resolution used here (and, for the key
errors, of the did:key method)."""


class DidResolutionError(ResolutionError):
    """A DID could not be resolved, for a reason DID Resolution names in ``error``
    (``"invalidDid"``, ``"invalidPublicKeyLength"``...). A :class:`ResolutionError` (same
    ``code``), so code that catches those is unaffected; :func:`tradevc.vc.retrieval.did.resolution.resolve`
    puts ``error`` into ``didResolutionMetadata``.

    :raises ValueError: (when constructed) ``error`` is not one of :data:`RESOLUTION_ERRORS`.
    """

    def __init__(self, message: str, *, error: str, code: str | None = None) -> None:
        if error not in RESOLUTION_ERRORS:
            raise ValueError(f"{error!r} is not a DID Resolution error name")
        super().__init__(message, code=code)
        self.error = error


@runtime_checkable
class DidResolver(Protocol):
    """Resolves the DIDs of one DID method to their DID documents."""

    def resolve(self, did: str) -> dict[str, Any]:
        """The DID document of ``did`` (a DID, not a DID URL).

        :raises ResolutionError: the DID is malformed or cannot be resolved.
        """
        ...


# DID Core 1.0 section 3.1 (ABNF):
#   did                = "did:" method-name ":" method-specific-id
#   method-name        = 1*method-char ; method-char = %x61-7A / DIGIT
#   method-specific-id = *( *idchar ":" ) 1*idchar
#   idchar             = ALPHA / DIGIT / "." / "-" / "_" / pct-encoded
_IDCHAR = r"(?:[A-Za-z0-9._-]|%[0-9A-Fa-f]{2})"
DID_RE = re.compile(rf"did:[a-z0-9]+:(?:{_IDCHAR}*:)*{_IDCHAR}+")
"""A DID (without path, query or fragment), per DID Core 1.0 section 3.1."""

# RFC 3986: fragment = *( pchar / "/" / "?" ); pchar = unreserved / pct-encoded / sub-delims / ":" / "@"
_FRAGMENT_RE = re.compile(r"(?:[A-Za-z0-9._~!$&'()*+,;=:@/?-]|%[0-9A-Fa-f]{2})*")


def parse_did_url(url: str) -> tuple[str, str | None]:
    """Split a DID URL into its DID and its fragment (None if there is no ``#``).

    Only DID URLs of the form ``did[#fragment]`` are accepted: a path or query would change
    what the URL dereferences to, and no caller here handles them.

    :raises ResolutionError: ``url`` is not a string, its DID is not valid DID syntax, it has a
        path or query, or its fragment contains characters a URI fragment cannot.
    """
    if not isinstance(url, str):
        raise ResolutionError(f"a DID URL must be a string, not {json_kind(url)}")
    if len(url) <= 1024:  # a verifier meets the same few issuers' keys over and over
        return _parse_did_url_cached(url)
    return _parse_did_url(url)


def _parse_did_url(url: str) -> tuple[str, str | None]:
    did, hash_sign, fragment = url.partition("#")
    if "/" in did or "?" in did:
        raise ResolutionError(f"DID URL {url!r} has a path or query, which is not supported")
    if not DID_RE.fullmatch(did):
        raise ResolutionError(f"{did!r} is not a valid DID (expected did:<method>:<method-specific-id>)")
    if not hash_sign:
        return did, None
    if not _FRAGMENT_RE.fullmatch(fragment):
        raise ResolutionError(f"DID URL {url!r} has an invalid fragment")
    return did, fragment


# Only results are kept (a refused URL raises again each time); bounded, and long URLs are
# parsed without being kept.
_parse_did_url_cached = lru_cache(maxsize=4096)(_parse_did_url)
