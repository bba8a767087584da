"""did:web identifiers (W3C CCG did:web method): DID <-> the HTTPS URL of its ``did.json``.

``did:web:example.com`` lives at ``https://example.com/.well-known/did.json``;
``did:web:example.com:issuers:mill`` at ``https://example.com/issuers/mill/did.json``; a port
is written ``%3A`` (``did:web:example.com%3A8443``). Hosts that are IP addresses are refused:
the method is for domain names, and an IP host is the usual first step of an SSRF.
"""

from __future__ import annotations

import ipaddress
import re
from urllib.parse import quote, unquote, urlsplit

from typing import Any

from tradevc.vc.errors import ResolutionError
from tradevc.vc.retrieval.http import DID_MEDIA_TYPES, HttpsFetcher
from tradevc.vc.retrieval.did import DidResolutionError
from tradevc.vc.retrieval.mirror import Origin

__all__ = ["did_web", "document_url", "document_path", "DidWebResolver"]

_LABEL = r"(?!-)[A-Za-z0-9-]{1,63}(?<!-)"
_HOST = re.compile(rf"^{_LABEL}(?:\.{_LABEL})*$")
_SEGMENT = re.compile(r"^(?:[A-Za-z0-9._~-]|%[0-9A-Fa-f]{2})+$")


def _check_host(host: str, port: str | None, did: str) -> None:
    try:
        ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        pass
    else:
        raise DidResolutionError(f"{did}: did:web hosts must be domain names, not IP addresses", error="invalidDid")
    if not _HOST.fullmatch(host) or not any(c.isalpha() for c in host.rsplit(".", 1)[-1]):
        raise DidResolutionError(f"{did}: {host!r} is not a valid domain name", error="invalidDid")
    if port is not None and (not (port.isascii() and port.isdigit()) or not 0 < int(port) < 65536):
        raise DidResolutionError(f"{did}: {port!r} is not a valid port", error="invalidDid")


def did_web(domain: str, path: str | None = None) -> str:
    """The did:web DID for ``domain`` (``host`` or ``host:port``) and an optional path
    (``"issuers/mill"``).

    :raises ValueError: the domain or path is not valid for did:web.
    """
    host, _, port = domain.partition(":")
    try:
        _check_host(host, port or None, f"did:web for {domain!r}")
    except ResolutionError as e:
        raise ValueError(e.message) from None
    method_id = host.lower() + (f"%3A{port}" if port else "")
    segments = [s for s in (path or "").strip("/").split("/") if s]
    for segment in segments:
        if segment in (".", "..") or not _SEGMENT.fullmatch(quote(segment, safe="")):
            raise ValueError(f"did:web path segment {segment!r} is not allowed")
    return ":".join(["did:web", method_id, *(quote(s, safe="") for s in segments)])


def document_url(did: str) -> str:
    """The HTTPS URL of the DID document of a did:web ``did``.

    :raises DidResolutionError: (``invalidDid``) not a did:web DID, an IP-address host, a bad
        port or path.
    """
    if not isinstance(did, str) or not did.startswith("did:web:"):
        raise DidResolutionError(f"{did!r} is not a did:web DID", error="invalidDid")
    parts = did[len("did:web:"):].split(":")
    host_port = unquote(parts[0])
    host, _, port = host_port.partition(":")
    _check_host(host, port or None, did)
    for segment in parts[1:]:
        if not _SEGMENT.fullmatch(segment) or unquote(segment) in (".", ".."):
            raise DidResolutionError(f"{did}: path segment {segment!r} is not allowed", error="invalidDid")
    path = "/".join(parts[1:]) + "/did.json" if len(parts) > 1 else ".well-known/did.json"
    return f"https://{host.lower()}{':' + port if port else ''}/{path}"


def document_path(did: str) -> str:
    """Where ``did.json`` sits below the web root of the DID's host (``.well-known/did.json``
    or ``issuers/mill/did.json``), for publishing."""
    return unquote(urlsplit(document_url(did)).path.lstrip("/"))


class DidWebResolver:
    """Resolves did:web DIDs over HTTPS with the given fetcher (its session decides which
    certificate authorities are trusted; its limits bound time and size; it reaches only
    public hosts unless its ``allow_hosts`` say otherwise). A document served with a media
    type other than ``application/did+json``, ``application/did+ld+json``,
    ``application/json`` or ``application/ld+json`` is refused."""

    def __init__(self, fetcher: HttpsFetcher | None = None) -> None:
        self.fetcher = fetcher or HttpsFetcher()

    def origin(self, did: str) -> Origin | None:
        """The mirror or snapshot the document of ``did`` is read from, or None if it is
        fetched from the DID's own host (or the DID is malformed). Never raises."""
        if self.fetcher.mirror is None:  # the common case, once per verification: keep it cheap
            return None
        try:
            return self.fetcher.origin(document_url(did))
        except ResolutionError:
            return None

    def resolve(self, did: str) -> dict[str, Any]:
        """The DID document of ``did`` (read from a mirror or snapshot if the fetcher's
        mirror maps the DID's host: the document must still be the DID's).

        :raises DidResolutionError: (a :class:`ResolutionError`) ``invalidDid``: a malformed
            did:web DID; ``invalidDidDocument``: the document is not a JSON object, or its
            ``id`` is not the DID (code ``INVALID_CONTROLLED_IDENTIFIER_DOCUMENT_ID``).
        :raises RetrievalError: the document could not be fetched (its ``status`` is the HTTP
            status when the server refused it: 404 means there is no such DID), the host is
            not public, or the document was served with another media type.
        """
        url = document_url(did)
        document = self.fetcher.get_json(url, what=f"DID document of {did}", media_types=DID_MEDIA_TYPES)
        origin = self.origin(did)
        where = f"{url} (from {origin})" if origin is not None else url
        if not isinstance(document, dict):
            raise DidResolutionError(
                f"the DID document of {did} at {where} is not a JSON object", error="invalidDidDocument"
            )
        if document.get("id") != did:
            raise DidResolutionError(
                f"the DID document at {where} has id {document.get('id')!r}, not {did}",
                error="invalidDidDocument",
                code="INVALID_CONTROLLED_IDENTIFIER_DOCUMENT_ID",
            )
        return document
