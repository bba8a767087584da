"""Which hosts the fetcher may connect to, and connecting only to the address it checked.

A did:web DID or a ``statusListCredential`` URL names a host chosen by whoever wrote the
credential. Without a rule, a verifier would fetch from its own network for them: its
loopback, the private networks around it, the cloud metadata service at 169.254.169.254.
So every connection is made like this:

1. The host *name* is judged first, with no lookup: ``localhost`` (and ``*.localhost``,
   ``*.local``, ``*.internal``, ``*.localdomain``, ``*.home.arpa``), a single label, a name
   whose last label is not alphabetic (``0x7f000001``, ``127.1``, ``2130706433``: other
   spellings of addresses) are refused. An IP address written as the host is judged as
   the address it is.
2. The name is resolved once (:func:`socket.getaddrinfo`, within the fetch's deadline), and
   every address it resolves to must be public. Refused: "this network" 0.0.0.0/8,
   loopback, RFC 1918, link-local 169.254.0.0/16 (cloud metadata), CGNAT 100.64.0.0/10,
   benchmarking 198.18.0.0/15, the IETF, documentation and reserved ranges, multicast,
   broadcast; for IPv6 the unspecified and loopback addresses, IPv4-mapped, -compatible
   and translated (NAT64, 6to4) forms, ULA fc00::/7, link-local and site-local, multicast,
   discard and documentation ranges. A host that resolves to a mix of public and refused
   addresses is refused as a whole.
3. The socket connects to one of the addresses that were checked: there is no second
   lookup, so a DNS answer that changes in between (rebinding) cannot switch it. TLS keeps
   the host *name* for SNI and for the certificate check.

The only way around it is an explicit :class:`AllowList` of ``HOST`` or ``HOST:PORT``
entries (a test server, a demo, a mirror inside the operator's network): an allowed host is
still resolved once and connected to at the address found, but its addresses are not judged.

No proxy is used, from the environment or from the session: through a proxy the name is
resolved by the proxy, where it cannot be checked.
"""

from __future__ import annotations

import ipaddress
import re
import socket
import sys
import threading
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, ClassVar

import requests.adapters
from urllib3.connection import HTTPSConnection
from urllib3.connectionpool import HTTPSConnectionPool
from urllib3.exceptions import ConnectTimeoutError, NameResolutionError, NewConnectionError

__all__ = ["AllowList", "AddressRefused", "Deadline", "GuardedAdapter", "check_name", "refusal"]

HOW_TO_ALLOW = "to fetch from it anyway, allow it explicitly (allow_hosts=[...], or --allow-host HOST[:PORT])"


class AddressRefused(Exception):
    """A host the fetcher will not connect to: a name or an address that is not public.
    (Not an :class:`OSError`, so that no layer of ``requests`` or ``urllib3`` turns it into
    a retry or a generic connection error.)"""


# -- addresses -----------------------------------------------------------------------------------

_N = ipaddress.ip_network
_REFUSED: list[tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, str]] = [
    (_N("0.0.0.0/8"), "'this network' (0.0.0.0/8)"),
    (_N("10.0.0.0/8"), "private (RFC 1918)"),
    (_N("100.64.0.0/10"), "carrier-grade NAT (100.64.0.0/10)"),
    (_N("127.0.0.0/8"), "loopback"),
    (_N("169.254.0.0/16"), "link-local (169.254.0.0/16, cloud metadata)"),
    (_N("172.16.0.0/12"), "private (RFC 1918)"),
    (_N("192.0.0.0/24"), "IETF protocol assignments (192.0.0.0/24)"),
    (_N("192.0.2.0/24"), "documentation (192.0.2.0/24)"),
    (_N("192.88.99.0/24"), "6to4 relay (192.88.99.0/24)"),
    (_N("192.168.0.0/16"), "private (RFC 1918)"),
    (_N("198.18.0.0/15"), "benchmarking (198.18.0.0/15)"),
    (_N("198.51.100.0/24"), "documentation (198.51.100.0/24)"),
    (_N("203.0.113.0/24"), "documentation (203.0.113.0/24)"),
    (_N("224.0.0.0/4"), "multicast"),
    (_N("240.0.0.0/4"), "reserved (240.0.0.0/4, broadcast)"),
    (_N("::/128"), "unspecified (::)"),
    (_N("::1/128"), "IPv6 loopback"),
    (_N("::ffff:0:0/96"), "IPv4-mapped IPv6"),
    (_N("::ffff:0:0:0/96"), "IPv4-translated IPv6 (SIIT)"),
    (_N("::/96"), "IPv4-compatible IPv6"),
    (_N("64:ff9b::/96"), "IPv4-translated IPv6 (NAT64)"),
    (_N("64:ff9b:1::/48"), "IPv4-translated IPv6 (local NAT64)"),
    (_N("100::/64"), "IPv6 discard"),
    (_N("2001::/23"), "IETF protocol assignments (2001::/23, Teredo)"),
    (_N("2001:db8::/32"), "documentation (2001:db8::/32)"),
    (_N("2002::/16"), "6to4 IPv6 (2002::/16)"),
    (_N("fc00::/7"), "IPv6 unique local (fc00::/7)"),
    (_N("fe80::/10"), "IPv6 link-local"),
    (_N("fec0::/10"), "IPv6 site-local"),
    (_N("ff00::/8"), "IPv6 multicast"),
]


def refusal(address: str) -> str | None:
    """Why ``address`` (an IPv4 or IPv6 address, a zone ``%eth0`` allowed) is not a public
    address to connect to, or None if it is one."""
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return "not an IP address"
    for network, reason in _REFUSED:
        if ip.version == network.version and ip in network:
            return reason
    if not ip.is_global:  # whatever else the standard library knows to be special
        return "not a global address"
    return None


# -- names ---------------------------------------------------------------------------------------

_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")
_TOP_LABEL = re.compile(r"^(?:[a-z]{2,63}|xn--[a-z0-9-]{1,59})$")
_LOCAL_SUFFIXES = ("localhost", "local", "internal", "localdomain", "home.arpa", "invalid")


def _normal(host: str) -> str:
    host = host.strip().lower()
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    return host[:-1] if host.endswith(".") and not host.endswith("..") else host


def check_name(host: str) -> None:
    """Refuse a host that is not a public DNS name or a public IP address, before any lookup.

    :raises AddressRefused: the message says why and how to allow it.
    """
    name = _normal(host)
    try:
        ipaddress.ip_address(name.split("%", 1)[0])
    except ValueError:
        pass
    else:
        why = refusal(name)
        if why is not None:
            raise AddressRefused(f"{host} is not a public address ({why}); {HOW_TO_ALLOW}")
        return
    if any(name == suffix or name.endswith("." + suffix) for suffix in _LOCAL_SUFFIXES):
        raise AddressRefused(f"{host} is a local name, not a public one; {HOW_TO_ALLOW}")
    labels = name.split(".")
    if (
        len(name) > 253 or not name.isascii() or len(labels) < 2
        or not all(_LABEL.match(label) for label in labels) or not _TOP_LABEL.match(labels[-1])
    ):
        raise AddressRefused(
            f"{host!r} is not a public host name (a domain name whose last label is alphabetic); {HOW_TO_ALLOW}"
        )


# -- the allow-list ------------------------------------------------------------------------------

_ENTRY = re.compile(r"^(?P<host>\[[0-9a-fA-F:.]+\]|[^:\[\]/\s@]+)(?::(?P<port>[0-9]{1,5}))?$")


class AllowList:
    """Hosts the fetcher connects to although they are not public: ``HOST`` (any port) or
    ``HOST:PORT``, where HOST is a name (``localhost``, ``mirror.corp``) or an IP address
    (``127.0.0.1``, ``[::1]``). A name matches the URL's host as written (case and a final
    dot aside), not the addresses other names resolve to.

    :raises ValueError: an entry is not ``HOST`` or ``HOST:PORT``.
    """

    def __init__(self, entries: Iterable[str] = ()) -> None:
        if isinstance(entries, str):
            raise ValueError("give the allowed hosts as a list of HOST or HOST:PORT, not one string")
        parsed: set[tuple[str, int | None]] = set()
        for entry in entries:
            match = _ENTRY.match(entry.strip()) if isinstance(entry, str) else None
            port = int(match["port"]) if match and match["port"] else None
            if match is None or (port is not None and not 0 < port < 65536):
                raise ValueError(f"an allowed host is HOST or HOST:PORT, not {entry!r}")
            parsed.add((_normal(match["host"]), port))
        self._entries = frozenset(parsed)

    def __bool__(self) -> bool:
        return bool(self._entries)

    def __iter__(self) -> Iterator[str]:
        """The entries, as ``HOST`` or ``HOST:PORT`` (so ``AllowList(allow_list)`` is a copy)."""
        for host, port in sorted(self._entries, key=str):
            yield (f"[{host}]" if ":" in host else host) + (f":{port}" if port else "")

    def __repr__(self) -> str:
        return f"AllowList({list(self)!r})"

    def allows(self, host: str, port: int) -> bool:
        """True if ``host`` (as in the URL) on ``port`` is on the list."""
        name = _normal(host)
        return (name, None) in self._entries or (name, port) in self._entries

    def union(self, other: "AllowList") -> "AllowList":
        """The entries of both lists."""
        merged = AllowList()
        merged._entries = self._entries | other._entries
        return merged

    @classmethod
    def of_urls(cls, urls: Iterable[str]) -> "AllowList":
        """The hosts (with their ports) of https ``urls``: a mirror's base URLs."""
        from urllib.parse import urlsplit

        merged = cls()
        entries = set()
        for url in urls:
            parts = urlsplit(url)
            if parts.hostname:
                entries.add((_normal(parts.hostname), parts.port or 443))
        merged._entries = frozenset(entries)
        return merged


# -- the deadline of one fetch -------------------------------------------------------------------


class Deadline:
    """The time limit of one whole fetch: name lookup, connection, TLS, headers and body.

    Connecting and the TLS handshake get the time left as their timeout; the lookup is
    waited for no longer than that; while the response is read, a timer shuts the socket
    down when the time is up, so a server that sends one byte at a time cannot hold the
    fetch past it (a timeout per read would not see it)."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.at = time.monotonic() + seconds
        self.expired = False
        self._lock = threading.Lock()
        self._sockets: list[socket.socket] = []
        self._timer: threading.Timer | None = None

    def left(self) -> float:
        """Seconds left (at least a millisecond, so that a timeout of 0 never means "block")."""
        return max(self.at - time.monotonic(), 0.001)

    def watch(self, sock: Any) -> None:
        """Shut ``sock`` down when the time is up (at once if it already is)."""
        with self._lock:
            if self.expired:
                _shutdown(sock)
            else:
                self._sockets.append(sock)

    def _expire(self) -> None:
        with self._lock:
            self.expired = True
            for sock in self._sockets:
                _shutdown(sock)
            self._sockets.clear()

    @contextmanager
    def running(self) -> Iterator["Deadline"]:
        """Be the deadline of the connections made and used in this block."""
        token = _current.set(self)
        self._timer = threading.Timer(self.left(), self._expire)
        self._timer.daemon = True
        self._timer.start()
        try:
            yield self
        finally:
            self._timer.cancel()
            with self._lock:
                self._sockets.clear()
            _current.reset(token)


_current: ContextVar[Deadline | None] = ContextVar("tradevc_fetch_deadline", default=None)


def _shutdown(sock: Any) -> None:
    try:
        socket.socket.shutdown(sock, socket.SHUT_RDWR)  # the plain socket's: the reader sees EOF
    except (OSError, TypeError, ValueError):
        pass


def _lookup(host: str, port: int, deadline: Deadline | None) -> list[Any]:
    """getaddrinfo, waited for no longer than the deadline allows."""
    if deadline is None:
        return socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    answer: list[Any] = []

    def run() -> None:
        try:
            answer.append(socket.getaddrinfo(host, port, type=socket.SOCK_STREAM))
        except BaseException as e:  # handed to the waiting thread
            answer.append(e)

    worker = threading.Thread(target=run, daemon=True, name="tradevc-lookup")
    worker.start()
    worker.join(deadline.left())
    if not answer:
        raise socket.timeout(f"looking up {host} took longer than {deadline.seconds} s")
    if isinstance(answer[0], BaseException):
        raise answer[0]
    return list(answer[0])


def resolve_checked(host: str, port: int, allow: AllowList, deadline: Deadline | None = None) -> list[Any]:
    """The ``getaddrinfo`` entries of ``host``, each one checked unless the host is allowed.

    :raises AddressRefused: the name, or any address it resolves to, is not public.
    :raises OSError: the lookup failed (:class:`socket.gaierror`) or took too long.
    """
    allowed = allow.allows(host, port)
    if not allowed:
        check_name(host)
    entries = _lookup(_normal(host), port, deadline)
    if not entries:
        raise socket.gaierror(f"{host} resolves to no address")
    if not allowed:
        refused = [(entry[4][0], why) for entry in entries if (why := refusal(str(entry[4][0]))) is not None]
        if refused:
            address, why = refused[0]
            mixed = " (among public ones)" if len(refused) < len(entries) else ""
            raise AddressRefused(f"{host} resolves to {address}{mixed}, not a public address ({why}); {HOW_TO_ALLOW}")
    return entries


# -- connecting ----------------------------------------------------------------------------------


class _GuardedHTTPSConnection(HTTPSConnection):
    """An HTTPS connection that resolves its host once, checks every address and connects to
    one of them; TLS still uses the host name (SNI, certificate check)."""

    allow: ClassVar[AllowList] = AllowList()

    def _new_conn(self) -> socket.socket:
        deadline = _current.get()
        host, port = getattr(self, "_dns_host", self.host), int(self.port or 443)
        timeout = self.timeout if isinstance(self.timeout, (int, float)) else None
        if deadline is not None:
            timeout = min(timeout, deadline.left()) if timeout is not None else deadline.left()
        try:
            entries = resolve_checked(host, port, self.allow, deadline)
        except socket.gaierror as e:
            raise NameResolutionError(self.host, self, e) from e
        except socket.timeout as e:
            raise ConnectTimeoutError(self, f"looking up {self.host} timed out") from e
        error: OSError | None = None
        for family, socktype, proto, _name, address in entries:
            if deadline is not None:
                # the lookup and any earlier address used part of the fetch's time: each
                # connection attempt (and the TLS handshake after it) gets only what is left
                if deadline.expired or deadline.at <= time.monotonic():
                    raise ConnectTimeoutError(self, f"connecting to {self.host} took longer than the fetch may")
                timeout = min(timeout, deadline.left()) if timeout is not None else deadline.left()
            sock = socket.socket(family, socktype, proto)
            if deadline is not None:
                deadline.watch(sock)  # shut down when the whole fetch's time is up, mid-connect too
            try:
                for option in self.socket_options or ():
                    sock.setsockopt(*option)
                sock.settimeout(timeout)  # also bounds the TLS handshake, as a whole
                sock.connect(address)
            except socket.timeout as e:
                sock.close()
                raise ConnectTimeoutError(self, f"connection to {self.host} timed out") from e
            except OSError as e:
                sock.close()
                error = e
                continue
            sys.audit("http.client.connect", self, self.host, self.port)
            return sock
        raise NewConnectionError(self, f"Failed to establish a new connection: {error}") from error  # http.py names the cause

    def putrequest(self, *args: Any, **kwargs: Any) -> None:
        # each request, on a new or a kept-alive connection, is under the current fetch's deadline
        deadline = _current.get()
        if deadline is not None and self.sock is not None:
            deadline.watch(self.sock)
        super().putrequest(*args, **kwargs)


class GuardedAdapter(requests.adapters.HTTPAdapter):
    """A ``requests`` transport for https URLs whose connections follow the module's rules,
    with ``allow`` as the allow-list. Used directly, not mounted: no proxy, no retries."""

    __attrs__ = [*requests.adapters.HTTPAdapter.__attrs__, "allow"]

    def __init__(self, allow: AllowList) -> None:
        self.allow = allow
        super().__init__(max_retries=0)

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        connection = type("GuardedHTTPSConnection", (_GuardedHTTPSConnection,), {"allow": self.allow})
        pool = type("GuardedHTTPSConnectionPool", (HTTPSConnectionPool,), {"ConnectionCls": connection})
        self.poolmanager.pool_classes_by_scheme = {"https": pool}


def is_loopback_host(host: str) -> bool:
    """Whether ``host`` (``localhost``, an IPv4 or IPv6 address, with or without brackets)
    names this machine's loopback: where a server may listen without being reachable from
    elsewhere. A name other than ``localhost`` is not (it is not resolved)."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False
