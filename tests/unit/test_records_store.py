"""The service's records (tradevc.service.records): SQLite and PostgreSQL alike, several
processes receiving the same presentation id at once get exactly one True (the primary key
decides, not a read then a write); rows past their time are not answered, are taken over, and
are purged; in memory, the records are bounded."""

from __future__ import annotations

import multiprocessing
import sqlite3

import pytest

from support.postgres import fresh_database
from tradevc.service.records import DatabaseRecords, MemoryRecords, RecordsError, open_records
from tradevc.verifier.ledger import open_ledger

DAY = 86_400


@pytest.fixture(params=["sqlite", "postgresql"])
def location(request, tmp_path) -> str:
    if request.param == "sqlite":
        return str(tmp_path / "records.sqlite")
    return fresh_database(request.getfixturevalue("postgres_cluster"), "records")


def _receive_many(location: str, start, results) -> None:
    records = DatabaseRecords(location)
    start.wait()
    results.put([records.receive("urn:uuid:race", "did:key:z6MkA") for _ in range(5)])
    records.close()


def test_several_processes_receiving_one_id_get_one_true(location):
    DatabaseRecords(location).close()  # the tables, once
    context = multiprocessing.get_context("fork")
    start, results = context.Event(), context.Queue()
    workers = [context.Process(target=_receive_many, args=(location, start, results)) for _ in range(4)]
    for worker in workers:
        worker.start()
    start.set()
    answers = [answer for _ in workers for answer in results.get(timeout=60)]
    for worker in workers:
        worker.join(timeout=60)
        assert worker.exitcode == 0
    assert answers.count(True) == 1 and len(answers) == 20


def test_kept_for_their_days_then_taken_over_and_purged(location):
    now = [1_800_000_000.0]
    records = DatabaseRecords(location, report_days=400, presentation_days=30, clock=lambda: now[0])
    try:
        assert records.receive("urn:x", "did:key:a") and not records.receive("urn:x", "did:key:a")
        assert records.receive("urn:x", "did:key:b")  # another signer's
        records.keep_report("r1", "broker", '{"id": "r1"}', "<html></html>")
        found = records.report("r1")
        assert found is not None and (found.client_id, found.json, found.html) == ("broker", '{"id": "r1"}',
                                                                                    "<html></html>")
        now[0] += 30 * DAY + 1
        assert not records.received("urn:x", "did:key:a")
        assert records.receive("urn:x", "did:key:a")  # past its time: taken over
        now[0] += 371 * DAY
        assert records.report("r1") is None
    finally:
        records.close()
    # a new process purges at once: the old rows are gone, the kept ones stay
    again = DatabaseRecords(location, clock=lambda: now[0])
    try:
        again.receive("urn:y", "did:key:a")
    finally:
        again.close()
    if not location.startswith("postgresql"):
        with sqlite3.connect(location) as db:
            assert db.execute("SELECT COUNT(*) FROM service_entry_reports").fetchone()[0] == 0
            assert {r[0] for r in db.execute("SELECT presentation_id FROM service_received_presentations")} == {"urn:y"}


def test_records_beside_a_ledger_in_its_database(location):
    """The ledger is opened first (as the service does), then the records' tables join it; the
    ledger still opens afterwards."""
    open_ledger(location).close()
    DatabaseRecords(location).close()
    open_ledger(location).close()


def test_memory_records_are_bounded():
    records = MemoryRecords(limit=3)
    for i in range(5):
        assert records.receive(f"urn:{i}", "did:key:a")
        records.keep_report(f"r{i}", "broker", "{}", "")
    assert not records.received("urn:0", "did:key:a") and records.received("urn:4", "did:key:a")
    assert records.report("r1") is None and records.report("r4") is not None


def test_a_file_that_is_not_sqlite_is_refused(tmp_path):
    (tmp_path / "notes.txt").write_text("not a database, and long enough to be read as a header " * 4)
    with pytest.raises(RecordsError, match="is not a records database"):
        open_records(str(tmp_path / "notes.txt"))
    with pytest.raises(RecordsError, match="the folder"):
        open_records(str(tmp_path / "nowhere" / "records.sqlite"))
    with pytest.raises(RecordsError, match="unknown records location"):
        open_records("ftp://example/records")
