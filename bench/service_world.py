"""A real ``tradevc-serve`` on 127.0.0.1 for the service benchmark (``bench/bench_service.py``,
rows of ``make bench``) and the load test (``bench/load_service.py``, ``make load``), and the light
keep-alive HTTP client both use to measure it.

:func:`serve` sets up everything in a temporary folder: a mill issuer (did:web on
``localhost:PORT``, the issue mix), a test issuer whose did:key signs the reference certificate
(``bench/usmca-certification-of-origin.json``, the verify mix), a trust policy naming both,
two clients (``erp``: issue and status; ``customs``: verify), a token key shared by every
worker, and the TOML file; starts the server with ``PYTHONPATH`` set to this checkout (so this
checkout's code is what runs) and waits for ``/readyz``. The verifier is offline, as the
in-process baseline of the table is: the reference certificate carries no status entry, so
every check runs to a verified report without the network. Plain HTTP on loopback, or TLS
with a throwaway CA (``tls=True``).

``workers`` is written as ``[listen] workers = N`` only when it is above 1: a checkout whose
configuration does not know the member yet runs with one process (see
:func:`workers_supported`).

:class:`Connection` is the client: one keep-alive HTTP/1.1 connection over a plain socket,
requests sent as pre-encoded bytes, answers read by ``Content-Length``. It costs a few tens of
microseconds of CPU a request, where an HTTP library costs hundreds, so on a 2-core machine
the load generator leaves the CPU to the server it measures (``Run.client_cpu`` says how much
it took). :func:`run_load` drives ``connections`` of them from threads, closed loop (each sends
its next request when the answer came) or paced at a total rate.
"""

from __future__ import annotations

import copy
import json
import math
import os
import socket
import ssl
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
if str(ROOT / "tests") not in sys.path:
    sys.path.insert(0, str(ROOT / "tests"))
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))

from common import reference_credential  # noqa: E402

from tradevc.vc.keys import KeyPair  # noqa: E402

USMCA = "USMCACertificationOfOrigin"
MILL_PASSPHRASE = "bench mill passphrase"
SECRETS = {"erp": "erp-bench-secret-0123456789", "customs": "customs-bench-secret-0123456789"}
SCOPES = {"erp": ["issue", "status"], "customs": ["verify"]}
TOKEN_LIFETIME = 3600
"""Seconds a bearer token lives (the configuration's most); a longer run gets new ones."""
VERIFY_PATH = "/credentials/verify"
ISSUE_PATH = "/issuers/mill/credentials/issue"


def stamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def reference_documents(key: KeyPair, count: int) -> list[dict[str, Any]]:
    """``count`` distinct copies of the reference certificate (their ids differ), signed with
    eddsa-rdfc-2022 by ``key``'s did:key, valid from yesterday for 300 days, without a status
    entry. Distinct, because the verifier remembers the JSON-LD conversion of the last document
    it saw: the same document again and again would measure that memory, not a verification."""
    from tradevc.issuer import sign_credential

    now = datetime.now(timezone.utc).replace(microsecond=0)
    template = reference_credential(key)
    template["validFrom"], template["validUntil"] = stamp(now - timedelta(days=1)), stamp(now + timedelta(days=300))
    documents = []
    for i in range(count):
        credential = copy.deepcopy(template)
        credential["id"] = f"urn:uuid:00000000-0000-4000-8000-{i:012d}"
        documents.append(sign_credential(credential, key, cryptosuite="eddsa-rdfc-2022", created=stamp(now)))
    return documents


def unsigned_certificate(did: str) -> dict[str, Any]:
    """A certificate of origin for the mill to issue (the issue mix): the type's example, valid
    from a minute ago for 30 days."""
    from tradevc.issuer.credential_types import build_credential, load_example

    now = datetime.now(timezone.utc).replace(microsecond=0)
    return build_credential(USMCA, load_example(USMCA), issuer={"id": did, "name": "Aceros del Norte"},
                            valid_from=stamp(now - timedelta(minutes=1)), valid_until=stamp(now + timedelta(days=30)))


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def workers_supported() -> bool:
    """Whether this checkout's configuration knows ``[listen] workers`` (another branch adds
    it): a file with ``workers = 2`` is read without a complaint about an unknown member."""
    from tradevc.service.config import ConfigError, load_config

    with tempfile.TemporaryDirectory() as tmp:
        (Path(tmp) / "trust.json").write_text('{"trustedIssuers": []}')
        (Path(tmp) / "service.toml").write_text('[listen]\nworkers = 2\n\n[verifier]\ntrust = "trust.json"\n')
        try:
            load_config(Path(tmp) / "service.toml")
        except ConfigError as e:
            return "workers" not in e.message
        return True


def service_config(port: int, *, workers: int, tls: tuple[Path, Path] | None) -> str:
    """The TOML of the world (relative paths, from its folder)."""
    listen = ['host = "127.0.0.1"', f"port = {port}"]
    if workers > 1:
        listen.append(f"workers = {workers}")
    if tls is not None:
        listen += [f'tls_cert = "{tls[0].name}"', f'tls_key = "{tls[1].name}"']
    clients = "".join(
        f'\n[clients.{name}]\nsecret_file = "{name}.secret"\nscopes = {json.dumps(SCOPES[name])}\n' for name in SECRETS
    )
    return (
        "[listen]\n" + "\n".join(listen) + "\n\n"
        f'[tokens]\nkey_file = "token.key"\nlifetime_seconds = {TOKEN_LIFETIME}\n\n'
        '[verifier]\ntrust = "trust.json"\noffline = true\n\n'
        '[issuers.mill]\nhome = "mill"\npassphrase_file = "mill.passphrase"\n' + clients
    )


def process_tree(pid: int) -> list[int]:
    """``pid`` and every process below it (read from /proc)."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as f:
                parent = int(f.read().rsplit(b")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        children.setdefault(parent, []).append(int(entry))
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        todo.extend(children.get(current, []))
    return found


def rss_bytes(pids: Sequence[int]) -> int:
    """The resident memory of ``pids`` added up (VmRSS; a process gone in the meantime counts 0)."""
    total = 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/status", "rb") as f:
                for line in f:
                    if line.startswith(b"VmRSS:"):
                        total += int(line.split()[1]) * 1024
                        break
        except OSError:
            pass
    return total


def cpu_seconds(pids: Sequence[int]) -> float:
    """User + system CPU seconds of ``pids`` so far."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/stat", "rb") as f:
                fields = f.read().rsplit(b")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])  # utime, stime (fields 14 and 15 of stat)
        except (OSError, IndexError, ValueError):
            pass
    return total / ticks


@dataclass
class World:
    """A running server and what a client needs to call it."""

    root: Path
    host: str
    port: int
    process: subprocess.Popen[bytes]
    workers: int
    mill_did: str
    test_issuer: KeyPair
    ca: Path | None = None
    log: Path | None = None
    _tokens: dict[str, tuple[str, float]] = field(default_factory=dict)

    @property
    def base(self) -> str:
        return f"{'https' if self.ca else 'http'}://{self.host}:{self.port}"

    def ssl_context(self) -> ssl.SSLContext | None:
        return ssl.create_default_context(cafile=str(self.ca)) if self.ca else None

    def connect(self) -> "Connection":
        return Connection(self.host, self.port, self.ssl_context())

    def token(self, client_id: str) -> str:
        """A bearer token of ``client_id`` (all its scopes); a new one when the last is half its life old."""
        token, got = self._tokens.get(client_id, ("", 0.0))
        if token and time.monotonic() - got < TOKEN_LIFETIME / 2:
            return token
        form = urllib.parse.urlencode({"grant_type": "client_credentials", "client_id": client_id,
                                       "client_secret": SECRETS[client_id]}).encode()
        connection = self.connect()
        try:
            status, body = connection.request(request_bytes(self, "/token", form, content_type=
                                                            "application/x-www-form-urlencoded"))
        finally:
            connection.close()
        if status != 200:
            raise RuntimeError(f"POST /token for {client_id} answered {status}: {body[:300]!r}")
        token = str(json.loads(body)["access_token"])
        self._tokens[client_id] = (token, time.monotonic())
        return token

    def pids(self) -> list[int]:
        return process_tree(self.process.pid)

    def rss(self) -> int:
        return rss_bytes(self.pids())

    def cpu(self) -> float:
        return cpu_seconds(self.pids())


def request_bytes(world: World, path: str, body: bytes, *, token: str | None = None,
                  content_type: str = "application/json") -> bytes:
    """One HTTP/1.1 POST, keep-alive, as the bytes sent."""
    head = [f"POST {path} HTTP/1.1", f"Host: {world.host}:{world.port}", f"Content-Type: {content_type}",
            f"Content-Length: {len(body)}"]
    if token is not None:
        head.append(f"Authorization: Bearer {token}")
    return ("\r\n".join(head) + "\r\n\r\n").encode("ascii") + body


def verify_requests(world: World, documents: Sequence[dict[str, Any]]) -> list[bytes]:
    """``POST /credentials/verify`` of each document, pre-encoded, with the customs client's token."""
    token = world.token("customs")
    return [request_bytes(world, VERIFY_PATH, json.dumps({"verifiableCredential": d}).encode(), token=token)
            for d in documents]


class IssueRequests:
    """``POST /issuers/mill/credentials/issue`` of a certificate with the erp client's token, a
    new credential id each call (an id is issued once): the JSON is encoded once, the id
    replaced in the bytes."""

    def __init__(self, world: World) -> None:
        credential = unsigned_certificate(world.mill_did)
        self.placeholder = credential["id"] = "urn:uuid:" + "0" * 36
        self.head = request_bytes(world, ISSUE_PATH, b"", token=world.token("erp"))
        self.body = json.dumps({"credential": credential}).encode()
        self.head = self.head.replace(b"Content-Length: 0", f"Content-Length: {len(self.body)}".encode())

    def __call__(self) -> bytes:
        return self.head + self.body.replace(self.placeholder.encode(), f"urn:uuid:{uuid.uuid4()}".encode())


@contextmanager
def serve(*, workers: int = 1, tls: bool = False, test_issuer: KeyPair | None = None) -> Iterator[World]:
    """A :class:`World` for the duration of the block (``test_issuer``: the key whose did:key
    the trust policy names; a new one if not given); the server is stopped (SIGTERM, then
    SIGKILL after 30 s) and its folder removed at the end."""
    from tradevc.issuer import Issuer

    with tempfile.TemporaryDirectory(prefix="tradevc-serve-") as tmp:
        root = Path(tmp)
        port = free_port()
        host = "localhost" if tls else "127.0.0.1"
        files = None
        ca = None
        if tls:
            from support.https_server import make_tls_files

            ca, cert, key = make_tls_files(root)
            files = (cert, key)
        with Issuer.init(root / "mill", MILL_PASSPHRASE.encode(), name="Aceros del Norte",
                         did_web_domain=f"localhost:{port}", status_base_url=f"https://localhost:{port}/status/") as mill:
            mill_did = mill.did
        test_issuer = test_issuer or KeyPair.generate("Ed25519")
        (root / "mill.passphrase").write_text(MILL_PASSPHRASE + "\n")
        for name, secret in SECRETS.items():
            (root / f"{name}.secret").write_text(secret)
        (root / "token.key").write_bytes(os.urandom(48))
        (root / "trust.json").write_text(json.dumps({"trustedIssuers": [
            {"did": mill_did, "name": "Aceros del Norte", "types": [USMCA]},
            {"did": test_issuer.did, "name": "Bench test issuer", "types": [USMCA]},
        ]}))
        (root / "service.toml").write_text(service_config(port, workers=workers, tls=files))
        env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]).rstrip(os.pathsep)}
        log = root / "server.log"
        with open(log, "wb") as out:  # a file, not a pipe: nobody reads it while the server writes
            process = subprocess.Popen([sys.executable, "-m", "tradevc.service", "--config", str(root / "service.toml")],
                                       stdout=subprocess.DEVNULL, stderr=out, env=env, cwd=root)
        world = World(root, host, port, process, workers, mill_did, test_issuer, ca, log)
        try:
            _wait_ready(world)
            yield world
        finally:
            process.terminate()
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def _wait_ready(world: World, seconds: float = 60) -> None:
    ready = f"GET /readyz HTTP/1.1\r\nHost: {world.host}:{world.port}\r\n\r\n".encode()
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if world.process.poll() is not None:
            raise RuntimeError(f"tradevc-serve ended ({world.process.returncode}): {tail(world)}")
        try:
            connection = world.connect()
            try:
                if connection.request(ready)[0] == 200:
                    return
            finally:
                connection.close()
        except OSError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"tradevc-serve did not become ready in {seconds:.0f} s: {tail(world)}")


def tail(world: World, lines: int = 20) -> str:
    if world.log is None or not world.log.exists():
        return ""
    return "\n".join(world.log.read_text(errors="replace").splitlines()[-lines:])


class Connection:
    """One keep-alive HTTP/1.1 connection (see the module's documentation)."""

    def __init__(self, host: str, port: int, context: ssl.SSLContext | None = None, timeout: float = 30) -> None:
        sock = socket.create_connection((host, port), timeout=timeout)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.sock: socket.socket = context.wrap_socket(sock, server_hostname=host) if context else sock
        self.buffer = b""

    def request(self, data: bytes) -> tuple[int, bytes]:
        """Send ``data`` (a whole request) and read the answer: its status and body.

        :raises ConnectionError: the server closed the connection, or answered without a
            Content-Length (this client reads no other framing)."""
        self.sock.sendall(data)
        buffer = self.buffer
        end = buffer.find(b"\r\n\r\n")
        while end < 0:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ConnectionError("the server closed the connection")
            buffer += chunk
            end = buffer.find(b"\r\n\r\n")
        head = buffer[:end]
        status = int(head[9:12])
        length = -1
        for line in head.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value)
                break
        if length < 0:
            raise ConnectionError(f"an answer ({status}) without Content-Length")
        start = end + 4
        while len(buffer) - start < length:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ConnectionError("the server closed the connection")
            buffer += chunk
        self.buffer = buffer[start + length:]
        return status, buffer[start:start + length]

    def close(self) -> None:
        try:
            self.sock.close()
        except OSError:
            pass


Requests = Sequence["bytes | Callable[[], bytes]"]
"""What :func:`run_load` sends: whole requests, or functions that make one."""


def percentile(sorted_values: Sequence[float], fraction: float) -> float:
    """The ``fraction`` percentile (nearest rank) of sorted values; NaN for none."""
    if not sorted_values:
        return float("nan")
    rank = max(0, min(len(sorted_values) - 1, math.ceil(fraction * len(sorted_values)) - 1))
    return sorted_values[rank]


@dataclass
class Run:
    """What one :func:`run_load` measured: requests answered in the window, their latencies
    (seconds), the answers that were not the expected status (by status; 0 for a broken
    connection), the window's length and the CPU the client and (if given) the server took."""

    requests: int
    latencies: list[float]
    errors: dict[int, int]
    seconds: float
    client_cpu: float
    server_cpu: float | None = None
    first_error: str = ""

    @property
    def error_count(self) -> int:
        return sum(self.errors.values())

    @property
    def rate(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    def p(self, fraction: float) -> float:
        return percentile(sorted(self.latencies), fraction)

    def summary(self) -> dict[str, Any]:
        ordered = sorted(self.latencies)
        return {
            "requests": self.requests, "seconds": round(self.seconds, 3), "requests_per_second": round(self.rate, 1),
            "p50_ms": round(percentile(ordered, 0.50) * 1000, 3), "p99_ms": round(percentile(ordered, 0.99) * 1000, 3),
            "mean_ms": round(statistics.fmean(ordered) * 1000, 3) if ordered else None,
            "errors": self.error_count, "errors_by_status": {str(k): v for k, v in self.errors.items()},
            "client_cpu_us_per_request": round(self.client_cpu / self.requests * 1e6, 1) if self.requests else None,
            "server_cpu_ms_per_request": round(self.server_cpu / self.requests * 1000, 3)
            if self.requests and self.server_cpu is not None else None,
        }


def run_load(
    world: World, requests: Requests | Callable[[], Requests], *, seconds: float,
    connections: int = 4, warmup: float = 1.0, rate: float | None = None, expect: int = 200,
    refresh: float | None = None, stagger: float = 0.05,
) -> Run:
    """Send ``requests`` (cycled; each connection starts at its own offset; an item that is a
    function is called for the bytes each time, e.g. :class:`IssueRequests`) over ``connections``
    keep-alive connections, one thread each, for ``warmup`` + ``seconds``; only the requests
    sent in the last ``seconds`` count. Closed loop without ``rate``; with it, each connection
    sends on a schedule of ``rate / connections`` a second (a late answer does not move the
    schedule: the next request goes when its time comes, or at once if that has passed, and
    its latency is measured from when it was due, so a stalled server shows in the
    percentiles). ``requests`` may be a function that builds them, called again every
    ``refresh`` seconds (new bearer tokens on a long run). An answer whose status is not
    ``expect`` is an error; so is a broken connection (status 0), which is then opened again.

    The connections are opened one by one, ``stagger`` seconds apart, each sending while the
    next opens: opened all at once, they are all accepted by whichever server worker wakes
    first (asyncio accepts every pending connection in one go), and a keep-alive client of
    2 workers then often measures one."""
    build: Callable[[], Requests] = requests if callable(requests) else (lambda: requests)
    batch: list[Requests] = [build()]
    if not batch[0]:
        raise ValueError("no requests to send")
    started = time.monotonic()
    begin = started + warmup
    end = begin + seconds
    lock = threading.Lock()
    latencies: list[float] = []
    errors: dict[int, int] = {}
    first_error: list[str] = []
    counted = [0]
    interval = connections / rate if rate else 0.0

    def worker(index: int) -> None:
        mine: list[float] = []
        mine_errors: dict[int, int] = {}
        done = 0
        connection: Connection | None = None
        position = index * max(1, len(batch[0]) // connections)
        due = started + index * interval / connections
        try:
            time.sleep(index * stagger)
            try:
                connection = world.connect()
            except OSError:
                connection = None  # counted as an error with the first request
            while True:
                if rate:
                    now = time.monotonic()
                    if due > now:
                        time.sleep(due - now)
                    sent = due
                    due += interval
                else:
                    sent = time.monotonic()
                if sent >= end:
                    break
                current = batch[0]
                data = current[position % len(current)]
                if callable(data):
                    data = data()
                position += 1
                try:
                    if connection is None:
                        connection = world.connect()
                    status, body = connection.request(data)
                except OSError as e:
                    status, body = 0, f"{type(e).__name__}: {e}".encode()
                    if connection is not None:
                        connection.close()
                    connection = None
                if sent >= begin:
                    done += 1
                    mine.append(time.monotonic() - sent)
                    if status != expect:
                        mine_errors[status] = mine_errors.get(status, 0) + 1
                        if not first_error:
                            first_error.append(f"{status}: {body[:300].decode(errors='replace')}")
        finally:
            if connection is not None:
                connection.close()
            with lock:
                latencies.extend(mine)
                counted[0] += done
                for status, count in mine_errors.items():
                    errors[status] = errors.get(status, 0) + count

    threads = [threading.Thread(target=worker, args=(i,), daemon=True) for i in range(connections)]
    for thread in threads:
        thread.start()

    def sleep_until(moment: float) -> None:
        while (now := time.monotonic()) < moment:
            time.sleep(min(moment - now, 1.0))

    sleep_until(begin)
    client_before, server_before = time.process_time(), world.cpu()
    next_refresh = begin + refresh if refresh else float("inf")
    while time.monotonic() < end:
        sleep_until(min(end, next_refresh))
        if time.monotonic() >= next_refresh:
            batch[0] = build()
            next_refresh += refresh or float("inf")
    client_cpu, server_cpu = time.process_time() - client_before, world.cpu() - server_before
    for thread in threads:
        thread.join()
    return Run(counted[0], latencies, errors, seconds, client_cpu, server_cpu, first_error[0] if first_error else "")
