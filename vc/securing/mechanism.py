"""The interface every securing mechanism implements, and what it hands the pipeline.

A securing mechanism (VC Data Model 2.0, section 4.12) is one way a credential or
presentation carries its proof: Data Integrity proofs embedded in the JSON, a compact JWS
(``vc+jwt``/``vp+jwt``, VC-JWT 1.1), an enveloped form that carries a token. The verification
pipeline (:mod:`tradevc.vc.verification.pipeline`) asks the registry
(:mod:`tradevc.vc.securing.registry`) which mechanism recognises a document, once, then:

1. :meth:`SecuringMechanism.open`: the structure checks of the securing mechanism and of the
   data model, giving a :class:`Secured`: the credential or presentation as JSON, parsed,
   and what the context checks need to know (what covers inline contexts, whether the
   signature is over the JSON bytes);
2. the context checks, which do not depend on the mechanism;
3. :meth:`SecuringMechanism.verify`: the proof checks (signature, purpose, times, the binding
   to the issuer or holder, and a presentation's challenge and domain), giving the DIDs that
   signed;
4. the checks of the claims (validity, status, schemas, trust), again the same for all.

Signing is each mechanism's own functions (``sign_credential`` for Data Integrity,
``sign_credential_jwt`` for JOSE...), which take different options.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Literal, Protocol

from tradevc.vc.checks.common import ExpectedDomain
from tradevc.vc.compat import Compatibility
from tradevc.vc.jsonld import DocumentLoader
from tradevc.vc.jsontext import DEFAULT_LIMITS, Limits
from tradevc.vc.model import Credential, Presentation
from tradevc.vc.report import VerificationResult
from tradevc.vc.retrieval.did.resolver import DidResolvers

__all__ = ["CREDENTIAL", "PRESENTATION", "Kind", "Context", "Secured", "SecuringMechanism"]

Kind = Literal["credential", "presentation"]
CREDENTIAL: Kind = "credential"
PRESENTATION: Kind = "presentation"


@dataclass(frozen=True, slots=True)
class Context:
    """What one verification runs with (the defaults already filled in by the pipeline)."""

    now: datetime
    loader: DocumentLoader
    resolvers: DidResolvers
    max_clock_skew: timedelta
    compatibility: Compatibility
    limits: Limits = DEFAULT_LIMITS
    """What a document may hold (see :class:`tradevc.vc.jsontext.Limits`): the pipeline checks a
    JSON document against them before it is opened, the JOSE mechanism a token's payload."""


@dataclass(slots=True)
class Secured:
    """A document its mechanism has opened and whose structure passed, not yet verified."""

    mechanism: "SecuringMechanism"
    kind: Kind
    document: Mapping[str, Any]
    """The credential or presentation as JSON (a JWS's payload, a VC-JWT 1.1 claim mapped)."""
    model: Credential | Presentation
    """``document`` parsed (for a VC-JWT 1.1 presentation: without its token entries)."""
    signed: Mapping[str, Any]
    """What the context checks look at: ``document``, or the form that was signed when a
    compatibility deviation changed ``document`` (a status list's issuer name)."""
    json_signed_by: str | None
    """What signs the JSON bytes themselves ("the JWS signs", "JCS proofs sign"), or None when
    a proof signs RDF statements (RDFC): then member names are not signed."""
    coverage: Callable[[], tuple[str | None, str]]
    """What covers inline contexts (see :func:`tradevc.vc.checks.common.check_contexts`)."""
    credentials: list[Any] = field(default_factory=list)
    """A presentation's credentials, as they are to be verified (objects, envelopes, tokens)."""
    state: Any = None
    """The mechanism's own (a parsed JWS, the parsed proofs...)."""


class SecuringMechanism(Protocol):
    """One securing mechanism. Implementations keep no per-document state of their own."""

    name: str
    """For reports and errors: ``"Data Integrity"``, ``"JOSE"``..."""

    def recognise(self, document: Any) -> bool:
        """True if ``document`` is secured with this mechanism, judged by its form only (a
        string token, an envelope object, an object with proofs); cheap, never raises."""
        ...

    def open(
        self, document: Any, *, kind: Kind | None, context: Context, result: VerificationResult
    ) -> Secured | None:
        """The ``structure`` checks (and a JOSE ``jose_header``): add them to ``result`` and
        return the opened document, or None if one failed. ``kind`` is what the caller
        expects (a credential, a presentation), or None to take what the document is."""
        ...

    def verify(
        self, secured: Secured, *, party: str | None, challenge: str | None, domain: ExpectedDomain | None,
        context: Context, result: VerificationResult,
    ) -> list[str]:
        """The proof checks: ``proof``, ``purpose`` (``assertionMethod`` for a credential,
        ``authentication`` for a presentation), ``proof_expiry``, the binding to ``party`` (the
        issuer; the holder, None when a presentation names none) and, for a presentation,
        ``challenge`` and ``domain``. Returns the DIDs whose keys made the verified proofs,
        in order, each once."""
        ...
