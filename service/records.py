"""What the service keeps of its answers, for any worker process and across restarts: the ids of
the presentations ``POST /presentations`` received (by the holder who signed them) and the entry
reports of ``POST /entries/verify`` (read back by ``GET /entries/{id}``).

:func:`open_records` keeps them in a database, through the same connection handling as the
quantity ledger (:mod:`tradevc.verifier.database`): the ``[ledger]`` database when one is
configured (SQLite or PostgreSQL), else the ``[records] file`` (SQLite), else, only then, in
this process's memory, bounded, and lost when it ends (:class:`MemoryRecords`; the service logs
a warning). Its tables (``service_received_presentations``, ``service_entry_reports``) are made
if missing, beside the ledger's.

Several processes may insert at once: a primary key decides a race (``INSERT ... ON CONFLICT``),
never a read followed by a write. Each row carries the time until which it is kept; older rows
are never answered, and are deleted by an indexed range delete at most once an hour per process
(:data:`PURGE_EVERY`).
"""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from tradevc.verifier.database import Transactions

__all__ = [
    "DEFAULT_PRESENTATION_DAYS", "DEFAULT_REPORT_DAYS", "DatabaseRecords", "MemoryRecords", "PURGE_EVERY",
    "Records", "RecordsError", "StoredReport", "open_records",
]

_log = logging.getLogger("tradevc.service")

DEFAULT_REPORT_DAYS = 400
"""How long an entry report is kept by default: customs keeps its records (a liquidation may be
reopened within a year or so), so more than a year; configure ``[records] entry_report_days``."""
DEFAULT_PRESENTATION_DAYS = 30
"""How long a received presentation id is kept by default. A presentation is accepted only with
a one-time challenge of this service (valid minutes, see :mod:`tradevc.verifier.challenges`),
so after that it cannot be submitted again anyway; the id is kept longer, for a holder who
reuses its ids; configure ``[records] presentation_days``."""
DEFAULT_MEMORY_ITEMS = 10_000
"""At most this many reports, and this many received ids, in memory (oldest dropped first)."""
PURGE_EVERY = 3600.0
"""Seconds between two deletions of expired rows by one process."""
_DAY = 86_400

_SQLITE_SCHEMA = [
    """CREATE TABLE IF NOT EXISTS service_received_presentations (
        presentation_id TEXT NOT NULL,
        signer          TEXT NOT NULL,
        received_at     INTEGER NOT NULL,
        keep_until      INTEGER NOT NULL,
        PRIMARY KEY (presentation_id, signer)
    )""",
    "CREATE INDEX IF NOT EXISTS service_received_presentations_keep ON service_received_presentations (keep_until)",
    """CREATE TABLE IF NOT EXISTS service_entry_reports (
        report_id   TEXT PRIMARY KEY,
        client_id   TEXT NOT NULL,
        created_at  INTEGER NOT NULL,
        keep_until  INTEGER NOT NULL,
        report_json TEXT NOT NULL,
        report_html TEXT NOT NULL
    )""",
    "CREATE INDEX IF NOT EXISTS service_entry_reports_keep ON service_entry_reports (keep_until)",
]
_PG_SCHEMA = [s.replace("INTEGER", "BIGINT") for s in _SQLITE_SCHEMA]
_PG_SCHEMA_LOCK = 0x7472_6164_6576_64  # an advisory lock key for making the tables (not the ledger's)


class RecordsError(Exception):
    """The records' database cannot be used; ``message`` says what failed and what to do."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class StoredReport:
    """An entry report as kept: the client that asked for it, its JSON (exactly what
    ``GET /entries/{id}`` answers) and its HTML page."""

    client_id: str
    json: str
    html: str


class Records:
    """Where the received presentation ids and the entry reports are kept (see the module).
    ``kept`` says whether they outlive this process. ``clock`` gives the time in seconds."""

    location: str = "memory"
    kept: bool = False

    def __init__(self, *, report_days: int = DEFAULT_REPORT_DAYS, presentation_days: int = DEFAULT_PRESENTATION_DAYS,
                 clock: Callable[[], float] = time.time) -> None:
        self.report_seconds = report_days * _DAY
        self.presentation_seconds = presentation_days * _DAY
        self.clock = clock

    def received(self, presentation_id: str, signer: str) -> bool:
        """``signer`` submitted ``presentation_id`` before (and it is still kept)."""
        raise NotImplementedError

    def receive(self, presentation_id: str, signer: str) -> bool:
        """Keep that ``signer`` submitted ``presentation_id``; False if it did before (of two
        processes doing it at once, exactly one gets True)."""
        raise NotImplementedError

    def keep_report(self, report_id: str, client_id: str, json_text: str, html: str) -> None:
        raise NotImplementedError

    def report(self, report_id: str) -> StoredReport | None:
        """The report ``report_id`` if it is still kept."""
        raise NotImplementedError

    def close(self) -> None:
        pass


class MemoryRecords(Records):
    """In this process's memory, at most ``limit`` of each (the oldest dropped first): not
    shared by several worker processes, lost on restart."""

    def __init__(self, *, limit: int = DEFAULT_MEMORY_ITEMS, **kw: Any) -> None:
        super().__init__(**kw)
        self.limit = limit
        self._lock = threading.Lock()
        self._ids: OrderedDict[tuple[str, str], float] = OrderedDict()
        self._reports: OrderedDict[str, tuple[float, StoredReport]] = OrderedDict()

    def received(self, presentation_id: str, signer: str) -> bool:
        with self._lock:
            until = self._ids.get((presentation_id, signer))
            return until is not None and until >= self.clock()

    def receive(self, presentation_id: str, signer: str) -> bool:
        now = self.clock()
        with self._lock:
            until = self._ids.get((presentation_id, signer))
            if until is not None and until >= now:
                return False
            self._ids[(presentation_id, signer)] = now + self.presentation_seconds
            self._ids.move_to_end((presentation_id, signer))
            while len(self._ids) > self.limit:
                self._ids.popitem(last=False)
            return True

    def keep_report(self, report_id: str, client_id: str, json_text: str, html: str) -> None:
        with self._lock:
            self._reports[report_id] = (self.clock() + self.report_seconds, StoredReport(client_id, json_text, html))
            while len(self._reports) > self.limit:
                self._reports.popitem(last=False)

    def report(self, report_id: str) -> StoredReport | None:
        with self._lock:
            found = self._reports.get(report_id)
        return found[1] if found is not None and found[0] >= self.clock() else None


class DatabaseRecords(Records):
    """In the SQLite file or PostgreSQL database at ``location`` (see :func:`open_records`).

    :raises RecordsError: it cannot be opened, or its tables cannot be made."""

    kept = True

    def __init__(self, location: str, *, timeout: float = 10.0, **kw: Any) -> None:
        super().__init__(**kw)
        self._db = Transactions(location, timeout=timeout, what="records", error=RecordsError,
                                application_name="tradevc-records")
        self.location = self._db.location
        self._purged = float("-inf")

        def make(cursor: Any) -> None:
            self._db.lock_schema(cursor, _PG_SCHEMA_LOCK)
            for statement in _PG_SCHEMA if self._db.postgres else _SQLITE_SCHEMA:
                cursor.execute(statement)

        self._db.run(make, write=True)  # the first use: an SQLite file is put in WAL mode

    def _purge(self, cursor: Any, now: int) -> None:
        """Delete what is no longer kept, at most once every :data:`PURGE_EVERY` seconds."""
        moment = time.monotonic()
        if moment - self._purged < PURGE_EVERY:
            return
        self._purged = moment
        for table in ("service_received_presentations", "service_entry_reports"):
            cursor.execute(self._db.sql(f"DELETE FROM {table} WHERE keep_until < ?"), (now,))  # noqa: S608

    # -- the records -----------------------------------------------------------------------------

    def received(self, presentation_id: str, signer: str) -> bool:
        now = int(self.clock())

        def work(cursor: Any) -> bool:
            cursor.execute(self._db.sql("SELECT 1 FROM service_received_presentations WHERE presentation_id = ? "
                                        "AND signer = ? AND keep_until >= ?"), (presentation_id, signer, now))
            return cursor.fetchone() is not None

        return self._db.run(work)

    def receive(self, presentation_id: str, signer: str) -> bool:
        now = int(self.clock())

        def work(cursor: Any) -> bool:
            self._purge(cursor, now)
            # the primary key decides; a row no longer kept (not purged yet) is taken over
            cursor.execute(self._db.sql(
                "INSERT INTO service_received_presentations (presentation_id, signer, received_at, keep_until) "
                "VALUES (?, ?, ?, ?) ON CONFLICT (presentation_id, signer) DO UPDATE SET "
                "received_at = excluded.received_at, keep_until = excluded.keep_until "
                "WHERE service_received_presentations.keep_until < excluded.received_at"),
                (presentation_id, signer, now, now + self.presentation_seconds))
            return bool(cursor.rowcount == 1)

        return self._db.run(work, write=True)

    def keep_report(self, report_id: str, client_id: str, json_text: str, html: str) -> None:
        now = int(self.clock())

        def work(cursor: Any) -> None:
            self._purge(cursor, now)
            cursor.execute(self._db.sql(
                "INSERT INTO service_entry_reports (report_id, client_id, created_at, keep_until, report_json, "
                "report_html) VALUES (?, ?, ?, ?, ?, ?)"),
                (report_id, client_id, now, now + self.report_seconds, json_text, html))

        self._db.run(work, write=True)

    def report(self, report_id: str) -> StoredReport | None:
        now = int(self.clock())

        def work(cursor: Any) -> Any:
            cursor.execute(self._db.sql("SELECT client_id, report_json, report_html FROM service_entry_reports "
                                        "WHERE report_id = ? AND keep_until >= ?"), (report_id, now))
            return cursor.fetchone()

        row = self._db.run(work)
        return StoredReport(str(row[0]), str(row[1]), str(row[2])) if row is not None else None

    def close(self) -> None:
        self._db.close()


def open_records(location: str | None, *, report_days: int = DEFAULT_REPORT_DAYS,
                 presentation_days: int = DEFAULT_PRESENTATION_DAYS, memory_limit: int = DEFAULT_MEMORY_ITEMS,
                 clock: Callable[[], float] = time.time) -> Records:
    """The records at ``location`` (a path, ``sqlite:///path`` or ``postgresql://...``), or in
    memory when it is None (with a warning in the log: they are not kept).

    :raises RecordsError: the database cannot be opened."""
    if location is None:
        _log.warning("the received presentation ids and the entry reports are not kept: they live in this "
                     "process's memory (at most %d of each), are lost on restart and are not shared by several "
                     "workers; configure [ledger] url or [records] file to keep them", memory_limit)
        return MemoryRecords(limit=memory_limit, report_days=report_days, presentation_days=presentation_days,
                             clock=clock)
    return DatabaseRecords(location, report_days=report_days, presentation_days=presentation_days, clock=clock)
