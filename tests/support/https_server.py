"""A real HTTPS server on 127.0.0.1 for tests: a throwaway CA made with ``cryptography``, a
certificate for ``localhost`` (and ``*.tradevc.test``, names a test resolves to 127.0.0.1
itself), and a threaded static file server with a few switchable misbehaviours (redirects,
slowness, oversize answers). Nothing here listens beyond loopback.

The fetchers refuse loopback unless it is allowed: tests pass ``allow_hosts=server.allow_hosts``
(or ``--allow-host``), exactly as a deployment allows a local mirror."""

from __future__ import annotations

import datetime as dt
import http.server
import ipaddress
import ssl
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import requests
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from tradevc.vc.retrieval.mirror import Mirror


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def make_tls_files(directory: Path) -> tuple[Path, Path, Path]:
    """A CA certificate and a server certificate + key for localhost / 127.0.0.1, as PEM files."""
    now = dt.datetime.now(dt.timezone.utc)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_cert = (
        x509.CertificateBuilder()
        .subject_name(_name("tradevc test CA"))
        .issuer_name(_name("tradevc test CA"))
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(hours=1))
        .not_valid_after(now + dt.timedelta(days=2))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True)
        .sign(ca_key, hashes.SHA256())
    )
    server_key = ec.generate_private_key(ec.SECP256R1())
    server_cert = (
        x509.CertificateBuilder()
        .subject_name(_name("localhost"))
        .issuer_name(ca_cert.subject)
        .public_key(server_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(hours=1))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([
                x509.DNSName("localhost"), x509.DNSName("*.tradevc.test"),
                x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
            ]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    ca_path, cert_path, key_path = directory / "ca.pem", directory / "server.pem", directory / "server-key.pem"
    ca_path.write_bytes(ca_cert.public_bytes(serialization.Encoding.PEM))
    cert_path.write_bytes(server_cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        server_key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    return ca_path, cert_path, key_path


Special = Callable[[http.server.BaseHTTPRequestHandler], None]


@dataclass
class LocalHttpsServer:
    """Serves files under ``root`` at ``https://localhost:<port>/``; ``special`` maps a path to
    a handler that answers instead (for redirects, delays, oversize bodies)."""

    root: Path
    ca_path: Path
    port: int = 0
    special: dict[str, Special] = field(default_factory=dict)
    requested: list[str] = field(default_factory=list)

    @property
    def host(self) -> str:
        return f"localhost:{self.port}"

    @property
    def allow_hosts(self) -> list[str]:
        """The allow-list entry that lets a fetcher reach this server (``localhost:<port>``):
        loopback is refused otherwise."""
        return [self.host]

    @property
    def did_host(self) -> str:
        """The host as a did:web method-specific id (the port's colon encoded)."""
        return f"localhost%3A{self.port}"

    def url(self, path: str) -> str:
        return f"https://{self.host}/{path.lstrip('/')}"

    def site(self, host: str) -> Path:
        """The directory that holds ``host``'s website (its ``.well-known/did.json``, its
        status lists): ``root/<host>/``, the layout of a snapshot directory too."""
        path = self.root / host
        path.mkdir(parents=True, exist_ok=True)
        return path

    def mirror(self, *hosts: str) -> Mirror:
        """A public :class:`vc.mirror.Mirror` that serves each of ``hosts`` (``mill.example``)
        from this server (``https://localhost:<port>/<host>/``, the files of :meth:`site`):
        tests use real-looking did:web hosts without touching DNS or ``requests``."""
        return Mirror({host: self.url(f"{host}/") for host in hosts})

    def session(self) -> requests.Session:
        """A session that trusts this server's throwaway CA (and nothing else)."""
        session = requests.Session()
        session.verify = str(self.ca_path)
        session.trust_env = False  # no proxies from the environment: loopback only
        return session

    def reset(self) -> None:
        self.special.clear()
        self.requested.clear()
        for path in sorted(self.root.rglob("*"), reverse=True):
            path.unlink() if path.is_file() else path.rmdir()


def start(directory: Path) -> tuple[LocalHttpsServer, Callable[[], None]]:
    """Start a server with a fresh CA under ``directory``; returns it and a stop function."""
    ca_path, cert_path, key_path = make_tls_files(directory)
    root = directory / "www"
    root.mkdir()
    server = LocalHttpsServer(root=root, ca_path=ca_path)

    class Handler(http.server.SimpleHTTPRequestHandler):
        def __init__(self, *args, **kwargs):  # type: ignore[no-untyped-def]
            super().__init__(*args, directory=str(root), **kwargs)

        def do_GET(self) -> None:  # noqa: N802
            path = self.path.split("?", 1)[0]
            server.requested.append(path)
            special = server.special.get(path)
            if special is not None:
                special(self)
            else:
                super().do_GET()

        def log_message(self, format: str, *args: object) -> None:  # quiet
            pass

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    httpd.daemon_threads = True
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert_path, key_path)
    httpd.socket = context.wrap_socket(httpd.socket, server_side=True)
    server.port = httpd.server_address[1]
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()

    def stop() -> None:
        httpd.shutdown()
        httpd.server_close()

    return server, stop


# -- misbehaviours ------------------------------------------------------------------------------


def trickle(data: bytes, every: float) -> Special:
    """Answer with ``data`` (status line and headers included, as raw bytes) one byte every
    ``every`` seconds."""

    def handler(request: http.server.BaseHTTPRequestHandler) -> None:
        try:
            for byte in data:
                request.wfile.write(bytes([byte]))
                request.wfile.flush()
                time.sleep(every)
        except OSError:
            pass
        request.close_connection = True

    return handler


def redirect_to(location: str) -> Special:
    def handler(request: http.server.BaseHTTPRequestHandler) -> None:
        request.send_response(302)
        request.send_header("Location", location)
        request.send_header("Content-Length", "0")
        request.end_headers()

    return handler


def slow(seconds: float) -> Special:
    def handler(request: http.server.BaseHTTPRequestHandler) -> None:
        time.sleep(seconds)
        try:
            request.send_response(200)
            request.send_header("Content-Length", "2")
            request.end_headers()
            request.wfile.write(b"{}")
        except OSError:
            pass

    return handler


def body(
    data: bytes, *, status: int = 200, declare_length: bool = True, content_type: str = "application/json"
) -> Special:
    def handler(request: http.server.BaseHTTPRequestHandler) -> None:
        request.send_response(status)
        request.send_header("Content-Type", content_type)
        if declare_length:
            request.send_header("Content-Length", str(len(data)))
        request.end_headers()
        try:
            request.wfile.write(data)
        except OSError:
            pass

    return handler
