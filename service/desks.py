"""The issuing and verifying desks the service composes, built from its configuration.

:class:`Issuers` opens every configured :class:`~tradevc.issuer.Issuer` and runs each call on
the thread of the request that asks (FastAPI runs the endpoints on a thread pool): an
``Issuer`` may be shared by threads, and signs on several at once. It also
holds the issuers' website in memory: ``did.json`` (did:web) and the signed status lists, at
the paths their URLs name (what :meth:`Issuer.publish` writes to a folder), published again
after each status change, so the lists served change at once, and once a day when they are
asked for (:data:`REPUBLISH_AFTER`), so that they never expire while the server runs. Each
list's history is served beside it (:meth:`Issuer.site_documents`): a new version is recorded
in the registry only when the list's bits changed or its last version is a day old, so the
workers that all sign a list again after one change record one version between them.

Several worker processes (``[listen] workers``) each hold their own copy of that website, and
all issue from the same registries (SQLite serializes the index allocation across processes).
A change another worker made (or ``vc-issuer revoke`` on the same home) is noticed by
:meth:`Issuers.sync`, called before a file of the website is served and before a
verification: it reads each registry's count of status changes
(:class:`~tradevc.issuer.registry.StatusWatch`, microseconds when nothing changed) and signs
the lists again when the count moved since this worker last signed them. So a status list
answered by any worker right after a revocation answered by another already has the bit set.

:func:`build_verifier` makes the :class:`~tradevc.verifier.Verifier` of ``[verifier]``.
"""

from __future__ import annotations

import json
import secrets
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Callable, Mapping
from urllib.parse import urlsplit

import requests

from tradevc.issuer import Issuer
from tradevc.issuer.credential_types import get_type, resolve_type_name
from tradevc.issuer.registry import HistoryRefused, StatusWatch
from tradevc.issuer.service import issuing_warnings
from tradevc.issuer.site import media_type_of
from tradevc.vc.errors import ContextIndexError, VcError
from tradevc.vc.retrieval.http import DEFAULT_TIMEOUT
from tradevc.vc.securing.jws import parse_compact_jws
from tradevc.verifier import Verifier
from tradevc.verifier.entry import RuleSet
from tradevc.verifier.ledger import open_ledger
from tradevc.verifier.challenges import ChallengeStore, ChallengeStoreError, MemoryChallengeStore, SqliteChallengeStore
from tradevc.verifier.trust import load_policy

from .config import ConfigError, IssuerConfig, VerifierConfig
from .records import MemoryRecords, Records, StoredReport

__all__ = [
    "REPUBLISH_AFTER", "EntryDesk", "Issuers", "SiteFile", "StatusChange", "build_verifier", "known_type",
]

STATUS_ACTIONS = {"revoked": "revoke", "suspended": "suspend", "reinstated": "reinstate"}
REPUBLISH_AFTER = timedelta(days=1)
"""Served status lists are signed again when asked for this long after they were signed
(each is valid for :data:`tradevc.issuer.service.DEFAULT_LIST_VALIDITY`, 30 days)."""


@dataclass(frozen=True)
class SiteFile:
    """A file of an issuer's website: its bytes and ``Content-Type``."""

    data: bytes
    media_type: str


@dataclass(frozen=True)
class StatusChange:
    status: str
    changed: bool


def known_type(name: str) -> str | None:
    """The full name of a known trade credential type (a short name accepted), or None."""
    full = resolve_type_name(name)
    return full if get_type(full) is not None else None


class Issuers:
    """The configured issuers, called from any thread (see the module); what they publish
    is changed under one lock. ``clock`` returns the current time (aware; default the system's)."""

    def __init__(self, configs: tuple[IssuerConfig, ...], *, clock: Callable[[], datetime] | None = None) -> None:
        self._clock = clock or (lambda: datetime.now(timezone.utc))
        self._published: dict[str, datetime] = {}
        self._signed_at: dict[str, int] = {}  # each issuer's status change count when its lists were signed
        self._watches: dict[str, StatusWatch] = {}
        self._site_lock = threading.RLock()  # _sites, site and _published change together
        self._issuers: dict[str, Issuer] = {}
        self._sites: dict[str, dict[str, SiteFile]] = {}
        self._encoded: dict[str, dict[str, tuple[object, SiteFile]]] = {}  # each file's document, and its bytes
        self.site: dict[str, SiteFile] = {}
        """Every issuer's website together, by path below the web root (no leading '/')."""
        try:
            self._open_all(configs)
        except BaseException:
            self.close()
            raise

    def _open_all(self, configs: tuple[IssuerConfig, ...]) -> None:
        prefixes: dict[str, str] = {}
        for config in configs:
            try:
                issuer = Issuer.open(config.home, config.passphrase)
            except VcError as e:
                raise ConfigError(f"issuers.{config.name}: {e.code}: {e.message}") from None
            self._issuers[config.name] = issuer
            self._watches[config.name] = issuer.registry.watch()
            base = issuer.home.profile.status_base_url
            if base is not None:
                prefix = urlsplit(base).path
                for other, taken in prefixes.items():
                    if prefix.startswith(taken) or taken.startswith(prefix):
                        raise ConfigError(
                            f"issuers.{config.name}: its status lists ({base}) would be served at the paths of "
                            f"issuers.{other}'s; give each issuer a status base URL path of its own"
                        )
                prefixes[config.name] = prefix
            self._publish(config.name)

    def _publish(self, name: str) -> None:
        """Sign the lists of issuer ``name`` again and serve them with its did.json."""
        with self._site_lock:
            self._publish_locked(name)

    def _publish_locked(self, name: str) -> None:
        issuer = self._issuers[name]
        now = self._clock()
        count = self._watches[name].count()  # before signing: a change made meanwhile is signed next time
        try:  # the lists, their history, did.json; a version recorded once per change, by any worker
            documents = issuer.site_documents(now=now, renew_after=REPUBLISH_AFTER)
        except HistoryRefused as e:
            raise ConfigError(f"issuers.{name}: {e.message}") from None
        # a sealed version of a list comes back as the same object each time (it never changes):
        # its bytes are made once, not at every publication
        before, encoded = self._encoded.get(name, {}), {}
        for path, document in documents.items():
            held = before.get(path)
            encoded[path] = held if held is not None and held[0] is document else (document, _site_file(path, document))
        files = {path: file for path, (_, file) in encoded.items()}
        for other, site in self._sites.items():
            clash = sorted(set(site) & set(files)) if other != name else []
            if clash:
                raise ConfigError(f"issuers.{name}: {clash[0]} is also served for issuers.{other}")
        self._sites[name] = files
        self._encoded[name] = encoded
        merged: dict[str, SiteFile] = {}
        for site in self._sites.values():
            merged.update(site)
        self.site = merged  # one assignment: a request reads the old site or the new one
        self._published[name] = now
        self._signed_at[name] = count

    def changes(self) -> tuple[int, ...]:
        """Every issuer's count of status changes (see the module): cheap, from any thread."""
        return tuple(watch.count() for watch in self._watches.values())

    def behind(self) -> bool:
        """Some issuer's lists changed (in any process) since this process signed them."""
        return any(watch.count() != self._signed_at.get(name) for name, watch in self._watches.items())

    def sync(self) -> None:
        """Sign again the lists of every issuer whose registry changed since they were signed
        here (another worker revoked, a list was added...): see :meth:`behind`."""
        with self._site_lock:
            for name, watch in self._watches.items():
                if watch.count() != self._signed_at.get(name):
                    self._publish_locked(name)

    def stale(self) -> bool:
        """Some issuer's lists were signed :data:`REPUBLISH_AFTER` ago or more (cheap: no thread hop)."""
        now = self._clock()
        return any(now - at >= REPUBLISH_AFTER for at in list(self._published.values()))

    def refresh(self) -> None:
        """Sign again the lists of every issuer whose lists are stale (see :meth:`stale`)."""

        with self._site_lock:
            now = self._clock()
            for name, at in list(self._published.items()):
                if now - at >= REPUBLISH_AFTER:
                    self._publish_locked(name)

    def names(self) -> list[str]:
        return list(self._issuers)

    def __contains__(self, name: object) -> bool:
        return name in self._issuers

    def issue(
        self, name: str, credential: Mapping[str, Any], *, type_name: str | None, securing: str,
        cryptosuite: str | None,
    ) -> tuple[dict[str, Any] | str, list[str]]:
        """Issue as ``vc-issuer issue`` does; the signed credential and the issuing warnings.

        :raises VcError: refused (see :meth:`Issuer.issue`). :raises ValueError: a bad option.
        """

        def call() -> tuple[dict[str, Any] | str, list[str]]:
            issuer = self._issuers[name]
            signed = issuer.issue(credential, type_name=type_name, securing=securing, cryptosuite=cryptosuite)
            profile = issuer.home.profile
            warnings = issuing_warnings(
                profile.did, signed, status_base_url=profile.status_base_url, now=datetime.now(timezone.utc)
            )
            document = parse_compact_jws(signed).payload if isinstance(signed, str) else signed
            entries = document.get("credentialStatus") or []
            urls = {e.get("statusListCredential") for e in (entries if isinstance(entries, list) else [entries])}
            served = {urlsplit(u).path.lstrip("/") for u in urls if isinstance(u, str)}
            with self._site_lock:
                if not served <= set(self._sites.get(name, {})):  # a new list: serve it
                    self._publish_locked(name)
            return signed, warnings

        return call()

    def known(self, name: str, credential_id: str) -> bool:
        return self._issuers[name].registry.document(credential_id) is not None

    def change_status(self, name: str, credential_id: str, statuses: list[str]) -> list[StatusChange]:
        """Revoke, suspend or reinstate, in order, then serve the lists again.

        :raises IssuerError: refused (revocation is permanent, no such status entry...)."""

        def call() -> list[StatusChange]:
            issuer = self._issuers[name]
            out = []
            try:
                for status in statuses:
                    changed = getattr(issuer, STATUS_ACTIONS[status])(credential_id)
                    out.append(StatusChange(status, bool(changed)))
            finally:
                self._publish(name)
            return out

        return call()

    def close(self) -> None:
        for watch in self._watches.values():
            watch.close()
        for issuer in self._issuers.values():
            issuer.close()


class EntryDesk:
    """Decides on entries as ``vc-verify entry`` does, with the verifier, the entry rules of
    its trust policy (``entryRules``) and, if configured, the quantity ledger (opened for each
    entry, so any thread may decide). Each report is kept in ``records`` (see :mod:`.records`)
    by a random id (144 bits), with the client that asked for it: only that client reads it.

    :raises ConfigError: the trust policy's entry rules are wrong."""

    def __init__(self, verifier: Verifier, trust: Path, ledger: str | None = None,
                 records: Records | None = None) -> None:
        try:
            self.rules = RuleSet.from_policy_file(trust)
        except (OSError, ValueError) as e:
            raise ConfigError(f"verifier.trust: the entry rules: {e}") from None
        self.verifier = verifier
        self.ledger = ledger
        self.records = records if records is not None else MemoryRecords()

    def decide(self, entry: Any, presentation: Any, *, challenge: str, domain: Any,
               now: datetime | None, client_id: str) -> tuple[str, str]:
        """The report's new id and its JSON (``{id, ...report}``), kept for ``client_id``.

        :raises EntryError: ``entry`` is not a declaration. :raises LedgerError: the ledger
        cannot be used. :raises RecordsError: the report cannot be kept."""
        ledger = open_ledger(self.ledger) if self.ledger is not None else None
        try:
            report = self.verifier.verify_entry(entry, presentation, challenge=challenge, domain=domain,
                                                rules=self.rules, ledger=ledger, now=now)
        finally:
            if ledger is not None:
                ledger.close()
        report_id = secrets.token_urlsafe(18)
        text = json.dumps({"id": report_id, **report.to_dict()}, ensure_ascii=False)
        self.records.keep_report(report_id, client_id, text, report.to_html())
        return report_id, text

    def report(self, report_id: str, client_id: str) -> StoredReport | None:
        """The report ``report_id`` if ``client_id`` asked for it (None for another client, as
        for an id never given: an id that leaks does not open a report to every entries client).

        :raises RecordsError: the records cannot be read."""
        found = self.records.report(report_id)
        return found if found is not None and found.client_id == client_id else None


def _site_file(path: str, document: Any) -> SiteFile:
    data = (json.dumps(document, indent=2, ensure_ascii=False) + "\n").encode("utf-8")
    return SiteFile(data, media_type_of(path, data))


def build_verifier(config: VerifierConfig, *, timeout: float = DEFAULT_TIMEOUT) -> Verifier:
    """The Verifier of ``[verifier]``; ``timeout`` bounds each of its network fetches (seconds).

    :raises ConfigError: the trust policy, challenge store or an allowed host is wrong."""
    try:
        policy = load_policy(config.trust)
    except OSError as e:
        raise ConfigError(f"verifier.trust: cannot read {config.trust}: {e.strerror}") from None
    except ValueError as e:
        raise ConfigError(f"verifier.trust: {config.trust.name}: {e}") from None
    challenges: ChallengeStore = MemoryChallengeStore()  # for one process; a file survives restarts
    if config.challenges is not None:
        try:
            challenges = SqliteChallengeStore(config.challenges)
        except ChallengeStoreError as e:
            raise ConfigError(f"verifier.challenges: {e.message}") from None
    try:
        if config.offline:
            return Verifier.offline(policy=policy, challenges=challenges)
        session = requests.Session()
        if config.ca_bundle is not None:
            session.verify = str(config.ca_bundle)
        return Verifier(policy=policy, session=session, allow_hosts=config.allow_hosts, challenges=challenges,
                        timeout=timeout)
    except ValueError as e:
        raise ConfigError(f"verifier.allow_hosts: {e}") from None
    except ContextIndexError as e:  # pragma: no cover - no contexts folder is configured yet
        raise ConfigError(f"verifier: {e.message}") from None
