"""Checking a credential's ``credentialStatus``: Bitstring Status List v1.0
(``BitstringStatusListEntry``; purposes ``revocation``, ``suspension``, ``message``) and, for
older credentials, ``StatusList2021Entry``.

For each entry the status list credential is fetched over HTTPS (through the verifier's
fetcher, or from the mirror or snapshot its mirror maps the list's host to: the report then
says so) as JSON with a Data Integrity proof or as a ``vc+jwt`` (or VC-JWT 1.1) token, its
proof or signature verified, its issuer matched to the credential's issuer, its purpose
matched to the entry's, its validity period checked, and the bit read. Verified lists are
cached until their ``ttl`` (milliseconds; default :data:`DEFAULT_TTL`) or their
``validUntil``, whichever comes first.

Outcomes: a set revocation bit fails ``revocation`` (code ``REVOKED``), a set suspension
bit fails ``suspension`` (``SUSPENDED``); an index outside the list fails (``RANGE_ERROR``).
An entry with a ``statusSize`` above 1 and no ``statusMessage``, or a ``statusMessage`` that
is not one ``{status, message}`` object per possible value (2^statusSize), fails before any
list is fetched (``STATUS_VERIFICATION_ERROR``). A list that cannot be fetched or verified gives outcome *error* (could not verify), never
*passed*. Only if the caller allows it (``stale_if_error``) may a cached list past its
freshness be used while the issuer is unreachable, and the report then says so and how old
the list is.

With a :class:`~tradevc.vc.retrieval.disk_cache.DiskCache` (``cache``), the bytes of every list
fetched over the network (directly or from an https mirror) and verified are also kept on disk,
so that another process may use them: only under ``stale_if_error``, only when the fetch failed
because the issuer could not be reached (:func:`~tradevc.vc.retrieval.disk_cache.is_outage`:
no answer, or HTTP 5xx; a 404 or a list that does not verify is no reason to fall back), and
only after the cached bytes are verified again exactly as a fresh fetch (proof, issuer,
purpose, validity at the time of use). The same rule of age applies as to a list cached in
memory: at most ``stale_if_error`` past its freshness, counted from when it was fetched. A
cached copy that does not verify is deleted; one fetched "in the future" is not used. Without
``stale_if_error`` the disk cache is written but never read.

Status as of a past moment. A credential verified as of a moment more than
:data:`HISTORICAL_AFTER` before the checker's clock (``now=`` an entry's date) is checked
against the list as it was then. The current list answers if it was already in effect (its
``validFrom`` is not after the moment). Otherwise the version then in effect is read from the
list's history (:func:`~tradevc.vc.status.history_index_url`: the index, then the version it
names), or else from ``<list URL>?timestamp=<moment>`` (Bitstring Status List v1.0), and
verified as the list is (proof, id, issuer, purpose) at the end of its period, then refused
unless its own signed validity period covers the moment. The check says which version
answered (``data``: ``asOf``, ``historical``, ``statusListVersion``, ``statusListVersionUrl``).
An issuer that publishes neither form: the current list, read at the clock's time, with a
warning and ``historical`` false. A history with no version for the moment: could not verify
(``STATUS_RETRIEVAL_ERROR``), since the issuer keeps a history and a gap in it is no evidence.
"""

from __future__ import annotations

import base64
import binascii
import json
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any, Callable, NamedTuple
from urllib.parse import quote

from tradevc.vc.compat import WARNING_PREFIX, Compatibility, require_compatibility, warning
from tradevc.vc.errors import InvalidDocument
from tradevc.vc.jsontext import json_kind
from tradevc.vc.retrieval.disk_cache import STATUS_LIST, DiskCache, duration_text as _duration, is_outage
from tradevc.vc.retrieval.http import Fetched, HttpsFetcher, RetrievalError
from tradevc.vc.retrieval.recording import Recorded, capture, note, renote
from tradevc.vc.retrieval.status_types import StatusType, status_type
from tradevc.vc.model import is_url
from tradevc.vc.status import (
    BitstringStatusList, HistoryVersion, history_index_url, history_version_url, parse_history_index, status_entry_index,
    version_covering,
)
from tradevc.vc.report import CheckResult, Outcome, VerificationResult

__all__ = ["StatusChecker", "DEFAULT_TTL", "ListVerifier", "VerifiedList"]

DEFAULT_TTL = timedelta(minutes=5)
HISTORICAL_AFTER = timedelta(minutes=5)
"""A verification moment further back than this from the checker's clock asks for the status
as of that moment (the report says which list version answered); a nearer one is "now"."""
_EFFECT_SKEW = timedelta(minutes=5)  # a list may say it takes effect this much after the moment asked
_MAX_HELD_VERSIONS = 1024
_BLOCKING = {"revocation": ("REVOKED", "revoked"), "suspension": ("SUSPENDED", "suspended")}
"""Purposes whose set bit makes a credential fail: (code, past participle)."""
_NAMED_ISSUER = f"{WARNING_PREFIX}status-list-issuer-name:"


class VerifiedList(NamedTuple):
    """What a :data:`ListVerifier` gives back: the report of the status list credential's
    verification, and the credential it verified as JSON (None if it could not be read)."""

    report: VerificationResult
    credential: Mapping[str, Any] | None


ListVerifier = Callable[[Fetched, str, datetime], VerifiedList]
"""``(fetched body, expected issuer, now) -> VerifiedList``: verifies a fetched status list
credential (JSON secured with Data Integrity, or a compact JWS: whatever the verification
pipeline reads), trusting only the expected issuer. Passed in by the verifier, so that
retrieval never imports verification. Raises :class:`~tradevc.vc.retrieval.http.RetrievalError`
for a body that is no document at all (not JSON, not a token)."""

LIST_MEDIA_TYPES = "application/json, application/ld+json, application/vc+jwt, application/jwt"
"""What a status list is asked for as (``Accept``)."""


@dataclass
class _CachedList:
    url: str
    issuer: str
    purpose: str
    bits: BitstringStatusList
    fetched_at: datetime
    fresh_until: datetime
    status_messages: list[Any] | None
    warnings: tuple[str, ...] = ()  # the compatibility deviations the list needed, repeated in each report
    stale_copy: bool = False  # a held copy already past its freshness when read: judged again at each use
    generation: object = None  # StatusChecker.generation() before it was fetched
    valid_from: datetime | None = None  # the list credential's own (verified) validity period
    valid_until: datetime | None = None
    sources: tuple[Recorded, ...] = ()  # the bodies it was read from, recorded again at each use (evidence)


class _AsOf(NamedTuple):
    """How a status was read for a moment: the words the check adds, and its data."""

    note: str
    data: dict[str, Any]


class _ListProblem(Exception):
    def __init__(
        self, code: str, message: str, *, outage: bool = False, undecided: bool = False, not_in_effect: bool = False,
    ) -> None:
        super().__init__(message)
        self.code, self.message = code, message
        self.not_in_effect = not_in_effect
        """The list verified but for its validity period, which starts after the moment asked
        about: it was published since (the status as of that moment is in its history)."""
        self.outage = outage
        """The list could not be fetched because the issuer could not be reached (see
        :func:`~tradevc.vc.retrieval.disk_cache.is_outage`)."""
        self.undecided = undecided
        """The list's verification could not be carried out (e.g. its issuer's DID document
        could not be fetched): not proven bad."""


class StatusChecker:
    """Checks status entries against status lists fetched with ``fetcher`` and verified with
    ``verify_list``. One instance (and its cache) is shared by all verifications of a verifier.

    ``compatibility`` (default strict, see :mod:`tradevc.vc.compat`) may tolerate a list ``id`` with
    one trailing ``/`` more or less than the entry's URL (``status-list-id-trailing-slash``),
    an ``encodedList`` without its multibase ``u`` (``encoded-list-prefix``) and a list whose
    issuer is a plain name (``status-list-issuer-name``; ``verify_list`` must then have been
    made with the same compatibility, and the list's signer must be the credential's issuer).
    Each deviation a list needed is a warning in every report that used the list.

    ``cache`` (a :class:`~tradevc.vc.retrieval.disk_cache.DiskCache`, default none) keeps the
    lists fetched on disk for other processes, read back only under ``stale_if_error`` when the
    issuer cannot be reached (see the module's documentation).

    ``generation`` (settable after construction) returns a value that changes whenever lists
    may have changed behind the cache's back (a service's own lists, changed by another of its
    worker processes): a cached list fetched under another value is not used, and a list is
    tagged with the value read *before* its fetch began, so one fetched while a change was being
    made is never mistaken for a newer one.

    ``clock`` (default: the system clock, aware) is the time now: a moment asked about well
    before it is checked against the list's history (see the module's documentation).

    :raises TypeError: ``compatibility`` is not a :class:`~tradevc.vc.compat.Compatibility`.
    """

    def __init__(
        self,
        fetcher: HttpsFetcher,
        verify_list: ListVerifier,
        *,
        stale_if_error: timedelta | None = None,
        compatibility: Compatibility | None = None,
        cache: DiskCache | None = None,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        self.clock = clock or (lambda: datetime.now(timezone.utc))
        self.fetcher = fetcher
        self.cache = cache
        self.verify_list = verify_list
        self.stale_if_error = stale_if_error
        self.compatibility = require_compatibility(compatibility)
        self._cache: dict[str, _CachedList] = {}
        self._indexes: dict[str, tuple[datetime, list[HistoryVersion] | None, tuple[Recorded, ...]]] = {}
        self._versions: dict[str, _CachedList] = {}
        self._lock = threading.Lock()
        self.generation: Callable[[], object] | None = None

    def clear_cache(self) -> None:
        with self._lock:
            self._cache.clear()
            self._indexes.clear()
            self._versions.clear()

    def check(self, credential_status: Any, issuer: str, now: datetime, result: VerificationResult) -> None:
        """Add one check per status entry to ``result``."""
        entries = credential_status if isinstance(credential_status, list) else [credential_status]
        for entry in entries:
            self._check_entry(entry, issuer, now, result)

    def _check_entry(self, entry: Mapping[str, Any], issuer: str, now: datetime, result: VerificationResult) -> None:
        entry_type = entry.get("type")
        purpose = entry.get("statusPurpose")
        name = purpose if purpose in ("revocation", "suspension") else "status"
        subject = entry.get("id") if isinstance(entry.get("id"), str) else None
        kind = status_type(entry_type)
        if kind is None:
            result.add(CheckResult.error(name, "UNSUPPORTED_ERROR", f"status entry type {entry_type!r} is not supported",
                                         subject=subject))
            return
        try:
            index = status_entry_index(entry)
            url = entry.get("statusListCredential")
            if not is_url(url) or not isinstance(purpose, str):
                raise InvalidDocument("a status entry needs statusPurpose and a statusListCredential URL")
            size = entry.get("statusSize", 1)
            if not isinstance(size, int) or isinstance(size, bool) or size < 1:
                raise InvalidDocument(f"statusSize must be a positive integer, not {size!r}")
            _check_status_messages(entry, size)
        except InvalidDocument as e:
            result.add(CheckResult.failed(name, e.code, f"malformed status entry: {e.message}", subject=subject))
            return
        try:
            try:
                cached = self._list(url, kind, purpose, size, issuer, now, result)
                as_of = self._current_as_of(cached, now)
            except _ListProblem as e:
                # a list from after a moment in the past: read the history; one from the future
                # (the issuer's clock, or ours, is off) stays refused as it was
                if not e.not_in_effect or now >= self.clock() - HISTORICAL_AFTER:
                    raise
                cached, as_of = self._as_of(url, kind, purpose, size, issuer, now, result)
        except _ListProblem as e:
            result.add(CheckResult.error(name, e.code, e.message, subject=subject))
            return
        for tolerated in cached.warnings:
            if tolerated not in result.warnings:
                result.warnings.append(tolerated)
        if index >= cached.bits.length:
            result.add(CheckResult.failed(
                name, "RANGE_ERROR", f"statusListIndex {index} is outside the list of {cached.bits.length} entries",
                subject=subject))
            return
        value = cached.bits.get(index)
        origin = self.fetcher.origin(url)  # a mirror or snapshot: say so, with the verdict
        read = f"; read from {origin}" if origin is not None else ""
        source = f" (list {url}{read})" if origin is not None else ""
        data: dict[str, Any] = {"statusListFrom": str(origin)} if origin is not None else {}
        when = ""
        if as_of is not None:
            when = f" {as_of.note}"
            data.update(as_of.data)
        if purpose in _BLOCKING:
            code, word = _BLOCKING[purpose]
            if value:
                result.add(CheckResult.failed(name, code, f"{word} by the issuer{when} (list {url}, index {index}{read})",
                                              subject=subject, data=data))
            else:
                result.add(CheckResult.passed(name, f"not {word}{when}{source}", subject=subject, data=data))
        else:
            message = _status_message(entry, value)
            result.add(CheckResult.passed(
                name, f"{purpose} status {hex(value)}{': ' + message if message else ''}{when}{source}",
                subject=subject, data={"status": value, **data}))

    # -- lists -------------------------------------------------------------------------------

    def _list(
        self, url: str, kind: StatusType, purpose: str, size: int, issuer: str, now: datetime, result: VerificationResult
    ) -> _CachedList:
        generation = self.generation() if self.generation is not None else None
        with self._lock:
            cached = self._cache.get(url)
        if cached is not None and cached.generation != generation:
            cached = None  # lists changed since it was fetched
        if cached is not None and now < cached.fresh_until:
            self._matches(cached, purpose, issuer, url)
            _in_effect(cached, url, now)
            renote(cached.sources)
            return cached
        if cached is not None and cached.stale_copy:  # the same held bytes: not verified again
            self._matches(cached, purpose, issuer, url)
            _in_effect(cached, url, now)
            self._stale_copy(cached, url, now, result)
            renote(cached.sources)
            return cached
        try:
            with capture() as used:
                fresh = self._fetch(url, kind, purpose, size, issuer, now)
            fresh.sources = tuple(used.items)
            fresh.generation = generation
            if fresh.fetched_at < now and fresh.fresh_until <= now:  # a held copy, past its freshness already
                fresh.stale_copy = True
                with self._lock:
                    self._cache[url] = fresh  # kept; every report that uses it says how old it is
                self._stale_copy(fresh, url, now, result)
                return fresh
        except _ListProblem as problem:
            if (
                problem.code == "STATUS_RETRIEVAL_ERROR"
                and cached is not None
                and self.stale_if_error is not None
                and now - cached.fresh_until <= self.stale_if_error
            ):
                self._matches(cached, purpose, issuer, url)
                age = now - cached.fetched_at
                result.warnings.append(
                    f"status list {url} could not be fetched ({problem.message}); used the cached copy fetched "
                    f"{_minutes(age)} ago, {_minutes(now - cached.fresh_until)} past its freshness (stale_if_error)"
                )
                renote(cached.sources)
                return cached
            on_disk = self._from_disk(problem, url, kind, purpose, size, issuer, now, result)
            if on_disk is not None:
                on_disk.generation = generation
                return on_disk
            raise
        with self._lock:
            self._cache[url] = fresh
        return fresh

    def _cacheable(self, url: str) -> bool:
        """Whether the list at ``url`` is fetched over the network (from its host or an https
        mirror), and so kept in, and read from, the disk cache; not a snapshot file or a held copy."""
        if self.cache is None:
            return False
        origin = self.fetcher.origin(url)
        return origin is None or origin.kind == "mirror"

    def _from_disk(
        self, problem: _ListProblem, url: str, kind: StatusType, purpose: str, size: int, issuer: str, now: datetime,
        result: VerificationResult,
    ) -> _CachedList | None:
        """The copy of the list in the disk cache, verified again, if the fetch failed for an
        outage and ``stale_if_error`` allows its age (a warning in ``result`` says so); else None."""
        if self.cache is None or self.stale_if_error is None or not problem.outage or not self._cacheable(url):
            return None
        copy = self.cache.get(STATUS_LIST, url, max_bytes=self.fetcher.max_bytes)
        if copy is None or copy.fetched_at > now:  # from the future: its age cannot be judged
            return None
        try:
            with capture() as used:
                note("status-list", url, copy.body, copy.media_type, copy.fetched_at)
                listed = self._judge(Fetched(url, copy.body, copy.media_type, copy.fetched_at), url, kind, purpose,
                                     size, issuer, now)
            listed.sources = tuple(used.items)
        except _ListProblem as refused:
            if not refused.undecided:  # bytes that are not the issuer's valid list: never again
                self.cache.discard(STATUS_LIST, url)
            return None
        if now - listed.fresh_until > self.stale_if_error:
            return None
        age, past = now - listed.fetched_at, now - listed.fresh_until
        how_old = f"{_duration(past)} past its freshness" if past > timedelta(0) else "still within its freshness"
        result.warnings.append(
            f"status list {url} could not be fetched ({problem.message}); used the cached copy fetched "
            f"{_duration(age)} ago, {how_old} (stale_if_error; from the cache on disk)"
        )
        with self._lock:
            self._cache[url] = listed
        return listed

    def _stale_copy(self, copy: _CachedList, url: str, now: datetime, result: VerificationResult) -> None:
        """A copy of a list fetched at ``copy.fetched_at`` (held by the mirror, e.g. in a trust
        pack) that is past its freshness (``ttl``, ``validUntil``): used, with a warning, if
        ``stale_if_error`` allows that much, as for a cached copy when the issuer is
        unreachable (a verifier reading held copies cannot reach it).

        :raises _ListProblem: ``STATUS_RETRIEVAL_ERROR``, it is older than that."""
        origin = self.fetcher.origin(url)
        where = f" from {origin}" if origin is not None else ""
        past = now - copy.fresh_until
        age = f"fetched {_duration(now - copy.fetched_at)} ago, {_duration(past)} past its freshness"
        if self.stale_if_error is not None and past <= self.stale_if_error:
            result.warnings.append(
                f"status list {url}: used the copy{where} {age} (ttl or validUntil; stale_if_error allows "
                f"{_duration(self.stale_if_error)})"
            )
            return
        allowed = f" (stale_if_error allows {_duration(self.stale_if_error)})" if self.stale_if_error else ""
        raise _ListProblem("STATUS_RETRIEVAL_ERROR", f"status list {url}: the copy{where} was {age}{allowed}; "
                           "a fresher copy is needed")

    def _matches(self, cached: _CachedList, purpose: str, issuer: str, url: str) -> None:
        if cached.purpose != purpose:
            raise _ListProblem("STATUS_VERIFICATION_ERROR",
                               f"status list {url} has statusPurpose {cached.purpose!r}, but the entry says {purpose!r}")
        if cached.issuer != issuer:
            raise _ListProblem("STATUS_VERIFICATION_ERROR",
                               f"status list {url} was issued by {cached.issuer}, not by the credential's issuer {issuer}")

    def _fetch(self, url: str, kind: StatusType, purpose: str, size: int, issuer: str, now: datetime) -> _CachedList:
        try:
            fetched = self.fetcher.fetch(url, what="status list", accept=LIST_MEDIA_TYPES, kind="status-list")
        except RetrievalError as e:
            raise _ListProblem("STATUS_RETRIEVAL_ERROR", e.message, outage=is_outage(e)) from e
        listed = self._judge(fetched, url, kind, purpose, size, issuer, now)
        if self.cache is not None and fetched.fetched_at is None and self._cacheable(url):
            self.cache.put(STATUS_LIST, url, fetched.body, media_type=fetched.media_type, fetched_at=listed.fetched_at,
                           max_bytes=self.fetcher.max_bytes)
        return listed

    def _judge(
        self, fetched: Fetched, url: str, kind: StatusType, purpose: str, size: int, issuer: str, now: datetime,
        *, require_id: bool = False,
    ) -> _CachedList:
        """The list in ``fetched`` (just fetched, or read back from the disk cache), verified;
        with ``require_id`` (a past version, fetched from another URL than the list's) it must
        name the list as its ``id``."""
        credential_type, subject_type = kind.credential_type, kind.subject_type
        try:
            report, document = self.verify_list(fetched, issuer, now)
        except RetrievalError as e:
            raise _ListProblem("STATUS_RETRIEVAL_ERROR", e.message) from e
        compat = self.compatibility
        tolerated: list[str] = []
        if not isinstance(document, Mapping):
            why = _first_problem(report)
            raise _ListProblem("STATUS_VERIFICATION_ERROR", f"status list {url} is not a credential ({why})")
        list_id = document.get("id")
        if list_id is None and require_id:
            raise _ListProblem("STATUS_VERIFICATION_ERROR", f"status list version of {url} has no id: it cannot "
                               "be told from a version of another list; refused")
        if list_id not in (None, url):
            if compat.status_list_id_trailing_slash and _one_trailing_slash_apart(list_id, url):
                tolerated.append(warning(
                    "status-list-id-trailing-slash", f"status list {url} has id {list_id!r} (one trailing '/' apart)"
                ))
            else:
                raise _ListProblem("STATUS_VERIFICATION_ERROR", f"status list at {url} has id {list_id!r}")
        if "credentialStatus" in document:
            raise _ListProblem("STATUS_VERIFICATION_ERROR", f"status list {url} has a status of its own; refused")
        declared = document.get("type")
        types = declared if isinstance(declared, list) else [declared]
        if credential_type not in types:
            raise _ListProblem("STATUS_VERIFICATION_ERROR", f"{url} is not a {credential_type}")
        if not report.verified:
            raise _ListProblem("STATUS_VERIFICATION_ERROR", f"status list {url} does not verify ({_first_problem(report)})",
                               undecided=report.could_not_verify, not_in_effect=_starts_after(report, document, now))
        list_issuer = document.get("issuer")
        list_issuer = list_issuer.get("id") if isinstance(list_issuer, Mapping) else list_issuer
        named = [w for w in report.warnings if w.startswith(WARNING_PREFIX)]
        if any(w.startswith(_NAMED_ISSUER) for w in named):
            # verified with policy IssuerIs(issuer): the list's signer is the credential's issuer
            if not compat.status_list_issuer_name:
                raise _ListProblem("STATUS_VERIFICATION_ERROR", f"status list {url} names no issuer URL")
            list_issuer = issuer
        tolerated.extend(f"{w} (status list {url})" for w in named)
        subject = document.get("credentialSubject")
        if not isinstance(subject, dict) or subject.get("type") not in (subject_type, [subject_type]):
            raise _ListProblem("STATUS_VERIFICATION_ERROR", f"status list {url} has no {subject_type} subject")
        list_purpose = subject.get("statusPurpose")
        encoded = subject.get("encodedList")
        if not isinstance(encoded, str):
            raise _ListProblem("STATUS_VERIFICATION_ERROR", f"status list {url} has no encodedList")
        if kind.multibase_prefix_optional and not encoded.startswith("u"):
            encoded = "u" + encoded  # StatusList2021 has no multibase prefix
        elif compat.encoded_list_prefix and not encoded.startswith("u"):
            # GZIP data starts 1f 8b, "H4sI" in base64url: never a 'u', so no prefix is unambiguous
            tolerated.append(warning(
                "encoded-list-prefix", f"status list {url} has an encodedList without the multibase prefix 'u'"
            ))
            encoded = "u" + encoded
        try:
            bits = BitstringStatusList.decode(encoded, status_size=size)
        except InvalidDocument as e:
            code = e.code if e.code == "STATUS_LIST_LENGTH_ERROR" else "STATUS_VERIFICATION_ERROR"
            raise _ListProblem(code, f"status list {url}: {e.message}") from e
        ttl = subject.get("ttl")
        # a copy held by the mirror was fetched from the issuer earlier: its freshness counts from then
        fetched_at = fetched.fetched_at if fetched.fetched_at is not None and fetched.fetched_at <= now else now
        try:
            lifetime = timedelta(milliseconds=ttl) if isinstance(ttl, int) and ttl > 0 else DEFAULT_TTL
            fresh_until = fetched_at + lifetime
        except OverflowError:  # a ttl beyond the calendar (the list's signer chose it): until validUntil
            fresh_until = datetime.max.replace(tzinfo=timezone.utc)
        valid_until = document.get("validUntil")
        if isinstance(valid_until, str):
            try:
                fresh_until = min(fresh_until, datetime.fromisoformat(valid_until))
            except ValueError:
                pass
        cached = _CachedList(url, str(list_issuer), str(list_purpose), bits, fetched_at, fresh_until,
                             subject.get("statusMessages") if isinstance(subject.get("statusMessages"), list) else None,
                             tuple(tolerated), valid_from=_moment(document.get("validFrom")),
                             valid_until=_moment(document.get("validUntil")))
        self._matches(cached, purpose, issuer, url)
        return cached

    # -- status as of a past moment ------------------------------------------------------------

    def _current_as_of(self, cached: _CachedList, moment: datetime) -> _AsOf | None:
        """For a moment in the past: the list read is the current one, in effect since before
        the moment (else it would not have verified for it), so it is the status then too."""
        if moment >= self.clock() - HISTORICAL_AFTER:
            return None
        since = f", in effect since {_text(cached.valid_from)}" if cached.valid_from is not None else ""
        return _AsOf(f"as of {_text(moment)} (the current list{since})", {"asOf": _text(moment), "historical": True})

    def _as_of(
        self, url: str, kind: StatusType, purpose: str, size: int, issuer: str, moment: datetime,
        result: VerificationResult,
    ) -> tuple[_CachedList, _AsOf]:
        """The list as of ``moment``, which the current list was published after: the version of
        the issuer's history in effect then, or, if the issuer publishes no history, the
        current list read now, with a warning that the status is the current one.

        :raises _ListProblem: the history has no version for the moment (could not verify: the
            issuer keeps a history, and a gap in it is no evidence either way), or the version
            it names does not verify, is not this list's, or does not cover the moment."""
        found = self._from_history(url, kind, purpose, size, issuer, moment)
        if found is not None:
            return found
        now = self.clock()
        cached = self._list(url, kind, purpose, size, issuer, now, result)
        warning_text = (
            f"status list {url}: the status is the current one (as of {_text(now)}), not as of {_text(moment)}: "
            "the issuer publishes no status history for this list (neither "
            f"{history_index_url(url) or 'a history index'} nor an answer to ?timestamp=)"
        )
        if warning_text not in result.warnings:
            result.warnings.append(warning_text)
        return cached, _AsOf(
            f"as of {_text(now)}: the current status, NOT as of {_text(moment)} (the issuer publishes no status history)",
            {"asOf": _text(now), "requestedAsOf": _text(moment), "historical": False},
        )

    def _from_history(
        self, url: str, kind: StatusType, purpose: str, size: int, issuer: str, moment: datetime,
    ) -> tuple[_CachedList, _AsOf] | None:
        """The version in effect at ``moment`` from the list's history index, else from
        ``<list URL>?timestamp=``; None if the issuer publishes neither."""
        versions = self._history_index(url)
        if versions is not None:
            version = version_covering(versions, moment)
            if version is None:
                covered = f"{_text(versions[0].valid_from)} .. {_text(versions[-1].valid_until)}" if versions else "nothing"
                raise _ListProblem(
                    "STATUS_RETRIEVAL_ERROR",
                    f"the status history of {url} has no version in effect at {_text(moment)} (it covers {covered}); "
                    "the status at that moment cannot be known",
                )
            version_url = history_version_url(url, version.version)
            listed = self._history_version(version_url, url, kind, purpose, size, issuer, moment)
            return listed, _AsOf(
                f"as of {_text(moment)} (historical list version {version.version}, in effect "
                f"{_text(listed.valid_from)} .. {_text(listed.valid_until)})",
                {"asOf": _text(moment), "historical": True, "statusListVersion": version.version,
                 "statusListVersionUrl": version_url},
            )
        separator = "&" if "?" in url else "?"
        stamped = f"{url}{separator}timestamp={quote(_text(moment), safe='')}"
        try:
            fetched = self.fetcher.fetch(stamped, what="status list as of a past moment", accept=LIST_MEDIA_TYPES, kind="status-list")
        except RetrievalError as e:
            if is_outage(e):
                raise _ListProblem("STATUS_RETRIEVAL_ERROR", f"status list {stamped}: {e.message}", outage=True) from e
            return None  # e.g. a 404: no answer for a moment
        try:
            listed = self._judge_version(fetched, url, kind, purpose, size, issuer, moment, what=f"status list {stamped}")
        except _ListProblem as e:
            if e.not_in_effect:  # a host that ignores the query answers with the current list
                return None
            raise
        return listed, _AsOf(
            f"as of {_text(moment)} (the list as of that moment, from ?timestamp=, in effect "
            f"{_text(listed.valid_from)} .. {_text(listed.valid_until)})",
            {"asOf": _text(moment), "historical": True, "statusListVersionUrl": stamped},
        )

    def _history_index(self, url: str) -> list[HistoryVersion] | None:
        """The versions the list's history index lists; None if it has none (not found).

        :raises _ListProblem: the index cannot be fetched for an outage, or is malformed."""
        index_url = history_index_url(url)
        if index_url is None:
            return None
        now = self.clock()
        with self._lock:
            held = self._indexes.get(index_url)
        if held is not None and now < held[0]:
            renote(held[2])
            return held[1]
        versions: list[HistoryVersion] | None
        used = None
        try:
            with capture() as used:
                fetched = self.fetcher.fetch(index_url, what="status history index", accept="application/json",
                                             kind="status-list")
        except RetrievalError as e:
            if is_outage(e):
                raise _ListProblem("STATUS_RETRIEVAL_ERROR", f"the status history of {url} could not be fetched: "
                                   f"{e.message}", outage=True) from e
            versions = None  # no history published (a 404): said so in the report
        else:
            try:
                document = json.loads(fetched.body)
                versions = parse_history_index(document, url)
            except (ValueError, InvalidDocument) as e:  # not JSON (or not UTF-8), or not an index of this list
                message = e.message if isinstance(e, InvalidDocument) else f"not JSON ({e})"
                raise _ListProblem("STATUS_VERIFICATION_ERROR", f"the status history index {index_url} is refused: "
                                   f"{message}") from e
        with self._lock:
            if index_url not in self._indexes and len(self._indexes) >= _MAX_HELD_VERSIONS:
                self._indexes.pop(next(iter(self._indexes)))  # bounded, as the versions are: the oldest goes
            self._indexes[index_url] = (now + DEFAULT_TTL, versions, tuple(used.items) if used is not None else ())
        return versions

    def _history_version(
        self, version_url: str, url: str, kind: StatusType, purpose: str, size: int, issuer: str, moment: datetime,
    ) -> _CachedList:
        with self._lock:
            held = self._versions.get(version_url)
        if held is not None:
            self._matches(held, purpose, issuer, url)
            _covers(held, version_url, moment)
            renote(held.sources)
            return held
        with capture() as used:
            try:
                fetched = self.fetcher.fetch(version_url, what="status list version", accept=LIST_MEDIA_TYPES,
                                             kind="status-list")
            except RetrievalError as e:
                raise _ListProblem("STATUS_RETRIEVAL_ERROR", f"status list version {version_url}: {e.message}",
                                   outage=is_outage(e)) from e
            listed = self._judge_version(fetched, url, kind, purpose, size, issuer, moment,
                                         what=f"status list version {version_url}")
        listed.sources = tuple(used.items)
        if listed.valid_until is not None and listed.valid_until <= self.clock():  # sealed: it never changes
            with self._lock:
                if len(self._versions) >= _MAX_HELD_VERSIONS:
                    self._versions.pop(next(iter(self._versions)))
                self._versions[version_url] = listed
        return listed

    def _judge_version(
        self, fetched: Fetched, url: str, kind: StatusType, purpose: str, size: int, issuer: str, moment: datetime,
        *, what: str,
    ) -> _CachedList:
        """A past version of the list at ``url``, verified as the list itself is (proof, id,
        issuer, purpose), at the end of its period (a past version is signed when it is
        superseded: its proof is younger than the moment asked about), and refused unless its
        own signed validity period covers ``moment``."""
        now = self.clock()
        claimed = _claimed_until(fetched.body)
        at = min(now, claimed) if claimed is not None else now
        try:
            listed = self._judge(Fetched(url, fetched.body, fetched.media_type, fetched.fetched_at), url, kind, purpose,
                                 size, issuer, at, require_id=True)
        except _ListProblem as e:
            raise _ListProblem(e.code, f"{what}: {e.message}", outage=e.outage, undecided=e.undecided,
                               not_in_effect=_starts_after_moment(fetched.body, moment)) from e
        if listed.valid_from is not None and listed.valid_from > moment:
            raise _ListProblem("STATUS_VERIFICATION_ERROR", f"{what} is valid from {_text(listed.valid_from)}, "
                               f"after {_text(moment)}; refused", not_in_effect=True)
        _covers(listed, what, moment)
        return listed



def _text(moment: datetime | None) -> str:
    if moment is None:
        return "no end"
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _moment(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00") if value.endswith("Z") else value)
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else None


def _in_effect(cached: _CachedList, url: str, moment: datetime) -> None:
    """A list held (read for a later moment) that took effect after ``moment``: not its status then."""
    if cached.valid_from is not None and cached.valid_from > moment + _EFFECT_SKEW:
        raise _ListProblem("STATUS_VERIFICATION_ERROR", f"status list {url} is valid from {_text(cached.valid_from)}, "
                           f"after {_text(moment)}", not_in_effect=True)


def _covers(listed: _CachedList, what: str, moment: datetime) -> None:
    """:raises _ListProblem: the list's signed validity period does not cover ``moment``."""
    start, end = listed.valid_from, listed.valid_until
    if start is None or start > moment or (end is not None and moment >= end):
        raise _ListProblem(
            "STATUS_VERIFICATION_ERROR",
            f"{what} is valid {_text(start) if start else 'from no date'} .. {_text(end)}, which does not cover "
            f"{_text(moment)}; refused",
        )


def _claimed_document(body: bytes) -> Any:
    """The JSON a body claims to be (a JSON credential, or a compact JWS's payload), unverified."""
    text = body.strip()
    try:
        if text[:1] == b"{":
            return json.loads(text)
        parts = text.split(b".")
        if len(parts) == 3:
            payload = parts[1] + b"=" * (-len(parts[1]) % 4)
            claims = json.loads(base64.urlsafe_b64decode(payload))
            return claims.get("vc", claims) if isinstance(claims, dict) else None
    except (ValueError, binascii.Error):
        return None
    return None


def _claimed_until(body: bytes) -> datetime | None:
    """The ``validUntil`` a list claims (unverified): only to choose when it is verified."""
    document = _claimed_document(body)
    return _moment(document.get("validUntil")) if isinstance(document, Mapping) else None


def _starts_after_moment(body: bytes, moment: datetime) -> bool:
    document = _claimed_document(body)
    start = _moment(document.get("validFrom")) if isinstance(document, Mapping) else None
    return start is not None and start > moment


def _starts_after(report: VerificationResult, document: Mapping[str, Any] | None, now: datetime) -> bool:
    """Whether a list failed only because it takes effect after ``now``: its validity period
    (and its proof, created when it was published) start later; nothing else is wrong."""
    if not isinstance(document, Mapping):
        return False
    start = _moment(document.get("validFrom"))
    if start is None or start <= now:
        return False
    failed = {c.name for c in report.checks if c.outcome in (Outcome.FAILED, Outcome.ERROR)}
    return bool(failed) and failed <= {"validity_period", "proof_expiry"}


def _first_problem(report: VerificationResult) -> str:
    failed = next((c for c in report.checks if c.outcome in (Outcome.FAILED, Outcome.ERROR)), None)
    return f"{failed.name}: {failed.message}" if failed else "not verified"


def _one_trailing_slash_apart(list_id: Any, url: str) -> bool:
    """True if one of the two ends with exactly one '/' more than the other, and they are
    otherwise the same (``https://a/s/1`` and ``https://a/s/1/``; not ``.../1//``)."""
    if not isinstance(list_id, str):
        return False
    shorter, longer = sorted((list_id, url), key=len)
    return longer == shorter + "/" and not shorter.endswith("/")


def _check_status_messages(entry: Mapping[str, Any], size: int) -> None:
    """Bitstring Status List v1.0, ``statusMessage``: it MAY be present if ``statusSize`` is 1
    and MUST be present if ``statusSize`` is greater than 1; if present it MUST be an array of
    one element per possible status value (2 to the power ``statusSize``: 2 for 1 bit, 4 for 2,
    8 for 3), each with the two properties ``status`` and ``message``.

    :raises InvalidDocument: code ``STATUS_VERIFICATION_ERROR``, saying which rule is broken.
    """
    if "statusMessage" not in entry:
        if size > 1:
            raise InvalidDocument(
                f"statusSize is {size}, so the entry needs a statusMessage (one per possible status value)",
                code="STATUS_VERIFICATION_ERROR",
            )
        return
    messages = entry["statusMessage"]
    if not isinstance(messages, list):
        raise InvalidDocument(f"statusMessage must be an array, not {json_kind(messages)}",
                              code="STATUS_VERIFICATION_ERROR")
    # (a statusSize of 64 bits or more could never be matched by an array, and 2**size is not computed for it)
    if size >= 64 or len(messages) != 1 << size:
        needed = f"2^{size}" if size >= 64 else f"{1 << size}"
        raise InvalidDocument(
            f"statusMessage has {len(messages)} element(s), but statusSize {size} has {needed} possible values",
            code="STATUS_VERIFICATION_ERROR",
        )
    for item in messages:
        if not (isinstance(item, Mapping) and isinstance(item.get("status"), str) and isinstance(item.get("message"), str)):
            raise InvalidDocument("each statusMessage element must be an object with a string status and message",
                                  code="STATUS_VERIFICATION_ERROR")


def _status_message(entry: Mapping[str, Any], value: int) -> str | None:
    messages = entry.get("statusMessage")
    for item in messages if isinstance(messages, list) else []:
        if isinstance(item, dict) and isinstance(item.get("status"), str):
            try:
                if int(item["status"], 16) == value:
                    return str(item.get("message"))
            except ValueError:
                continue
    return None



def _minutes(delta: timedelta) -> str:
    seconds = max(0, int(delta.total_seconds()))
    return f"{seconds // 60} min {seconds % 60} s"
