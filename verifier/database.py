"""Connections to the verifier's databases, shared by the quantity ledger (:mod:`.ledger`) and
the service's records: an SQLite file, or a PostgreSQL server by URL.

:func:`parse_location` tells which a location names (a path or ``sqlite:///path`` is an SQLite
file, a ``postgresql://`` or ``postgres://`` URL a PostgreSQL database). :class:`SqliteFile`
keeps one connection per process to an SQLite file (made if missing, mode 0600, synced at each
commit), usable by any thread that holds its user's lock; a forked child closes, unused, the
copy of its parent's it inherited and opens its own.
:class:`PostgresPool` keeps a small pool of connections (psycopg 3, imported only then), one
per thread at a time; a forked child opens its own.

Both take ``what`` (the name of the database in messages: "ledger", "records") and ``error``
(the exception their user raises), so a message says which database failed and what to do.

:class:`Transactions` runs one transaction at a time over either, for users whose statements
differ only in their placeholders (the service's records, the evidence archive's index).
"""

from __future__ import annotations

import os
import re
import sqlite3
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, TypeVar
from urllib.parse import urlsplit, urlunsplit

if TYPE_CHECKING:
    import psycopg

__all__ = [
    "PostgresPool", "SqliteFile", "Transactions", "close_inherited", "close_quietly", "first_line", "parse_location",
    "redacted",
]

_T = TypeVar("_T")
_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*)://")


def first_line(error: BaseException) -> str:
    """The first line of an exception's text (a driver's message can run over several)."""
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__


def redacted(url: str) -> str:
    """``url`` without its password, for messages."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return "postgresql://..."
    if parts.password is None:
        return url
    netloc = f"{parts.username}:***@{parts.hostname}" + (f":{parts.port}" if parts.port else "")
    return urlunsplit(parts._replace(netloc=netloc))


def close_quietly(db: Any) -> None:
    try:
        db.close()
    except Exception:  # noqa: BLE001  (a broken connection may fail to close; it is dropped anyway)
        pass


def close_inherited(db: Any) -> None:
    """Close a forked child's copy of an SQLite connection its parent opened, unused (SQLite
    connections must not cross a fork). It releases the child's file descriptors only: POSIX
    locks belong to the process that took them, so the parent's connection is not disturbed,
    and no checkpoint runs (the parent's connection, open in WAL mode, holds its shared lock
    on the file). Not for a PostgreSQL connection: closing it would end the parent's session."""
    close_quietly(db)


def parse_location(location: str | os.PathLike[str], *, what: str,
                   error: Callable[[str], Exception]) -> tuple[Literal["sqlite", "postgresql"], str]:
    """``("sqlite", path)`` or ``("postgresql", url)`` for ``location``.

    :raises error: an SQLite URL without a path, or an unknown scheme."""
    if not isinstance(location, str):
        return "sqlite", os.fspath(location)
    scheme = _SCHEME.match(location)
    if scheme is None:
        return "sqlite", location
    name = scheme.group(1).lower()
    if name in ("postgresql", "postgres"):
        return "postgresql", location
    if name == "sqlite":
        path = location[len("sqlite://"):]
        if not path.startswith("/") or path == "/":
            raise error(f"an SQLite {what} URL is sqlite:///relative/path or sqlite:////absolute/path, "
                        f"not {location!r}")
        return "sqlite", path[1:]
    raise error(f"unknown {what} location {redacted(location)!r}: give a file path, sqlite:///path or "
                "postgresql://user@host:port/database")


class SqliteFile:
    """The SQLite file at ``path`` (``:memory:``: a database of this process only), made if
    missing with mode 0600; one connection per process, made on first use (autocommit: the
    user says BEGIN), with foreign keys on and full sync. Not locked: its user holds a lock
    around each transaction. ``timeout`` is how long a writer waits for another's.

    :raises error: the folder does not exist, or the file cannot be made."""

    def __init__(self, path: str | os.PathLike[str], *, timeout: float, what: str,
                 error: Callable[[str], Exception]) -> None:
        self.path: str | Path = ":memory:" if path == ":memory:" else Path(path)
        self.location = str(path)
        self.timeout = timeout
        self.what = what
        self._error = error
        self._connection: sqlite3.Connection | None = None
        self._pid = os.getpid()
        self.closed = False
        if isinstance(self.path, Path):
            folder = self.path.parent
            if not folder.is_dir():
                raise error(f"cannot open the {what} {self.location}: the folder {folder} does not exist")
            try:
                os.close(os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
            except FileExistsError:
                pass
            except OSError as e:
                raise error(f"cannot create the {what} {self.location}: {e.strerror}") from None

    def connection(self) -> sqlite3.Connection:
        """This process's connection. :raises ValueError: closed. :raises error: it cannot be opened."""
        if self.closed:
            raise ValueError(f"this {self.what} is closed")
        if self._connection is not None and self._pid == os.getpid():
            return self._connection
        if self._connection is not None:  # a forked child: the copy of the parent's, never used here
            close_inherited(self._connection)
            self._connection = None
        self._pid = os.getpid()
        try:
            db = sqlite3.connect(self.path, timeout=self.timeout, isolation_level=None, check_same_thread=False)
            db.execute("PRAGMA foreign_keys = ON")
            db.execute("PRAGMA synchronous = FULL")
        except sqlite3.Error as e:
            raise self.problem(e) from None
        self._connection = db
        return db

    def transaction(self, db: sqlite3.Connection, work: Callable[[sqlite3.Cursor], _T], *, write: bool = False) -> _T:
        """``work(cursor)`` in one transaction on ``db`` (this file's connection; the caller holds
        its user's lock), committed if it returns and rolled back if it raises. ``write`` begins
        with ``BEGIN IMMEDIATE``: the database's write lock at once, so one writer at a time
        checks and writes, across connections and processes (readers go on, under WAL).

        :raises error: an SQLite error, as :meth:`problem` words it."""
        try:
            db.execute("BEGIN IMMEDIATE" if write else "BEGIN")
            try:
                result = work(db.cursor())
            except BaseException:
                if db.in_transaction:
                    db.execute("ROLLBACK")
                raise
            db.execute("COMMIT")
            return result
        except sqlite3.Error as e:
            if db.in_transaction:
                db.execute("ROLLBACK")
            raise self.problem(e) from None

    def problem(self, error: sqlite3.Error) -> Exception:
        """``error`` as the user's exception, saying what to do."""
        text, where = str(error), self.location
        if "locked" in text or "busy" in text:
            return self._error(f"the {self.what} {where} stayed locked by another writer for {self.timeout:g} s: "
                               "retry, or open it with a longer timeout")
        if "not a database" in text or "malformed" in text:
            return self._error(f"{where} is not a {self.what} database ({text}): name the {self.what}'s file, "
                               "or a new one")
        if "readonly" in text or "read-only" in text:
            return self._error(f"the {self.what} {where} is read-only ({text}): check its permissions and its "
                               "folder's")
        return self._error(f"the {self.what} {where} cannot be used: {text}")

    def drop(self) -> None:
        """Close this process's connection (a later use opens another)."""
        if self._connection is not None and self._pid == os.getpid():
            self._connection.close()
        self._connection = None

    def close(self) -> None:
        self.drop()
        self.closed = True


DEFAULT_CONNECTIONS = 8
"""How many connections a :class:`PostgresPool` opens at most (per process), for its threads."""


class PostgresPool:
    """Connections to the PostgreSQL database at ``url``, at most ``connections`` per process,
    opened as needed and kept; a thread finding them all busy waits for one. Each has
    ``lock_timeout`` set to ``timeout`` (which also bounds connecting, in seconds).

    :raises error: psycopg is missing. :raises ValueError: ``connections`` is below 1."""

    def __init__(self, url: str, *, timeout: float, connections: int = DEFAULT_CONNECTIONS, what: str,
                 error: Callable[[str], Exception], application_name: str) -> None:
        try:
            import psycopg  # noqa: F401  (only PostgreSQL users need it)
        except ImportError:
            raise error(f"a postgresql:// {what} needs psycopg 3: pip install 'tradevc[postgres]'") from None
        if isinstance(connections, bool) or not isinstance(connections, int) or connections < 1:
            raise ValueError(f"a PostgreSQL {what} needs at least one connection, not {connections!r}")
        self.url = url
        self.location = redacted(url)
        self.timeout = timeout
        self.connections = connections
        self.what = what
        self.application_name = application_name
        self._error = error
        self._pool = threading.Condition(threading.Lock())
        self._idle: list[psycopg.Connection[tuple[Any, ...]]] = []
        self._opened = 0  # connections of this process, idle or in use
        self._pid = os.getpid()
        self.closed = False

    @contextmanager
    def borrow(self) -> Iterator[psycopg.Connection[tuple[Any, ...]]]:
        """A connection of the pool, this thread's until the block ends.

        :raises ValueError: closed. :raises error: the server cannot be reached."""
        db = self._take()
        try:
            yield db
        finally:
            self._give_back(db)

    def _take(self) -> psycopg.Connection[tuple[Any, ...]]:
        import psycopg

        with self._pool:
            while True:
                if self.closed:
                    raise ValueError(f"this {self.what} is closed")
                if self._pid != os.getpid():  # a forked child: the parent's connections are left alone
                    self._pid, self._idle, self._opened = os.getpid(), [], 0
                if self._idle:
                    return self._idle.pop()
                if self._opened < self.connections:
                    self._opened += 1
                    break
                self._pool.wait()
        try:
            return psycopg.connect(
                self.url, connect_timeout=max(1, round(self.timeout)), application_name=self.application_name,
                options=f"-c lock_timeout={int(self.timeout * 1000)}")
        except psycopg.Error as e:
            with self._pool:
                self._opened -= 1
                self._pool.notify()
            raise self._error(f"cannot connect to the PostgreSQL {self.what} {self.location}: {first_line(e)}; "
                              "check that the server runs and that the URL's host, port, user and database are "
                              "right") from None

    def problem(self, error: Exception, db: Any = None) -> Exception:
        """A psycopg ``error`` met on ``db`` (a connection of this pool) as the user's exception,
        saying what to do: a lock waited on for longer than ``timeout``, a server that cannot be
        reached (``db`` is then closed, so it is not given back to the pool), anything else."""
        import psycopg
        import psycopg.errors

        where = f"the PostgreSQL {self.what} {self.location}"
        if isinstance(error, psycopg.errors.LockNotAvailable):
            return self._error(f"{where} stayed locked by another writer for {self.timeout:g} s: retry, or open it "
                               "with a longer timeout")
        if isinstance(error, psycopg.OperationalError):
            if db is not None:
                close_quietly(db)
            return self._error(f"{where} cannot be reached: {first_line(error)}; check the server, then retry")
        return self._error(f"{where} cannot be used: {first_line(error)}")

    def _give_back(self, db: psycopg.Connection[tuple[Any, ...]]) -> None:
        with self._pool:
            if self._pid != os.getpid():  # forked while it was in use: the parent's, left alone
                return
            if self.closed or db.closed or db.broken:
                close_quietly(db)
                self._opened -= 1
            else:
                self._idle.append(db)
            self._pool.notify()

    def close(self) -> None:
        """Close the idle connections (those in use close when their thread is done with them)."""
        with self._pool:
            if self._pid == os.getpid():
                for db in self._idle:
                    close_quietly(db)
                    self._opened -= 1
            self._idle = []
            self.closed = True
            self._pool.notify_all()


class Transactions:
    """Transactions on the database at ``location`` (a path, ``sqlite:///path`` or
    ``postgresql://...``): an :class:`SqliteFile` in WAL mode (set on first use; a file of
    this process only, ``:memory:``, stays as it is) whose threads take turns on the process's
    connection, or a :class:`PostgresPool` of at most ``connections`` per process. Failures are
    worded once, by :meth:`SqliteFile.problem` and :meth:`PostgresPool.problem`, as ``error``.
    Safe to share between threads.

    :raises error: the location cannot be parsed, or its SQLite file cannot be made."""

    def __init__(self, location: str | os.PathLike[str], *, timeout: float, what: str,
                 error: Callable[[str], Exception], application_name: str, connections: int = 4) -> None:
        kind, where = parse_location(location, what=what, error=error)
        self._lock = threading.Lock()  # SQLite: one transaction at a time on the process's connection
        self._file: SqliteFile | None = None
        self._pool: PostgresPool | None = None
        self._wal = False
        if kind == "postgresql":
            self._pool = PostgresPool(where, timeout=timeout, connections=connections, what=what, error=error,
                                      application_name=application_name)
            self.location = self._pool.location
        else:
            self._file = SqliteFile(where, timeout=timeout, what=what, error=error)
            self.location = self._file.location
            self._wal = self._file.path == ":memory:"

    @property
    def postgres(self) -> bool:
        """Whether the database is PostgreSQL (else SQLite)."""
        return self._pool is not None

    @property
    def in_memory(self) -> bool:
        """Whether the database is this process's own (SQLite's ``:memory:``)."""
        return self._file is not None and self._file.path == ":memory:"

    def sql(self, statement: str) -> str:
        """``statement``, written with ``?`` placeholders, in the driver's (``%s`` for psycopg)."""
        return statement.replace("?", "%s") if self._pool is not None else statement

    def run(self, work: Callable[[Any], _T], *, write: bool = False) -> _T:
        """``work(cursor)`` in one transaction, committed if it returns and rolled back if it
        raises. ``write`` (SQLite): take the write lock at once (``BEGIN IMMEDIATE``).

        :raises ValueError: closed. :raises error: the database failed, as its problem() words it."""
        if self._pool is not None:
            return self._run_postgres(self._pool, work)
        assert self._file is not None
        with self._lock:
            db = self._file.connection()
            if not self._wal:
                try:
                    db.execute("PRAGMA journal_mode = WAL")
                except sqlite3.Error as e:
                    raise self._file.problem(e) from None
                self._wal = True
            return self._file.transaction(db, work, write=write)

    @staticmethod
    def _run_postgres(pool: PostgresPool, work: Callable[[Any], _T]) -> _T:
        import psycopg

        with pool.borrow() as db:
            try:
                with db.transaction(), db.cursor() as cursor:
                    return work(cursor)
            except psycopg.Error as e:  # a server gone (the connection then closed), a lock...: what to do
                raise pool.problem(e, db) from None

    def lock_schema(self, cursor: Any, key: int) -> None:
        """Within a transaction making tables: on PostgreSQL, wait for the advisory lock ``key``
        (``CREATE ... IF NOT EXISTS`` races itself there); SQLite's write lock already does."""
        if self._pool is not None:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", (key,))

    def close(self) -> None:
        """Close the connections (the pool's idle ones; those in use when their thread is done)."""
        if self._pool is not None:
            self._pool.close()
        if self._file is not None:
            with self._lock:
                self._file.close()
