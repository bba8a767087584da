"""The one transaction helper of the archive's index and the service's records
(:class:`tradevc.verifier.database.Transactions`), on an SQLite file and on a throwaway
PostgreSQL cluster: placeholders, commit and rollback, the write lock, WAL on first use, and
one wording of a PostgreSQL failure whichever database met it."""

from __future__ import annotations

import sqlite3
import threading
from datetime import datetime, timezone

import psycopg
import pytest

from support.bundles import credential, make_bundle, policy_document, to_bytes
from support.postgres import fresh_database
from tradevc.service.records import DatabaseRecords, RecordsError
from tradevc.vc.keys import KeyPair
from tradevc.verifier.archive import Archive, ArchiveError
from tradevc.verifier.database import Transactions

MILL = KeyPair.generate("Ed25519")


class Failed(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@pytest.fixture(params=["sqlite", "postgresql"])
def location(request, tmp_path) -> str:
    if request.param == "sqlite":
        return str(tmp_path / "things.db")
    return fresh_database(request.getfixturevalue("postgres_cluster"), "transactions")


@pytest.fixture
def things(location):
    db = Transactions(location, timeout=2, what="things", error=Failed, application_name="tradevc-test")
    db.run(lambda cursor: cursor.execute("CREATE TABLE things (name TEXT PRIMARY KEY, n INTEGER NOT NULL)"),
           write=True)
    yield db
    db.close()


def _names(db: Transactions) -> list[str]:
    def work(cursor):
        cursor.execute(db.sql("SELECT name FROM things WHERE n >= ? ORDER BY name"), (0,))
        return [row[0] for row in cursor.fetchall()]

    return db.run(work)


def test_placeholders_are_the_driver_s(location):
    db = Transactions(location, timeout=2, what="things", error=Failed, application_name="tradevc-test")
    try:
        statement = "SELECT 1 WHERE ? = ?"
        assert db.postgres == location.startswith("postgresql://")
        assert db.sql(statement) == (statement.replace("?", "%s") if db.postgres else statement)
    finally:
        db.close()


def test_work_that_returns_is_committed_and_work_that_raises_rolled_back(things):
    things.run(lambda cursor: cursor.execute(things.sql("INSERT INTO things VALUES (?, ?)"), ("bolt", 1)), write=True)

    def half_done(cursor):
        cursor.execute(things.sql("INSERT INTO things VALUES (?, ?)"), ("nut", 2))
        raise KeyError("changed its mind")

    with pytest.raises(KeyError):
        things.run(half_done, write=True)
    assert _names(things) == ["bolt"]
    # a driver error is the user's exception, one line, and the transaction is gone
    with pytest.raises(Failed) as refused:
        things.run(lambda cursor: cursor.execute(things.sql("INSERT INTO things VALUES (?, ?)"), ("bolt", 3)),
                   write=True)
    assert "things" in refused.value.message and "\n" not in refused.value.message
    assert _names(things) == ["bolt"]


def test_an_sqlite_file_is_in_wal_mode_after_first_use(tmp_path):
    path = tmp_path / "wal.db"
    db = Transactions(path, timeout=2, what="things", error=Failed, application_name="tradevc-test")
    try:
        db.run(lambda cursor: cursor.execute("SELECT 1"))
        with sqlite3.connect(path) as other:
            assert other.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    finally:
        db.close()


def test_a_writer_waits_for_the_sqlite_write_lock_and_says_so(tmp_path):
    path = tmp_path / "locked.db"
    db = Transactions(path, timeout=0.2, what="things", error=Failed, application_name="tradevc-test")
    db.run(lambda cursor: cursor.execute("CREATE TABLE things (name TEXT)"), write=True)
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        with pytest.raises(Failed, match=r"^the things .* stayed locked by another writer for 0.2 s: retry"):
            db.run(lambda cursor: None, write=True)
        assert db.run(lambda cursor: cursor.execute("SELECT count(*) FROM things").fetchone()[0]) == 0  # readers go on
    finally:
        holder.execute("ROLLBACK")
        holder.close()
        db.close()


def test_threads_share_the_sqlite_connection_one_transaction_at_a_time(tmp_path):
    db = Transactions(tmp_path / "threads.db", timeout=5, what="things", error=Failed, application_name="tradevc-test")
    db.run(lambda cursor: cursor.execute("CREATE TABLE counter (n INTEGER)"), write=True)
    db.run(lambda cursor: cursor.execute("INSERT INTO counter VALUES (0)"), write=True)

    def bump(cursor):
        n = cursor.execute("SELECT n FROM counter").fetchone()[0]
        cursor.execute("UPDATE counter SET n = ?", (n + 1,))

    def many():
        for _ in range(25):
            db.run(bump, write=True)

    workers = [threading.Thread(target=many) for _ in range(4)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    try:
        assert db.run(lambda cursor: cursor.execute("SELECT n FROM counter").fetchone()[0]) == 100
    finally:
        db.close()


def test_a_closed_helper_refuses_work(location):
    db = Transactions(location, timeout=2, what="things", error=Failed, application_name="tradevc-test")
    db.close()
    with pytest.raises(ValueError, match="this things is closed"):
        db.run(lambda cursor: None)


# -- one wording of a PostgreSQL failure, for the archive's index and the service's records ----


def _terminate(cluster, application_name: str) -> int:
    with psycopg.connect(cluster.url, autocommit=True) as admin:
        rows = admin.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = %s",
                             (application_name,)).fetchall()
    return len(rows)


def _archive(tmp_path, url):
    return Archive(tmp_path / "archive", url, timeout=2)


def _records(tmp_path, url):
    return DatabaseRecords(url, timeout=2)


USERS = [
    pytest.param(_archive, ArchiveError, "archive index", "tradevc-archive",
                 lambda archive: archive.search(importer="Acme Imports"), id="archive"),
    pytest.param(_records, RecordsError, "records", "tradevc-records",
                 lambda records: records.report("no-such-report"), id="records"),
]


@pytest.mark.parametrize("opened, error, what, application_name, read", USERS)
def test_a_server_gone_midway_is_worded_once_and_the_next_call_reconnects(
        postgres_cluster, tmp_path, opened, error, what, application_name, read):
    url = fresh_database(postgres_cluster, "gone")
    user = opened(tmp_path, url.replace("postgres@", "postgres:s3cret@"))
    try:
        read(user)  # a connection is open and idle in the pool
        assert _terminate(postgres_cluster, application_name) >= 1
        with pytest.raises(error) as gone:
            read(user)
        where = url.replace("postgres@", "postgres:***@")
        message = gone.value.message
        assert message.startswith(f"the PostgreSQL {what} {where} cannot be reached: ")
        assert message.endswith("; check the server, then retry")
        assert "\n" not in message and "s3cret" not in message
        read(user)  # the broken connection was dropped, not given back: a new one is opened
    finally:
        user.close()


def test_an_archive_index_locked_by_another_writer_says_so(postgres_cluster, tmp_path):
    march = datetime(2026, 3, 5, tzinfo=timezone.utc)
    bundle = to_bytes(make_bundle(credential(MILL, 1), policy_document(MILL), at=march, entry_number="316-1111111-1",
                                  importer="Acme Imports"))
    url = fresh_database(postgres_cluster, "locked")
    archive = Archive(tmp_path / "archive", url, timeout=0.5)
    holder = psycopg.connect(url)
    try:
        holder.execute("LOCK TABLE archive_bundles IN ACCESS EXCLUSIVE MODE")
        with pytest.raises(ArchiveError) as locked:
            archive.add(bundle)
        assert locked.value.message == (f"the PostgreSQL archive index {url} stayed locked by another writer for "
                                        "0.5 s: retry, or open it with a longer timeout")
        holder.rollback()
        assert archive.add(bundle).new  # once the lock is gone the same bundle goes in
    finally:
        holder.close()
        archive.close()
