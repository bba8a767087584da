"""The issuer's registry of issued credentials and their Bitstring Status List entries, in
SQLite (standard library) in the issuer home.

Index allocation is the part that must never go wrong: an index handed out twice would let
one revocation revoke two credentials. So:

* an index is recorded (committed, fsynced: ``synchronous=FULL``) *before* the credential is
  signed; a crash after that burns the index (a harmless gap), it never frees it;
* ``(list, index)`` is the primary key of the entries table, so even a logic error cannot
  store a duplicate;
* allocation runs in a ``BEGIN IMMEDIATE`` transaction, which serializes concurrent
  ``vc-issuer`` processes on the same home (they wait up to ``BUSY_TIMEOUT_S``);
* indexes are drawn at random among the unused ones of the current list, so they reveal
  nothing about issuance order or volume; a full list rolls over to the next one.

The registry also remembers what ``vc-issuer publish`` last wrote of each list (table
``published``: its URL, the validity of the signed list credential, when and where it was
written, and a digest of the bits it held), so the issuer can say when its lists run out and
whether a revocation is not online yet. A registry made before that table existed gets it
when it is next opened (``CREATE TABLE IF NOT EXISTS``): its lists read as never published.

Threads and processes. A :class:`StatusRegistry` (and so an ``Issuer``) may be shared by the
threads of a process, as a service's request threads share the one it opened at start. It holds
one SQLite connection (opened with ``check_same_thread=False``) and a lock: each operation takes
the lock for its whole transaction, so the threads of one process take turns, and processes on
the same home are still serialized by ``BEGIN IMMEDIATE`` as above (each process, a service's
worker included, opens its own registry). One connection per thread was the alternative; it
was not chosen because writes are the bulk of the work (two short transactions per credential,
each synced) and SQLite lets one writer in at a time anyway: threads of one process queueing on
a lock are woken as soon as it is free, where connections of their own would poll SQLite's busy
handler, sleeping up to 100 ms between tries. Reads wait for a write in progress too, which
costs a few milliseconds; the signing, the slow part of issuing, runs outside the lock. A
process forked with a registry open (a pre-forking server) opens a connection of its own on
first use, and closes the copy of its parent's unused: an SQLite connection must not cross a fork. Fork before threads use the registry, as
such servers do: a thread inside SQLite at the fork would leave the child's copy of its locks
(ours, and SQLite's own) held for ever.

What the signed status lists say changes only when a bit changes or a list is added or
dropped; triggers count those changes in the one-row table ``status_changes`` (whichever
process or program makes them: a service's worker, ``vc-issuer revoke``). :meth:`StatusRegistry.watch`
gives a :class:`StatusWatch`, which reads that count cheaply, so that a process serving signed
lists from memory knows when to sign them again (issuing into a list that exists changes no
bit, and so no count).
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
import sqlite3
import threading
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Iterator, Sequence

from tradevc.vc.atomicfile import UnsafeFileError, check_private_file

from .errors import IssuerError, IssuerHomeUnsafe

__all__ = [
    "StatusRegistry", "StatusWatch", "StatusEntry", "IssuedRecord", "ListSummary", "Publication", "PURPOSES",
    "DEFAULT_LIST_LENGTH", "StatusEvent", "ListVersion", "HistoryRefused",
]

PURPOSES = ("revocation", "suspension")
DEFAULT_LIST_LENGTH = 131_072
BUSY_TIMEOUT_S = 60.0
_RANDOM_TRIES = 32

_SCHEMA = """
CREATE TABLE IF NOT EXISTS lists (
    id      INTEGER PRIMARY KEY,
    purpose TEXT NOT NULL CHECK (purpose IN ('revocation', 'suspension')),
    seq     INTEGER NOT NULL,
    length  INTEGER NOT NULL,
    used    INTEGER NOT NULL DEFAULT 0,
    UNIQUE (purpose, seq)
);
CREATE TABLE IF NOT EXISTS credentials (
    id          TEXT PRIMARY KEY,
    types       TEXT NOT NULL,
    state       TEXT NOT NULL CHECK (state IN ('reserved', 'issued')),
    reserved_at TEXT NOT NULL,
    issued_at   TEXT,
    valid_until TEXT,
    document    TEXT
);
CREATE TABLE IF NOT EXISTS entries (
    list_id       INTEGER NOT NULL REFERENCES lists (id),
    idx           INTEGER NOT NULL,
    credential_id TEXT NOT NULL REFERENCES credentials (id),
    value         INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (list_id, idx)
);
CREATE INDEX IF NOT EXISTS entries_by_credential ON entries (credential_id);
CREATE TABLE IF NOT EXISTS published (
    purpose      TEXT NOT NULL,
    seq          INTEGER NOT NULL,
    url          TEXT NOT NULL,
    valid_from   TEXT NOT NULL,
    valid_until  TEXT NOT NULL,
    published_at TEXT NOT NULL,
    out_dir      TEXT NOT NULL,
    bits_sha256  TEXT NOT NULL,
    PRIMARY KEY (purpose, seq)
);
CREATE TABLE IF NOT EXISTS status_changes (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    n  INTEGER NOT NULL
);
INSERT OR IGNORE INTO status_changes (id, n) VALUES (1, 0);
CREATE TABLE IF NOT EXISTS status_events (
    id            INTEGER PRIMARY KEY,  -- (rows are never deleted: ids only grow)
    at            TEXT NOT NULL,
    credential_id TEXT NOT NULL,
    action        TEXT NOT NULL CHECK (action IN ('revoke', 'suspend', 'reinstate')),
    purpose       TEXT NOT NULL,
    seq           INTEGER NOT NULL,
    idx           INTEGER NOT NULL,
    value         INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS status_events_by_credential ON status_events (credential_id);
CREATE TABLE IF NOT EXISTS list_versions (
    purpose      TEXT NOT NULL,
    seq          INTEGER NOT NULL,
    version      INTEGER NOT NULL,
    valid_from   TEXT NOT NULL,
    valid_until  TEXT NOT NULL,
    published_at TEXT NOT NULL,
    length       INTEGER NOT NULL,
    encoded_list TEXT NOT NULL,
    bits_sha256  TEXT NOT NULL,
    PRIMARY KEY (purpose, seq, version)
);
CREATE TABLE IF NOT EXISTS sealed_versions (
    purpose     TEXT NOT NULL,
    seq         INTEGER NOT NULL,
    version     INTEGER NOT NULL,
    valid_until TEXT NOT NULL,
    document    TEXT NOT NULL,
    PRIMARY KEY (purpose, seq, version),
    FOREIGN KEY (purpose, seq, version) REFERENCES list_versions (purpose, seq, version)
);
"""
_CHANGE_TRIGGERS = (
    "CREATE TRIGGER IF NOT EXISTS status_bit_changed AFTER UPDATE OF value ON entries "
    "WHEN old.value IS NOT new.value BEGIN UPDATE status_changes SET n = n + 1 WHERE id = 1; END",
    "CREATE TRIGGER IF NOT EXISTS status_list_added AFTER INSERT ON lists "
    "BEGIN UPDATE status_changes SET n = n + 1 WHERE id = 1; END",
    "CREATE TRIGGER IF NOT EXISTS status_list_dropped AFTER DELETE ON lists "
    "BEGIN UPDATE status_changes SET n = n + 1 WHERE id = 1; END",
)

_HISTORY_TABLES = ("status_events", "list_versions", "sealed_versions")
_APPEND_ONLY = "status history is append-only: a recorded status change or published list version cannot be changed"
_TRIGGERS = [*_CHANGE_TRIGGERS, *(
    f"CREATE TRIGGER IF NOT EXISTS {table}_no_{verb.lower()} BEFORE {verb} ON {table} "
    f"BEGIN SELECT RAISE(ABORT, '{_APPEND_ONLY}'); END"
    for table in _HISTORY_TABLES for verb in ("UPDATE", "DELETE")
)]
"""The count of changes to the signed lists (:class:`StatusWatch`), and the history tables
refusing UPDATE and DELETE (SQLite triggers, so another program writing the registry file is
counted and refused too, not only this module)."""


@dataclass(frozen=True)
class StatusEntry:
    """One status list entry of a credential."""

    purpose: str
    list_url: str
    index: int

    def to_json(self) -> dict[str, str]:
        """The credential's ``BitstringStatusListEntry``."""
        return {
            "id": f"{self.list_url}#{self.index}",
            "type": "BitstringStatusListEntry",
            "statusPurpose": self.purpose,
            "statusListIndex": str(self.index),
            "statusListCredential": self.list_url,
        }


@dataclass(frozen=True)
class IssuedRecord:
    """What the registry knows of one credential."""

    id: str
    types: list[str]
    state: str  # "reserved" (crashed before signing, never issued) or "issued"
    issued_at: str | None
    valid_until: str | None
    revoked: bool | None  # None: no revocation entry
    suspended: bool | None  # None: no suspension entry


@dataclass(frozen=True)
class ListSummary:
    """One status list as the registry holds it now."""

    purpose: str
    seq: int
    url: str
    length: int
    used: int  # entries handed out
    set_bits: list[int]  # indexes whose bit is set (revoked, or suspended)

    @property
    def bits_sha256(self) -> str:
        return bits_digest(self.set_bits)


@dataclass(frozen=True)
class Publication:
    """What ``publish`` last wrote of one list: the signed list credential's URL and validity,
    when (``published_at``) and where (``out_dir``), and :func:`bits_digest` of its set bits."""

    purpose: str
    seq: int
    url: str
    valid_from: str
    valid_until: str
    published_at: str
    out_dir: str
    bits_sha256: str


@dataclass(frozen=True)
class StatusEvent:
    """One status change, as recorded when it was made: ``action`` (``revoke``, ``suspend``,
    ``reinstate``) on ``credential_id``'s entry ``index`` of list ``purpose``/``seq``, which
    became ``value``, at ``at``."""

    id: int
    at: str
    credential_id: str
    action: str
    purpose: str
    seq: int
    index: int
    value: int


@dataclass(frozen=True)
class ListVersion:
    """One published version of a status list: its bits (``encoded_list``, as in the list
    credential), in effect from ``valid_from``; ``signed_until`` is the ``validUntil`` it was
    published with, ``superseded_at`` when the next version took effect (None for the
    current one), ``sealed`` its final signed credential once superseded (JSON)."""

    purpose: str
    seq: int
    version: int
    valid_from: str
    signed_until: str
    published_at: str
    length: int
    encoded_list: str
    bits_sha256: str
    superseded_at: str | None = None
    sealed: str | None = None

    @property
    def valid_until(self) -> str:
        """Until when it was in effect: the next version's start, or its own ``validUntil``."""
        return self.superseded_at or self.signed_until


class HistoryRefused(IssuerError):
    """A change to the status history was refused (it is append-only), or a publication would
    rewrite it (a version dated before the last one)."""

    code = "HISTORY_REFUSED"


def bits_digest(set_bits: Sequence[int]) -> str:
    """A digest of a list's set bits, to tell whether they changed since it was published."""
    return hashlib.sha256(",".join(str(i) for i in sorted(set_bits)).encode("ascii")).hexdigest()


class StatusWatch:
    """How many times what a registry's status lists say has changed (see the module): read
    with a connection of its own (one per process, opened on first use, so a forked worker
    opens its own), never queued behind the registry's writes. :meth:`count` first asks
    SQLite's ``PRAGMA data_version``, which changes only when another connection committed,
    and reads the count only then: a few microseconds when nothing changed."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._pid = -1
        self._db: sqlite3.Connection | None = None
        self._data_version: int | None = None
        self._count = -1

    def count(self) -> int:
        """The number of status changes recorded so far (a new value means: sign again)."""
        with self._lock:
            if self._db is None or self._pid != os.getpid():
                if self._db is not None:  # a forked child: the parent's copy, closed unused
                    _close_inherited(self._db)
                self._db = sqlite3.connect(f"{self.path.as_uri()}?mode=ro", uri=True, timeout=BUSY_TIMEOUT_S,
                                           isolation_level=None, check_same_thread=False)
                self._pid, self._data_version = os.getpid(), None
            data_version = self._db.execute("PRAGMA data_version").fetchone()[0]
            if data_version != self._data_version:
                row = self._db.execute("SELECT n FROM status_changes WHERE id = 1").fetchone()
                self._data_version, self._count = data_version, int(row[0]) if row else 0
            return self._count

    def close(self) -> None:
        with self._lock:
            if self._db is not None and self._pid == os.getpid():
                self._db.close()
            self._db = None


def _close_inherited(db: sqlite3.Connection) -> None:
    """Close a forked child's copy of its parent's connection without using it: this releases
    the child's file descriptors only (POSIX locks belong to the process that took them), and
    no checkpoint runs while the parent's connection is open (in WAL mode it keeps a shared
    lock on the file)."""
    try:
        db.close()
    except sqlite3.Error:
        pass


def _now() -> str:
    return datetime.now(timezone.utc).replace(microsecond=0).strftime("%Y-%m-%dT%H:%M:%SZ")


class StatusRegistry:
    """The registry of one issuer home. Lists are published at ``{base_url}{purpose}/{seq}``."""

    def __init__(self, path: Path, *, base_url: str | None, list_length: int = DEFAULT_LIST_LENGTH) -> None:
        """Open (or create) the registry at ``path``.

        :raises IssuerHomeUnsafe: ``path`` is a symbolic link or not a regular file.
        """
        if list_length < DEFAULT_LIST_LENGTH:
            raise ValueError(f"status lists hold at least {DEFAULT_LIST_LENGTH} entries")
        self.path = path
        self.base_url = base_url
        self.list_length = list_length
        if os.path.lexists(path):  # a symbolic link is refused; a file open to others made 0600, with a warning
            try:
                check_private_file(path)
            except UnsafeFileError as e:
                raise IssuerHomeUnsafe(e.message) from None
        self._lock = threading.RLock()
        self._closed = False
        self._pid = os.getpid()
        self._db = self._connect()
        with self._transaction() as db:  # (executescript would commit on its own)
            for statement in _SCHEMA.split(";"):
                if statement.strip():
                    db.execute(statement)
            for trigger in _TRIGGERS:
                db.execute(trigger)
        path.chmod(0o600)

    def watch(self) -> "StatusWatch":
        """A :class:`StatusWatch` of this registry (a connection of its own, opened on first use)."""
        return StatusWatch(self.path)

    def _connect(self) -> sqlite3.Connection:
        db = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_S, isolation_level=None, check_same_thread=False)
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=FULL")
        db.execute("PRAGMA foreign_keys=ON")
        return db

    @contextmanager
    def _connection(self) -> Iterator[sqlite3.Connection]:
        """The registry's connection, held by this thread until the block ends (a forked
        child closes the copy of its parent's it inherited, unused, and opens its own)."""
        with self._lock:
            if self._closed:
                raise ValueError("this status registry is closed")
            if self._pid != os.getpid():
                _close_inherited(self._db)
                self._pid = os.getpid()
                self._db = self._connect()
            yield self._db

    def close(self) -> None:
        """Close the connection (from any thread); the registry refuses to be used after this."""
        with self._lock:
            if not self._closed and self._pid == os.getpid():
                self._db.close()
            self._closed = True

    def snapshot(self) -> bytes:
        """A consistent copy of the whole registry, as an SQLite database file's bytes, taken
        with SQLite's online backup API in one step: other processes may go on issuing, and
        the copy holds each of their transactions entirely or not at all. The copy is marked
        as a rollback-journal database (file header bytes 18 and 19 set to 1, not 2 for WAL),
        so it opens on its own, without a write-ahead log beside it."""
        copy = sqlite3.connect(":memory:")
        try:
            with self._connection() as db:
                db.backup(copy)
            data = bytearray(copy.serialize())
        finally:
            copy.close()
        data[18:20] = b"\x01\x01"
        return bytes(data)

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        with self._connection() as db:
            db.execute("BEGIN IMMEDIATE")
            try:
                yield db
            except BaseException:
                db.execute("ROLLBACK")
                raise
            db.execute("COMMIT")

    def list_url(self, purpose: str, seq: int) -> str:
        if self.base_url is None:
            raise IssuerError("this issuer has no status base URL; status lists are off")
        return f"{self.base_url}{purpose}/{seq}"

    # -- allocation --------------------------------------------------------------------------

    def reserve(self, credential_id: str, types: Sequence[str], purposes: Sequence[str]) -> list[StatusEntry]:
        """Record ``credential_id`` and give it one fresh entry per purpose, durably, before
        it is signed.

        :raises IssuerError: the id was used before, or status lists are off.
        """
        for purpose in purposes:
            if purpose not in PURPOSES:
                raise ValueError(f"unknown status purpose {purpose!r}")
        if purposes and self.base_url is None:
            raise IssuerError("this issuer has no status base URL, so its credentials cannot carry status entries")
        entries = []
        with self._transaction() as db:
            try:
                db.execute(
                    "INSERT INTO credentials (id, types, state, reserved_at) VALUES (?, ?, 'reserved', ?)",
                    (credential_id, json.dumps(list(types)), _now()),
                )
            except sqlite3.IntegrityError:
                raise IssuerError(f"a credential with id {credential_id} was already issued") from None
            for purpose in purposes:
                list_id, seq, index = self._allocate(db, purpose)
                db.execute(
                    "INSERT INTO entries (list_id, idx, credential_id) VALUES (?, ?, ?)", (list_id, index, credential_id)
                )
                db.execute("UPDATE lists SET used = used + 1 WHERE id = ?", (list_id,))
                entries.append(StatusEntry(purpose, self.list_url(purpose, seq), index))
        return entries

    def _allocate(self, db: sqlite3.Connection, purpose: str) -> tuple[int, int, int]:
        row = db.execute(
            "SELECT id, seq, length, used FROM lists WHERE purpose = ? ORDER BY seq DESC LIMIT 1", (purpose,)
        ).fetchone()
        if row is None or row[3] >= row[2]:
            seq = 1 if row is None else row[1] + 1
            cursor = db.execute(
                "INSERT INTO lists (purpose, seq, length) VALUES (?, ?, ?)", (purpose, seq, self.list_length)
            )
            assert cursor.lastrowid is not None  # an INSERT into a rowid table sets it
            list_id, length, used = cursor.lastrowid, self.list_length, 0
        else:
            list_id, seq, length, used = row
        for _ in range(_RANDOM_TRIES):
            index = secrets.randbelow(length)
            if db.execute("SELECT 1 FROM entries WHERE list_id = ? AND idx = ?", (list_id, index)).fetchone() is None:
                return list_id, seq, index
        # the list is nearly full: draw among the free indexes explicitly
        taken = {r[0] for r in db.execute("SELECT idx FROM entries WHERE list_id = ?", (list_id,))}
        free = [i for i in range(length) if i not in taken]
        return list_id, seq, free[secrets.randbelow(len(free))]

    def release(self, credential_id: str) -> bool:
        """Forget a credential that was reserved but never handed out (its output could not be
        written): its record and its status entries go, and a list left with no entry at all.
        A credential already issued is kept. True if something was released.
        """
        with self._transaction() as db:
            row = db.execute("SELECT state FROM credentials WHERE id = ?", (credential_id,)).fetchone()
            if row is None or row[0] != "reserved":
                return False
            for (list_id,) in db.execute("SELECT list_id FROM entries WHERE credential_id = ?", (credential_id,)).fetchall():
                db.execute("UPDATE lists SET used = used - 1 WHERE id = ?", (list_id,))
            db.execute("DELETE FROM entries WHERE credential_id = ?", (credential_id,))
            db.execute("DELETE FROM credentials WHERE id = ?", (credential_id,))
            db.execute("DELETE FROM lists WHERE used = 0 AND id NOT IN (SELECT list_id FROM entries)")
        return True

    def mark_issued(self, credential_id: str, document: dict[str, Any] | str, *, valid_until: str | None) -> None:
        """Record that ``credential_id`` was signed and handed out (a document, or a compact JWS)."""
        with self._transaction() as db:
            db.execute(
                "UPDATE credentials SET state = 'issued', issued_at = ?, valid_until = ?, document = ? WHERE id = ?",
                (_now(), valid_until, json.dumps(document, ensure_ascii=False), credential_id),
            )

    # -- status changes ----------------------------------------------------------------------

    def _entry(self, db: sqlite3.Connection, credential_id: str, purpose: str) -> tuple[int, int, int] | None:
        entry: tuple[int, int, int] | None = db.execute(
            "SELECT e.list_id, e.idx, e.value FROM entries e JOIN lists l ON l.id = e.list_id "
            "WHERE e.credential_id = ? AND l.purpose = ?",
            (credential_id, purpose),
        ).fetchone()
        return entry

    def _known(self, db: sqlite3.Connection, credential_id: str) -> None:
        row = db.execute("SELECT state FROM credentials WHERE id = ?", (credential_id,)).fetchone()
        if row is None:
            raise IssuerError(f"no credential {credential_id} was issued here")
        if row[0] != "issued":
            raise IssuerError(f"credential {credential_id} was reserved but never issued")

    def _set(self, credential_id: str, purpose: str, value: int, action: str, *, check: Any = None) -> bool:
        """Set the entry's bit and record the change (an append-only event with the time);
        return False if it already had that value (nothing is recorded then)."""
        with self._transaction() as db:
            self._known(db, credential_id)
            if check is not None:
                check(db)
            entry = self._entry(db, credential_id, purpose)
            if entry is None:
                raise IssuerError(f"credential {credential_id} has no {purpose} status entry")
            if entry[2] == value:
                return False
            db.execute("UPDATE entries SET value = ? WHERE list_id = ? AND idx = ?", (value, entry[0], entry[1]))
            (seq,) = db.execute("SELECT seq FROM lists WHERE id = ?", (entry[0],)).fetchone()
            db.execute(
                "INSERT INTO status_events (at, credential_id, action, purpose, seq, idx, value) "
                "VALUES (?, ?, ?, ?, ?, ?, ?)",
                (_now(), credential_id, action, purpose, seq, entry[1], value),
            )
            return True

    def revoke(self, credential_id: str) -> bool:
        """Revoke for good. Returns False if it was already revoked.

        :raises IssuerError: unknown credential, or it has no revocation entry."""
        return self._set(credential_id, "revocation", 1, "revoke")

    def _not_revoked(self, credential_id: str) -> Any:
        def check(db: sqlite3.Connection) -> None:
            entry = self._entry(db, credential_id, "revocation")
            if entry is not None and entry[2] == 1:
                raise IssuerError(f"credential {credential_id} is revoked; revocation is permanent")

        return check

    def suspend(self, credential_id: str) -> bool:
        """Suspend. :raises IssuerError: unknown, revoked, or no suspension entry."""
        return self._set(credential_id, "suspension", 1, "suspend", check=self._not_revoked(credential_id))

    def reinstate(self, credential_id: str) -> bool:
        """Lift a suspension. :raises IssuerError: unknown, revoked, or no suspension entry."""
        return self._set(credential_id, "suspension", 0, "reinstate", check=self._not_revoked(credential_id))

    # -- reading -----------------------------------------------------------------------------

    def records(self) -> list[IssuedRecord]:
        """Every credential, newest first."""
        with self._connection() as db:
            rows = db.execute(
                "SELECT id, types, state, issued_at, valid_until FROM credentials ORDER BY reserved_at DESC, rowid DESC"
            ).fetchall()
            status: dict[tuple[str, str], bool] = {}
            for credential_id, purpose, value in db.execute(
                "SELECT e.credential_id, l.purpose, e.value FROM entries e JOIN lists l ON l.id = e.list_id"
            ):
                status[(credential_id, purpose)] = bool(value)
        return [
            IssuedRecord(
                id=r[0], types=json.loads(r[1]), state=r[2], issued_at=r[3], valid_until=r[4],
                revoked=status.get((r[0], "revocation")), suspended=status.get((r[0], "suspension")),
            )
            for r in rows
        ]

    def document(self, credential_id: str) -> dict[str, Any] | None:
        with self._connection() as db:
            row = db.execute("SELECT document FROM credentials WHERE id = ?", (credential_id,)).fetchone()
        return None if row is None or row[0] is None else json.loads(row[0])

    def summaries(self) -> list[ListSummary]:
        """Every list, with the entries used and the bits set, in one read transaction."""
        out = []
        with self._connection() as db:
            db.execute("BEGIN")
            try:
                for list_id, purpose, seq, length, used in db.execute(
                    "SELECT id, purpose, seq, length, used FROM lists ORDER BY purpose, seq"
                ).fetchall():
                    set_bits = [r[0] for r in db.execute(
                        "SELECT idx FROM entries WHERE list_id = ? AND value = 1 ORDER BY idx", (list_id,)
                    )]
                    out.append(ListSummary(purpose, seq, self.list_url(purpose, seq), length, used, set_bits))
            finally:
                db.execute("COMMIT")
        return out

    # -- publishing --------------------------------------------------------------------------

    def record_publication(self, publications: Sequence[Publication]) -> None:
        """Remember what was just published, replacing what was recorded of the same lists."""
        with self._transaction() as db:
            for p in publications:
                db.execute(
                    "INSERT OR REPLACE INTO published (purpose, seq, url, valid_from, valid_until, published_at, "
                    "out_dir, bits_sha256) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    (p.purpose, p.seq, p.url, p.valid_from, p.valid_until, p.published_at, p.out_dir, p.bits_sha256),
                )

    def publications(self) -> dict[tuple[str, int], Publication]:
        """What was last published of each list, by ``(purpose, seq)``; empty if never."""
        with self._connection() as db:
            rows = db.execute(
                "SELECT purpose, seq, url, valid_from, valid_until, published_at, out_dir, bits_sha256 FROM published"
            ).fetchall()
        return {(r[0], r[1]): Publication(*r) for r in rows}

    def lists(self) -> list[tuple[str, int, str, int, list[int]]]:
        """Every list as ``(purpose, seq, url, length, indexes whose bit is set)``."""
        out = []
        with self._connection() as db:
            for list_id, purpose, seq, length in db.execute(
                "SELECT id, purpose, seq, length FROM lists ORDER BY purpose, seq"
            ).fetchall():
                set_bits = [r[0] for r in db.execute(
                    "SELECT idx FROM entries WHERE list_id = ? AND value = 1", (list_id,)
                )]
                out.append((purpose, seq, self.list_url(purpose, seq), length, set_bits))
        return out

    # -- history -------------------------------------------------------------------------------

    def events(self, credential_id: str | None = None) -> list[StatusEvent]:
        """The status changes recorded (of ``credential_id``, or all), oldest first."""
        query = "SELECT id, at, credential_id, action, purpose, seq, idx, value FROM status_events"
        with self._connection() as db:
            rows = (db.execute(query + " WHERE credential_id = ? ORDER BY id", (credential_id,))
                    if credential_id is not None else db.execute(query + " ORDER BY id")).fetchall()
        return [StatusEvent(*r) for r in rows]

    def versions(self, purpose: str | None = None, seq: int | None = None) -> list[ListVersion]:
        """The published versions (of one list, or all), by list then oldest first."""
        with self._connection() as db:
            rows = db.execute(
                "SELECT v.purpose, v.seq, v.version, v.valid_from, v.valid_until, v.published_at, v.length, "
                "v.encoded_list, v.bits_sha256, s.document, "
                "(SELECT n.valid_from FROM list_versions n WHERE n.purpose = v.purpose AND n.seq = v.seq "
                " AND n.version = v.version + 1) "
                "FROM list_versions v LEFT JOIN sealed_versions s "
                "ON s.purpose = v.purpose AND s.seq = v.seq AND s.version = v.version "
                "ORDER BY v.purpose, v.seq, v.version"
            ).fetchall()
        return [
            ListVersion(r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7], r[8], superseded_at=r[10], sealed=r[9])
            for r in rows
            if (purpose is None or r[0] == purpose) and (seq is None or r[1] == seq)
        ]

    def record_versions(
        self, new: Sequence[ListVersion], sealed: Sequence[tuple[ListVersion, str]], *,
        renew_after: timedelta | None = None,
    ) -> set[tuple[str, int]]:
        """Append published versions, and the final signed credentials of the versions they
        supersede, in one transaction.

        With ``renew_after``, a version whose bits are those of its list's last version, and
        which starts less than ``renew_after`` after it, is not recorded (nor the sealing of the
        version it would supersede): the last version still holds. The test is made inside the
        transaction, so processes signing the same change at once record it once. The lists
        left out this way are returned, as ``(purpose, seq)``.

        :raises HistoryRefused: a version is not the next of its list, or starts before the
            one it follows.
        """
        skipped: set[tuple[str, int]] = set()
        with self._transaction() as db:
            for v in new:
                last = db.execute(
                    "SELECT version, valid_from, bits_sha256 FROM list_versions WHERE purpose = ? AND seq = ? "
                    "ORDER BY version DESC LIMIT 1", (v.purpose, v.seq),
                ).fetchone()
                if (renew_after is not None and last is not None and last[2] == v.bits_sha256
                        and _instant(v.valid_from) - _instant(last[1]) < renew_after):
                    skipped.add((v.purpose, v.seq))
                    continue
                expected = 1 if last is None else last[0] + 1
                if v.version != expected:
                    raise HistoryRefused(
                        f"list {v.purpose}/{v.seq}: version {v.version} is not the next one ({expected}); another "
                        "publish of this issuer may have run at the same time: run publish again"
                    )
                if last is not None and _instant(v.valid_from) < _instant(last[1]):
                    raise HistoryRefused(
                        f"list {v.purpose}/{v.seq}: a version valid from {v.valid_from} would start before the last "
                        f"published one ({last[1]}); the history cannot be rewritten"
                    )
                db.execute(
                    "INSERT INTO list_versions (purpose, seq, version, valid_from, valid_until, published_at, length, "
                    "encoded_list, bits_sha256) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (v.purpose, v.seq, v.version, v.valid_from, v.signed_until, v.published_at, v.length,
                     v.encoded_list, v.bits_sha256),
                )
            for v, document in sealed:
                if (v.purpose, v.seq) in skipped:
                    continue
                try:
                    db.execute(
                        "INSERT INTO sealed_versions (purpose, seq, version, valid_until, document) VALUES (?, ?, ?, ?, ?)",
                        (v.purpose, v.seq, v.version, v.valid_until, document),
                    )
                except sqlite3.IntegrityError:
                    raise HistoryRefused(f"list {v.purpose}/{v.seq}: version {v.version} was sealed already") from None
        return skipped


def _instant(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))
