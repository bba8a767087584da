"""Rate limits: a token bucket per key (a client id, or a client's IP address and client id).

A bucket holds at most ``burst`` requests and refills at ``rate.per_second``; a request takes
one, and when none is left it is refused with the seconds until one is back (``Retry-After``).

With one worker process the buckets live in its memory (:class:`RateLimiter`). With several
(``[listen] workers``), every worker takes from the same buckets (:class:`SharedRateLimiter`):
they are rows of an SQLite file in the service's private runtime folder, so the limit is the
configured one whichever worker a client's connections reach, never the number of workers
times it. Dividing the rate among the workers instead was not chosen: a client on one
keep-alive connection stays with one worker and would get only its share. A take is one
``INSERT ... ON CONFLICT DO UPDATE ... RETURNING`` statement (the bucket refilled and taken
from at once), with the file's writers queued on an ``flock`` rather than SQLite's sleeping
busy handler, and nothing synced to disk (the folder goes when the service stops): about
15 microseconds (bench/bench_service_workers.py), against under one in memory. A deployment
running several ``tradevc-serve`` commands behind one address still has buckets per command.
"""

from __future__ import annotations

import fcntl
import math
import os
import sqlite3
import threading
import time
from pathlib import Path
from typing import Callable, Protocol

from .config import DEFAULT_TOKEN_FAILURES, ClientConfig, Rate

__all__ = ["Limiter", "Limits", "RateLimiter", "SharedBuckets", "SharedRateLimiter"]

MAX_KEYS = 100_000
"""The buckets kept at most (a few MB)."""


class RateLimiter:
    """Token buckets of one ``rate`` per key; ``clock`` returns seconds (monotonic)."""

    def __init__(self, rate: Rate, *, clock: Callable[[], float] = time.monotonic) -> None:
        self.rate = rate
        self._clock = clock
        self._buckets: dict[str, tuple[float, float]] = {}  # key -> (tokens, when)
        self._lock = threading.Lock()

    def _level(self, key: str, now: float) -> float:
        tokens, when = self._buckets.get(key, (float(self.rate.burst), now))
        return min(float(self.rate.burst), tokens + (now - when) * self.rate.per_second)

    def take(self, key: str) -> int | None:
        """Take one request from ``key``'s bucket: None if there was one, else the whole
        seconds to wait until there is (at least 1)."""
        with self._lock:
            now = self._clock()
            tokens = self._level(key, now)
            if tokens >= 1:
                self._store(key, tokens - 1, now)
                return None
            self._store(key, tokens, now)
            return max(1, math.ceil((1 - tokens) / self.rate.per_second))

    def exhausted(self, key: str) -> int | None:
        """Like :meth:`take` but taking nothing: the seconds to wait if ``key``'s bucket is empty."""
        with self._lock:
            tokens = self._level(key, self._clock())
            return None if tokens >= 1 else max(1, math.ceil((1 - tokens) / self.rate.per_second))

    def _store(self, key: str, tokens: float, now: float) -> None:
        if key not in self._buckets and len(self._buckets) >= MAX_KEYS:
            # forget the longest-known key: a bucket forgotten is a full one, which only a
            # caller with more than MAX_KEYS addresses gains from (and per-address limits do
            # not stop such a caller anyway)
            del self._buckets[next(iter(self._buckets))]
        self._buckets[key] = (tokens, now)


class Limiter(Protocol):
    rate: Rate

    def take(self, key: str) -> int | None: ...

    def exhausted(self, key: str) -> int | None: ...


_BUCKETS = """
CREATE TABLE IF NOT EXISTS buckets (
    kind   TEXT NOT NULL,
    key    TEXT NOT NULL,
    tokens REAL NOT NULL,
    at     REAL NOT NULL,
    taken  INTEGER NOT NULL,
    PRIMARY KEY (kind, key)
) WITHOUT ROWID
"""
_TAKE = """
INSERT INTO buckets (kind, key, tokens, at, taken) VALUES (:kind, :key, :burst - 1, :now, 1)
ON CONFLICT (kind, key) DO UPDATE SET
    tokens = min(:burst, tokens + max(0, :now - at) * :per_second)
             - (min(:burst, tokens + max(0, :now - at) * :per_second) >= 1),
    taken = min(:burst, tokens + max(0, :now - at) * :per_second) >= 1,
    at = :now
RETURNING tokens, taken
"""
PRUNE_EVERY = 1024
"""Every this many takes, a process deletes the full buckets (a full bucket and no bucket are the same)."""


class SharedBuckets:
    """The SQLite file of the buckets every worker shares, made by the parent before it forks
    (:meth:`create`); each process opens a connection of its own on first use."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._pid = -1
        self._db: sqlite3.Connection | None = None
        self._lockfile = -1

    @classmethod
    def create(cls, path: Path) -> "SharedBuckets":
        db = sqlite3.connect(path, isolation_level=None)
        try:
            db.execute("PRAGMA journal_mode=WAL")
            db.execute(_BUCKETS)
        finally:
            db.close()
        path.chmod(0o600)
        return cls(path)

    def _connection(self) -> sqlite3.Connection:
        if self._pid != os.getpid() or self._db is None:  # first use in this process (a forked worker)
            if self._db is not None:  # the parent's copy: closed, never used here (its locks are the parent's)
                try:
                    self._db.close()
                except sqlite3.Error:
                    pass
            if self._lockfile >= 0:
                os.close(self._lockfile)  # (the parent's descriptor stays open)
            self._db = sqlite3.connect(self.path, timeout=10.0, isolation_level=None, check_same_thread=False)
            self._db.execute("PRAGMA synchronous=OFF")  # the file goes when the service stops: nothing to keep
            self._lockfile = os.open(f"{self.path}.lock", os.O_RDWR | os.O_CREAT, 0o600)
            self._pid = os.getpid()
        return self._db

    def write(self, sql: str, args: dict[str, object]) -> list[tuple[object, ...]]:
        """Run one statement that writes, the processes taking turns (an ``flock``: a waiting
        worker wakes as soon as the file is free, where SQLite's busy handler would sleep)."""
        with self._lock:
            db = self._connection()
            fcntl.flock(self._lockfile, fcntl.LOCK_EX)
            try:
                return db.execute(sql, args).fetchall()
            finally:
                fcntl.flock(self._lockfile, fcntl.LOCK_UN)

    def read(self, sql: str, args: dict[str, object]) -> list[tuple[object, ...]]:
        with self._lock:
            return self._connection().execute(sql, args).fetchall()


class SharedRateLimiter:
    """Token buckets of one ``rate`` per key, kept in ``buckets`` (shared by the workers) under
    ``kind``; ``clock`` returns seconds, the same in every process (monotonic: Linux's is the
    machine's, not the process's)."""

    def __init__(self, rate: Rate, buckets: SharedBuckets, kind: str, *,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.rate = rate
        self._buckets = buckets
        self._kind = kind
        self._clock = clock
        self._takes = 0

    def take(self, key: str) -> int | None:
        """As :meth:`RateLimiter.take`."""
        now = self._clock()
        args: dict[str, object] = {"kind": self._kind, "key": key, "burst": float(self.rate.burst), "now": now,
                                   "per_second": self.rate.per_second}
        self._takes += 1
        if self._takes % PRUNE_EVERY == 0:
            self._buckets.write("DELETE FROM buckets WHERE kind = :kind AND "
                                "tokens + max(0, :now - at) * :per_second >= :burst", args)
        (tokens, taken), = self._buckets.write(_TAKE, args)
        if taken:
            return None
        return max(1, math.ceil((1 - float(tokens)) / self.rate.per_second))  # type: ignore[arg-type]

    def exhausted(self, key: str) -> int | None:
        """As :meth:`RateLimiter.exhausted`."""
        rows = self._buckets.read("SELECT tokens, at FROM buckets WHERE kind = :kind AND key = :key",
                                  {"kind": self._kind, "key": key})
        if not rows:
            return None
        tokens, at = (float(v) for v in rows[0])  # type: ignore[arg-type]
        level = min(float(self.rate.burst), tokens + max(0.0, self._clock() - at) * self.rate.per_second)
        return None if level >= 1 else max(1, math.ceil((1 - level) / self.rate.per_second))


class Limits:
    """The service's limits: each client's requests (by client id, once its token is checked),
    and the failed client authentications at the token endpoint (by IP address: a guesser
    of secrets is slowed down, while a client that knows its secret is never counted). With
    ``shared`` (several workers) the buckets are those every worker takes from."""

    def __init__(self, clients: tuple[ClientConfig, ...] = (), token_failures: Rate = DEFAULT_TOKEN_FAILURES, *,
                 clock: Callable[[], float] = time.monotonic, shared: SharedBuckets | None = None) -> None:
        def limiter(rate: Rate, kind: str) -> Limiter:
            if shared is not None:
                return SharedRateLimiter(rate, shared, kind, clock=clock)
            return RateLimiter(rate, clock=clock)

        self._clients = {c.client_id: limiter(c.rate, f"client {c.client_id}") for c in clients if c.rate is not None}
        self._failures = limiter(token_failures, "token failures")

    def client(self, client_id: str) -> int | None:
        """Count a request of ``client_id``: None if within its rate, else the seconds to wait."""
        limiter = self._clients.get(client_id)
        return limiter.take(client_id) if limiter is not None else None

    def token_blocked(self, address: str) -> int | None:
        """The seconds ``address`` must wait before its next token request, or None."""
        return self._failures.exhausted(address)

    def token_failed(self, address: str) -> None:
        """Count a failed client authentication from ``address``."""
        self._failures.take(address)
