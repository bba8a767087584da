"""SQLite connections opened before a fork (the service's supervisor opens the issuers'
registries, their status watches, the records and the rate buckets, then forks its workers)
are never used by the child: on first use there it closes the copy it inherited (which
releases only the child's file descriptors) and opens its own, and the parent's connection
goes on working."""

from __future__ import annotations

import fcntl
import os
import sqlite3
import traceback

import pytest

from tradevc.issuer.registry import StatusRegistry
from tradevc.service.limits import SharedBuckets
from tradevc.verifier.database import SqliteFile


def in_child(check) -> None:
    """Run ``check()`` in a forked child; the test fails unless it returns without raising."""
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child
        os.close(read)
        code = 0
        try:
            check()
        except BaseException:
            os.write(write, traceback.format_exc().encode())
            code = 1
        finally:
            os._exit(code)
    os.close(write)
    with os.fdopen(read, "rb") as pipe:
        report = pipe.read().decode()
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0, report


def closed(db: sqlite3.Connection) -> bool:
    try:
        db.execute("SELECT 1")
    except sqlite3.ProgrammingError:
        return True
    return False


def test_sqlite_file(tmp_path):
    file = SqliteFile(tmp_path / "records.sqlite", timeout=5, what="records", error=ValueError)
    parent = file.connection()
    parent.execute("PRAGMA journal_mode = WAL")
    parent.execute("CREATE TABLE t (x)")

    def child():
        own = file.connection()
        assert own is not parent and closed(parent) and not closed(own)
        own.execute("INSERT INTO t VALUES (1)")

    in_child(child)
    assert file.connection() is parent
    parent.execute("INSERT INTO t VALUES (2)")
    assert parent.execute("SELECT count(*) FROM t").fetchone() == (2,)
    assert parent.execute("PRAGMA integrity_check").fetchone() == ("ok",)


def test_status_registry_and_watch(tmp_path):
    registry = StatusRegistry(tmp_path / "registry.sqlite", base_url="https://mill.example/status/")
    watch = registry.watch()
    assert watch.count() == 0
    registry.reserve("urn:x:1", ["VerifiableCredential"], ["revocation"])
    parent_db, parent_watch = registry._db, watch._db
    assert parent_watch is not None

    def child():
        registry.reserve("urn:x:2", ["VerifiableCredential"], ["revocation"])
        assert registry._db is not parent_db and closed(parent_db)
        watch.count()
        assert watch._db is not parent_watch and closed(parent_watch)

    in_child(child)
    assert registry._db is parent_db and watch._db is parent_watch
    registry.reserve("urn:x:3", ["VerifiableCredential"], ["revocation"])
    assert {r.id for r in registry.records()} == {"urn:x:1", "urn:x:2", "urn:x:3"}
    assert watch.count() >= 1
    watch.close()
    registry.close()


def test_shared_buckets(tmp_path):
    buckets = SharedBuckets.create(tmp_path / "limits.sqlite")
    parent = buckets._connection()
    parent_lock = buckets._lockfile
    fcntl.flock(parent_lock, fcntl.LOCK_EX)  # held by the parent while the child runs

    def child():
        own = buckets._connection()
        assert own is not parent and closed(parent)
        # the child's lock file is opened anew: the parent's flock holds against it (an
        # inherited descriptor would share the parent's lock)
        with pytest.raises(BlockingIOError):
            fcntl.flock(buckets._lockfile, fcntl.LOCK_EX | fcntl.LOCK_NB)

    try:
        in_child(child)
    finally:
        fcntl.flock(parent_lock, fcntl.LOCK_UN)
    assert buckets._connection() is parent and buckets._lockfile == parent_lock
    assert not closed(parent)
