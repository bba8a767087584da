"""The issuing and verifying desks the service composes, built from its configuration.

:class:`Issuers` opens every configured :class:`~tradevc.issuer.Issuer` and runs each call on
the thread of the request that asks (FastAPI runs the endpoints on a thread pool): an
``Issuer`` may be shared by threads, and signs on several at once. It also
holds the issuers' website in memory: ``did.json`` (did:web) and the signed status lists, at
the paths their URLs name (what :meth:`Issuer.publish` writes to a folder), published again
after each status change, so the lists served change at once, and once a day when they are
asked for (:data:`REPUBLISH_AFTER`), so that they never expire while the server runs.

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
from tradevc.issuer.service import issuing_warnings
from tradevc.issuer.site import media_type_of
from tradevc.vc.errors import ContextIndexError, VcError
from tradevc.vc.retrieval.http import DEFAULT_TIMEOUT
from tradevc.vc.securing.jws import parse_compact_jws
from tradevc.verifier import Verifier
from tradevc.verifier.entry import EntryReport, RuleSet
from tradevc.verifier.ledger import open_ledger
from tradevc.verifier.challenges import ChallengeStore, ChallengeStoreError, MemoryChallengeStore, SqliteChallengeStore
from tradevc.verifier.trust import load_policy

from .config import ConfigError, IssuerConfig, VerifierConfig

__all__ = [
    "REPUBLISH_AFTER", "EntryDesk", "Issuers", "ReceivedPresentations", "SiteFile", "StatusChange", "build_verifier", "known_type",
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
        self._site_lock = threading.RLock()  # _sites, site and _published change together
        self._issuers: dict[str, Issuer] = {}
        self._sites: dict[str, dict[str, SiteFile]] = {}
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
        files: dict[str, SiteFile] = {}
        did_path = issuer.home.did_document_path()
        if did_path is not None:
            files[did_path] = _site_file(did_path, issuer.home.did_document())
        for url, credential in issuer.status_list_credentials(now=now):
            path = urlsplit(url).path.lstrip("/")
            files[path] = _site_file(path, credential)
        for other, site in self._sites.items():
            clash = sorted(set(site) & set(files)) if other != name else []
            if clash:
                raise ConfigError(f"issuers.{name}: {clash[0]} is also served for issuers.{other}")
        self._sites[name] = files
        merged: dict[str, SiteFile] = {}
        for site in self._sites.values():
            merged.update(site)
        self.site = merged  # one assignment: a request reads the old site or the new one
        self._published[name] = now

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
        for issuer in self._issuers.values():
            issuer.close()


class ReceivedPresentations:
    """The ids of the presentations ``POST /presentations`` accepted, so the same id twice is
    refused (409). Kept in memory: a restart forgets them."""

    def __init__(self) -> None:
        self._ids: set[str] = set()
        self._lock = threading.Lock()

    def __contains__(self, presentation_id: object) -> bool:
        with self._lock:
            return presentation_id in self._ids

    def add(self, presentation_id: str) -> bool:
        """Keep ``presentation_id``; False if it was kept already (one wins a race)."""
        with self._lock:
            if presentation_id in self._ids:
                return False
            self._ids.add(presentation_id)
            return True


class EntryDesk:
    """Decides on entries as ``vc-verify entry`` does, with the verifier, the entry rules of
    its trust policy (``entryRules``) and, if configured, the quantity ledger (opened for each
    entry, so any thread may decide). The reports are kept in memory by a random id until the
    process ends.

    :raises ConfigError: the trust policy's entry rules are wrong."""

    def __init__(self, verifier: Verifier, trust: Path, ledger: str | None = None) -> None:
        try:
            self.rules = RuleSet.from_policy_file(trust)
        except (OSError, ValueError) as e:
            raise ConfigError(f"verifier.trust: the entry rules: {e}") from None
        self.verifier = verifier
        self.ledger = ledger
        self._reports: dict[str, EntryReport] = {}
        self._lock = threading.Lock()

    def decide(self, entry: Any, presentation: Any, *, challenge: str, domain: Any,
               now: datetime | None) -> tuple[str, EntryReport]:
        """The report's new id and the report.

        :raises EntryError: ``entry`` is not a declaration. :raises LedgerError: the ledger
        cannot be used."""
        ledger = open_ledger(self.ledger) if self.ledger is not None else None
        try:
            report = self.verifier.verify_entry(entry, presentation, challenge=challenge, domain=domain,
                                                rules=self.rules, ledger=ledger, now=now)
        finally:
            if ledger is not None:
                ledger.close()
        report_id = secrets.token_urlsafe(18)
        with self._lock:
            self._reports[report_id] = report
        return report_id, report

    def report(self, report_id: str) -> EntryReport | None:
        with self._lock:
            return self._reports.get(report_id)


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
