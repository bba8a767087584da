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

from vc.credential_status import StatusChecker
from vc.credentials import DEFAULT_CLOCK_SKEW, verify_credential
from vc.did.resolver import DidResolvers
from vc.http import DEFAULT_MAX_BYTES, DEFAULT_TIMEOUT, HttpsFetcher
from vc.jsonld import DocumentLoader, PinnedContextLoader, default_loader
from vc.policy import IssuerIs, VerificationPolicy, require_policy
from vc.presentations import PresentationResult, verify_presentation
from vc.verification import VerificationResult

__all__ = ["Verifier"]

STATUS_LIST_MAX_BYTES = 16 * 1024 * 1024


class Verifier:
    """Verifies credentials and presentations against ``policy``.

    By default it is online: did:key, did:jwk and did:web (over HTTPS through ``session``),
    status lists fetched and verified, DID documents cached for ``did_cache_ttl`` seconds and
    status lists until their ``ttl``. ``stale_status_if_error`` allows a cached status list
    that is past its freshness (by at most that much) when its issuer cannot be reached; the
    report then says so. ``clock`` returns the current time (aware); ``max_clock_skew`` is
    the tolerance for validity periods and proof times (default 5 minutes).

    ``contexts`` is a folder of JSON-LD contexts the deployment pins in addition to the
    bundled ones (see :meth:`vc.jsonld.PinnedContextLoader.with_user_contexts`); ``loader``
    replaces the context loader altogether. Give one or neither.

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
    ) -> None:
        require_policy(policy)
        if loader is not None and contexts is not None:
            raise ValueError("give the Verifier a loader or a contexts folder, not both")
        self.policy = policy
        if contexts is not None:
            self.loader: DocumentLoader = PinnedContextLoader.with_user_contexts(contexts)
        else:
            self.loader = loader or default_loader()
        self.session = session or requests.Session()
        self.resolvers = resolvers or DidResolvers.online(
            HttpsFetcher(self.session, timeout=timeout, max_bytes=DEFAULT_MAX_BYTES), cache_ttl=did_cache_ttl
        )
        self.clock = clock or (lambda: datetime.now(timezone.utc))
        self.max_clock_skew = max_clock_skew
        self.status_checker = (
            StatusChecker(
                HttpsFetcher(self.session, timeout=timeout, max_bytes=STATUS_LIST_MAX_BYTES),
                self._verify_status_list,
                stale_if_error=stale_status_if_error,
            )
            if check_status
            else None
        )

    @classmethod
    def offline(cls, *, policy: VerificationPolicy, **kw: Any) -> "Verifier":
        """No network: pinned contexts, did:key and did:jwk; credentials with a status are
        reported as could-not-verify."""
        return cls(policy=policy, resolvers=DidResolvers.offline(), check_status=False, **kw)

    def _verify_status_list(self, document: Any, issuer: str, now: datetime) -> VerificationResult:
        return verify_credential(
            document, policy=IssuerIs(issuer), now=now, loader=self.loader, resolvers=self.resolvers,
            max_clock_skew=self.max_clock_skew,
        )

    def verify_credential(self, document: Any, *, now: datetime | None = None) -> VerificationResult:
        """Verify one credential; see :func:`vc.credentials.verify_credential` for the checks."""
        return verify_credential(
            document, policy=self.policy, now=now or self.clock(), loader=self.loader, resolvers=self.resolvers,
            status_checker=self.status_checker, max_clock_skew=self.max_clock_skew,
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
        :func:`verifier.batch.verify_many`."""
        from .batch import verify_many

        return verify_many(self, documents, workers=workers, challenge=challenge, domain=domain, progress=progress)

    def verify_presentation(
        self, document: Any, *, challenge: str, domain: str, now: datetime | None = None
    ) -> PresentationResult:
        """Verify a presentation and every credential in it; see :func:`vc.presentations.verify_presentation`."""
        return verify_presentation(
            document, challenge=challenge, domain=domain, policy=self.policy, now=now or self.clock(),
            loader=self.loader, resolvers=self.resolvers, status_checker=self.status_checker,
            max_clock_skew=self.max_clock_skew,
        )
