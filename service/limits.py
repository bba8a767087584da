"""Rate limits: a token bucket per key (a client id, or a client's IP address), in the process.

A bucket holds at most ``burst`` requests and refills at ``rate.per_second``; a request takes
one, and when none is left it is refused with the seconds until one is back (``Retry-After``).
The buckets live in the process: ``tradevc-serve`` runs one, so the limits are exact; a
deployment running several processes behind one address has a bucket per process, and its
effective limit is the number of processes times the configured one.
"""

from __future__ import annotations

import math
import threading
import time
from typing import Callable

from .config import DEFAULT_TOKEN_FAILURES, ClientConfig, Rate

__all__ = ["Limits", "RateLimiter"]

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

class Limits:
    """The service's limits: each client's requests (by client id, once its token is checked),
    and the failed client authentications at the token endpoint (by IP address: a guesser
    of secrets is slowed down, while a client that knows its secret is never counted)."""

    def __init__(self, clients: tuple[ClientConfig, ...] = (), token_failures: Rate = DEFAULT_TOKEN_FAILURES, *,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._clients = {c.client_id: RateLimiter(c.rate, clock=clock) for c in clients if c.rate is not None}
        self._failures = RateLimiter(token_failures, clock=clock)

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
