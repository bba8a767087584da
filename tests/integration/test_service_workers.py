"""``tradevc-serve`` with ``[listen] workers = 2``, a real process on 127.0.0.1 called with httpx
over HTTPS on fresh connections (no keep-alive), so that requests reach both workers; which
worker answered is read from the log (each JSON line has the pid, each answer its request id).

What every worker must agree on: a token made by one is accepted by the other (the token key
made at start, no key file), a one-time challenge is used once whichever worker is asked, a
revocation answered by one is seen at once by the other's verifier and status lists, issuing
from both never hands out an index twice, rate limits and the failed-authentication limit hold
for the client, not per worker, and /metrics sums both. SIGTERM with requests in flight: every
one gets its whole 2xx answer, exit status 0, no worker left, the private folder removed (and
the same in flight with one worker). A worker killed is logged and replaced."""

from __future__ import annotations

import base64
import json
import os
import signal
import socket
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from jwcrypto import jwk, jwt

from support.service import CUSTOMS_SECRET, ERP_SECRET, MONITOR_SECRET, TOKEN_KEY, issue, mill_service, unsigned
from support.site_process import free_port
from tradevc.vc.keys import KeyPair
from tradevc.vc.securing.data_integrity import sign_presentation
from tradevc.vc.status import BitstringStatusList

SLOW = '[clients.slow]\nsecret_file = "erp.secret"\nscopes = ["verify"]\nrate = "4/hour"\n'


@pytest.fixture(scope="module")
def two(tmp_path_factory):
    # no [tokens] key_file and no [verifier] challenges: the key made at start and the
    # challenges in the private folder must be shared by the workers
    service = mill_service(tmp_path_factory.mktemp("workers"), free_port(), listen="workers = 2",
                           tokens='failures_per_ip = "3/hour"', verifier="", clients=SLOW)
    try:
        yield service
    finally:
        assert service.stop() == 0


@pytest.fixture(scope="module")
def erp(two):
    return two.token("erp", ERP_SECRET)


@pytest.fixture(scope="module")
def customs(two):
    return two.token("customs", CUSTOMS_SECRET)


def many(service, count, call):
    """``call(client)`` ``count`` times, 8 at once, each on a connection of its own."""
    with service.fresh() as client, ThreadPoolExecutor(8) as pool:
        return list(pool.map(lambda _: call(client), range(count)))


def bearer(token):
    return {"Authorization": f"Bearer {token}"}


def workers_of(service):
    return {e["pid"] for e in service.log_entries() if "request_id" in e} - {service.process.pid}


def test_two_workers_answer_and_each_accepts_the_others_tokens(two):
    tokens = many(two, 16, lambda c: c.post("/token", data={"grant_type": "client_credentials"},
                                             auth=("customs", CUSTOMS_SECRET)))
    assert {t.status_code for t in tokens} == {200}
    made_by = two.pids(tokens)
    assert len(set(made_by)) == 2 and two.process.pid not in made_by  # the parent answers nothing
    for token in {t.json()["access_token"] for t in tokens}:
        used = many(two, 6, lambda c: c.post("/challenges", headers=bearer(token)))
        assert {u.status_code for u in used} == {201}
    assert len(workers_of(two)) == 2
    # a token under another key (e.g. a start's before) is refused by every worker
    forged = jwt.JWT(header={"alg": "HS256", "typ": "at+jwt"}, claims={
        "iss": "tradevc-serve", "sub": "customs", "scope": "verify", "iat": int(time.time()),
        "exp": int(time.time()) + 600, "jti": "x"})
    forged.make_signed_token(jwk.JWK(kty="oct", k=base64.urlsafe_b64encode(TOKEN_KEY).rstrip(b"=").decode()))
    refused = many(two, 12, lambda c: c.post("/challenges", headers=bearer(forged.serialize())))
    assert {r.status_code for r in refused} == {401} and len(set(two.pids(refused))) == 2


def test_a_challenge_is_used_once_across_workers(two, erp, customs):
    credential = issue(two, erp)
    challenges = many(two, 8, lambda c: c.post("/challenges", headers=bearer(customs)))
    holder = KeyPair.generate("Ed25519")
    for made in challenges:
        challenge = made.json()["challenge"]
        vp = sign_presentation([credential], holder, challenge=challenge, domain="customs.example")
        body = {"verifiablePresentation": vp, "options": {"challenge": challenge, "domain": "customs.example"}}
        answers = many(two, 4, lambda c: c.post("/presentations/verify", json=body, headers=bearer(customs)))
        assert sorted(a.status_code for a in answers) == [200, 422, 422, 422], [a.text for a in answers]
        assert all("INVALID_CHALLENGE_ERROR" in a.json()["codes"] for a in answers if a.status_code == 422)
    assert len(set(two.pids(challenges))) == 2


def test_a_revocation_by_one_worker_is_seen_at_once_by_both(two, erp, customs):
    credentials = [issue(two, erp) for _ in range(3)]
    for credential in credentials:
        def verify(client, credential=credential):
            return client.post("/credentials/verify", json={"verifiableCredential": credential}, headers=bearer(customs))

        before = many(two, 12, verify)  # both workers now hold the lists in their verifier's cache
        assert {b.status_code for b in before} == {200} and len(set(two.pids(before))) == 2
        change = two.post("/issuers/mill/credentials/status", {
            "credentialId": credential["id"], "credentialStatus": [{"status": "revoked"}]}, erp)
        assert change.status_code == 200, change.text
        after = many(two, 12, verify)
        assert {a.status_code for a in after} == {422}, [a.text for a in after]
        assert all("REVOKED" in a.json()["codes"] for a in after)
        assert len(set(two.pids(after))) == 2
        # and the status list every worker serves has the bit set (each signed its own copy)
        entry = credential["credentialStatus"][0]
        lists = many(two, 12, lambda c: c.get(entry["statusListCredential"]))
        assert {a.status_code for a in lists} == {200} and len(set(two.pids(lists))) == 2
        for served in lists:
            encoded = served.json()["credentialSubject"]["encodedList"]
            assert BitstringStatusList.decode(encoded).get(int(entry["statusListIndex"])) == 1


def test_issues_from_both_workers_at_once_get_distinct_indexes(two, erp):
    answers = many(two, 24, lambda c: c.post("/issuers/mill/credentials/issue", json={"credential": unsigned(two)},
                                             headers=bearer(erp)))
    assert {a.status_code for a in answers} == {201}
    assert len(set(two.pids(answers))) == 2
    for purpose in ("revocation", "suspension"):
        indexes = [(e["statusListCredential"], e["statusListIndex"])
                   for a in answers for e in a.json()["verifiableCredential"]["credentialStatus"]
                   if e["statusPurpose"] == purpose]
        assert len(indexes) == 24 and len(set(indexes)) == 24


def test_a_rate_limit_holds_for_the_client_not_per_worker(two):
    slow = two.token("slow", ERP_SECRET)
    answers = many(two, 12, lambda c: c.post("/challenges", headers=bearer(slow)))
    assert sorted(a.status_code for a in answers) == [201] * 4 + [429] * 8  # 4 an hour, not 4 per worker
    assert len(set(two.pids(answers))) == 2
    assert all(int(a.headers["retry-after"]) >= 1 for a in answers if a.status_code == 429)


def test_failed_authentications_are_limited_for_all_workers_together(two):
    def guess(client):
        return client.post("/token", data={"grant_type": "client_credentials"}, auth=("guessed", "wrong 0123456789ab"))

    clients = two.pinned(2)  # one after the other, to each worker in turn: a guess is counted once its secret
    try:                     # was compared (at once, each worker could let one more through)
        answers = [guess(clients[n % 2]) for n in range(9)]
    finally:
        for client in clients:
            client.close()
    assert sorted(a.status_code for a in answers) == [401] * 3 + [429] * 6  # 3 an hour, not 3 per worker
    assert len(set(two.pids(answers))) == 2


def test_metrics_sum_every_worker(two):
    from prometheus_client.parser import text_string_to_metric_families

    monitor = two.token("monitor", MONITOR_SECRET)

    def healthz_count():
        scrapes = many(two, 6, lambda c: c.get("/metrics", headers=bearer(monitor)))
        assert len(set(two.pids(scrapes))) == 2
        counts = set()
        for scrape in scrapes:
            assert scrape.status_code == 200, scrape.text
            samples = [s for f in text_string_to_metric_families(scrape.text) for s in f.samples]
            counts.add(sum(s.value for s in samples if s.name == "tradevc_http_requests_total"
                           and s.labels.get("route") == "/healthz"))
        assert len(counts) == 1, counts  # whichever worker answers, the same sum
        return counts.pop()

    before = healthz_count()
    health = many(two, 20, lambda c: c.get("/healthz"))
    assert len(set(two.pids(health))) == 2  # (each is counted, as logged, once its answer is sent)
    assert healthz_count() - before == 20


def test_connections_opened_at_once_are_shared_out_evenly(two, customs):
    """Eight keep-alive connections opened at once: four on each worker, each keeping its worker
    (the supervisor hands connections out in turn; left to the kernel, the first worker awake
    took all it found waiting)."""
    clients = [httpx.Client(base_url=two.base, verify=two.context, timeout=60,
                            limits=httpx.Limits(max_connections=1, max_keepalive_connections=1)) for _ in range(8)]
    together = threading.Barrier(8)

    def first(client):
        together.wait()
        return client.post("/challenges", headers=bearer(customs))

    try:
        with ThreadPoolExecutor(8) as pool:
            opened = list(pool.map(first, clients))
        again = [client.post("/challenges", headers=bearer(customs)) for client in clients for _ in range(2)]
        assert {a.status_code for a in opened + again} == {201}
        by_connection = two.pids(opened)
        assert sorted(by_connection.count(pid) for pid in set(by_connection)) == [4, 4], by_connection
        assert two.pids(again) == [pid for pid in by_connection for _ in range(2)]  # each stays on its worker
    finally:
        for client in clients:
            client.close()


def test_a_worker_that_dies_is_logged_and_replaced(two, customs):
    """Last in the module (it kills a worker)."""
    before = workers_of(two)
    victim = sorted(before)[0]
    os.kill(victim, signal.SIGKILL)
    for _ in range(200):
        entries = two.log_entries()
        reported = any(e["message"] == f"worker {victim} ended (killed by SIGKILL); starting another" for e in entries)
        started = {e["pid"] for e in entries if e["message"] == "Application startup complete."} - before
        if reported and started:
            break
        time.sleep(0.05)
    else:
        pytest.fail("the dead worker was not reported, or no other started")
    answers = many(two, 16, lambda c: c.post("/challenges", headers=bearer(customs)))
    assert {a.status_code for a in answers} == {201}
    pids = set(two.pids(answers))
    assert victim not in pids and len(pids) == 2


# -- graceful shutdown ------------------------------------------------------------------------


def slow_body(document, pieces=6, pause=0.3):
    """``document`` as JSON, sent in ``pieces`` with a ``pause`` before each: a request that stays
    in flight for a couple of seconds."""
    data = json.dumps(document).encode()
    size = -(-len(data) // pieces)
    for start in range(0, len(data), size):
        time.sleep(pause)
        yield data[start:start + size]


@pytest.mark.parametrize("workers", [1, 2])
def test_sigterm_finishes_the_requests_in_flight_then_exit_0(tmp_path, workers):
    service = mill_service(tmp_path, free_port(), listen=f"workers = {workers}")
    try:
        erp, customs = service.token("erp", ERP_SECRET), service.token("customs", CUSTOMS_SECRET)
        credential = issue(service, erp)
        # every worker verifies once first: a verification in flight at the stop cannot fetch
        # this service's own did.json and status lists any more (it no longer accepts connections)
        warm: set[int] = set()
        for _ in range(50):
            verified = many(service, 4, lambda c: c.post("/credentials/verify", json={"verifiableCredential": credential},
                                                          headers=bearer(customs)))
            assert {v.status_code for v in verified} == {200}
            warm |= set(service.pids(verified))
            if len(warm) == workers:
                break
        started = threading.Barrier(9)
        answers: list[httpx.Response] = []

        def one(n):
            with service.fresh() as client:
                if n % 2:
                    path, body = "/credentials/verify", {"verifiableCredential": credential}
                else:
                    path, body = "/issuers/mill/credentials/issue", {"credential": unsigned(service)}
                token = customs if n % 2 else erp
                started.wait()
                answers.append(client.post(path, content=slow_body(body), headers={
                    **bearer(token), "Content-Type": "application/json"}))

        threads = [threading.Thread(target=one, args=(n,)) for n in range(8)]
        for thread in threads:
            thread.start()
        started.wait()
        time.sleep(0.8)  # every request has begun sending its body (it takes about 2 s)
        service.process.send_signal(signal.SIGTERM)
        for thread in threads:
            thread.join(timeout=60)
        assert sorted(a.status_code for a in answers) == [200] * 4 + [201] * 4, [a.text for a in answers]
        assert all(a.json() for a in answers)  # whole answers
        status = service.process.wait(timeout=60)
    finally:
        service.stop(signal.SIGKILL)
    assert status == 0, service.log.read_text()
    entries = service.log_entries()
    served_by = set(service.pids(answers))
    assert len(served_by) == workers
    for pid in served_by | {e["pid"] for e in entries}:  # no worker is left behind
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)
    folders = [e["message"].rsplit(" ", 1)[1] for e in entries if "sharing the private folder" in e["message"]]
    assert len(folders) == (1 if workers > 1 else 0)
    assert not any(Path(folder).exists() for folder in folders)
    assert "Traceback" not in service.log.read_text()


def accept_queue(port: int) -> int | None:
    """How many connections wait to be accepted on the listening socket of ``port`` (the
    kernel's count, /proc/net/tcp), or None when nothing listens there."""
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        if fields[3] == "0A" and int(fields[1].split(":")[1], 16) == port:
            return int(fields[4].split(":")[1], 16)
    return None


def test_a_connection_handed_over_just_before_the_stop_is_served(tmp_path):
    """A connection the supervisor accepted and handed to a worker that has not taken it yet
    (both workers are stopped with SIGSTOP meanwhile) when SIGTERM comes: the supervisor stops
    listening, the workers, resumed, serve that connection's request whole, then end; exit 0."""
    port = free_port()
    service = mill_service(tmp_path, port, listen="workers = 2")
    workers: list[int] = []
    try:
        started = [e["message"] for e in service.log_entries() if "workers started" in e["message"]]
        workers = [int(pid) for pid in started[0].split(": ", 1)[1].split()]
        for pid in workers:
            os.kill(pid, signal.SIGSTOP)
        raw = socket.create_connection(("127.0.0.1", port), timeout=60)
        for _ in range(200):  # the supervisor accepts it (and hands it over at once)
            if accept_queue(port) == 0:
                break
            time.sleep(0.05)
        else:
            pytest.fail("the supervisor did not accept the connection")
        service.process.send_signal(signal.SIGTERM)
        for _ in range(200):  # it stopped listening: it has signalled the workers
            if accept_queue(port) is None:
                break
            time.sleep(0.05)
        else:
            pytest.fail("the supervisor did not stop listening")
        for pid in workers:
            os.kill(pid, signal.SIGCONT)
        with service.context.wrap_socket(raw, server_hostname="127.0.0.1") as tls:
            tls.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
            answer = b""
            while chunk := tls.recv(65536):
                answer += chunk
        assert answer.startswith(b"HTTP/1.1 200 "), answer
        status = service.process.wait(timeout=60)
    finally:
        for pid in workers:
            try:
                os.kill(pid, signal.SIGCONT)
            except ProcessLookupError:
                pass
        service.stop(signal.SIGKILL)
    assert status == 0, service.log.read_text()
    assert "Traceback" not in service.log.read_text()
