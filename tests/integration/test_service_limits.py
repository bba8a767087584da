"""``tradevc-serve``'s rate limits, against a real process on 127.0.0.1 (plain HTTP, a verifier
only): a client over its rate gets 429 problems with ``Retry-After`` while another client is
unaffected; failed client authentications at ``POST /token`` are limited per address."""

from __future__ import annotations

import json
import subprocess
import sys

import httpx
import pytest

from support.service import stop_server, wait_ready
from support.site_process import ENV, free_port

SLOW_SECRET = "slow-secret-0123456789"
FAST_SECRET = "fast-secret-0123456789"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    root = tmp_path_factory.mktemp("limits")
    port = free_port()
    (root / "trust.json").write_text(json.dumps({"trustedIssuers": [
        {"did": "did:web:mill.example", "name": "Mill", "types": ["USMCACertificationOfOrigin"]}]}))
    (root / "slow.secret").write_text(SLOW_SECRET)
    (root / "fast.secret").write_text(FAST_SECRET)
    (root / "service.toml").write_text(f"""
[listen]
port = {port}

[tokens]
failures_per_ip = "3/hour"

[verifier]
trust = "trust.json"
challenges = "challenges.sqlite"

[clients.slow]
secret_file = "slow.secret"
scopes = ["verify"]
rate = "3/minute"

[clients.fast]
secret_file = "fast.secret"
scopes = ["verify"]
""")
    with open(root / "server.log", "w") as log:
        process = subprocess.Popen([sys.executable, "-m", "tradevc.service", "--config", str(root / "service.toml")],
                                   stdout=subprocess.DEVNULL, stderr=log, text=True, env=ENV)
    client = httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30)
    try:
        wait_ready(client, process, root / "server.log")
        yield client
    finally:
        client.close()
        stop_server(process)


def token(client, client_id, secret):
    answer = client.post("/token", data={"grant_type": "client_credentials"}, auth=(client_id, secret))
    assert answer.status_code == 200, answer.text
    return {"Authorization": f"Bearer {answer.json()['access_token']}"}


def test_a_client_over_its_rate_gets_429_with_retry_after(server):
    slow, fast = token(server, "slow", SLOW_SECRET), token(server, "fast", FAST_SECRET)
    for _ in range(3):
        assert server.post("/challenges", headers=slow).status_code == 201
    over = server.post("/challenges", headers=slow)
    assert over.status_code == 429, over.text
    assert over.headers["content-type"] == "application/problem+json"
    assert over.json()["type"] == "urn:tradevc:problem:too-many-requests"
    assert 1 <= int(over.headers["retry-after"]) <= 60  # 3 a minute: one back within 20 seconds
    # another client is not affected, however many it sends
    for _ in range(6):
        assert server.post("/challenges", headers=fast).status_code == 201
    # the limit is the client's, not its token's: a new token does not reset it
    assert server.post("/challenges", headers=token(server, "slow", SLOW_SECRET)).status_code == 429
    # a request without a valid token is refused before the limit is counted (401, not 429)
    assert server.post("/challenges", headers={"Authorization": "Bearer nonsense"}).status_code == 401


def test_failed_client_authentications_are_limited_per_address(server):
    """Last in the module: it leaves this address unable to get tokens for an hour."""
    good = token(server, "fast", FAST_SECRET)  # a client that knows its secret is never counted
    assert server.post("/challenges", headers=good).status_code == 201
    for _ in range(3):
        wrong = server.post("/token", data={"grant_type": "client_credentials"}, auth=("fast", "guess 0123456789abc"))
        assert wrong.status_code == 401 and wrong.json()["error"] == "invalid_client"
    blocked = server.post("/token", data={"grant_type": "client_credentials"}, auth=("fast", "guess 0123456789abc"))
    assert blocked.status_code == 429 and int(blocked.headers["retry-after"]) >= 1
    # the right secret from the same address waits too: the guesser cannot tell a hit from a miss
    right = server.post("/token", data={"grant_type": "client_credentials"}, auth=("fast", FAST_SECRET))
    assert right.status_code == 429
    # failures count per address and client: guessing one client's secret (behind a proxy, all
    # callers share one address) locks out no other client
    assert token(server, "slow", SLOW_SECRET)["Authorization"].startswith("Bearer ")
    assert server.post("/challenges", headers=good).status_code == 201  # tokens already issued still work
