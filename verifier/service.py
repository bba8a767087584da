"""``Verifier``: customs' verification desk. It wires a trust policy, DID resolvers, an HTTPS
session, caches and a clock, then calls the library for each document. One instance is
meant to live for many verifications, so its DID document and status list caches stay warm.
"""

from __future__ import annotations

import os
from datetime import datetime, timedelta, timezone
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, Callable

import requests

from tradevc.vc.checks.common import ExpectedDomain
from tradevc.vc.checks.policy import IssuerIs, VerificationPolicy, require_policy
from tradevc.vc.checks.schemas import SchemaStore, default_schema_store
from tradevc.vc.compat import Compatibility, require_compatibility
from tradevc.vc.jsonld import DocumentLoader, PinnedContextLoader, default_loader
from tradevc.vc.jsontext import DEFAULT_LIMITS, Limits
from tradevc.vc.report import CheckResult, PresentationResult, VerificationResult
from tradevc.vc.retrieval.did.resolver import DidResolvers
from tradevc.vc.retrieval.disk_cache import DiskCache
from tradevc.vc.retrieval.http import DEFAULT_MAX_BYTES, DEFAULT_TIMEOUT, Fetched, HttpsFetcher
from tradevc.vc.retrieval.mirror import Mirror
from tradevc.vc.retrieval.netguard import AllowList
from tradevc.vc.retrieval.status_lists import StatusChecker, VerifiedList
from tradevc.vc.verification import (
    DEFAULT_CLOCK_SKEW, verify_credential, verify_document, verify_fetched_credential, verify_presentation,
)

from .challenges import DEFAULT_TTL, Challenge, ChallengeStore, ChallengeStoreError
from .trust import TrustPathPolicy, TrustPaths, vouches_in

if TYPE_CHECKING:
    from .entry.engine import LedgerLike
    from .entry.report import EntryReport
    from .entry.rules import RuleSet

__all__ = ["Verifier"]

STATUS_LIST_MAX_BYTES = 16 * 1024 * 1024


class Verifier:
    """Verifies credentials and presentations against ``policy``.

    By default it is online: did:key, did:jwk and did:web (over HTTPS through ``session``),
    status lists fetched and verified, DID documents cached for ``did_cache_ttl`` seconds and
    status lists until their ``ttl``. ``stale_status_if_error`` allows a cached status list
    that is past its freshness (by at most that much) when its issuer cannot be reached; the
    report then says so. ``cache`` (a :class:`tradevc.vc.retrieval.disk_cache.DiskCache`,
    default none) keeps the status lists and did:web DID documents fetched on disk, as the
    exact bytes, so that a later verifier (another process) can fall back on them under
    ``stale_status_if_error`` when their host cannot be reached (no answer, or HTTP 5xx); read
    back, they are verified again as if just fetched, and the report says a cached copy was
    used. Without ``stale_status_if_error`` the cache is written, never read. Like ``mirror``,
    it applies to the resolvers built here, not to ``resolvers`` passed in. ``clock`` returns the current time (aware); ``max_clock_skew`` is
    the tolerance for validity periods and proof times (default 5 minutes). ``schemas`` are the
    JSON Schemas it holds for ``credentialSchema`` (VC JSON Schema; default: the shipped ones,
    one for each trade credential type; :meth:`tradevc.vc.checks.schemas.SchemaStore.from_index` adds more).

    ``mirror`` (a :class:`tradevc.vc.retrieval.mirror.Mirror`) reads the DID documents and status lists of the
    hosts it maps from their mirror or snapshot instead (through ``session``, whose
    certificate authorities it trusts), under the same checks and limits; reports say which
    documents came from where. It applies to the resolvers built here, not to ``resolvers``
    passed in. Without ``network`` nothing is fetched over the network: only snapshot files
    are read (see :meth:`offline`).

    Over the network it reaches public hosts only: a did:web host or a status list URL that
    is, or resolves to, a loopback, private, link-local (cloud metadata)... address is
    could-not-verify. ``allow_hosts`` (``HOST`` or ``HOST:PORT`` entries) are reached
    anyway: a test server, a demo, a mirror in the operator's network (a ``mirror``'s own
    hosts are allowed for what is read from it). See :mod:`tradevc.vc.retrieval.netguard`.

    ``compatibility`` (default strict) tolerates the pre-Recommendation forms it names, in
    credentials, presentations and status lists alike, e.g.
    ``Compatibility.profile("pilots-2023")`` (see :mod:`tradevc.vc.compat`); every deviation
    tolerated is a ``compat:<id>`` warning in the report.

    ``contexts`` is a folder of JSON-LD contexts the deployment pins in addition to the
    bundled ones (see :meth:`tradevc.vc.jsonld.PinnedContextLoader.with_user_contexts`); ``loader``
    replaces the context loader altogether. Give one or neither.

    ``challenges`` (a :class:`tradevc.verifier.challenges.ChallengeStore`, e.g.
    ``SqliteChallengeStore(path)``) makes the verifier remember the challenges it issues
    (:meth:`new_challenge`) and accept each once: a presentation is then also refused (a
    ``challenge`` check failed with ``INVALID_CHALLENGE_ERROR``) if the challenge it is
    verified against is unknown to the store, expired or already used. The challenge is used
    up only when the presentation verifies, atomically, so of two attempts racing with the
    same challenge one wins; a failed attempt leaves it usable until it expires (see
    :meth:`verify_presentation`). Without a store, the caller's challenge is compared with
    the proof's and nothing is remembered.

    ``limits`` (a :class:`tradevc.vc.jsontext.Limits`, default
    :data:`~tradevc.vc.jsontext.DEFAULT_LIMITS`) bounds what a document, presentation or
    status list may hold; a document over them fails ``structure`` with ``RESOURCE_LIMIT_ERROR``
    before anything expensive is done.

    ``fetcher`` (an :class:`~tradevc.vc.retrieval.http.HttpsFetcher`) replaces the fetchers
    built from ``session``, ``mirror``, ``network``, ``allow_hosts`` and ``timeout``: every
    DID document, status list and linked presentation is read through it (a replay of
    evidence reads only the recorded bytes so).

    :raises TypeError: ``policy`` is not a policy, ``compatibility`` not a
        :class:`~tradevc.vc.compat.Compatibility`, ``challenges`` not a challenge store, or
        ``cache`` not a :class:`~tradevc.vc.retrieval.disk_cache.DiskCache`.
    :raises ContextIndexError: the ``contexts`` folder cannot be used (bad index, a file that
        does not match its SHA-256, a bundled URL with other bytes).
    :raises ValueError: both ``loader`` and ``contexts`` are given, or an ``allow_hosts``
        entry is not ``HOST`` or ``HOST:PORT``.
    """

    def __init__(
        self,
        *,
        policy: VerificationPolicy,
        session: requests.Session | None = None,
        resolvers: DidResolvers | None = None,
        loader: DocumentLoader | None = None,
        contexts: str | os.PathLike[str] | None = None,
        check_status: bool = True,
        stale_status_if_error: timedelta | None = None,
        did_cache_ttl: float = 300.0,
        timeout: float = DEFAULT_TIMEOUT,
        clock: Callable[[], datetime] | None = None,
        max_clock_skew: timedelta = DEFAULT_CLOCK_SKEW,
        schemas: SchemaStore | None = None,
        mirror: Mirror | None = None,
        network: bool = True,
        compatibility: Compatibility | None = None,
        allow_hosts: Iterable[str] = (),
        challenges: ChallengeStore | None = None,
        limits: Limits | None = None,
        cache: DiskCache | None = None,
        fetcher: HttpsFetcher | None = None,
    ) -> None:
        require_policy(policy)
        if cache is not None and not isinstance(cache, DiskCache):
            raise TypeError("cache must be a DiskCache(directory), not a path")
        self.cache = cache
        if challenges is not None and not all(
            callable(getattr(challenges, name, None)) for name in ("issue", "refusal", "consume")
        ):
            raise TypeError("challenges must be a challenge store, e.g. SqliteChallengeStore(path), not a path")
        self.challenges = challenges
        allow = AllowList(allow_hosts)
        if loader is not None and contexts is not None:
            raise ValueError("give the Verifier a loader or a contexts folder, not both")
        self.policy = policy
        self.compatibility = require_compatibility(compatibility)
        if limits is not None and not isinstance(limits, Limits):
            raise TypeError("limits must be a tradevc.vc.jsontext.Limits")
        self.limits = limits or DEFAULT_LIMITS
        if contexts is not None:
            self.loader: DocumentLoader = PinnedContextLoader.with_user_contexts(contexts)
        else:
            self.loader = loader or default_loader()
        self.session = session or requests.Session()
        self.mirror = mirror
        self.schemas = schemas if schemas is not None else default_schema_store()
        self.clock = clock or (lambda: datetime.now(timezone.utc))
        self.resolvers = resolvers or DidResolvers.online(
            fetcher or HttpsFetcher(
                self.session, timeout=timeout, max_bytes=DEFAULT_MAX_BYTES, mirror=mirror, network=network,
                allow_hosts=allow,
            ),
            cache_ttl=did_cache_ttl, disk_cache=cache, stale_if_error=stale_status_if_error, clock=self.clock,
        )
        self.max_clock_skew = max_clock_skew
        self.status_checker = (
            StatusChecker(
                fetcher or HttpsFetcher(
                    self.session, timeout=timeout, max_bytes=STATUS_LIST_MAX_BYTES, mirror=mirror, network=network,
                    allow_hosts=allow,
                ),
                self._verify_status_list,
                stale_if_error=stale_status_if_error,
                compatibility=self.compatibility,
                cache=cache,
                clock=self.clock,
            )
            if check_status
            else None
        )
        self.trust_paths: TrustPaths | None = None
        """With a :class:`~tradevc.verifier.trust.TrustPathPolicy`: its path finder, whose
        vouches are verified by this verifier's pipeline and read from DID documents' linked
        presentations over this verifier's HTTPS fetcher (network guard, mirror, limits)."""
        if isinstance(policy, TrustPathPolicy):
            self.trust_paths = TrustPaths(
                policy, verify=self._verify_vouch, resolvers=self.resolvers,
                fetcher=fetcher or HttpsFetcher(
                    self.session, timeout=timeout, max_bytes=DEFAULT_MAX_BYTES, mirror=mirror, network=network,
                    allow_hosts=allow,
                ),
            )

    @classmethod
    def offline(cls, *, policy: VerificationPolicy, mirror: Mirror | None = None, **kw: Any) -> "Verifier":
        """No network: pinned contexts, did:key and did:jwk; credentials with a status are
        reported as could-not-verify. With a ``mirror`` of snapshot directories, the did:web
        documents and status lists of the hosts it has are read from them (still verified,
        with the same limits); everything else is still could-not-verify.

        :raises ValueError: ``mirror`` maps a host to an https mirror (that needs the network).
        """
        if mirror is None:
            return cls(policy=policy, resolvers=DidResolvers.offline(), check_status=False, **kw)
        if mirror.uses_network:
            raise ValueError("an offline verifier can read snapshot directories, not https mirrors")
        return cls(policy=policy, mirror=mirror, network=False, **kw)

    def _verify_status_list(self, fetched: Fetched, issuer: str, now: datetime) -> VerifiedList:
        """The status checker's list verifier: the same pipeline, trusting only ``issuer``."""
        return verify_fetched_credential(
            fetched, policy=IssuerIs(issuer), now=now, loader=self.loader, resolvers=self.resolvers,
            max_clock_skew=self.max_clock_skew, schemas=self.schemas, compatibility=self.compatibility,
            limits=self.limits,
        )

    def _verify_vouch(self, document: Any, policy: VerificationPolicy, now: datetime) -> VerificationResult:
        """The path finder's vouch verifier: the same pipeline, its issuer judged by ``policy``."""
        return verify_credential(
            document, policy=policy, now=now, loader=self.loader, resolvers=self.resolvers,
            status_checker=self.status_checker, max_clock_skew=self.max_clock_skew, schemas=self.schemas,
            compatibility=self.compatibility, limits=self.limits,
        )

    def _policy(self, now: datetime, document: Any = None) -> VerificationPolicy:
        """The policy of one verification: with trust paths, bound to ``now`` and the vouches
        ``document`` (a presentation) carries."""
        if self.trust_paths is None:
            return self.policy
        return self.trust_paths.bound(now, vouches_in(document) if document is not None else ())

    def check_mark(
        self, mark: str, party: str, hs_code: str, country: str, *, vouches: Iterable[Any] = (),
        presentation: Any = None, now: datetime | None = None,
    ) -> CheckResult:
        """Whether goods bearing the recorded ``mark`` (HS code ``hs_code``, imported into
        ``country``) from ``party`` come with an authorisation chain from the mark's recorded
        rights holder: a ``mark_authorisation`` check, passed with the chain in
        ``data["trustPath"]`` or failed (``UNAUTHORISED_MARK``) with the reasons. ``vouches``
        (credentials) and ``presentation`` (its credentials) offer IP authorisations besides
        the trust store and DID documents; each is verified before use.

        :raises ValueError: the policy is not a :class:`~tradevc.verifier.trust.TrustPathPolicy`.
        """
        if self.trust_paths is None:
            raise ValueError("checking a mark needs a trust policy with recordedMarks (load_policy / TrustPathPolicy)")
        offered = [*vouches, *(vouches_in(presentation) if presentation is not None else ())]
        return self.trust_paths.check_mark(mark, party, hs_code, country, now=now or self.clock(), offered=offered)

    def anchor_paths(self, party: str, *, vouches: Iterable[Any] = (), presentation: Any = None,
                     now: datetime | None = None) -> list[dict[str, Any]]:
        """The trust paths by which ``party`` (a DID) is anchored: a verified identity anchor
        naming it, whose issuer has a path to a root (see
        :meth:`tradevc.verifier.trust.TrustPaths.anchor_paths`); the anchors may come with
        ``vouches``, ``presentation``, the trust store or the party's DID document. None
        without a path-aware policy."""
        if self.trust_paths is None:
            return []
        offered = [*vouches, *(vouches_in(presentation) if presentation is not None else ())]
        return self.trust_paths.anchor_paths(party, now=now or self.clock(), offered=offered)

    def verify_credential(self, document: Any, *, now: datetime | None = None) -> VerificationResult:
        """Verify one credential; see :func:`tradevc.vc.verification.pipeline.verify_credential` for the checks.

        ``now`` (default: the clock) is the moment it is verified as of. One more than a few
        minutes in the past (an entry's date, in an audit) has its status checked against the
        status list version then in effect, where the issuer publishes its lists' history, and
        the status checks say so; where it does not, they say the status is the current one
        (see :mod:`tradevc.vc.retrieval.status_lists`). The same holds for
        :meth:`verify_presentation`, :meth:`verify_entry` and :meth:`verify_document`."""
        now = now or self.clock()
        return verify_credential(
            document, policy=self._policy(now), now=now, loader=self.loader, resolvers=self.resolvers,
            status_checker=self.status_checker, max_clock_skew=self.max_clock_skew, schemas=self.schemas,
            compatibility=self.compatibility, limits=self.limits,
        )

    def verify_many(
        self,
        documents: Iterable[Any],
        *,
        workers: int | None = None,
        challenge: str | None = None,
        domain: str | None = None,
        progress: Callable[[int], None] | None = None,
    ) -> list[VerificationResult]:
        """Verify many credentials (and presentations, with ``challenge`` and ``domain``) across
        ``workers`` processes (default: one per CPU), each forked with this verifier and keeping
        its caches warm; the reports come back in the order of ``documents``. See
        :func:`tradevc.verifier.batch.verify_many`.

        With a challenge store, each presentation is checked against the store as by
        :meth:`verify_presentation`, and ``challenge`` is single-use like any other: one
        challenge is used up by one presentation, so at most one presentation of the batch
        verifies with it (with workers, whichever gets there first) and the others sharing it
        fail as used; presentations answering different challenges take one call each. A
        store that forked workers do not share (``across_processes`` false: the in-memory
        one) makes the batch run in this process."""
        # Imported here only so that loading the service does not load multiprocessing; batch
        # does not import this module (it takes any DocumentVerifier), so there is no cycle.
        from .batch import verify_many

        if self.challenges is not None and not self.challenges.across_processes:
            workers = 1
        return verify_many(self, documents, workers=workers, challenge=challenge, domain=domain, progress=progress)

    def verify_presentation(
        self, document: Any, *, challenge: str, domain: ExpectedDomain, now: datetime | None = None,
        before_use: Callable[[], None] | None = None,
    ) -> PresentationResult:
        """Verify a presentation and every credential in it; see
        :func:`tradevc.vc.verification.pipeline.verify_presentation`. ``domain`` is one string
        or a sequence of strings; the proof's ``domain`` (a token's ``aud``) must name exactly
        those, compared as sets.

        With a challenge store, ``challenge`` (which the proof must carry) must also be one
        the store issued, not expired and not used, or a ``challenge`` check fails with
        ``INVALID_CHALLENGE_ERROR`` saying which. The presentation is verified in full
        either way, so the report says everything that is wrong with it. The challenge is
        used up only if the presentation verified: consuming it on any attempt would let
        whoever saw the challenge (it is not secret: it is shown to the holder, often as a
        QR code at the desk) burn it with a junk presentation, and would make the trader sign
        again after customs' own network failed (a could-not-verify report). A presentation
        is still accepted at most once, since using up is atomic: if two attempts verify at
        once, the second's ``challenge`` check fails as used. The store's clock, not ``now``,
        decides expiry.

        ``before_use`` is called just before a verified presentation's challenge is used up;
        if it raises, the challenge is left as it was and the exception propagates (a server
        past a request's deadline refuses there, so an answer never sent uses up nothing)."""
        now = now or self.clock()
        result = verify_presentation(
            document, challenge=challenge, domain=domain, policy=self._policy(now, document), now=now,
            loader=self.loader, resolvers=self.resolvers, status_checker=self.status_checker,
            max_clock_skew=self.max_clock_skew, schemas=self.schemas, compatibility=self.compatibility,
            limits=self.limits,
        )
        if self.challenges is not None:
            self._settle_challenge(self.challenges, challenge, result, before_use)
        return result

    def new_challenge(self, ttl: timedelta = DEFAULT_TTL) -> Challenge:
        """A new random challenge for a holder, usable once within ``ttl`` (default 10
        minutes), remembered in the verifier's challenge store.

        :raises ValueError: the verifier has no challenge store, or ``ttl`` is not positive.
        :raises ChallengeStoreError: the store cannot be written.
        """
        if self.challenges is None:
            raise ValueError("this Verifier has no challenge store; pass challenges=SqliteChallengeStore(path)")
        return self.challenges.issue(ttl)

    @staticmethod
    def _settle_challenge(store: ChallengeStore, challenge: str, result: PresentationResult,
                          before_use: Callable[[], None] | None = None) -> None:
        """The store's ``challenge`` check: use the challenge up if ``result`` verified (after
        calling ``before_use``), otherwise only look, and say why the store refuses it, if it does."""
        verified = result.verified
        if verified and before_use is not None:
            before_use()
        try:
            refused = store.consume(challenge) if verified else store.refusal(challenge)
        except ChallengeStoreError as e:
            result.add(CheckResult.error("challenge", "CHALLENGE_STORE_ERROR", e.message))
            return
        if refused is not None:
            result.add(CheckResult.failed(
                "challenge", "INVALID_CHALLENGE_ERROR", refused.message, data={"reason": refused.reason}
            ))
        elif verified:
            result.add(CheckResult.passed("challenge", "issued by this verifier, not expired; now used up"))
        else:
            result.add(CheckResult.passed(
                "challenge", "issued by this verifier, not expired; left unused, as the presentation did not verify"
            ))

    def verify_entry(
        self, entry: Any, presentation: Any, *, challenge: str, domain: ExpectedDomain,
        rules: "RuleSet | None" = None, ledger: "LedgerLike | None" = None, now: datetime | None = None,
    ) -> "EntryReport":
        """Decide on an entry declaration from the credentials of ``presentation``: an
        :class:`~tradevc.verifier.entry.report.EntryReport`. See
        :func:`tradevc.verifier.entry.engine.verify_entry` (``rules``: a
        :class:`~tradevc.verifier.entry.rules.RuleSet`, default the shipped table; ``ledger``:
        the quantity ledger).

        :raises EntryError: ``entry`` is a mapping that is not a declaration.
        """
        # Imported here: the entry engine sits below the service (it takes any verifier), and
        # loading the service does not load the rules and CEL.
        from .entry.engine import verify_entry

        return verify_entry(entry, presentation, verifier=self, challenge=challenge, domain=domain, rules=rules,
                            ledger=ledger, now=now)

    def verify_document(
        self, document: Any, *, challenge: str | None = None, domain: ExpectedDomain | None = None,
        now: datetime | None = None,
    ) -> VerificationResult:
        """Verify a credential or a presentation, whichever ``document`` is (a presentation
        needs ``challenge`` and ``domain``; without them its report says so); see
        :func:`tradevc.vc.verification.verify_document`. With a challenge store, a
        presentation's challenge is checked and used up as by :meth:`verify_presentation`;
        a credential's report does not involve it."""
        now = now or self.clock()
        result = verify_document(
            document, challenge=challenge, domain=domain, policy=self._policy(now, document), now=now,
            loader=self.loader, resolvers=self.resolvers, status_checker=self.status_checker,
            max_clock_skew=self.max_clock_skew, schemas=self.schemas, compatibility=self.compatibility,
            limits=self.limits,
        )
        if self.challenges is not None and challenge and isinstance(result, PresentationResult):
            self._settle_challenge(self.challenges, challenge, result)
        return result
