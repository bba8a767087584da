"""One wording of a PostgreSQL failure for every database of the verifier (the ledger, the
service's records): :meth:`PostgresPool.problem` says which database, where (without the
password) and what to do, and closes a connection that failed so it is not used again."""

from __future__ import annotations

import psycopg
import psycopg.errors
import pytest

from tradevc.service.records import RecordsError
from tradevc.verifier.database import PostgresPool
from tradevc.verifier.ledger import LedgerError


class Connection:
    """Stands in for the pool's connection: only whether it was closed is looked at."""

    closed = False

    def close(self):
        self.closed = True


@pytest.mark.parametrize("what, error", [("ledger", LedgerError), ("records", RecordsError)])
def test_each_failure_says_what_to_do(what, error):
    pool = PostgresPool("postgresql://customs:s3cret@db.example:5433/entries", timeout=2.5, what=what, error=error,
                        application_name="test")
    where = f"the PostgreSQL {what} postgresql://customs:***@db.example:5433/entries"

    locked = pool.problem(psycopg.errors.LockNotAvailable("canceling statement due to lock timeout"))
    assert isinstance(locked, error)
    assert locked.message == f"{where} stayed locked by another writer for 2.5 s: retry, or open it with a longer timeout"

    db = Connection()
    gone = pool.problem(psycopg.OperationalError("server closed the connection unexpectedly\n\tThis probably means"), db)
    assert isinstance(gone, error) and db.closed
    assert gone.message == (f"{where} cannot be reached: server closed the connection unexpectedly; "
                            "check the server, then retry")

    db = Connection()
    refused = pool.problem(psycopg.errors.UndefinedTable('relation "x" does not exist'), db)
    assert refused.message == f'{where} cannot be used: relation "x" does not exist' and not db.closed
    assert "s3cret" not in locked.message + gone.message + refused.message
