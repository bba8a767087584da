"""``tradevc-serve``'s per-request deadline and concurrency cap, against real processes on
127.0.0.1 (plain HTTP, a verifier only).

The slow work is real: a credential whose status lists live on a loopback host that accepts
connections and never says a word (the TLS handshake waits), so verifying it waits on the
network. With a deadline of 2 s, such a verification is answered with a 503 ``deadline``
problem (with ``Retry-After``) while the server stays healthy; with a cap of 2 requests at once,
a third is refused at once with a 503 ``busy`` problem (health checks never are), and once the
held requests end, requests succeed again."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import threading
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import httpx
import pytest

from support.dids import did_document
from support.service import stop_server, wait_ready
from support.site_process import ENV, free_port
from tradevc.issuer import Issuer, sign_credential
from tradevc.issuer.credential_types import build_credential, load_example
from tradevc.vc.keys import KeyPair
from tradevc.vc.securing.data_integrity import sign_presentation

PASS = b"mill passphrase 2026"
SECRET = "customs-secret-0123456789"
USMCA = "USMCACertificationOfOrigin"


class SilentHost:
    """A loopback TCP server that accepts connections and says nothing until :meth:`release`,
    which closes those held and every later one at once. ``accepted`` counts connections."""

    def __init__(self) -> None:
        self.socket = socket.socket()
        self.socket.bind(("127.0.0.1", 0))
        self.socket.listen(64)
        self.port = int(self.socket.getsockname()[1])
        self.accepted = 0
        self.released = False
        self._held: list[socket.socket] = []
        self._lock = threading.Lock()
        self._changed = threading.Condition(self._lock)
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                connection, _ = self.socket.accept()
            except OSError:
                return
            with self._changed:
                self.accepted += 1
                if self.released:
                    connection.close()
                else:
                    self._held.append(connection)
                self._changed.notify_all()

    def wait_for(self, count: int) -> None:
        with self._changed:
            assert self._changed.wait_for(lambda: self.accepted >= count, timeout=60), self.accepted

    def release(self) -> None:
        with self._changed:
            self.released = True
            for connection in self._held:
                connection.close()
            self._held.clear()

    def close(self) -> None:
        self.release()
        self.socket.close()


def slow_credential(root: Path, host: SilentHost) -> tuple[str, dict]:
    """A did:key issuer whose status lists are on ``host``, and a credential it issued."""
    with Issuer.init(root / "slow-mill", PASS, name="Slow Mill",
                     status_base_url=f"https://127.0.0.1:{host.port}/status/") as mill:
        now = datetime.now(timezone.utc).replace(microsecond=0)
        credential = mill.issue(build_credential(
            USMCA, load_example(USMCA), issuer={"id": mill.did, "name": "Slow Mill"},
            valid_from=(now - timedelta(minutes=1)).strftime("%Y-%m-%dT%H:%M:%SZ"),
            valid_until=(now + timedelta(days=30)).strftime("%Y-%m-%dT%H:%M:%SZ"),
        ))
        return mill.did, credential


class Server:
    def __init__(self, root: Path, listen: str, host: SilentHost, verifier: str = "",
                 allow: tuple[str, ...] = (), trusted: tuple[str, ...] = ()) -> None:
        self.host = host
        did, self.credential = slow_credential(root, host)
        port = free_port()
        (root / "trust.json").write_text(json.dumps({"trustedIssuers": [
            {"did": d, "name": "Slow Mill", "types": [USMCA]} for d in (did, *trusted)]}))
        (root / "customs.secret").write_text(SECRET)
        (root / "slow-mill.passphrase").write_bytes(PASS)
        (root / "service.toml").write_text(f"""
[listen]
port = {port}
{listen}

[verifier]
trust = "trust.json"
allow_hosts = {json.dumps([f"127.0.0.1:{host.port}", *allow])}
{verifier}

[clients.customs]
secret_file = "customs.secret"
scopes = ["verify"]

[issuers.slow]
home = "slow-mill"
passphrase_file = "slow-mill.passphrase"
""")
        self.log = root / "server.log"
        with open(self.log, "w") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "tradevc.service", "--config", str(root / "service.toml")],
                stdout=subprocess.DEVNULL, stderr=log, text=True, env=ENV)
        self.base = f"http://127.0.0.1:{port}"
        self.client = httpx.Client(base_url=self.base, timeout=60)
        wait_ready(self.client, self.process, self.log)
        answer = self.client.post("/token", data={"grant_type": "client_credentials"}, auth=("customs", SECRET))
        assert answer.status_code == 200, answer.text
        self.auth = {"Authorization": f"Bearer {answer.json()['access_token']}"}

    def verify_slow(self) -> httpx.Response:
        with httpx.Client(base_url=self.base, timeout=60) as client:  # one connection per caller
            return client.post("/credentials/verify", json={"verifiableCredential": self.credential}, headers=self.auth)

    def stop(self) -> None:
        self.client.close()
        stop_server(self.process)


@pytest.fixture
def silent():
    host = SilentHost()
    yield host
    host.close()


@pytest.fixture
def deadline_server(tmp_path, silent):
    server = Server(tmp_path, "request_timeout_seconds = 2", silent)
    yield server
    server.stop()


@pytest.fixture
def holder_server(tmp_path, silent, https_server):
    """A server with a 2 s deadline whose verifier reads did:web DIDs from ``https_server``
    (and trusts its ``mill`` for USMCA certificates)."""
    server = Server(tmp_path, "request_timeout_seconds = 2", silent,
                    verifier=f'ca_bundle = "{https_server.ca_path}"', allow=tuple(https_server.allow_hosts),
                    trusted=(f"did:web:{https_server.did_host}:mill",))
    yield server
    server.stop()


@pytest.fixture
def capped_server(tmp_path, silent):
    server = Server(tmp_path, "max_concurrent_requests = 2", silent)
    yield server
    server.stop()


def test_a_request_past_its_deadline_is_a_503_problem_and_the_server_stays_healthy(deadline_server):
    answer = deadline_server.verify_slow()
    assert answer.status_code == 503, answer.text
    assert answer.headers["content-type"] == "application/problem+json"
    problem = answer.json()
    assert problem["type"] == "urn:tradevc:problem:deadline", problem
    assert "2 s" in problem["detail"] and "Traceback" not in answer.text
    assert int(answer.headers["retry-after"]) >= 1
    request_id = answer.headers["x-request-id"]
    assert problem["requestId"] == request_id
    # the server is healthy afterwards: health, a token, a challenge
    assert deadline_server.client.get("/healthz").json() == {"status": "ok"}
    assert deadline_server.client.post("/challenges", headers=deadline_server.auth).status_code == 201
    # the log names the request that ran past its deadline, by its id
    deadline_server.host.release()  # the abandoned verification ends (its lists cannot be fetched)
    for _ in range(600):
        lines = [json.loads(line) for line in deadline_server.log.read_text().splitlines() if line.startswith("{")]
        mine = [line for line in lines if line.get("request_id") == request_id]
        if any("after its deadline" in line.get("message", "") for line in mine):
            break
        time.sleep(0.1)
    assert any(line.get("status") == 503 for line in mine), mine
    assert any("deadline" in line.get("message", "") and line.get("level") == "warning" for line in mine), mine
    assert any("after its deadline" in line.get("message", "") for line in mine), mine


def test_over_the_concurrency_cap_a_request_is_refused_at_once_but_health_never(capped_server):
    held: list[httpx.Response] = []
    threads = [threading.Thread(target=lambda: held.append(capped_server.verify_slow())) for _ in range(2)]
    for thread in threads:
        thread.start()
    capped_server.host.wait_for(2)  # both verifications are waiting on the silent host
    refused = capped_server.client.post("/challenges", headers=capped_server.auth)
    assert refused.status_code == 503, refused.text
    assert refused.headers["content-type"] == "application/problem+json"
    assert refused.json()["type"] == "urn:tradevc:problem:busy"
    assert int(refused.headers["retry-after"]) >= 1
    assert "2 requests" in refused.json()["detail"]
    # health checks are never refused, nor the issuers' published documents (served from memory,
    # they take no thread; a verifier that is its own issuer's website fetches them while capped)
    assert capped_server.client.get("/healthz").status_code == 200
    assert capped_server.client.get("/readyz").status_code == 200
    assert capped_server.client.get("/status/revocation/1").status_code == 200
    # what is not published is no exception
    assert capped_server.client.get("/status/revocation/2").status_code == 503
    capped_server.host.release()
    for thread in threads:
        thread.join(timeout=120)
    assert [answer.json()["type"] for answer in held] == ["urn:tradevc:problem:could-not-verify"] * 2
    # the held requests are over: requests succeed again
    assert capped_server.client.post("/challenges", headers=capped_server.auth).status_code == 201


def test_a_body_that_never_arrives_is_answered_at_the_deadline(deadline_server):
    """A client that sends its headers and part of its body, then nothing, holds no request
    past the deadline: a 503 problem, and the server goes on answering others."""
    port = int(deadline_server.base.rsplit(":", 1)[1])
    with socket.create_connection(("127.0.0.1", port), timeout=60) as slow:
        slow.sendall(b"POST /credentials/verify HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                     b"Authorization: " + deadline_server.auth["Authorization"].encode() +
                     b"\r\nContent-Length: 1000\r\n\r\n{\"verifiableCredential\": ")
        answer = b""
        while b"\r\n\r\n" not in answer or not answer.rstrip().endswith(b"}"):
            chunk = slow.recv(65536)
            if not chunk:
                break
            answer += chunk
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 503 "), answer
    assert json.loads(body)["type"] == "urn:tradevc:problem:deadline"
    assert deadline_server.client.get("/healthz").status_code == 200
    assert deadline_server.client.post("/challenges", headers=deadline_server.auth).status_code == 201
    log = deadline_server.log.read_text()
    assert "Traceback" not in log


def delayed(data: bytes, seconds: float):
    """An https_server handler: ``data`` (a DID document) after ``seconds``."""
    def handler(request):
        time.sleep(seconds)
        try:
            request.send_response(200)
            request.send_header("Content-Type", "application/did+json")
            request.send_header("Content-Length", str(len(data)))
            request.end_headers()
            request.wfile.write(data)
        except OSError:
            pass

    return handler


def ended_after_deadline(server: Server, request_id: str) -> None:
    """Wait for the log line saying the request abandoned at its deadline has ended."""
    for _ in range(600):
        lines = [json.loads(line) for line in server.log.read_text().splitlines() if line.startswith("{")]
        if any(line.get("request_id") == request_id and "after its deadline" in line.get("message", "")
               for line in lines):
            return
        time.sleep(0.1)
    raise AssertionError(f"request {request_id} never ended")


@pytest.mark.parametrize("path", ["/presentations/verify", "/presentations"])
def test_a_presentation_answered_503_at_its_deadline_leaves_its_challenge_usable(holder_server, https_server, path):
    """The holder's DID document takes 3 s to arrive: the request is answered 503 at 2 s, and
    the verification then ends in the background, verified. Its challenge must not be used up
    by that answer nobody got: the same presentation sent again is verified."""
    # two did:web DIDs whose documents take 1.5 s each (under the 2 s a fetch may take): the
    # holder's, and the mill's that issued the certificate it presents
    keys, documents = {}, {}
    for name in ("holder", "mill"):
        keys[name] = KeyPair.generate("Ed25519")
        did = f"did:web:{https_server.did_host}:{name}"
        documents[name] = did_document(did, keys[name], authentication=[f"{did}#key-1"])
        https_server.special[f"/{name}/did.json"] = delayed(json.dumps(documents[name]).encode(), 1.5)
    holder, mill = documents["holder"]["id"], documents["mill"]["id"]
    now = datetime.now(timezone.utc).replace(microsecond=0)
    certificate = sign_credential(build_credential(
        USMCA, load_example(USMCA), issuer={"id": mill, "name": "Mill"},
        valid_from=(now - timedelta(minutes=1)).strftime("%Y-%m-%dT%H:%M:%SZ"),
        valid_until=(now + timedelta(days=30)).strftime("%Y-%m-%dT%H:%M:%SZ"),
    ), keys["mill"], verification_method=f"{mill}#key-1")
    made = holder_server.client.post("/challenges", headers=holder_server.auth)
    assert made.status_code == 201, made.text
    challenge = made.json()["challenge"]
    vp = sign_presentation([certificate], keys["holder"], challenge=challenge, domain="customs.example",
                           holder=holder, verification_method=f"{holder}#key-1", presentation_id=f"urn:x:{challenge}")
    body = {"verifiablePresentation": vp, "options": {"challenge": challenge, "domain": "customs.example"}}
    late = holder_server.client.post(path, json=body, headers=holder_server.auth)
    assert late.status_code == 503 and late.json()["type"] == "urn:tradevc:problem:deadline", late.text
    ended_after_deadline(holder_server, late.headers["x-request-id"])
    for name, document in documents.items():  # at once from now on
        del https_server.special[f"/{name}/did.json"]
        (https_server.root / name).mkdir()
        (https_server.root / name / "did.json").write_text(json.dumps(document))
    again = holder_server.client.post(path, json=body, headers=holder_server.auth)
    assert again.status_code == 200, again.text
    assert again.json()["verified"] is True
    # and now it is used up
    third = holder_server.client.post(path, json=body, headers=holder_server.auth)
    assert third.status_code in (409, 422), third.text
