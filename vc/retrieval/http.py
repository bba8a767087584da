"""Fetching JSON over HTTPS for DID documents and status lists, defensively.

One fetcher serves every network read of the verifier (did:web documents, status list
credentials). It refuses anything but ``https``, follows no redirects (a redirect to another
host is the classic way around an allow-list), caps the size of what it reads (as sent: it asks
for no content coding and refuses one), and applies a timeout, to each read and to the whole
response. Certificate checks come from the ``requests.Session`` passed in; nothing here ever
turns them off, so tests hand in a session that trusts their throwaway CA.

It is not an SSRF tool: it connects only to public addresses, resolving each host once,
checking every address and connecting to the one checked (see
:mod:`tradevc.vc.retrieval.netguard`); ``allow_hosts`` is the only way to reach others (a
test server, a demo, a mirror in the operator's network). The time limit covers the whole
fetch (lookup, connection, TLS, headers and body), so a server that trickles bytes cannot
hold it. From the session it takes the trust roots (``verify``), the client certificate
(``cert``) and the headers; never its proxies, cookies or credentials, nor the environment's
(``HTTPS_PROXY``, ``.netrc``, ``REQUESTS_CA_BUNDLE``).

With a :class:`tradevc.vc.retrieval.mirror.Mirror`, the URLs of the hosts it maps are read from their mirror
(over HTTPS, under the same rules) or snapshot directory (under the same size limit)
instead; everything else is fetched as before. The hosts of a mirror's https URLs are
allowed for the documents read from that mirror (the operator configured them; the
documents' own hosts are still judged when fetched directly).
"""

from __future__ import annotations

import socket
import ssl
import time
from collections.abc import Iterable, Iterator
from contextvars import ContextVar
from datetime import datetime
from typing import Any, NamedTuple
from urllib.parse import urlsplit

import requests
import urllib3.exceptions

from tradevc.vc.errors import InvalidDocument, ResolutionError
from tradevc.vc.jsontext import loads
from tradevc.vc.retrieval.mirror import Mirror, MirrorPathError, Origin
from tradevc.vc.retrieval.netguard import AddressRefused, AllowList, Deadline, GuardedAdapter, check_name
from tradevc.vc.retrieval.recording import note, note_failure

__all__ = [
    "HttpsFetcher", "Fetched", "RetrievalError", "DEFAULT_TIMEOUT", "DEFAULT_MAX_BYTES", "DID_MEDIA_TYPES", "AllowList",
    "WouldBlock", "without_blocking",
]

DEFAULT_TIMEOUT = 10.0
DEFAULT_MAX_BYTES = 1024 * 1024


class RetrievalError(ResolutionError):
    """A document could not be fetched (network, HTTP status, size, not JSON): the check that
    needed it could not be carried out, which is not the same as "invalid"."""

    code = "RETRIEVAL_ERROR"

    def __init__(self, message: str, *, code: str | None = None, status: int | None = None) -> None:
        super().__init__(message, code=code)
        self.status = status
        """The HTTP status code of the response that was refused, if that was the reason."""


class WouldBlock(BaseException):
    """Raised, inside :func:`without_blocking`, where a fetcher would have gone to the network.

    A ``BaseException``, like ``GeneratorExit``: it is not a failure of the document, so no
    check catches it and turns it into a result; it unwinds the whole verification to the
    caller, who runs it again where blocking is allowed (a thread). Nothing is cached on the
    way: the fetch never began."""

    def __init__(self, url: str) -> None:
        super().__init__(url)
        self.url = url


_NO_BLOCKING: ContextVar[bool] = ContextVar("tradevc_no_blocking", default=False)


class without_blocking:  # noqa: N801 - used as a function, ``with without_blocking():``
    """Within the block, a fetcher that would open a network connection (to a host or an
    https mirror) raises :class:`WouldBlock` instead; what is in memory (cached DID documents
    and status lists, pinned contexts, snapshot files) is used as usual.

    For a caller on an event loop (the service), which verifies at once what needs nothing
    fetched, and in a thread what does: a thread hop costs more than a signature check. (A
    class rather than a generator made a context manager: entered on every such request, it
    costs a fraction as much.)"""

    __slots__ = ("_token",)

    def __enter__(self) -> None:
        self._token = _NO_BLOCKING.set(True)

    def __exit__(self, *exc: object) -> None:
        _NO_BLOCKING.reset(self._token)


class Fetched(NamedTuple):
    """A body as it was fetched, not yet interpreted."""

    url: str
    body: bytes
    media_type: str | None
    """The ``Content-Type`` it was served with (``""`` if none); None when read from a snapshot file
    or a held copy."""
    fetched_at: datetime | None = None
    """When a copy held by the mirror (:class:`tradevc.vc.retrieval.mirror.Held`) was fetched
    from its own host, if it says; None for what was read just now."""


class HttpsFetcher:
    """GETs JSON documents over HTTPS through the given session; the hosts ``mirror`` maps
    are read from their mirror or snapshot instead. Without ``network`` only snapshot files
    are read: every other URL is a :class:`RetrievalError` (a border post with no network).

    ``timeout`` bounds each fetch as a whole. ``allow_hosts`` (``HOST`` or ``HOST:PORT``
    entries, or an :class:`AllowList`) are the hosts it may reach although they are not
    public (loopback, private networks...); every other host must be a public name
    resolving only to public addresses. A mirror's own hosts are allowed for what is read
    from it.

    :raises ValueError: an ``allow_hosts`` entry is not ``HOST`` or ``HOST:PORT``.
    """

    def __init__(
        self,
        session: requests.Session | None = None,
        *,
        timeout: float = DEFAULT_TIMEOUT,
        max_bytes: int = DEFAULT_MAX_BYTES,
        mirror: Mirror | None = None,
        network: bool = True,
        allow_hosts: Iterable[str] | AllowList = (),
    ) -> None:
        self.session = session or requests.Session()
        self.timeout = timeout
        self.max_bytes = max_bytes
        self.mirror = mirror
        self.network = network
        self.allow = allow_hosts if isinstance(allow_hosts, AllowList) else AllowList(allow_hosts)
        self._direct = GuardedAdapter(self.allow)
        mirrors = AllowList.of_urls(mirror.hosts.values()) if mirror is not None else AllowList()
        self._via_mirror = GuardedAdapter(self.allow.union(mirrors)) if mirrors else self._direct

    def origin(self, url: str) -> Origin | None:
        """The mirror or snapshot ``url`` is read from, or None if it is fetched from its own
        host (or cannot be fetched at all). Never raises."""
        if self.mirror is None or not isinstance(url, str):
            return None
        try:
            return self.mirror.origin(url)
        except ValueError:  # MirrorPathError, or a URL urlsplit refuses
            return None

    def get_json(
        self, url: str, *, what: str, media_types: Iterable[str] | None = None, kind: str = "other",
    ) -> Any:
        """The JSON document at ``url``. With ``media_types``, a document served over HTTPS
        with another ``Content-Type`` (parameters aside) is refused.

        :raises RetrievalError: not https, a host that is not public (and not allowed), a
            redirect, an HTTP error, a timeout, a body over ``max_bytes``, another media type,
            or not I-JSON (code ``PARSING_ERROR``); for a mirrored host, also a path that cannot be mapped
            to its mirror or snapshot, or a file missing from the snapshot. The message names
            ``what`` and the URL (and the mirror or snapshot it was read from).
        """
        body, media_type = self._recorded_get(url, what=what, accept=JSON_TYPES, kind=kind)
        if media_types is not None:
            _require_media_type(media_type, media_types, url, what)
        return _json(body, url, what)

    def fetch(self, url: str, *, what: str, accept: str, kind: str = "other") -> Fetched:
        """The body at ``url`` as bytes, with the ``Content-Type`` it was served with (None for
        a snapshot file). What the body is (JSON, a JWS...) is the caller's to decide. When a
        verification is recorded for evidence (:mod:`tradevc.vc.retrieval.recording`), the
        body is recorded as a ``kind`` (``did``, ``status-list``, ``vouch``, ``other``).

        :raises RetrievalError: as :meth:`get_json`, except that the body may be anything.
        """
        body, media_type = self._recorded_get(url, what=what, accept=accept, kind=kind, noted=False)
        held = self.mirror.held(url) if self.mirror is not None else None
        fetched_at = held.fetched_at if held is not None else None
        note(kind, url, body, media_type, fetched_at)  # a held copy: when it was fetched from its host
        return Fetched(url, body, media_type, fetched_at)

    def _recorded_get(
        self, url: str, *, what: str, accept: str, kind: str, noted: bool = True,
    ) -> tuple[bytes, str | None]:
        """:meth:`_get`, noting the failure for evidence, and the body unless ``noted`` is false
        (the caller notes it)."""
        try:
            body, media_type = self._get(url, what=what, accept=accept)
        except RetrievalError as e:
            note_failure(kind, url, e.message, e.code, e.status)
            raise
        if noted:
            note(kind, url, body, media_type)
        return body, media_type

    def _get(self, url: str, *, what: str, accept: str) -> tuple[bytes, str | None]:
        try:
            scheme = urlsplit(url).scheme
        except ValueError as e:  # "https://[mill.example/": not an IPv6 address
            raise RetrievalError(f"{what}: {url!r} is not a URL: {e}") from e
        if scheme != "https":
            raise RetrievalError(f"{what}: only https URLs are fetched, not {url!r}")
        if self.mirror is None:
            return self._get_https(url, url, what=what, accept=accept)
        try:
            origin = self.mirror.origin(url)
        except ValueError as e:  # MirrorPathError, or a URL urlsplit refuses
            raise RetrievalError(f"{what}: {e}") from e
        if origin is None:
            return self._get_https(url, url, what=what, accept=accept)
        if origin.kind == "mirror":
            return self._get_https(origin.location, f"{url} (from {origin})", what=what, accept=accept, mirrored=True)
        held = self.mirror.held(url)
        if origin.kind == "held" and held is not None:
            if len(held.body) > self.max_bytes:
                raise RetrievalError(f"{what}: {url} from {origin} is {len(held.body)} bytes, over the "
                                     f"{self.max_bytes}-byte limit")
            return held.body, None
        try:
            return self.mirror.read_snapshot(origin, self.max_bytes), None
        except MirrorPathError as e:
            raise RetrievalError(f"{what}: {url}: {e}") from e
        except OverflowError as e:
            raise RetrievalError(f"{what}: {url} from the snapshot: {e}") from e
        except FileNotFoundError as e:
            raise RetrievalError(f"{what}: {url} is not in the snapshot (no file {origin.location})") from e
        except OSError as e:
            raise RetrievalError(f"{what}: {url} cannot be read from the snapshot: {e.strerror or e}") from e

    def _get_https(
        self, url: str, shown: str, *, what: str, accept: str, mirrored: bool = False
    ) -> tuple[bytes, str | None]:
        """GET ``url``; messages name it as ``shown`` (the document's URL, and its mirror).
        ``mirrored``: ``url`` is on a mirror, whose hosts are allowed."""
        if not self.network:
            where = "a snapshot" if self.mirror is None or not self.mirror.held_urls else (
                f"a snapshot or {self.mirror.held_in}"
            )
            raise RetrievalError(f"{what}: {shown} is not in {where}, and this verifier is offline")
        if _NO_BLOCKING.get():
            raise WouldBlock(url)
        parts = urlsplit(url)
        if parts.scheme != "https":  # a mirror URL is checked when configured; twice is cheap
            raise RetrievalError(f"{what}: only https URLs are fetched, not {url!r}")
        adapter = self._via_mirror if mirrored else self._direct
        try:
            host, port = parts.hostname or "", parts.port or 443
            if not adapter.allow.allows(host, port):
                check_name(host)  # before any lookup; the connection checks the addresses
            request = requests.Request("GET", url, headers={
                **self.session.headers, "Accept": accept,
                # the body is read as sent: the size limit counts the bytes that arrive, and a
                # compressed stream can be endless while it decodes to nothing
                "Accept-Encoding": "identity",
            }).prepare()
        except AddressRefused as e:
            raise RetrievalError(f"{what}: {shown} was not fetched: {e}") from None
        except ValueError as e:  # a port out of range, a URL requests cannot prepare
            raise RetrievalError(f"{what}: {url!r} is not a URL that can be fetched: {e}") from None
        deadline = Deadline(self.timeout)
        try:
            with deadline.running(), adapter.send(
                request, stream=True, timeout=(deadline.left(), self.timeout),
                verify=self.session.verify,  # the session's trust roots, not REQUESTS_CA_BUNDLE's
                cert=self.session.cert, proxies={},
            ) as response:
                if 300 <= response.status_code < 400:
                    target = response.headers.get("Location", "?")
                    raise RetrievalError(
                        f"{what}: {shown} redirects to {target}; redirects are not followed", status=response.status_code
                    )
                if response.status_code != 200:
                    raise RetrievalError(f"{what}: {shown} answered HTTP {response.status_code}", status=response.status_code)
                encoding = response.headers.get("Content-Encoding", "identity").strip().lower()
                if encoding not in ("", "identity"):
                    raise RetrievalError(f"{what}: {shown} was sent with Content-Encoding {encoding!r}, not as asked")
                declared = response.headers.get("Content-Length")
                if declared is not None and declared.isascii() and declared.isdigit() and int(declared) > self.max_bytes:
                    raise RetrievalError(f"{what}: {shown} is {declared} bytes, over the {self.max_bytes}-byte limit")
                media_type = response.headers.get("Content-Type", "")  # "" when not sent; None is a snapshot's
                body = bytearray()
                for chunk in _chunks(response):
                    body.extend(chunk)
                    if len(body) > self.max_bytes:
                        raise RetrievalError(f"{what}: {shown} is over the {self.max_bytes}-byte limit")
                    if time.monotonic() > deadline.at:  # a body sent a byte at a time
                        raise requests.exceptions.Timeout()
        except AddressRefused as e:
            raise RetrievalError(f"{what}: {shown} was not fetched: {e}") from None
        except (requests.exceptions.Timeout, urllib3.exceptions.TimeoutError) as e:  # the body is read from urllib3
            raise RetrievalError(f"{what}: {shown} did not answer within {self.timeout} s") from e
        except (requests.exceptions.RequestException, urllib3.exceptions.HTTPError, OSError) as e:
            if deadline.expired:  # the deadline shut the connection down
                raise RetrievalError(f"{what}: {shown} did not answer within {self.timeout} s") from e
            raise RetrievalError(f"{what}: {network_failure(e, host, port, shown)}") from e
        return bytes(body), media_type


def _causes(error: BaseException) -> Iterator[BaseException]:
    """``error`` and what it wraps: its cause and context, urllib3's ``reason`` and the
    exception requests holds as its first argument, each once."""
    seen: set[int] = set()
    todo = [error]
    while todo:
        current = todo.pop(0)
        if id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        wrapped = [current.__cause__, current.__context__, getattr(current, "reason", None),
                   *(current.args[:1] if current.args else ())]
        todo.extend(e for e in wrapped if isinstance(e, BaseException))


_UNTRUSTED = {2, 18, 19, 20, 21, 27}  # X509_V_ERR_: no issuer, self-signed, not trusted as a root
_HOSTNAME_MISMATCH = {62, 64}  # X509_V_ERR_HOSTNAME_MISMATCH, X509_V_ERR_IP_ADDRESS_MISMATCH
HOW_TO_TRUST = ("if it is signed by a private CA, give that CA's certificate (--ca-bundle FILE; in Python, the "
                "session's verify)")


def network_failure(error: BaseException, host: str, port: int, shown: str) -> str:
    """What went wrong fetching ``shown`` from ``host``:``port`` (``error``, as requests or
    urllib3 raise it), in words, with what to try: a name that does not resolve, a connection
    refused, a TLS certificate not trusted or for another name... Never the exception's type."""
    causes = list(_causes(error))
    for cause in causes:
        if isinstance(cause, ssl.SSLCertVerificationError):
            code = getattr(cause, "verify_code", None)
            if code in _UNTRUSTED:
                why = f"the certificate of {host} is not trusted; {HOW_TO_TRUST}"
            elif code in _HOSTNAME_MISMATCH:
                why = f"the certificate {host} presented is for another name; check the DID or URL"
            elif code == 10:  # X509_V_ERR_CERT_HAS_EXPIRED
                why = f"the certificate of {host} has expired (or this computer's clock is wrong)"
            elif code == 9:  # X509_V_ERR_CERT_NOT_YET_VALID
                why = f"the certificate of {host} is not valid yet (or this computer's clock is wrong)"
            else:
                why = f"the certificate of {host} was refused: {getattr(cause, 'verify_message', None) or 'no reason given'}"
            return f"TLS certificate check failed for {shown}: {why}"
    for cause in causes:
        if isinstance(cause, (urllib3.exceptions.NameResolutionError, socket.gaierror)):
            return f"cannot fetch {shown}: cannot resolve {host}; check the DID or URL, or your DNS"
    for cause in causes:
        if isinstance(cause, ConnectionRefusedError):
            return f"cannot fetch {shown}: {host}:{port} refused the connection; is the site up?"
        if isinstance(cause, ssl.SSLError):
            reason = str(getattr(cause, "reason", None) or "no reason given").lower().replace("_", " ")
            return f"cannot fetch {shown}: the TLS handshake with {host}:{port} failed ({reason})"
        if isinstance(cause, (urllib3.exceptions.ProtocolError, requests.exceptions.ChunkedEncodingError)):
            return f"cannot fetch {shown}: the connection to {host}:{port} broke off before the whole answer came"
    for cause in causes:
        if isinstance(cause, OSError) and cause.strerror:
            return f"cannot fetch {shown}: cannot connect to {host}:{port}: {cause.strerror}"
    return f"cannot fetch {shown}: the connection to {host}:{port} failed"


def _chunks(response: requests.Response) -> Any:
    """The body as it arrives (each piece returned as soon as some bytes are there, so the
    deadline is checked between them), not decoded."""
    read1 = getattr(response.raw, "read1", None)  # urllib3 2
    if not callable(read1):
        yield from response.raw.stream(65536, decode_content=False)
        return
    while chunk := read1(65536, decode_content=False):
        yield chunk


JSON_TYPES = "application/json, application/did+json, application/ld+json"
"""What a JSON fetch accepts (DID documents, credentials)."""

DID_MEDIA_TYPES = ("application/did+json", "application/did+ld+json", "application/json", "application/ld+json")
"""The media types a DID document is taken in (DID Core's, and plain JSON and JSON-LD)."""


def _require_media_type(media_type: str | None, allowed: Iterable[str], url: str, what: str) -> None:
    """Refuse a body served over HTTPS with a media type not in ``allowed`` (None: a snapshot
    file, which has none)."""
    if media_type is None:
        return
    essence = media_type.split(";", 1)[0].strip().lower()
    if essence not in allowed:
        served = f"as {media_type[:100]!r}" if media_type else "with no Content-Type"
        raise RetrievalError(f"{what}: {url} was served {served}, not as one of {', '.join(allowed)}")


def _json(body: bytes, url: str, what: str) -> Any:
    try:
        return loads(body)  # I-JSON: a member twice, NaN, a lone surrogate... are refused
    except InvalidDocument as e:
        raise RetrievalError(f"{what}: {url} did not return JSON (I-JSON): {e.message}", code=e.code) from e
