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

import idna

from tradevc.vc.errors import ResolutionError
from tradevc.vc.retrieval.http import DID_MEDIA_TYPES, HttpsFetcher
from tradevc.vc.retrieval.did import DidResolutionError
from tradevc.vc.retrieval.mirror import Origin

__all__ = ["did_web", "did_web_for", "document_url", "document_path", "DidWebResolver"]

_LABEL = r"(?!-)[A-Za-z0-9-]{1,63}(?<!-)"
_HOST = re.compile(rf"^{_LABEL}(?:\.{_LABEL})*$")
_IP_LIKE = re.compile(r"^[0-9.]+$|^\[.*\]$")  # left to _check_host, which refuses IP addresses
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
    (``"issuers/mill"``). An internationalized host is written in its ASCII form (IDNA 2008
    with the UTS 46 mapping: ``bücher.example`` -> ``xn--bcher-kva.example``), as DNS and TLS
    certificates name it.

    :raises ValueError: the domain or path is not valid for did:web.
    """
    host, _, port = domain.partition(":")
    if host and not _IP_LIKE.fullmatch(host):
        try:
            host = idna.encode(host, uts46=True).decode("ascii")
        except idna.IDNAError as e:
            raise ValueError(f"did:web for {domain!r}: {host!r} is not a valid domain name ({e})") from None
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


def did_web_for(location: str) -> str:
    """The did:web DID for where its ``did.json`` is published, written as a person would:
    ``host``, ``host:port`` or ``host[:port]/path/segments`` (``certifier.acme.example``,
    ``acme.example:8443``, ``acme.example/issuers/mill``). What :func:`did_web` refuses is
    refused, and with a message that says what to write instead: a URL (``https://...``: give
    the host only), a query or fragment, white space, a host of one label other than
    ``localhost`` (``acme``: not a domain a certificate can name), an empty path segment.
    Then ``document_url(did_web_for(x))`` is the exact URL to publish at.

    :raises ValueError: so.
    """
    text = location.strip()
    if not text:
        raise ValueError("the did:web domain is empty; give the host name, e.g. certifier.acme.example")
    scheme = re.match(r"^([A-Za-z][A-Za-z0-9+.-]*):(//)?", text)
    if "://" in text or (scheme is not None and scheme.group(1).lower() in ("http", "https")):
        rest = text.split("://", 1)[1] if "://" in text else text[scheme.end():] if scheme else text
        rest = rest.split("?", 1)[0].split("#", 1)[0].rstrip("/")
        hint = f"; e.g. {rest.removesuffix('/.well-known/did.json').removesuffix('/did.json')}" if rest else ""
        raise ValueError(
            f"{location!r} is a URL: give the domain only, without the scheme (did:web always means https){hint}"
        )
    if any(c in text for c in "?#") or any(c.isspace() for c in text):
        raise ValueError(f"{location!r}: a did:web domain has no query, fragment or white space")
    domain, _, path = text.partition("/")
    if domain.startswith("["):
        raise ValueError(f"{location!r}: did:web hosts must be domain names, not IP addresses")
    if path.endswith("did.json"):
        raise ValueError(
            f"{location!r}: give the folder that holds did.json, not the file (did:web adds /did.json itself)"
        )
    segments = path.strip("/").split("/") if path.strip("/") else []
    if any(not s for s in segments):
        raise ValueError(f"{location!r}: the path has an empty segment ('//')")
    if ".well-known" in segments:
        raise ValueError(
            f"{location!r}: leave out .well-known; a did:web DID without a path is published at "
            "/.well-known/did.json, one with a path at /path/did.json"
        )
    did = did_web(domain, "/".join(segments) or None)
    host = did[len("did:web:"):].split(":")[0].split("%3A")[0]
    if "." not in host and host != "localhost":
        raise ValueError(
            f"{location!r}: {host!r} is not a full domain name (no TLS certificate can name it); write it with its "
            "top-level domain, e.g. certifier.acme.example"
        )
    return did


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
