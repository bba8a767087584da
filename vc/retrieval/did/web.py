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

import threading
from datetime import datetime, timedelta, timezone
from typing import Any, Callable

import idna

from tradevc.vc.errors import ResolutionError
from tradevc.vc.retrieval.disk_cache import DID_DOCUMENT, DiskCache, duration_text as _duration, is_outage
from tradevc.vc.retrieval.http import (
    DID_MEDIA_TYPES, JSON_TYPES, Fetched, HttpsFetcher, RetrievalError, _json, _require_media_type,
)
from tradevc.vc.retrieval.did import DidResolutionError
from tradevc.vc.retrieval.mirror import Origin
from tradevc.vc.retrieval.recording import note

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
    ``application/json`` or ``application/ld+json`` is refused.

    With a :class:`~tradevc.vc.retrieval.disk_cache.DiskCache` (``cache``), the bytes of each
    document fetched over the network (from its host or an https mirror) and found to be the
    DID's are kept on disk, with the time ``clock`` (aware) gave. They are read back only if
    ``stale_if_error`` is given and a fetch fails because the host cannot be reached
    (:func:`~tradevc.vc.retrieval.disk_cache.is_outage`: no answer or HTTP 5xx, not a 404),
    and only if the copy was fetched at most ``freshness`` + ``stale_if_error`` ago (the
    freshness of a DID document is how long the verifier caches one in memory); they are
    checked as a fresh fetch (media type, I-JSON, a JSON object whose ``id`` is the DID). A
    document read so is reported: :meth:`origin` names the cached copy and its age until the
    DID's host answers again."""

    def __init__(
        self, fetcher: HttpsFetcher | None = None, *, cache: DiskCache | None = None,
        stale_if_error: timedelta | None = None, freshness: timedelta = timedelta(0),
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        self.fetcher = fetcher or HttpsFetcher()
        self.cache = cache
        self.stale_if_error = stale_if_error
        self.freshness = freshness
        self.clock = clock or (lambda: datetime.now(timezone.utc))
        self._from_cache: dict[str, Origin] = {}  # DID -> the cached copy its document was last read from
        self._lock = threading.Lock()

    def origin(self, did: str) -> Origin | None:
        """The mirror or snapshot the document of ``did`` is read from (or the disk cache's
        copy, when the last resolution fell back on it), or None if it is fetched from the
        DID's own host (or the DID is malformed). Never raises."""
        if self._from_cache:
            with self._lock:
                cached = self._from_cache.get(did)
            if cached is not None:
                return cached
        if self.fetcher.mirror is None:  # the common case, once per verification: keep it cheap
            return None
        try:
            return self.fetcher.origin(document_url(did))
        except ResolutionError:
            return None

    def _cacheable(self, url: str) -> bool:
        if self.cache is None:
            return False
        origin = self.fetcher.origin(url)
        return origin is None or origin.kind == "mirror"

    def resolve(self, did: str) -> dict[str, Any]:
        """The DID document of ``did`` (read from a mirror or snapshot if the fetcher's
        mirror maps the DID's host: the document must still be the DID's; from the disk cache,
        checked the same way, if the host cannot be reached and ``stale_if_error`` allows the
        copy's age).

        :raises DidResolutionError: (a :class:`ResolutionError`) ``invalidDid``: a malformed
            did:web DID; ``invalidDidDocument``: the document is not a JSON object, or its
            ``id`` is not the DID (code ``INVALID_CONTROLLED_IDENTIFIER_DOCUMENT_ID``).
        :raises RetrievalError: the document could not be fetched (its ``status`` is the HTTP
            status when the server refused it: 404 means there is no such DID), the host is
            not public, or the document was served with another media type.
        """
        url = document_url(did)
        what = f"DID document of {did}"
        try:
            fetched = self.fetcher.fetch(url, what=what, accept=JSON_TYPES, kind="did")
        except RetrievalError as e:
            stale = self._from_disk(did, url, e) if self.stale_if_error is not None else None
            if stale is None:
                raise
            return stale
        document = self._document(did, url, fetched)
        if self._from_cache:
            with self._lock:
                self._from_cache.pop(did, None)
        if self.cache is not None and fetched.fetched_at is None and self._cacheable(url):
            self.cache.put(DID_DOCUMENT, url, fetched.body, media_type=fetched.media_type, fetched_at=self.clock(),
                           max_bytes=self.fetcher.max_bytes)
        return document

    def _from_disk(self, did: str, url: str, error: RetrievalError) -> dict[str, Any] | None:
        """The document of ``did`` from the disk cache, checked as fetched, if ``error`` is an
        outage and the copy is young enough; else None."""
        if self.cache is None or self.stale_if_error is None or not is_outage(error) or not self._cacheable(url):
            return None
        copy = self.cache.get(DID_DOCUMENT, url, max_bytes=self.fetcher.max_bytes)
        now = self.clock()
        if copy is None or copy.fetched_at > now or now - copy.fetched_at > self.freshness + self.stale_if_error:
            return None
        try:
            document = self._document(did, url, Fetched(url, copy.body, copy.media_type, copy.fetched_at))
        except ResolutionError:  # not the DID's document: never again
            self.cache.discard(DID_DOCUMENT, url)
            return None
        note("did", url, copy.body, copy.media_type, copy.fetched_at)
        age = _duration(now - copy.fetched_at)
        with self._lock:
            self._from_cache[did] = Origin("cache", (
                f"on disk: a copy fetched {age} ago, used as {url} could not be fetched ({error.message}; "
                f"stale_if_error allows {_duration(self.stale_if_error)} past {_duration(self.freshness)})"
            ))
        return document

    def _document(self, did: str, url: str, fetched: Fetched) -> dict[str, Any]:
        """The DID document in ``fetched``, checked: its media type, I-JSON, and its ``id``."""
        what = f"DID document of {did}"
        _require_media_type(fetched.media_type, DID_MEDIA_TYPES, url, what)
        document = _json(fetched.body, url, what)
        origin = self.fetcher.origin(url) if self.fetcher.mirror is not None else None
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

