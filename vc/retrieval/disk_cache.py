"""A cache on disk of the status list credentials and did:web DID documents a verifier
fetched, kept between runs, so that a verifier in a new process (one ``vc-verify`` run) can
fall back on what an earlier one fetched when the issuer cannot be reached (the caller's
``stale_if_error``).

It keeps the exact bytes fetched, never a parsed or trusted form: what it gives back goes
through the same checks as a fresh fetch (a status list's proof, issuer, purpose and validity;
a DID document's media type, JSON and ``id``), so a cache file someone changed, or one left
from another issuer, is refused by those checks. The store itself only vouches that it gives
back the bytes that were put, for the kind and URL they were put for: each file holds a header
(kind, URL, fetch time, media type, size and SHA-256 of the body) and the body, and a file whose
header and body disagree (a flipped byte, a truncated or extended file), that names another
URL, that is not a regular file of the user's (a symbolic link...) or that is over the size
limit is ignored and deleted.

The fetch time in the header is believed: it decides how stale a copy is. Only the user's own
processes can write the directory (it is made 0700, and a directory that is a symbolic link,
is another user's, or that group or others may write to is refused: :class:`UnsafeFileError`),
and the copy must still verify at the time of use (a list past its ``validUntil`` does not).
A fetch time in the future is the caller's to refuse.

Bounded: at most :data:`MAX_ENTRIES` entries and :data:`MAX_TOTAL_BYTES` bytes; after each
write the least recently used entries (by modification time: reading an entry touches it)
go first. Writes are atomic (a temporary file renamed over the entry), so two processes may
share the directory: each reads whole entries, and of two writes of one entry the last wins.

:func:`is_outage` says which fetch failures count as "the issuer cannot be reached".
"""

from __future__ import annotations

import errno
import hashlib
import json
import os
import stat
import time
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

import requests
import urllib3.exceptions

from tradevc.vc.atomicfile import UnsafeFileError, write_atomic
from tradevc.vc.errors import InvalidDocument
from tradevc.vc.jsontext import loads
from tradevc.vc.retrieval.http import RetrievalError

__all__ = [
    "DiskCache", "CachedCopy", "is_outage", "STATUS_LIST", "DID_DOCUMENT", "MAX_ENTRIES", "MAX_TOTAL_BYTES",
    "UnsafeFileError", "duration_text",
]

STATUS_LIST = "status-list"
DID_DOCUMENT = "did-document"
"""The kinds of entry: one URL may be cached as each, apart."""

MAX_ENTRIES = 2000
MAX_TOTAL_BYTES = 64 * 1024 * 1024
"""The default bounds of one cache directory (headers included)."""

_MAGIC = b"tradevc-cache 1\n"
_HEADER_MAX = 16 * 1024
_SUFFIX = ".entry"
_TEMP_AGE = 3600.0  # a temporary file older than this was left by a process that died: removed


@dataclass(frozen=True)
class CachedCopy:
    """What an entry holds: the ``body`` fetched from ``url`` at ``fetched_at`` (aware), as it
    was served (``media_type``: the ``Content-Type``, None if there was none to record)."""

    url: str
    body: bytes
    media_type: str | None
    fetched_at: datetime


def is_outage(error: RetrievalError) -> bool:
    """Whether a fetch failed because its host could not be reached or failed: no answer at
    all (connection refused or reset, a DNS failure, a time-out, a TLS failure) or an HTTP 5xx
    answer. Not an outage: any other answer (a 404 says there is no such document; a redirect,
    a wrong media type, a body over the limit or not JSON), a host the network guard refuses,
    a URL that is not https, and no network at all (offline)."""
    if error.status is not None:
        return 500 <= error.status <= 599
    return isinstance(error.__cause__, (requests.exceptions.RequestException, urllib3.exceptions.HTTPError, OSError))


class DiskCache:
    """The cache directory ``directory``: made (0700) if missing.

    :raises UnsafeFileError: ``directory`` is a symbolic link, not a directory, another user's,
        or writable by group or others.
    :raises OSError: it cannot be made.
    """

    def __init__(
        self, directory: str | os.PathLike[str], *, max_entries: int = MAX_ENTRIES,
        max_total_bytes: int = MAX_TOTAL_BYTES,
    ) -> None:
        self.directory = Path(directory)
        self.max_entries = max_entries
        self.max_total_bytes = max_total_bytes
        if not os.path.lexists(self.directory):
            self.directory.parent.mkdir(parents=True, exist_ok=True)
            try:
                os.mkdir(self.directory, 0o700)
            except FileExistsError:  # another process, just now
                pass
            else:
                os.chmod(self.directory, 0o700)  # whatever the umask
        self._check()

    def __repr__(self) -> str:
        return f"DiskCache({str(self.directory)!r})"

    def _check(self) -> None:
        where = self.directory
        info = os.lstat(where)
        if stat.S_ISLNK(info.st_mode):
            raise UnsafeFileError(f"{where} is a symbolic link; a cache directory must be the directory itself")
        if not stat.S_ISDIR(info.st_mode):
            raise UnsafeFileError(f"{where} is not a directory")
        uid = getattr(os, "geteuid", None)
        if uid is not None and info.st_uid != uid():
            raise UnsafeFileError(f"{where} belongs to another user")
        if info.st_mode & 0o022:
            raise UnsafeFileError(
                f"{where} is writable by group or others (mode {stat.S_IMODE(info.st_mode):04o}), so its entries "
                f"could have been replaced; run: chmod 700 {where}"
            )

    def _usable(self) -> bool:
        try:
            self._check()
        except (OSError, UnsafeFileError):
            return False
        return True

    def entry_path(self, kind: str, url: str) -> Path:
        """The file of the entry for ``url`` as ``kind`` (named by a SHA-256 of both, so no URL
        is ever a path)."""
        name = hashlib.sha256(f"{kind}\n{url}".encode("utf-8", "surrogatepass")).hexdigest()
        return self.directory / f"{name}{_SUFFIX}"

    def get(self, kind: str, url: str, *, max_bytes: int) -> CachedCopy | None:
        """The copy of ``url`` kept as ``kind``, or None: none kept, a body over ``max_bytes``,
        or an entry that is not what it says (then deleted). Never raises for what it finds."""
        if not self._usable():
            return None
        path = self.entry_path(kind, url)
        try:
            fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
        except OSError as e:
            if e.errno == errno.ELOOP:  # a symbolic link put there: not followed, removed
                self._remove(path)
            return None
        try:
            with os.fdopen(fd, "rb") as handle:
                info = os.fstat(handle.fileno())
                uid = getattr(os, "geteuid", None)
                if not stat.S_ISREG(info.st_mode) or (uid is not None and info.st_uid != uid()):
                    self._remove(path)
                    return None
                limit = len(_MAGIC) + _HEADER_MAX + max_bytes
                if info.st_size > limit:
                    return None
                data = handle.read(limit + 1)
        except OSError:
            return None
        copy = _parse(data, kind, url, max_bytes)
        if copy is None:
            self._remove(path)
            return None
        try:
            os.utime(path)  # recently used
        except OSError:
            pass
        return copy

    def put(
        self, kind: str, url: str, body: bytes, *, media_type: str | None, fetched_at: datetime, max_bytes: int
    ) -> bool:
        """Keep ``body`` as fetched from ``url`` at ``fetched_at`` (aware), then evict the least
        recently used entries over the bounds. False, and nothing kept, if the body is over
        ``max_bytes``, the entry would not fit the cache, or the directory cannot be used or
        written (a cache that cannot be written changes no outcome)."""
        if len(body) > max_bytes or fetched_at.tzinfo is None:
            return False
        header = json.dumps({
            "kind": kind, "url": url, "fetchedAt": fetched_at.astimezone(timezone.utc).isoformat(),
            "mediaType": media_type, "size": len(body), "sha256": hashlib.sha256(body).hexdigest(),
        }, sort_keys=True).encode("utf-8", "surrogatepass")
        if len(header) > _HEADER_MAX:
            return False
        data = _MAGIC + header + b"\n" + body
        if len(data) > self.max_total_bytes or not self._usable():
            return False
        path = self.entry_path(kind, url)
        try:
            write_atomic(path, data, mode=0o600)
        except OSError:
            return False
        self._evict(keep=path)
        return True

    def discard(self, kind: str, url: str) -> None:
        """Delete the entry of ``url`` as ``kind`` (its bytes did not verify), if there is one."""
        self._remove(self.entry_path(kind, url))

    @staticmethod
    def _remove(path: Path) -> None:
        try:
            os.unlink(path)
        except OSError:
            pass

    def _evict(self, *, keep: Path) -> None:
        entries: list[tuple[float, int, str]] = []
        now = time.time()
        try:
            with os.scandir(self.directory) as scan:
                for item in scan:
                    try:
                        info = item.stat(follow_symlinks=False)
                    except OSError:
                        continue
                    if item.name.startswith(".") and item.name.endswith(".tmp"):
                        if now - info.st_mtime > _TEMP_AGE:
                            self._remove(Path(item.path))
                    elif item.name.endswith(_SUFFIX):
                        entries.append((info.st_mtime, info.st_size, item.path))
        except OSError:
            return
        entries.sort()
        count, total = len(entries), sum(size for _, size, _ in entries)
        for _, size, path in entries:
            if count <= self.max_entries and total <= self.max_total_bytes:
                break
            if path == str(keep):
                continue
            self._remove(Path(path))
            count, total = count - 1, total - size


def _parse(data: bytes, kind: str, url: str, max_bytes: int) -> CachedCopy | None:
    """The copy in an entry file's ``data``, or None if it is not a whole entry for ``url``."""
    if not data.startswith(_MAGIC):
        return None
    end = data.find(b"\n", len(_MAGIC), len(_MAGIC) + _HEADER_MAX + 1)
    if end < 0:
        return None
    body = data[end + 1:]
    try:
        header = loads(data[len(_MAGIC):end])
    except InvalidDocument:
        return None
    if not isinstance(header, dict) or header.get("kind") != kind or header.get("url") != url:
        return None
    size, digest, media_type, when = (header.get(k) for k in ("size", "sha256", "mediaType", "fetchedAt"))
    if size != len(body) or len(body) > max_bytes or digest != hashlib.sha256(body).hexdigest():
        return None
    if media_type is not None and not isinstance(media_type, str):
        return None
    try:
        fetched_at = datetime.fromisoformat(when) if isinstance(when, str) else None
    except ValueError:
        return None
    if fetched_at is None or fetched_at.tzinfo is None:
        return None
    return CachedCopy(url, body, media_type, fetched_at)


def duration_text(delta: timedelta) -> str:
    """How old a copy is, for a report: ``"3 d 4 h"``, ``"19 h 5 min"``, ``"7 min 30 s"``."""
    seconds = max(0, int(delta.total_seconds()))
    days, hours, minutes = seconds // 86400, seconds % 86400 // 3600, seconds % 3600 // 60
    if days:
        return f"{days} d {hours} h"
    if hours:
        return f"{hours} h {minutes} min"
    return f"{minutes} min {seconds % 60} s"
