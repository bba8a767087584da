"""One Issuer, challenge store or ledger shared by many threads (issue 19, point 4): a service
answers requests on a pool of threads, each using the objects its process opened once."""

from __future__ import annotations

import itertools
import json
import os
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timezone
from decimal import Decimal

import pytest

from tradevc.issuer import Issuer
from tradevc.verifier.challenges import SqliteChallengeStore
from tradevc.verifier.ledger import Draw, open_ledger

PASS = b"mill passphrase"
STATUS_BASE = "https://mill.example/status/"
THREADS = 8
CREDENTIAL = {
    "@context": ["https://www.w3.org/ns/credentials/v2"],
    "type": ["VerifiableCredential"],
    "credentialSubject": {"id": "did:example:buyer", "name": "Steel Buyer"},
}


def on_threads(work, items, threads: int = THREADS) -> list:
    """``work(item)`` for every item, on ``threads`` threads; the first ``threads`` items start
    at once (each holds its thread at a barrier until all are there)."""
    items = list(items)
    assert len(items) >= threads
    start = threading.Barrier(threads)

    def run(numbered):
        n, item = numbered
        if n < threads:
            start.wait()
        return work(item)

    with ThreadPoolExecutor(threads) as pool:
        return list(pool.map(run, enumerate(items)))


@pytest.fixture
def issuer(tmp_path):
    """A did:web issuer with status lists, opened on this (the test's) thread."""
    with Issuer.init(tmp_path / "home", PASS, name="Aceros del Norte", did_web_domain="mill.example",
                     status_base_url=STATUS_BASE) as issuer:
        yield issuer


def entries(credential: dict) -> dict[str, int]:
    return {e["statusPurpose"]: int(e["statusListIndex"]) for e in credential["credentialStatus"]}


def test_an_issuer_opened_on_one_thread_issues_revokes_and_publishes_from_many(issuer, tmp_path):
    ids = [f"urn:uuid:thread-{n}" for n in range(48)]
    issued = on_threads(lambda cid: issuer.issue(CREDENTIAL, credential_id=cid), ids)

    assert [c["id"] for c in issued] == ids
    for purpose in ("revocation", "suspension"):
        indexes = [entries(c)[purpose] for c in issued]
        assert len(set(indexes)) == len(ids)  # none handed out twice
    records = {r.id: r for r in issuer.issued()}
    assert set(records) == set(ids)
    assert {r.state for r in records.values()} == {"issued"}

    revoked = ids[::2]
    assert on_threads(issuer.revoke, revoked) == [True] * len(revoked)
    assert on_threads(issuer.revoke, revoked) == [False] * len(revoked)  # already revoked
    assert on_threads(issuer.suspend, ids[1::2]) == [True] * len(ids[1::2])
    records = {r.id: r for r in issuer.issued()}
    assert [records[cid].revoked for cid in ids] == [n % 2 == 0 for n in range(len(ids))]
    assert [records[cid].suspended for cid in ids] == [n % 2 == 1 for n in range(len(ids))]

    # publishing on another thread while others issue; then the lists hold the revoked bits
    out = tmp_path / "site"
    more = [f"urn:uuid:later-{n}" for n in range(8)]
    with ThreadPoolExecutor(4) as pool:
        published = pool.submit(issuer.publish, out)
        later = list(pool.map(lambda cid: issuer.issue(CREDENTIAL, credential_id=cid), more))
        written = published.result()
    assert {p.name for p in written} >= {"did.json", "1"}
    assert len(issuer.issued()) == len(ids) + len(more) and all(entries(c) for c in later)
    from tradevc.vc.status import BitstringStatusList

    revocation = json.loads((out / "status" / "revocation" / "1").read_text())
    bits = BitstringStatusList.decode(revocation["credentialSubject"]["encodedList"])
    for n, credential in enumerate(issued):
        assert bits.get(entries(credential)["revocation"]) == (1 if n % 2 == 0 else 0)
    states = on_threads(lambda _: issuer.status_lists(), range(THREADS))
    assert all(len(s) == 2 and all(x.published is not None for x in s) for s in states)


def test_issuing_on_threads_signs_with_the_key_of_the_home(tmp_path):
    """Every credential signed on the pool verifies under the issuer's key, and is what the
    registry recorded (the unsealed key and the context loader are shared by the threads);
    verifying on the pool, with the same loader, passes too."""
    from tradevc.vc.jsonld import default_loader
    from tradevc.vc.retrieval.did.resolver import DidResolvers
    from tradevc.vc.securing.proofs.data_integrity import verify_proof

    with Issuer.init(tmp_path / "home", PASS, name="Aceros del Norte", status_base_url=STATUS_BASE) as issuer:
        for suite in ("eddsa-rdfc-2022", "eddsa-jcs-2022"):
            issued = on_threads(lambda n: issuer.issue(CREDENTIAL, credential_id=f"urn:uuid:{suite}-{n}",
                                                       cryptosuite=suite), range(24))
            _, method = issuer.home.signing_key(PASS)
            resolvers, loader = DidResolvers.offline(), default_loader()
            verified = on_threads(lambda c: verify_proof(c, c["proof"], resolvers=resolvers, loader=loader), issued)
            assert [v.method.id for v in verified] == [method] * len(issued)
            assert [c["proof"]["cryptosuite"] for c in issued] == [suite] * len(issued)
            for credential in issued:
                assert issuer.registry.document(credential["id"]) == credential


def test_an_issuer_closed_on_its_thread_closes_what_other_threads_opened(tmp_path):
    issuer = Issuer.init(tmp_path / "home", PASS, name="Aceros del Norte", did_web_domain="mill.example",
                         status_base_url=STATUS_BASE)
    on_threads(lambda n: issuer.issue(CREDENTIAL, credential_id=f"urn:uuid:c-{n}"), range(THREADS))
    issuer.close()
    with pytest.raises(ValueError, match="closed"):
        issuer.issued()
    with pytest.raises(ValueError, match="closed"):
        on_threads(lambda n: issuer.revoke(f"urn:uuid:c-{n}"), range(THREADS))
    issuer.close()  # a second close does nothing
    again = Issuer.open(tmp_path / "home", PASS)
    assert len(again.issued()) == THREADS
    again.close()


def test_one_verifier_verifies_on_many_threads(tmp_path):
    """A Verifier shared by threads gives each credential its own verdict: the genuine ones
    verify, the tampered ones (every other one) are refused for their proof."""
    import copy

    from tradevc.verifier import TrustPolicy, Verifier

    with Issuer.init(tmp_path / "home", PASS, name="Aceros del Norte") as issuer:
        issued = [issuer.issue(CREDENTIAL, credential_id=f"urn:uuid:v-{n}") for n in range(THREADS)]
        did = issuer.did
    documents = []
    for n in range(48):
        document = copy.deepcopy(issued[n % len(issued)])
        if n % 2:
            document["credentialSubject"]["name"] = "Someone Else"
        documents.append(document)
    verifier = Verifier.offline(policy=TrustPolicy({did: ["VerifiableCredential"]}))
    verdicts = on_threads(verifier.verify_credential, documents)
    assert [v.verified for v in verdicts] == [n % 2 == 0 for n in range(48)]
    assert {v.check("proof").code for v in verdicts[1::2]} == {"PROOF_VERIFICATION_ERROR"}


# -- the verifier's stores ---------------------------------------------------------------------


def test_a_challenge_store_opened_on_one_thread_is_consumed_once_from_many(tmp_path):
    store = SqliteChallengeStore(tmp_path / "challenges.sqlite")
    tokens = [store.issue().token for _ in range(40)]
    # every thread tries every challenge: each is won exactly once, the others read "used"
    attempts = [t for t in tokens for _ in range(THREADS)]
    outcomes = on_threads(lambda t: (t, store.consume(t)), attempts)
    won = [t for t, refused in outcomes if refused is None]
    assert sorted(won) == sorted(tokens)
    assert {refused.reason for _, refused in outcomes if refused is not None} == {"used"}
    issued_on_threads = on_threads(lambda _: store.issue().token, range(THREADS * 4))
    assert on_threads(store.consume, issued_on_threads) == [None] * len(issued_on_threads)
    store.close()


def when() -> datetime:
    return datetime.now(timezone.utc)


_databases = itertools.count(1)


def postgres_url(cluster) -> str:
    """A new, empty database on the session's PostgreSQL cluster."""
    import psycopg

    name = f"threads_{os.getpid()}_{next(_databases)}"
    with psycopg.connect(cluster.url, autocommit=True) as db:
        db.execute(f"CREATE DATABASE {name}")  # noqa: S608  (a name made here)
    return cluster.url.rsplit("/", 1)[0] + "/" + name


@pytest.fixture(params=["sqlite", "postgresql"])
def ledger_location(request, tmp_path) -> str:
    """A new ledger: an SQLite file, or a database of its own on the session's PostgreSQL cluster."""
    if request.param == "sqlite":
        return str(tmp_path / "ledger.sqlite")
    return postgres_url(request.getfixturevalue("postgres_cluster"))


def test_a_ledger_shared_by_threads_is_never_over_drawn(ledger_location):
    ledger = open_ledger(ledger_location)
    cap = Decimal(10_000)

    def record(n: int):
        draws = [Draw("certificate", "urn:uuid:cert", line=1, quantity_kg=Decimal(700), cap_kg=cap),
                 Draw("heat", f"heat:{n % 3}", line=1, quantity_kg=Decimal(700), cap_kg=None)]
        return ledger.record(f"316-{n:07d}-0", draws, decision="ACCEPT", when=when(), refuse_overdraw=True)

    results = on_threads(record, range(40))
    written = [r for r in results if r.written]
    assert len(written) == 14  # 14 x 700 = 9800 <= 10000 < 15 x 700
    assert all(r.status == "refused" and r.overdraws for r in results if not r.written)
    total, usage = ledger.drawn("urn:uuid:cert")
    assert total == Decimal(9800) and len(usage) == 14
    assert sorted(n for n, _ in usage) == sorted(r.entry_number for r in written)
    # replays and reads from the threads, while the numbers stay the same
    replayed = on_threads(record, [int(r.entry_number[4:11]) for r in written])
    assert {r.status for r in replayed} == {"replayed"}
    assert on_threads(lambda _: ledger.drawn("urn:uuid:cert")[0], range(THREADS)) == [Decimal(9800)] * THREADS
    assert len(ledger.entries()) == 14
    ledger.close()


# -- the context loader's caches ---------------------------------------------------------------


def test_the_processed_contexts_a_loader_keeps_can_be_used_by_threads_at_once():
    """pyld keeps, with each pinned context it resolved, the contexts it processed from it
    (keyed by the active context before it) in an LRU cache of 10 that is not safe for threads
    (cachetools): threads signing or verifying with one loader evict from it at once. Here 4
    threads store and look up processed contexts in the very cache a signature left there, as
    pyld does when documents with other contexts (inline ones) come one after another."""
    import sys

    from tradevc.vc.jsonld import PinnedContextLoader, to_dataset

    loader = PinnedContextLoader()
    to_dataset(CREDENTIAL, loader)
    resolved = loader.context_cache["https://www.w3.org/ns/credentials/v2"]["static"]
    resolved = resolved[0] if isinstance(resolved, list) else resolved
    errors: list[BaseException] = []

    def churn(thread: int) -> None:
        try:
            for n in range(20_000):
                active = {"_uuid": f"{thread}-{n}"}
                resolved.set_processed(active, {"processed": n})
                resolved.get_processed({"_uuid": f"{thread}-{n - 1}"})
        except Exception as e:  # noqa: BLE001  (collected: the test fails with them)
            errors.append(e)

    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # switch threads often, as a busy server does
    try:
        workers = [threading.Thread(target=churn, args=(t,)) for t in range(4)]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join()
    finally:
        sys.setswitchinterval(interval)
    assert errors == []


def test_threads_of_a_postgresql_ledger_drawing_other_resources_do_not_wait_for_each_other(postgres_cluster):
    """A PostgreSQL ledger shared by threads runs their transactions on connections of their
    own: while one thread waits for a resource another writer holds, a thread drawing another
    resource records at once (one connection for all would make it wait behind the first)."""
    import psycopg

    url = postgres_url(postgres_cluster)
    ledger = open_ledger(url, timeout=120)
    held, other = "urn:uuid:held", "urn:uuid:other"
    ledger.record("316-0000001-0", [Draw("certificate", held, 1, Decimal(1), Decimal(100))], decision="ACCEPT",
                  when=when())
    with psycopg.connect(url) as writer:  # another port's writer, in the middle of its transaction
        writer.execute("SELECT 1 FROM ledger_resources WHERE resource_id = %s FOR UPDATE", (held,))
        waiting: list = []
        first = threading.Thread(target=lambda: waiting.append(ledger.record(
            "316-0000002-0", [Draw("certificate", held, 1, Decimal(1), Decimal(100))], decision="ACCEPT",
            when=when())))
        first.start()
        with psycopg.connect(url, autocommit=True) as watcher:  # until the thread waits for the lock
            while not watcher.execute("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'"
                                      " AND application_name = 'tradevc-ledger'").fetchone()[0]:
                assert first.is_alive(), waiting
        result = ledger.record("316-0000003-0", [Draw("certificate", other, 1, Decimal(1), Decimal(100))],
                               decision="ACCEPT", when=when())
        assert result.status == "new"
        assert first.is_alive() and waiting == []  # still waiting for the other writer
        writer.rollback()
    first.join()
    assert [r.status for r in waiting] == ["new"]
    assert ledger.drawn(held)[0] == Decimal(2) and ledger.drawn(other)[0] == Decimal(1)
    ledger.close()


def test_a_postgresql_ledger_opens_no_more_connections_than_it_may(postgres_cluster):
    import psycopg

    from tradevc.verifier.ledger import PostgresLedger

    url = postgres_url(postgres_cluster)
    database = url.rsplit("/", 1)[1]
    with pytest.raises(ValueError, match="at least one connection"):
        PostgresLedger(url, connections=0)

    def connections() -> int:
        with psycopg.connect(url, autocommit=True) as watcher:
            return int(watcher.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = %s AND "
                                       "application_name = 'tradevc-ledger'", (database,)).fetchone()[0])

    ledger = PostgresLedger(url, connections=2)
    seen: list[int] = []

    def record(n: int):
        result = ledger.record(f"316-{n:07d}-0", [Draw("heat", f"heat:{n}", 1, Decimal(5), Decimal(10))],
                               decision="ACCEPT", when=when())
        seen.append(connections())
        return result.status

    assert on_threads(record, range(24)) == ["new"] * 24
    assert max(seen) <= 2 and connections() <= 2
    ledger.close()
    for _ in range(200):  # a server process ends a moment after its client said goodbye
        if connections() == 0:
            break
        time.sleep(0.05)
    assert connections() == 0
    with pytest.raises(ValueError, match="closed"):
        ledger.entries()
