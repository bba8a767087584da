"""Challenges a verifier issues and remembers, so that a presentation is accepted once.

A holder signs a presentation over the verifier's challenge (a Data Integrity proof's
``challenge``, a ``vp+jwt``'s ``nonce``). Comparing the proof's challenge with the one the
caller names stops a presentation made for another session; it does not stop the same
presentation being sent again. A :class:`ChallengeStore` does: it issues random challenges
with an expiry (:meth:`ChallengeStore.issue`), says why one cannot be used (unknown, expired,
used: :meth:`ChallengeStore.refusal`) and uses one up at most once, atomically
(:meth:`ChallengeStore.consume`).

:class:`SqliteChallengeStore` keeps them in an SQLite file: it survives a restart, and two
processes, threads or connections that consume the same challenge at once cannot both win, since
consuming is one ``UPDATE`` that only changes a row not yet used. It opens a connection for
each operation, so a store can be handed to forked batch workers and shared by threads.
:class:`MemoryChallengeStore` is for one short-lived process (tests, a single worker); its
threads may share it (a lock guards it).

``Verifier(challenges=store)`` uses one (see :class:`tradevc.verifier.service.Verifier`).
"""

from __future__ import annotations

import os
import secrets
import sqlite3
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Literal, Protocol

__all__ = [
    "DEFAULT_TTL",
    "Challenge",
    "ChallengeStore",
    "ChallengeStoreError",
    "MemoryChallengeStore",
    "Refusal",
    "SqliteChallengeStore",
]

DEFAULT_TTL = timedelta(minutes=10)
"""How long a challenge stays usable unless the caller says otherwise."""

KEEP_AFTER_EXPIRY = timedelta(days=1)
"""How long an expired challenge is kept (so a late attempt is told "expired", not "unknown");
after that it is forgotten, and an unknown challenge is refused just the same."""

MAX_TOKEN_LENGTH = 512
"""A presented challenge longer than this is unknown without being looked up."""

Clock = Callable[[], datetime]


class ChallengeStoreError(Exception):
    """The store cannot be opened or used (not an SQLite file, a folder that does not exist, a
    database locked for too long). ``message`` says which."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True, slots=True)
class Challenge:
    """A challenge to give a holder: ``token`` (URL-safe, 256 random bits) and when it expires."""

    token: str
    expires: datetime

    def __str__(self) -> str:
        return self.token


@dataclass(frozen=True, slots=True)
class Refusal:
    """Why a challenge cannot be used: ``reason`` is ``unknown``, ``expired`` or ``used``."""

    reason: Literal["unknown", "expired", "used"]
    message: str


_UNKNOWN = Refusal("unknown", "the challenge was not issued by this verifier (or is long expired)")


def _expired(at: datetime) -> Refusal:
    return Refusal("expired", f"the challenge expired at {at.isoformat()}")


def _used(at: datetime) -> Refusal:
    return Refusal("used", f"the challenge was already used, at {at.isoformat()}")


class ChallengeStore(Protocol):
    """Where a verifier keeps the challenges it issued."""

    across_processes: bool
    """True if forked processes share what the store holds (a batch may then use workers)."""

    def issue(self, ttl: timedelta = DEFAULT_TTL) -> Challenge:
        """A new random challenge, usable for ``ttl``, remembered."""
        ...

    def refusal(self, token: str) -> Refusal | None:
        """Why ``token`` cannot be used now (unknown, expired, used), or None if it can. Looks only."""
        ...

    def consume(self, token: str) -> Refusal | None:
        """Use ``token`` up: None if it was usable (it is now used, and no other call can
        consume it), else why not (nothing changes)."""
        ...

    def close(self) -> None:
        """Release what the store holds open."""
        ...


def _aware(clock: Clock) -> datetime:
    now = clock()
    if now.tzinfo is None:
        raise ValueError("the challenge store's clock must return an aware datetime")
    return now


def _require_ttl(ttl: timedelta) -> None:
    if not isinstance(ttl, timedelta) or ttl <= timedelta(0):
        raise ValueError("a challenge's ttl must be a positive timedelta")


def _new_token() -> str:
    return secrets.token_urlsafe(32)


def _utc(clock: Clock | None) -> Clock:
    return clock or (lambda: datetime.now(timezone.utc))


class MemoryChallengeStore:
    """Challenges in this process's memory: lost when it ends, and not shared with forked
    workers (a batch with this store verifies in the calling process). ``clock`` returns the
    current time (aware)."""

    across_processes = False

    def __init__(self, *, clock: Clock | None = None) -> None:
        self.clock = _utc(clock)
        self._lock = threading.Lock()
        self._issued: dict[str, tuple[datetime, datetime | None]] = {}  # token: (expires, used)

    def issue(self, ttl: timedelta = DEFAULT_TTL) -> Challenge:
        _require_ttl(ttl)
        now = _aware(self.clock)
        challenge = Challenge(_new_token(), now + ttl)
        with self._lock:
            for token, (expires, _) in list(self._issued.items()):
                if expires < now - KEEP_AFTER_EXPIRY:
                    del self._issued[token]
            self._issued[challenge.token] = (challenge.expires, None)
        return challenge

    def _refusal(self, token: str, now: datetime) -> Refusal | None:
        entry = self._issued.get(token) if isinstance(token, str) else None
        if entry is None:
            return _UNKNOWN
        expires, used = entry
        if used is not None:
            return _used(used)
        if now >= expires:
            return _expired(expires)
        return None

    def refusal(self, token: str) -> Refusal | None:
        now = _aware(self.clock)
        with self._lock:
            return self._refusal(token, now)

    def consume(self, token: str) -> Refusal | None:
        now = _aware(self.clock)
        with self._lock:
            refused = self._refusal(token, now)
            if refused is None:
                self._issued[token] = (self._issued[token][0], now)
            return refused

    def close(self) -> None:
        pass


_SCHEMA = """
CREATE TABLE IF NOT EXISTS challenges (
    token   TEXT PRIMARY KEY,
    expires REAL NOT NULL,
    used    REAL
)
"""


def _at(seconds: float) -> datetime:
    return datetime.fromtimestamp(seconds, timezone.utc)


class SqliteChallengeStore:
    """Challenges in the SQLite file at ``path`` (made if missing, with its table): they
    survive a restart and are shared by every process that opens the same file. Consuming is
    one ``UPDATE ... WHERE used IS NULL AND expires > now``, so of two processes that race for
    one challenge exactly one wins. ``clock`` returns the current time (aware); ``timeout`` is
    how long to wait for another process's write.

    :raises ChallengeStoreError: ``path`` cannot be opened as the store (its folder does not
        exist, it is not an SQLite file, or a table there is not ours).
    """

    across_processes = True

    def __init__(self, path: str | os.PathLike[str], *, clock: Clock | None = None, timeout: float = 10.0) -> None:
        self.path = Path(path)
        self.clock = _utc(clock)
        self.timeout = timeout
        self._closed = False
        db = self._connect()
        try:
            db.execute(_SCHEMA)
            db.execute("SELECT token, expires, used FROM challenges LIMIT 1").fetchall()
        except sqlite3.Error as e:
            raise ChallengeStoreError(f"{self.path} is not a challenge store: {e}") from None
        finally:
            db.close()

    def _connect(self) -> sqlite3.Connection:
        if self._closed:
            raise ValueError("this challenge store is closed")
        try:
            db = sqlite3.connect(self.path, timeout=self.timeout, isolation_level=None)
        except sqlite3.Error as e:
            raise ChallengeStoreError(f"cannot open the challenge store {self.path}: {e}") from None
        return db

    def _one(self, sql: str, args: tuple[object, ...]) -> tuple[int, tuple[Any, ...] | None]:
        """Run one statement on a connection of its own: (rows changed, first row)."""
        db = self._connect()
        try:
            cursor = db.execute(sql, args)
            return cursor.rowcount, cursor.fetchone()
        except sqlite3.Error as e:
            raise ChallengeStoreError(f"the challenge store {self.path} cannot be used: {e}") from None
        finally:
            db.close()

    def issue(self, ttl: timedelta = DEFAULT_TTL) -> Challenge:
        _require_ttl(ttl)
        now = _aware(self.clock)
        challenge = Challenge(_new_token(), now + ttl)
        self._one("DELETE FROM challenges WHERE expires < ?", ((now - KEEP_AFTER_EXPIRY).timestamp(),))
        self._one(
            "INSERT INTO challenges (token, expires, used) VALUES (?, ?, NULL)",
            (challenge.token, challenge.expires.timestamp()),
        )
        return challenge

    def refusal(self, token: str) -> Refusal | None:
        now = _aware(self.clock)
        if not isinstance(token, str) or len(token) > MAX_TOKEN_LENGTH:
            return _UNKNOWN
        _, row = self._one("SELECT expires, used FROM challenges WHERE token = ?", (token,))
        if row is None:
            return _UNKNOWN
        expires, used = row
        if used is not None:
            return _used(_at(float(used)))
        if now.timestamp() >= float(expires):
            return _expired(_at(float(expires)))
        return None

    def consume(self, token: str) -> Refusal | None:
        now = _aware(self.clock)
        if not isinstance(token, str) or len(token) > MAX_TOKEN_LENGTH:
            return _UNKNOWN
        changed, _ = self._one(
            "UPDATE challenges SET used = ? WHERE token = ? AND used IS NULL AND expires > ?",
            (now.timestamp(), token, now.timestamp()),
        )
        if changed == 1:
            return None
        return self.refusal(token) or _UNKNOWN  # another process won in between: it reads as used

    def close(self) -> None:
        """No connection stays open between operations; after this the store refuses to be used."""
        self._closed = True

    def __enter__(self) -> "SqliteChallengeStore":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
