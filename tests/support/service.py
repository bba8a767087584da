"""``tradevc-serve`` as a real process on 127.0.0.1, for tests: one mill's whole website over
HTTPS (its did:web DID ``did:web:localhost%3APORT`` and status lists, served by the server under
test, which its own verifier fetches over HTTPS with the test CA, localhost allowed), a
verifier trusting the mill, a second issuer ``smelter`` (did:key, not trusted), and the clients
``erp`` (issue, status, for the mill), ``group`` (issue, status, for both issuers), ``customs``
(verify, its secret from the environment) and ``monitor`` (metrics).

:func:`mill_service` writes the folder and starts the server; :meth:`Service.stop` stops it
with a signal. The server's stderr goes to ``server.log`` in the folder (a file, not a pipe:
nobody reads it while the server writes), and :meth:`Service.log_entries` reads its JSON lines."""

from __future__ import annotations

import json
import signal
import ssl
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Callable

import httpx
import pytest

from support.https_server import make_tls_files
from support.site_process import ENV
from tradevc.issuer import Issuer
from tradevc.issuer.credential_types import build_credential, load_example

PASS = "mill passphrase 2026"
ERP_SECRET = "erp-secret-0123456789"
CUSTOMS_SECRET = "customs+secret%41 0123456789"  # '+', '%' and ' ': form-encoded or not, it works
MONITOR_SECRET = "monitor-secret-0123456789"
GROUP_SECRET = "group-secret-0123456789"
TOKEN_KEY = b"k" * 48
USMCA = "USMCACertificationOfOrigin"


class Service:
    def __init__(self, base: str, ca: Path, process: subprocess.Popen[str], did: str) -> None:
        self.base, self.ca, self.process, self.did = base, ca, process, did
        self.faraway: Path | None = None
        self.smelter = ""  # the DID of the issuer smelter, which the trust policy does not trust
        self.log: Path | None = None  # the server's stderr
        self.context = ssl.create_default_context(cafile=str(ca))
        self.client = httpx.Client(base_url=base, verify=self.context, timeout=60)

    def token(self, client_id: str, secret: str, scope: str | None = None) -> str:
        form = {"grant_type": "client_credentials", **({"scope": scope} if scope else {})}
        answer = self.client.post("/token", data=form, auth=(client_id, secret))
        assert answer.status_code == 200, answer.text
        return str(answer.json()["access_token"])

    def post(self, path: str, body: object, token: str | None) -> httpx.Response:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return self.client.post(path, json=body, headers=headers)

    def fresh(self) -> httpx.Client:
        """A client whose every request opens a connection of its own (no keep-alive), so that
        with several workers, each request may reach any of them."""
        return httpx.Client(base_url=self.base, verify=self.context, timeout=60,
                            limits=httpx.Limits(max_keepalive_connections=0))

    def pinned(self, workers: int = 2, rounds: int = 50) -> list[httpx.Client]:
        """``workers`` keep-alive clients, each with its one connection to a different worker:
        requests sent on them in turn reach every worker. New connections are not spread
        evenly (an idle machine's kernel may give one worker all of them, one after the other
        or several at once), so each round opens 8 at once, keeps one per worker not yet
        reached, and closes the rest."""
        found: dict[int, httpx.Client] = {}

        def probe(_: int) -> tuple[int, httpx.Client]:
            client = httpx.Client(base_url=self.base, verify=self.context, timeout=60,
                                  limits=httpx.Limits(max_connections=1, max_keepalive_connections=1))
            return self.pids([client.get("/readyz")])[0], client

        with ThreadPoolExecutor(8) as pool:
            for _ in range(rounds):
                for pid, client in pool.map(probe, range(8)):
                    if pid in found or len(found) == workers:
                        client.close()
                    else:
                        found[pid] = client
                if len(found) == workers:
                    return list(found.values())
        for client in found.values():
            client.close()
        raise AssertionError(f"{rounds} rounds of 8 connections reached only {len(found)} worker(s)")

    def log_entries(self) -> list[dict[str, Any]]:
        """The JSON lines of the server's log so far (the command's own lines left out)."""
        assert self.log is not None
        entries = []
        for line in self.log.read_text(encoding="utf-8").splitlines():
            if line.startswith("{"):
                entries.append(json.loads(line))
        return entries

    def pids(self, answers: list[httpx.Response]) -> list[int]:
        """The pid of the process that answered each of ``answers`` (from the log, by request id;
        a request's line is written once its answer is sent, so it may come a moment later)."""
        wanted = [a.headers["x-request-id"] for a in answers]
        for _ in range(100):
            by_id = {e["request_id"]: e["pid"] for e in self.log_entries() if "request_id" in e and "status" in e}
            if all(w in by_id for w in wanted):
                return [by_id[w] for w in wanted]
            time.sleep(0.05)
        raise AssertionError(f"no log line for the requests {sorted(set(wanted) - set(by_id))}")

    def stop(self, signum: int = signal.SIGTERM, timeout: float = 60) -> int:
        """Send ``signum`` and wait for the process to end; its exit status (see :func:`stop_server`:
        one that must be killed fails the test)."""
        self.client.close()
        return stop_server(self.process, signum, timeout=timeout, must_end=True)


def stop_server(process: subprocess.Popen[Any], signum: int = signal.SIGTERM, *, timeout: float = 30,
                must_end: bool = False) -> int:
    """Stop a server process: ``signum`` (SIGTERM: finish what is in flight, then end), and
    SIGKILL if it has not ended ``timeout`` seconds later; its pipes are closed. Its exit
    status. :raises subprocess.TimeoutExpired: it had to be killed and ``must_end`` is set."""
    try:
        if process.poll() is None:
            process.send_signal(signum)
        try:
            return process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
            if must_end:
                raise
            return process.returncode
    finally:
        for stream in (process.stdin, process.stdout, process.stderr):
            if stream is not None:
                stream.close()


def wait_ready(client: httpx.Client, process: subprocess.Popen[str], log: Path | None = None) -> None:
    """Wait until the ``tradevc-serve`` of ``process`` answers ``GET /readyz`` with 200 on
    ``client`` (at most about a minute); the test fails with the server's log (the file
    ``log``, else its stderr pipe) if it ends first, or if it never gets ready."""
    for _ in range(600):
        if process.poll() is not None:
            text = log.read_text() if log is not None else (process.stderr.read() if process.stderr else "")
            pytest.fail(f"tradevc-serve ended: {text}")
        try:
            if client.get("/readyz").status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    pytest.fail("tradevc-serve did not become ready")


def unsigned(service: Service) -> dict[str, Any]:
    now = datetime.now(timezone.utc).replace(microsecond=0)
    return build_credential(
        USMCA, load_example(USMCA), issuer={"id": service.did, "name": "Aceros del Norte"},
        valid_from=(now - timedelta(minutes=1)).strftime("%Y-%m-%dT%H:%M:%SZ"),
        valid_until=(now + timedelta(days=30)).strftime("%Y-%m-%dT%H:%M:%SZ"),
    )


def issue(service: Service, erp: str, **options: Any) -> Any:
    answer = service.post("/issuers/mill/credentials/issue", {"credential": unsigned(service), "options": options}, erp)
    assert answer.status_code == 201, answer.text
    assert answer.headers["content-type"] == "application/json"
    return answer.json()["verifiableCredential"]


def mill_service(root: Path, port: int, *, listen: str = "", tokens: str = 'key_file = "token.key"',
                 verifier: str = 'challenges = "challenges.sqlite"', clients: str = "",
                 prepare: Callable[[Path], None] | None = None, env: dict[str, str] | None = None) -> Service:
    """Write the mill's folder in ``root`` and start ``tradevc-serve`` on ``port``; it is ready
    (``/readyz``) when this returns. ``listen``, ``tokens``, ``verifier`` and ``clients`` are
    TOML lines added to those tables (``clients``: whole ``[clients.NAME]`` tables).
    ``prepare(root)`` is called once the issuers' homes are made, before the server starts;
    ``env`` is added to the server's environment."""
    ca, cert, key = make_tls_files(root)
    host = f"localhost:{port}"
    with Issuer.init(root / "mill", PASS.encode(), name="Aceros del Norte", did_web_domain=host,
                     status_base_url=f"https://{host}/status/") as mill:
        did = mill.did
    # a second issuer of the server, which the trust policy does not trust (did:key)
    with Issuer.init(root / "smelter", PASS.encode(), name="Smelter",
                     status_base_url=f"https://{host}/smelter/status/") as smelter:
        smelter_did = smelter.did
    # an issuer whose status lists are out of the server's reach (a loopback address it may not fetch from)
    with Issuer.init(root / "faraway", PASS.encode(), name="Faraway Mill", status_base_url="https://127.0.0.2:9/status/") as far:
        faraway = far.did
    (root / "mill.passphrase").write_text(PASS + "\n")
    (root / "erp.secret").write_text(ERP_SECRET)
    (root / "monitor.secret").write_text(MONITOR_SECRET)
    (root / "group.secret").write_text(GROUP_SECRET)
    (root / "token.key").write_bytes(TOKEN_KEY)
    (root / "trust.json").write_text(json.dumps({"trustedIssuers": [
        {"did": did, "name": "Aceros del Norte", "types": [USMCA]},
        {"did": faraway, "name": "Faraway Mill", "types": [USMCA]},
    ]}))
    (root / "service.toml").write_text(f"""
[listen]
host = "127.0.0.1"
port = {port}
tls_cert = "{cert.name}"
tls_key = "{key.name}"
max_body_bytes = 65536
{listen}

[tokens]
{tokens}

[verifier]
trust = "trust.json"
ca_bundle = "{ca.name}"
allow_hosts = ["{host}"]
{verifier}

[issuers.mill]
home = "mill"
passphrase_file = "mill.passphrase"

[issuers.smelter]
home = "smelter"
passphrase_file = "mill.passphrase"

[clients.erp]
secret_file = "erp.secret"
scopes = ["issue", "status"]
issuers = ["mill"]

[clients.group]
secret_file = "group.secret"
scopes = ["issue", "status"]
issuers = ["mill", "smelter"]

[clients.customs]
secret_env = "TEST_CUSTOMS_SECRET"
scopes = ["verify"]

[clients.monitor]
secret_file = "monitor.secret"
scopes = ["metrics"]
{clients}
""")
    if prepare is not None:
        prepare(root)
    environment = {**ENV, "TEST_CUSTOMS_SECRET": CUSTOMS_SECRET, **(env or {})}
    with open(root / "server.log", "w") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "tradevc.service", "--config", str(root / "service.toml")],
            stdout=subprocess.PIPE, stderr=log, text=True, env=environment,
        )
    service = Service(f"https://{host}", ca, process, did)
    service.faraway = root / "faraway"
    service.smelter = smelter_did
    service.log = root / "server.log"
    try:
        wait_ready(service.client, process, service.log)
    except BaseException:
        service.stop(signal.SIGKILL)
        raise
    return service
