"""``Verifier``: customs' verification desk. It wires a trust policy, DID resolvers, an HTTPS
session, caches and a clock, then calls the library for each document. One instance is
meant to live for many verifications, so its DID document and status list caches stay warm.
"""

from __future__ import annotations

import os
from datetime import datetime, timedelta, timezone
from collections.abc import Iterable
from typing import Any, Callable

import requests

from tradevc.vc.checks.policy import IssuerIs, VerificationPolicy, require_policy
from tradevc.vc.checks.schemas import SchemaStore, default_schema_store
from tradevc.vc.compat import Compatibility, require_compatibility
from tradevc.vc.jsonld import DocumentLoader, PinnedContextLoader, default_loader
from tradevc.vc.jsontext import DEFAULT_LIMITS, Limits
from tradevc.vc.report import PresentationResult, VerificationResult
from tradevc.vc.retrieval.did.resolver import DidResolvers
from tradevc.vc.retrieval.http import DEFAULT_MAX_BYTES, DEFAULT_TIMEOUT, Fetched, HttpsFetcher
from tradevc.vc.retrieval.mirror import Mirror
from tradevc.vc.retrieval.status_lists import StatusChecker, VerifiedList
from tradevc.vc.verification import (
    DEFAULT_CLOCK_SKEW, verify_credential, verify_document, verify_fetched_credential, verify_presentation,
)

__all__ = ["Verifier"]

STATUS_LIST_MAX_BYTES = 16 * 1024 * 1024


class Verifier:
    """Verifies credentials and presentations against ``policy``.

    By default it is online: did:key, did:jwk and did:web (over HTTPS through ``session``),
    status lists fetched and verified, DID documents cached for ``did_cache_ttl`` seconds and
    status lists until their ``ttl``. ``stale_status_if_error`` allows a cached status list
    that is past its freshness (by at most that much) when its issuer cannot be reached; the
    report then says so. ``clock`` returns the current time (aware); ``max_clock_skew`` is
    the tolerance for validity periods and proof times (default 5 minutes). ``schemas`` are the
    JSON Schemas it holds for ``credentialSchema`` (VC JSON Schema; default: the shipped ones,
    one for each trade credential type; :meth:`tradevc.vc.checks.schemas.SchemaStore.from_index` adds more).

    ``mirror`` (a :class:`tradevc.vc.retrieval.mirror.Mirror`) reads the DID documents and status lists of the
    hosts it maps from their mirror or snapshot instead (through ``session``, whose
    certificate authorities it trusts), under the same checks and limits; reports say which
    documents came from where. It applies to the resolvers built here, not to ``resolvers``
    passed in. Without ``network`` nothing is fetched over the network: only snapshot files
    are read (see :meth:`offline`).

    ``compatibility`` (default strict) tolerates the pre-Recommendation forms it names, in
    credentials, presentations and status lists alike, e.g.
    ``Compatibility.profile("pilots-2023")`` (see :mod:`tradevc.vc.compat`); every deviation
    tolerated is a ``compat:<id>`` warning in the report.

    ``contexts`` is a folder of JSON-LD contexts the deployment pins in addition to the
    bundled ones (see :meth:`tradevc.vc.jsonld.PinnedContextLoader.with_user_contexts`); ``loader``
    replaces the context loader altogether. Give one or neither.

    ``limits`` (a :class:`tradevc.vc.jsontext.Limits`, default
    :data:`~tradevc.vc.jsontext.DEFAULT_LIMITS`) bounds what a document, presentation or
    status list may hold; a document over them fails ``structure`` with ``RESOURCE_LIMIT_ERROR``
    before anything expensive is done.

    :raises TypeError: ``policy`` is not a policy, or ``compatibility`` not a
        :class:`~tradevc.vc.compat.Compatibility`.
    :raises ContextIndexError: the ``contexts`` folder cannot be used (bad index, a file that
        does not match its SHA-256, a bundled URL with other bytes).
    :raises ValueError: both ``loader`` and ``contexts`` are given.
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
        limits: Limits | None = None,
    ) -> None:
        require_policy(policy)
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
        self.resolvers = resolvers or DidResolvers.online(
            HttpsFetcher(self.session, timeout=timeout, max_bytes=DEFAULT_MAX_BYTES, mirror=mirror, network=network),
            cache_ttl=did_cache_ttl,
        )
        self.clock = clock or (lambda: datetime.now(timezone.utc))
        self.max_clock_skew = max_clock_skew
        self.status_checker = (
            StatusChecker(
                HttpsFetcher(
                    self.session, timeout=timeout, max_bytes=STATUS_LIST_MAX_BYTES, mirror=mirror, network=network
                ),
                self._verify_status_list,
                stale_if_error=stale_status_if_error,
                compatibility=self.compatibility,
            )
            if check_status
            else None
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

    def verify_credential(self, document: Any, *, now: datetime | None = None) -> VerificationResult:
        """Verify one credential; see :func:`tradevc.vc.verification.pipeline.verify_credential` for the checks."""
        return verify_credential(
            document, policy=self.policy, now=now or self.clock(), loader=self.loader, resolvers=self.resolvers,
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
        :func:`tradevc.verifier.batch.verify_many`."""
        # Imported here only so that loading the service does not load multiprocessing; batch
        # does not import this module (it takes any DocumentVerifier), so there is no cycle.
        from .batch import verify_many

        return verify_many(self, documents, workers=workers, challenge=challenge, domain=domain, progress=progress)

    def verify_presentation(
        self, document: Any, *, challenge: str, domain: str, now: datetime | None = None
    ) -> PresentationResult:
        """Verify a presentation and every credential in it; see
        :func:`tradevc.vc.verification.pipeline.verify_presentation`."""
        return verify_presentation(
            document, challenge=challenge, domain=domain, policy=self.policy, now=now or self.clock(),
            loader=self.loader, resolvers=self.resolvers, status_checker=self.status_checker,
            max_clock_skew=self.max_clock_skew, schemas=self.schemas, compatibility=self.compatibility,
            limits=self.limits,
        )

    def verify_document(
        self, document: Any, *, challenge: str | None = None, domain: str | None = None, now: datetime | None = None
    ) -> VerificationResult:
        """Verify a credential or a presentation, whichever ``document`` is (a presentation
        needs ``challenge`` and ``domain``; without them its report says so); see
        :func:`tradevc.vc.verification.verify_document`."""
        return verify_document(
            document, challenge=challenge, domain=domain, policy=self.policy, now=now or self.clock(),
            loader=self.loader, resolvers=self.resolvers, status_checker=self.status_checker,
            max_clock_skew=self.max_clock_skew, schemas=self.schemas, compatibility=self.compatibility,
            limits=self.limits,
        )
