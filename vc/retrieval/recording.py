"""Recording the exact bytes a verification read from outside, for evidence.

A verifier that is asked for evidence runs one verification inside :func:`recording`; the
fetcher (:class:`~tradevc.vc.retrieval.http.HttpsFetcher`), the DID resolvers and the status
checker :func:`note` every body they use, fetched now or taken from their caches (a cached
copy keeps the bodies it was made from, see :func:`capture`). The recorder in force is held
in a :class:`contextvars.ContextVar`, so it belongs to the verification running on that
thread (or task), never to the shared verifier: two verifications at once on one verifier
record apart. When nothing records, :func:`note` is one lookup.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import datetime, timezone
from typing import NamedTuple

__all__ = ["Recorded", "Unreachable", "Recorder", "recording", "capture", "note", "note_failure", "renote", "active"]


class Recorded(NamedTuple):
    """One body a verification used: what it is (``did``, ``status-list``, ``vouch``,
    ``other``), where it was read from, its exact bytes and media type, and when it was read."""

    kind: str
    url: str
    body: bytes
    media_type: str | None
    retrieved_at: datetime


class Unreachable(NamedTuple):
    """A body a verification asked for and did not get: the URL, why (the retrieval error's
    message and code) and the HTTP status if the server answered (None: no answer)."""

    kind: str
    url: str
    message: str
    code: str
    status: int | None


class Recorder:
    """The bodies one verification used, in the order first used, each URL and body once.
    A recorder made by :func:`capture` passes what it records on to the one it was made under."""

    def __init__(self, parent: "Recorder | None" = None) -> None:
        self.items: list[Recorded] = []
        self.unreachable: list[Unreachable] = []
        self._seen: set[tuple[str, bytes]] = set()
        self._parent = parent

    def add(self, item: Recorded) -> None:
        key = (item.url, item.body)
        if key not in self._seen:
            self._seen.add(key)
            self.items.append(item)
        elif item.kind != "other":  # said again by a caller that knows what it is
            self.items = [i._replace(kind=item.kind) if (i.url, i.body) == key and i.kind == "other" else i
                          for i in self.items]
        if self._parent is not None:
            self._parent.add(item)

    def add_failure(self, failure: Unreachable) -> None:
        if failure not in self.unreachable:
            self.unreachable.append(failure)
        if self._parent is not None:
            self._parent.add_failure(failure)


_current: ContextVar[Recorder | None] = ContextVar("tradevc_evidence_recorder", default=None)


def active() -> bool:
    """Whether a verification is being recorded here."""
    return _current.get() is not None


@contextmanager
def recording(recorder: Recorder) -> Iterator[Recorder]:
    """Record into ``recorder`` what is used inside the ``with`` block (on this thread)."""
    token = _current.set(recorder)
    try:
        yield recorder
    finally:
        _current.reset(token)


@contextmanager
def capture() -> Iterator[Recorder]:
    """Record what is used inside the block apart (for a cache entry to keep), passing it on
    to the verification being recorded, if any."""
    child = Recorder(_current.get())
    token = _current.set(child)
    try:
        yield child
    finally:
        _current.reset(token)


def note(kind: str, url: str, body: bytes, media_type: str | None, at: datetime | None = None) -> None:
    """Record that ``body`` (read from ``url``) was used, if a verification is recorded."""
    recorder = _current.get()
    if recorder is not None:
        recorder.add(Recorded(kind, url, bytes(body), media_type, at or datetime.now(timezone.utc)))


def note_failure(kind: str, url: str, message: str, code: str, status: int | None) -> None:
    """Record that ``url`` could not be retrieved, if a verification is recorded."""
    recorder = _current.get()
    if recorder is not None:
        recorder.add_failure(Unreachable(kind, url, message, code, status))


def renote(items: Iterable[Recorded]) -> None:
    """Record again bodies used earlier (kept with a cached result that is used now)."""
    recorder = _current.get()
    if recorder is not None:
        for item in items:
            recorder.add(item)
