"""``vc-issuer serve-site``: the folder ``vc-issuer publish --out-dir`` writes, served over
HTTPS on this machine, for trying did:web and status lists before they go on a real website.

It makes a throwaway certificate authority when it starts (its key never leaves memory) and a
server certificate from it for ``localhost``, ``127.0.0.1``, ``::1`` and the host of each
did:web DID it finds in the folder; the CA is constrained (X.509 name constraints) to those
names, and written to a file to hand to ``vc-verify --ca-bundle``. What it serves is what a
real website should serve (see PUBLISHING.md):

- files only, by their path: no directory listings, no redirects, no index pages;
- ``did.json`` as ``application/did+json`` (DID Core's JSON representation), a credential in
  JSON (a status list credential) as ``application/vc`` (VC Data Model 2.0), a compact JWS as
  ``application/vc+jwt`` (VC-JOSE-COSE), other JSON as ``application/json``, anything else as
  ``application/octet-stream``;
- ``Access-Control-Allow-Origin: *`` (browser-based verifiers), ``Cache-Control: no-cache``
  (a republished list is seen at once), ``X-Content-Type-Options: nosniff``;
- GET and HEAD only (anything else: 405);
- ``<list>?timestamp=<dateTimeStamp>`` (Bitstring Status List v1.0's query for a list as of a
  past moment), for a file that has a history beside it (``<list>.history/index.json``, as
  ``vc-issuer publish`` writes): the version in effect at that moment, or 404 if none was
  (400 for a timestamp that is not a dateTimeStamp). A file without history ignores the
  query, as a static web host does; verifiers then see a list that does not cover the
  moment and read it as the current one.

Nothing outside the folder is ever read: a path segment ``.`` or ``..`` (also percent-encoded),
an encoded ``/`` or ``\\``, a NUL or an empty segment is refused (400 or 404), as is a hidden
file (a name starting with ``.``, except ``.well-known``: the atomic writer's temporary files
among them), and a symbolic link whose target is outside the folder (404). It listens on
loopback only unless told otherwise (``public=True``).
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import json
import os
import re
import signal
import socket
import socketserver
import ssl
import sys
import tempfile
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Callable, Iterator
from urllib.parse import parse_qs, unquote, urlsplit

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from tradevc.vc.atomicfile import write_atomic
from tradevc.vc.errors import InvalidDocument, ResolutionError
from tradevc.vc.jsontext import escape_hidden
from tradevc.vc.model import parse_datetime
from tradevc.vc.status import parse_history_index, version_covering
from tradevc.vc.retrieval.did.web import document_path, document_url
from tradevc.vc.retrieval.netguard import is_loopback_host

from .errors import IssuerError

__all__ = [
    "SiteError", "SiteUnavailable", "SiteDid", "SiteServer", "start_site", "media_type_of", "locate", "sigterm_stops",
    "DEFAULT_PORT", "NotServed", "version_as_of",
]

DEFAULT_PORT = 8443
CERTIFICATE_DAYS = 7
"""How long the throwaway CA and certificate are valid: a new pair is made at every start."""
MAX_DIDS = 64
"""At most this many did.json files are looked at when the server starts."""
_COMPACT_JWS = re.compile(rb"^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*\s*$")


class SiteError(IssuerError):
    """The site cannot be served as asked (no folder, a non-loopback address without
    ``public``, a port that cannot be listened on)."""

    code = "SITE_ERROR"


class SiteUnavailable(SiteError):
    """The address cannot be listened on (a port in use, a port below 1024 without the right)."""


class NotServed(Exception):
    """A request path that is not served: ``status`` 400 (malformed) or 404."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


@dataclass(frozen=True)
class SiteDid:
    """A did:web DID whose document the folder holds, and what to tell the person trying it."""

    did: str
    file: str
    """Its path below the folder, e.g. ``.well-known/did.json``."""
    url: str
    """Where verifiers fetch it (:func:`document_url`)."""
    host: str
    """The DID's host, with ``:port`` if it names one (as a mirror maps it)."""
    notes: tuple[str, ...] = ()
    """Warnings: a file at another path than the DID's, a port other than the one served."""


def media_type_of(relative: str, data: bytes) -> str:
    """The ``Content-Type`` a file at ``relative`` (below the site) with bytes ``data`` is served
    with: ``application/did+json`` for a ``did.json``, ``application/vc`` for a JSON credential,
    ``application/vc+jwt`` for a compact JWS, ``application/json`` for other JSON and
    ``application/octet-stream`` for anything else."""
    if relative.rsplit("/", 1)[-1] == "did.json":
        return "application/did+json"
    text = data.lstrip()
    if text[:1] == b"{":
        try:
            document = json.loads(data.decode("utf-8-sig"))
        except (UnicodeDecodeError, ValueError):
            return "application/octet-stream"
        types = document.get("type") if isinstance(document, dict) else None
        if "VerifiableCredential" in (types if isinstance(types, list) else [types]):
            return "application/vc"
        return "application/json"
    if _COMPACT_JWS.match(text):
        return "application/vc+jwt"
    return "application/octet-stream"


def locate(root: Path, target: str) -> Path:
    """The file that the request target ``target`` (``/path?query``) names below ``root``
    (an absolute, resolved folder).

    :raises NotServed: 400 for a target that is not a path, a segment ``.`` or ``..`` (also
        percent-encoded), an encoded ``/`` or ``\\``, a NUL or bad percent-encoding; 404 for an
        empty segment (the root, a trailing or doubled ``/``), a hidden name other than
        ``.well-known``, a file that is not there, a folder, or anything whose real path
        (symbolic links followed) is outside ``root``.
    """
    path = target.split("?", 1)[0].split("#", 1)[0]
    if not path.startswith("/"):
        raise NotServed(400, "the request target must be a path")
    names = []
    for raw in path[1:].split("/"):
        try:
            name = unquote(raw, errors="strict")
        except UnicodeDecodeError:
            raise NotServed(400, "bad percent-encoding") from None
        if name in (".", "..") or any(c in name for c in "/\\\x00"):
            raise NotServed(400, "path segments '.' and '..', encoded '/' or '\\' and NUL are refused")
        if not name:
            raise NotServed(404, "no file here (folders are not listed)")
        if name.startswith(".") and name != ".well-known":
            raise NotServed(404, "hidden files are not served")
        names.append(name)
    try:
        real = root.joinpath(*names).resolve(strict=True)
    except (OSError, RuntimeError):
        raise NotServed(404, "no such file") from None
    if not real.is_relative_to(root) or not real.is_file():
        raise NotServed(404, "no such file")
    return real


def version_as_of(path: str, query: str, read: Callable[[str], bytes | None]) -> str | None:
    """For a request for the file at ``path`` with the query string ``query``: the path of the
    version of that file in effect at the query's ``timestamp`` (Bitstring Status List v1.0),
    read from its history (``<path>.history/index.json``, as ``publish`` writes it); None when
    the query names no timestamp, or the file has no history (the query is then ignored, as a
    static web host does). ``read(relative)`` gives the bytes of the file at ``relative``
    (written as ``path`` is), or None if there is none. Shared by ``serve-site`` and
    ``tradevc-serve``.

    :raises NotServed: 400 for a timestamp that is not one dateTimeStamp; 404 when the
        history has no version for it, or cannot be read."""
    values = parse_qs(query, keep_blank_values=True).get("timestamp")
    if values is None:
        return None
    index = read(f"{path}.history/index.json")
    if index is None:
        return None
    if len(values) != 1:
        raise NotServed(400, "give one timestamp")
    try:
        moment = parse_datetime(values[0], field="timestamp")
    except ValueError as e:
        raise NotServed(400, str(e)) from None
    try:
        document = json.loads(index)
        named = document.get("statusListCredential") if isinstance(document, dict) else None
        versions = parse_history_index(document, named if isinstance(named, str) else "")
    except (ValueError, InvalidDocument):
        raise NotServed(404, "the history of this list cannot be read") from None
    version = version_covering(versions, moment)
    if version is None:
        raise NotServed(404, f"no version of this list was in effect at {values[0][:40]}")
    return f"{path}.history/{version.version}"


def find_dids(root: Path, port: int) -> list[SiteDid]:
    """The did:web DIDs of the ``did.json`` files under ``root`` (hidden folders other than
    ``.well-known`` skipped), with notes on what does not fit: a document at another path than
    its DID's, or a localhost DID on another port than ``port``."""
    found: list[SiteDid] = []
    for file in sorted(root.rglob("did.json")):
        relative = file.relative_to(root).as_posix()
        parts = relative.split("/")
        if any(p.startswith(".") and p != ".well-known" for p in parts) or not file.is_file():
            continue
        if len(found) >= MAX_DIDS:
            break
        try:
            did = json.loads(file.read_text(encoding="utf-8")).get("id")
        except (OSError, ValueError, AttributeError):
            continue
        if not isinstance(did, str) or not did.startswith("did:web:"):
            continue
        try:
            url, expected = document_url(did), document_path(did)
        except ResolutionError:
            continue
        host = unquote(did[len("did:web:"):].split(":")[0])
        notes = []
        if expected != relative:
            notes.append(f"its DID says it is at {expected}, not {relative}: verifiers will not find it")
        name, _, named_port = host.partition(":")
        if name == "localhost" and int(named_port or 443) != port:
            notes.append(f"the DID names port {named_port or 443}, not {port}: verifiers look there; serve with "
                         f"--port {named_port or 443}, or read it from here through the --mirror below")
        found.append(SiteDid(did, relative, url, host, tuple(notes)))
    return found


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name[:64])])


def _ip_or_none(host: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return None


def make_certificates(names: list[str], addresses: list[str]) -> tuple[bytes, bytes, bytes]:
    """A throwaway CA (PEM) constrained to ``names`` (DNS) and ``addresses`` (IP), and a server
    certificate and key (PEM) for them, valid for :data:`CERTIFICATE_DAYS`."""
    now = dt.datetime.now(dt.timezone.utc)
    ips = [ipaddress.ip_address(a) for a in addresses]
    ca_key = ec.generate_private_key(ec.SECP256R1())
    subject = _name("vc-issuer serve-site throwaway CA")
    ca = (
        x509.CertificateBuilder()
        .subject_name(subject).issuer_name(subject)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=CERTIFICATE_DAYS))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True)
        .add_extension(x509.NameConstraints(
            permitted_subtrees=[*(x509.DNSName(n) for n in names),
                                *(x509.IPAddress(ipaddress.ip_network(ip)) for ip in ips)],
            excluded_subtrees=None,
        ), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    certificate = (
        x509.CertificateBuilder()
        .subject_name(_name(names[0])).issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=CERTIFICATE_DAYS))
        .add_extension(x509.SubjectAlternativeName([*(x509.DNSName(n) for n in names),
                                                    *(x509.IPAddress(ip) for ip in ips)]), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    return (
        ca.public_bytes(serialization.Encoding.PEM),
        certificate.public_bytes(serialization.Encoding.PEM),
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()),
    )


class _Handler(BaseHTTPRequestHandler):
    server_version = "vc-issuer-serve-site"
    sys_version = ""
    timeout = 10  # a client that stalls is dropped
    server: "_TlsServer"

    def _headers(self, status: int, content_type: str, length: int, extra: dict[str, str] | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(length))
        self.send_header("Access-Control-Allow-Origin", "*")
        self.send_header("Cache-Control", "no-cache")
        self.send_header("X-Content-Type-Options", "nosniff")
        for name, value in (extra or {}).items():
            self.send_header(name, value)
        self.end_headers()

    def _answer(self, head: bool) -> None:
        try:
            file = locate(self.server.root, self.path)
            file = self._as_of(file)
            data = file.read_bytes()
        except NotServed as e:
            self._error(e.status, e.reason, head)
            return
        except OSError:
            self._error(404, "no such file", head)
            return
        relative = file.relative_to(self.server.root).as_posix()
        self._headers(200, media_type_of(relative, data), len(data))
        if not head:
            self.wfile.write(data)

    def _as_of(self, file: Path) -> Path:
        """The version of ``file`` in effect at the request's ``?timestamp=`` (see
        :func:`version_as_of`), else ``file``."""
        split = urlsplit(self.path)

        def read(relative: str) -> bytes | None:
            try:
                found = locate(self.server.root, relative)
            except NotServed:
                return None
            try:
                return found.read_bytes()
            except OSError:
                raise NotServed(404, "the history of this list cannot be read") from None

        version = version_as_of(split.path, split.query, read)
        return file if version is None else locate(self.server.root, version)

    def _error(self, status: int, reason: str, head: bool = False, extra: dict[str, str] | None = None) -> None:
        body = f"{status}: {reason}\n".encode("utf-8")
        self._headers(status, "text/plain; charset=utf-8", len(body), extra)
        if not head:
            self.wfile.write(body)

    def do_GET(self) -> None:  # noqa: N802 - the http.server naming
        self._answer(head=False)

    def do_HEAD(self) -> None:  # noqa: N802
        self._answer(head=True)

    def _not_allowed(self) -> None:
        self._error(405, f"{self.command} is not allowed: this site answers GET and HEAD only", extra={"Allow": "GET, HEAD"})

    do_POST = do_PUT = do_DELETE = do_PATCH = do_OPTIONS = do_TRACE = do_CONNECT = _not_allowed

    def log_message(self, format: str, *args: Any) -> None:
        sys.stderr.write(escape_hidden(f"{self.address_string()} {format % args}", keep_newlines=False) + "\n")


class _TlsServer(ThreadingHTTPServer):
    """Each connection's TLS handshake runs in its own thread, so a slow client holds no one up."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], root: Path, context: ssl.SSLContext) -> None:
        self.root = root
        self.context = context
        if ":" in address[0]:
            self.address_family = socket.AF_INET6
        super().__init__(address, _Handler)

    def server_bind(self) -> None:
        socketserver.TCPServer.server_bind(self)  # not HTTPServer's: no reverse DNS lookup of the address
        self.server_name, self.server_port = str(self.server_address[0]), int(self.server_address[1])

    def finish_request(self, request: Any, client_address: Any) -> None:
        request.settimeout(_Handler.timeout)
        try:
            tls = self.context.wrap_socket(request, server_side=True)
        except (OSError, ssl.SSLError):  # a plain-HTTP client, a handshake that failed or stalled
            return
        try:
            _Handler(tls, client_address, self)
        finally:
            tls.close()


@dataclass
class SiteServer:
    """A site being served; :meth:`serve` runs it until Ctrl-C or SIGTERM."""

    root: Path
    bind: str
    port: int
    ca_path: Path
    dids: list[SiteDid] = field(default_factory=list)
    _server: _TlsServer | None = None

    @property
    def base_url(self) -> str:
        return f"https://localhost:{self.port}/"

    def verify_options(self) -> list[str]:
        """The options that let ``vc-verify`` (and ``vc-wallet add``/``check``) read this site:
        the CA; ``--allow-host localhost:PORT`` for a DID of this very host and port, and for
        every other DID host (another port of localhost, a real domain) a ``--mirror`` that
        reads it from here."""
        options = ["--ca-bundle", str(self.ca_path)]
        here = f"localhost:{self.port}" if self.port != 443 else "localhost"
        hosts = sorted({d.host for d in self.dids})
        if not hosts or here in hosts:
            options += ["--allow-host", f"localhost:{self.port}"]
        for host in hosts:
            if host != here:
                options += ["--mirror", f"{host}={self.base_url}"]
        return options

    def serve(self) -> None:
        """Answer requests until Ctrl-C (a KeyboardInterrupt; see :func:`sigterm_stops` for
        SIGTERM); then close the socket and return."""
        server = self._server
        if server is None:
            raise SiteError("the server was closed")
        try:
            server.serve_forever(poll_interval=0.2)
        except KeyboardInterrupt:
            pass
        finally:
            self.close()

    def close(self) -> None:
        if self._server is not None:
            self._server.server_close()
            self._server = None


@contextmanager
def sigterm_stops() -> Iterator[None]:
    """In this block, SIGTERM (``kill PID``) stops a server as Ctrl-C does: a
    KeyboardInterrupt in the main thread. Elsewhere than in the main thread, nothing changes."""

    def stop(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt

    try:
        previous = signal.signal(signal.SIGTERM, stop)
    except ValueError:  # not the main thread
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def start_site(
    root: str | os.PathLike[str], *, bind: str = "127.0.0.1", port: int | None = None,
    ca_out: str | os.PathLike[str] | None = None, public: bool = False,
) -> SiteServer:
    """Listen on ``bind``:``port`` (default: the port of a localhost DID in the folder, else
    :data:`DEFAULT_PORT`; 0 lets the system choose) with a new throwaway CA, written to
    ``ca_out`` (default: ``<folder>-ca.pem`` beside the folder) once the socket listens. Call
    :meth:`SiteServer.serve` to answer requests.

    :raises SiteError: ``root`` is not a folder, or ``bind`` is not loopback and ``public`` is
        false. :raises SiteUnavailable: the address cannot be listened on.
    :raises OSError: the CA file cannot be written.
    """
    folder = Path(root)
    if not folder.is_dir():
        raise SiteError(f"{folder} is not a folder: write the site first, with 'vc-issuer publish --out-dir {folder}'")
    folder = folder.resolve()
    if bind == "localhost":
        bind = "127.0.0.1"
    if not is_loopback_host(bind) and not public:
        raise SiteError(f"--host {bind} is not a loopback address: this server is for trying things on this machine, "
                        "with a throwaway certificate; add --public to listen there anyway")
    if port is None:
        local = [d for d in find_dids(folder, 0) if d.host.partition(":")[0] == "localhost"]
        port = int(local[0].host.partition(":")[2] or 443) if local else DEFAULT_PORT
    hosts = {"localhost"}
    for did in find_dids(folder, port):
        name = did.host.partition(":")[0]
        if _ip_or_none(name) is None:
            hosts.add(name.lower())
    if _ip_or_none(bind) is None and bind not in ("", "localhost"):
        hosts.add(bind.lower())
    names = ["localhost", *sorted(hosts - {"localhost"})]
    addresses = ["127.0.0.1", "::1"]
    bound_ip = _ip_or_none(bind)
    if bound_ip is not None and not bound_ip.is_unspecified and str(bound_ip) not in addresses:
        addresses.append(str(bound_ip))
    ca_path = Path(ca_out) if ca_out is not None else folder.parent / f"{folder.name or 'site'}-ca.pem"
    if not ca_path.parent.is_dir() or ca_path.is_dir():
        raise SiteError(f"cannot write the CA certificate to {ca_path}: "
                        + ("it is a folder" if ca_path.is_dir() else f"no folder {ca_path.parent}"))
    ca_pem, cert_pem, key_pem = make_certificates(names, addresses)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    with tempfile.TemporaryDirectory(prefix="serve-site-") as temp:  # the key only while it is loaded
        cert_file, key_file = Path(temp) / "server.pem", Path(temp) / "server-key.pem"
        cert_file.write_bytes(cert_pem)
        key_file.touch(mode=0o600)
        key_file.write_bytes(key_pem)
        context.load_cert_chain(cert_file, key_file)
    try:
        server = _TlsServer((bind.strip("[]"), port), folder, context)
    except OSError as e:
        raise SiteUnavailable(f"cannot listen on {bind}:{port}: {e.strerror or e}; choose another --port") from None
    actual = int(server.server_address[1])
    try:
        write_atomic(ca_path, ca_pem, mode=0o644)
    except OSError as e:
        server.server_close()
        raise SiteError(f"cannot write the CA certificate to {ca_path}: {e.strerror or e}") from None
    return SiteServer(folder, bind, actual, ca_path, find_dids(folder, actual), server)
