"""The endpoints: W3C VC API names, JSON in and out, errors as problem details.

Every endpoint but ``/token``, the health checks and the issuers' website needs a bearer
token from ``POST /token`` with the endpoint's scope (``issue``, ``status``, ``verify`` or
``entries`` or ``metrics``): 401 without one (or with one that is not valid), 403 without the
scope, 429 when its client is over its rate. Request bodies are read by the strict I-JSON
reader of :mod:`tradevc.vc.jsontext` (a member given twice,
``NaN``, a lone surrogate: 400); the verifier's document limits apply to what is verified.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Callable, Coroutine, Mapping

from anyio import from_thread
from fastapi import APIRouter, Depends, Request, Response, Security
from fastapi.routing import APIRoute
from fastapi.openapi.models import OAuthFlowClientCredentials, OAuthFlows
from fastapi.security import OAuth2
from starlette.concurrency import run_in_threadpool

from tradevc.issuer.site import NotServed, version_as_of
from tradevc.vc.errors import VcError
from tradevc.vc.jsontext import loads
from tradevc.vc.rdfc import WorkDeferred, deferring_work
from tradevc.vc.retrieval.http import WouldBlock, without_blocking
from tradevc.vc.securing.enveloped import is_enveloped
from tradevc.vc.retrieval.did.resolution import DID_JSON, DID_LD_JSON, ResolutionResult
from tradevc.vc.retrieval.did.resolution import resolve as resolve_did_document
from tradevc.vc.report import CheckResult, PresentationResult, VerificationResult
from tradevc.verifier import Verifier
from tradevc.verifier.challenges import ChallengeStoreError
from tradevc.verifier.entry import EntryError, RuleError
from tradevc.verifier.ledger import LedgerError

from .auth import REALM, Grant, OAuthError, TokenService
from .deadlines import commit
from .desks import STATUS_ACTIONS, EntryDesk, Issuers, known_type
from .limits import Limits
from .metrics import CONTENT_TYPE, Metrics
from .problems import Problem, json_bytes
from .records import MemoryRecords, Records, RecordsError

_log = logging.getLogger("tradevc.service")
__all__ = ["State", "router", "SCOPABLE_CHECKS", "ALWAYS_CHECKED"]

ALWAYS_CHECKED = frozenset((
    "structure", "jose_header", "context", "data_loss", "proof", "purpose", "proof_expiry", "issuer_binding",
    "issuer_trust",
))
"""The checks always in scope, whatever ``options.checks`` says: a credential's integrity, and
whether this verifier's trust policy trusts its issuer for its type. ``issuer_trust`` may be
named but not left out: the VC API lets a caller choose which checks of the document to run,
but which issuers count is this verifier's policy, not the caller's, and an answer
``verified: true`` for an issuer the policy does not trust would be read as an acceptance."""
SCOPABLE_CHECKS = {
    "validity_period": ("validity_period",),
    "status": ("status", "revocation", "suspension"),
    "related_resource": ("related_resource",),
    "schema": ("schema",),
}
"""The checks ``options.checks`` may leave out, by the name a caller gives (``status`` stands
for every status check: ``revocation``, ``suspension`` and ``status``). Of a presentation,
they are left out of each credential in it; the presentation's own checks (its proof, the
challenge and domain) are never left out."""


@dataclass
class State:
    """What the endpoints use: the token service, the issuers (may be empty), the verifier (or
    None), the rate limits."""

    tokens: TokenService
    issuers: Issuers | None = None
    verifier: Verifier | None = None
    ready: bool = field(default=False)
    records: Records = field(default_factory=MemoryRecords)
    entries: EntryDesk | None = None
    limits: Limits = field(default_factory=Limits)


def _challenge_and_domain(options: Mapping[str, Any]) -> tuple[str, str | list[str]]:
    """``options.challenge`` and ``options.domain``, required (400 without them)."""
    challenge, domain = options.get("challenge"), options.get("domain")
    if not isinstance(challenge, str) or not challenge:
        raise Problem(400, "options.challenge is required: the challenge the holder signed (POST /challenges)")
    if not (isinstance(domain, str) and domain) and not (
        isinstance(domain, list) and domain and all(isinstance(d, str) and d for d in domain)
    ):
        raise Problem(400, "options.domain is required: a non-empty string or list of strings")
    return challenge, domain


router = APIRouter()
_OAUTH = OAuth2(
    flows=OAuthFlows(clientCredentials=OAuthFlowClientCredentials(
        tokenUrl="/token", scopes={"issue": "issue credentials", "status": "revoke, suspend and reinstate them",
                                   "verify": "verify credentials and presentations, get challenges, resolve DIDs",
                                   "entries": "decide on entry declarations, read their reports",
                                   "metrics": "read the Prometheus metrics (GET /metrics)"},
    )),
    auto_error=False,
)


def _state(request: Request) -> State:
    state: State = request.app.state.tradevc
    return state


def _too_many(wait: int, detail: str) -> Problem:
    return Problem(429, detail, headers={"Retry-After": str(wait)})


RATE_TAKEN = "tradevc.rate_taken"
"""The request state's entry, when the fast lane took from the client's rate: the wait it was
told (None: within the rate)."""


def bearer_grant(state: State, authorization: str) -> Grant | None:
    """The grant of the bearer token an ``Authorization`` header value carries, if valid."""
    kind, _space, token = authorization.partition(" ")
    return state.tokens.check(token.strip()) if kind.lower() == "bearer" else None


def _scope(scope: str) -> Callable[..., Coroutine[Any, Any, Grant]]:
    """A dependency: the grant of the request's bearer token, which must have ``scope``, and
    within its client's rate (429 with ``Retry-After`` over it). A coroutine function, so it
    runs on the event loop: FastAPI runs a plain ``def`` dependency in its threadpool, a thread
    hop each request for a check of some tens of microseconds that never blocks."""

    async def dependency(request: Request, _: Any = Security(_OAUTH, scopes=[scope])) -> Grant:
        header = request.headers.get("authorization")
        if header is None:
            raise Problem(401, "a bearer token is required (POST /token)",
                          headers={"WWW-Authenticate": f'Bearer realm="{REALM}"'})
        grant = bearer_grant(_state(request), header)
        if grant is None:
            raise Problem(401, "the bearer token is not valid (unknown, malformed or expired)", headers={
                "WWW-Authenticate": f'Bearer realm="{REALM}", error="invalid_token"',
            })
        request.state.client_id = grant.client_id  # for the request log
        if scope not in grant.scopes:
            raise Problem(403, f"the token lacks the scope {scope}", headers={
                "WWW-Authenticate": f'Bearer realm="{REALM}", error="insufficient_scope", scope="{scope}"',
            })
        state = request.scope.setdefault("state", {})
        # the fast lane (see .fastlane) took from the client's rate already when it passes a
        # request on: taken once, whichever answers
        wait = state[RATE_TAKEN] if RATE_TAKEN in state else _state(request).limits.client(grant.client_id)
        if wait is not None:
            raise _too_many(wait, f"client {grant.client_id} is over its rate limit; try again in {wait} s")
        return grant

    return dependency


async def _json_body(request: Request, *, optional: bool = False) -> dict[str, Any]:
    """The request's JSON object, read strictly; 415 for another media type, 400 for bad JSON."""
    body = await request.body()
    if optional and not body:
        return {}
    return json_body(body, request.headers.get("content-type"))


def json_body(body: bytes, content_type: str | None, *, walk: bool = True) -> dict[str, Any]:
    """A request body that must be a JSON object, read strictly; 415 for another media type, 400
    for bad JSON. ``walk=False``: the I-JSON walk of the value is the caller's (see
    :func:`~tradevc.vc.jsontext.loads`)."""
    media = (content_type or "").split(";")[0].strip().lower()
    if media != "application/json" and not media.endswith("+json"):
        raise Problem(415, "send the request body as application/json")
    try:
        value = loads(body, limits=None, walk=walk)
    except VcError as e:
        raise Problem(400, f"the body is not I-JSON: {e.message}", extra={"codes": [e.code]}) from None
    if not isinstance(value, dict):
        raise Problem(400, "the body must be a JSON object")
    return value


def _object(value: Any, what: str) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise Problem(400, f"{what} must be a JSON object")
    return value


def _only(options: Mapping[str, Any], known: tuple[str, ...]) -> None:
    unknown = sorted(set(options) - set(known))
    if unknown:
        raise Problem(400, f"unknown option {unknown[0]!r} (known: {', '.join(known) or 'none'})")


def _verifier(request: Request) -> Verifier:
    verifier = _state(request).verifier
    if verifier is None:
        raise Problem(404, "this service verifies nothing: it has no [verifier] configured")
    return verifier


def _issuers(request: Request, name: str, grant: Grant) -> Issuers:
    """The issuers, when ``name`` is one of them (404) that ``grant``'s client may act for (403)."""
    issuers = _state(request).issuers
    if issuers is None or name not in issuers:
        raise Problem(404, f"no issuer {name!r} here")
    if name not in grant.issuers:
        raise Problem(403, f"client {grant.client_id} may not act for the issuer {name} (its issuers: "
                      f"{', '.join(sorted(grant.issuers)) or 'none'}; see [clients.{grant.client_id}] issuers)")
    return issuers


# -- health --------------------------------------------------------------------------------------


@router.get("/healthz", tags=["health"], summary="The process is up")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/readyz", tags=["health"], summary="The issuers are open and the verifier is built",
            responses={503: {"description": "not ready yet"}})
async def readyz(request: Request) -> Response:
    state = _state(request)
    if not state.ready:
        raise Problem(503, "starting", kind="not-ready", title="Not ready")
    issuers = state.issuers.names() if state.issuers is not None else []
    return _json({"status": "ready", "issuers": issuers, "verifier": state.verifier is not None})


@router.get("/metrics", tags=["health"], summary="Prometheus metrics (needs the scope metrics)",
            responses={200: {"description": "the Prometheus text format", "content": {CONTENT_TYPE: {}}},
                       401: {"description": "no valid bearer token", "content": {"application/problem+json": {}}},
                       403: {"description": "the token lacks the scope metrics",
                             "content": {"application/problem+json": {}}}})
async def metrics(request: Request, _: Grant = Depends(_scope("metrics"))) -> Response:
    registry: Metrics = request.app.state.metrics
    return Response(registry.exposition(), media_type=CONTENT_TYPE)


# -- verifying -----------------------------------------------------------------------------------

_PROBLEM: dict[str, Any] = {"content": {"application/problem+json": {}}}
_VERIFY_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"description": "verified: {verified: true, results, warnings, skipped}"},
    400: {"description": "a malformed request", **_PROBLEM},
    401: {"description": "no valid bearer token", **_PROBLEM},
    403: {"description": "the token lacks the scope verify", **_PROBLEM},
    422: {"description": "not verified: problem details with the report's codes and failed checks", **_PROBLEM},
    503: {"description": "could not verify: a check could not be carried out (try again later)", **_PROBLEM},
}


def _json(body: Any, status: int = 200, headers: Mapping[str, str] | None = None) -> Response:
    return Response(json_bytes(body), status_code=status,
                    media_type="application/json", headers=dict(headers or {}))


def _codes(result: VerificationResult) -> list[str]:
    codes = {c.code for c in result.checks if c.code and c.outcome.value in ("failed", "error")}
    if isinstance(result, PresentationResult):
        for inner in result.credentials:
            codes.update(_codes(inner))
    return sorted(codes)


def _answer(result: VerificationResult, skipped: list[str]) -> Response:
    """200 with the report when verified; otherwise a 422 (not verified) or 503 (could not
    verify) problem carrying the report's codes and the checks that did not pass."""
    verified = result.verified
    body: dict[str, Any] = {
        "verified": verified, "document": result.document_id, "results": [c.to_dict() for c in result.checks],
        "warnings": list(result.warnings), "skipped": skipped,
    }
    if isinstance(result, PresentationResult):
        report = result.to_dict()
        body.update(credentials=report["credentials"], signers=report["signers"])
    if verified:
        return _json(body)
    codes = _codes(result)
    errors = [c.to_dict() for c in result.checks if c.outcome.value in ("failed", "error")]
    if isinstance(result, PresentationResult):
        for i, inner in enumerate(result.credentials, 1):
            errors.extend({**c.to_dict(), "credential": i} for c in inner.checks if c.outcome.value in ("failed", "error"))
    first = errors[0]["message"] if errors else "no check passed"
    if result.could_not_verify:
        raise Problem(503, f"could not verify: {first}", extra={"codes": codes, "errors": errors, **body})
    raise Problem(422, f"not verified: {first}", extra={"codes": codes, "errors": errors, **body})


def _left_out(checks: Any) -> frozenset[str] | None:
    """The names of the checks ``options.checks`` leaves out (None: it was not given).
    :raises Problem: 400, not a list of known check names."""
    if checks is None:
        return None
    if not isinstance(checks, list) or not all(isinstance(c, str) for c in checks):
        raise Problem(400, "options.checks must be a list of check names")
    known = ALWAYS_CHECKED | set(SCOPABLE_CHECKS)
    unknown = [c for c in checks if c not in known]
    if unknown:
        raise Problem(400, f"options.checks: unknown check {unknown[0]!r} (known: {', '.join(sorted(known))})")
    return frozenset(name for given, names in SCOPABLE_CHECKS.items() if given not in checks for name in names)


def _scoped(result: VerificationResult, leave_out: frozenset[str] | None) -> tuple[VerificationResult, list[str]]:
    """``result`` with the checks ``leave_out`` names marked skipped, and their names."""
    if leave_out is None:
        return result, []
    scoped = VerificationResult(warnings=list(result.warnings), document_id=result.document_id)
    skipped: list[str] = []
    for check in result.checks:
        if check.name in leave_out:
            scoped.add(CheckResult.skipped(check.name, "skipped at the caller's request (options.checks)",
                                           subject=check.subject))
            if check.name not in skipped:
                skipped.append(check.name)
        else:
            scoped.add(check)
    return scoped, skipped


def _scoped_presentation(result: PresentationResult, leave_out: frozenset[str] | None
                         ) -> tuple[PresentationResult, list[str]]:
    """``result`` with the checks ``leave_out`` names skipped in each of its credentials (its
    own checks stay), its ``credentials`` check made again from them; and their names."""
    if leave_out is None:
        return result, []
    skipped: list[str] = []
    credentials: list[VerificationResult] = []
    for inner in result.credentials:
        scoped_inner, names = _scoped(inner, leave_out)
        credentials.append(scoped_inner)
        skipped.extend(n for n in names if n not in skipped)
    scoped = PresentationResult(warnings=list(result.warnings), document_id=result.document_id,
                                credentials=credentials, signers=list(result.signers), challenge=result.challenge,
                                domain=result.domain, created=result.created)
    bad = [i for i, c in enumerate(credentials, 1) if not c.verified]
    for check in result.checks:
        if check.name == "credentials" and credentials:
            check = (CheckResult.failed("credentials", "CREDENTIAL_VERIFICATION_ERROR",
                                        f"credential(s) {', '.join(map(str, bad))} of {len(credentials)} did not "
                                        "verify") if bad else
                     CheckResult.passed("credentials", f"all {len(credentials)} credential(s) verified"))
        scoped.add(check)
    return scoped, skipped


@router.post(
    "/credentials/verify", tags=["verify"], summary="Verify a credential", responses=_VERIFY_RESPONSES,
    openapi_extra={"requestBody": {"required": True, "content": {"application/json": {"schema": {
        "type": "object", "required": ["verifiableCredential"], "properties": {
            "verifiableCredential": {"description": "a credential with a Data Integrity proof, a vc+jwt compact "
                                     "token, or an EnvelopedVerifiableCredential",
                                     "oneOf": [{"type": "object"}, {"type": "string"}]},
            "options": {"type": "object", "properties": {"checks": {
                "type": "array", "items": {"type": "string"},
                "description": "the checks that count; the integrity checks always do (see the README)"}}},
        }}}}}},
)
async def verify_credential(request: Request, _: Grant = Depends(_scope("verify"))) -> Response:
    verifier = _verifier(request)
    body = await request.body()
    document, leave_out = credential_body(body, request.headers.get("content-type"))
    result = verify_at_once(verifier, document, len(body))
    if result is None:
        result = await run_in_threadpool(verifier.verify_credential, document)
    return credential_answer(result, leave_out)


def credential_to_verify(body: Mapping[str, Any]) -> tuple[Any, frozenset[str] | None]:
    """The credential a ``POST /credentials/verify`` body asks to verify and the checks its
    ``options.checks`` leaves out (None: all count). :raises Problem: 400, a malformed body."""
    _only(body, ("verifiableCredential", "options"))
    options = _object(body.get("options"), "options")
    _only(options, ("checks",))
    if "verifiableCredential" not in body:
        raise Problem(400, "verifiableCredential is missing")
    return body["verifiableCredential"], _left_out(options.get("checks"))


def credential_body(body: bytes, content_type: str | None) -> tuple[Any, frozenset[str] | None]:
    """:func:`credential_to_verify` of a ``POST /credentials/verify`` body as sent. The body is
    not walked for I-JSON first: the credential is, by the verifier, against its limits (one
    that is not I-JSON is not verified: a 422 naming ``PARSING_ERROR``), and ``options.checks``
    may hold known check names only (see :func:`_left_out`)."""
    return credential_to_verify(json_body(body, content_type, walk=False))


def credential_answer(result: VerificationResult, leave_out: frozenset[str] | None) -> Response:
    """The answer to ``POST /credentials/verify``. :raises Problem: 422 or 503, not verified."""
    scoped, skipped = _scoped(result, leave_out)
    return _answer(scoped, skipped)


@router.post(
    "/presentations/verify", tags=["verify"], summary="Verify a presentation", responses=_VERIFY_RESPONSES,
    openapi_extra={"requestBody": {"required": True, "content": {"application/json": {"schema": {
        "type": "object", "required": ["verifiablePresentation", "options"], "properties": {
            "verifiablePresentation": {"oneOf": [{"type": "object"}, {"type": "string"}]},
            "options": {"type": "object", "required": ["challenge", "domain"], "properties": {
                "challenge": {"type": "string", "description": "one from POST /challenges"},
                "domain": {"oneOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}}]},
                "checks": {"type": "array", "items": {"type": "string"},
                           "description": "the checks that count for each credential in it; the presentation's "
                           "own and the credentials' integrity and issuer trust checks always do"}}},
        }}}}}},
)
async def verify_presentation(request: Request, _: Grant = Depends(_scope("verify"))) -> Response:
    verifier = _verifier(request)
    body = await _json_body(request)
    _only(body, ("verifiablePresentation", "options"))
    options = _object(body.get("options"), "options")
    _only(options, ("challenge", "domain", "checks"))
    if "verifiablePresentation" not in body:
        raise Problem(400, "verifiablePresentation is missing")
    challenge, domain = _challenge_and_domain(options)
    leave_out = _left_out(options.get("checks"))

    def verify() -> PresentationResult:
        return verifier.verify_presentation(body["verifiablePresentation"], challenge=challenge, domain=domain,
                                            before_use=_committing(request))

    scoped, skipped = _scoped_presentation(await run_in_threadpool(verify), leave_out)
    return _answer(scoped, skipped)


INLINE_BODY_BYTES = 16 * 1024
"""A credential sent in at most this many bytes is verified on the event loop when it needs
nothing fetched (see :func:`verify_at_once`); a larger one always in a thread."""


INLINE_RDFC_WORK = 64
"""The RDFC-1.0 work (see :mod:`tradevc.vc.rdfc`) a verification on the event loop may spend;
past it, it is done again in a thread with the whole budget."""

_INLINE_SUITES = frozenset(("eddsa-jcs-2022", "ecdsa-jcs-2019", "eddsa-rdfc-2022", "ecdsa-rdfc-2019"))


def cheap_to_verify(document: Any) -> bool:
    """Whether ``document``, judged by its form, may be verified on the event loop: a compact
    JWS (``vc+jwt``, bare or in an ``EnvelopedVerifiableCredential``: one signature over the
    bytes sent), or an object with exactly one ``DataIntegrityProof`` of the EdDSA or ECDSA
    suites. With RDFC-1.0 (``-rdfc-``) only the fast JSON-LD path and at most
    :data:`INLINE_RDFC_WORK` units of canonicalization work are spent there (see
    :func:`verify_at_once`); several proofs, the legacy suites and unknown ones go to a thread."""
    if isinstance(document, str) or is_enveloped(document, "EnvelopedVerifiableCredential"):
        return True
    if not isinstance(document, Mapping):
        return False
    proof = document.get("proof")
    if isinstance(proof, list):
        proof = proof[0] if len(proof) == 1 else None
    return (isinstance(proof, Mapping) and proof.get("type") == "DataIntegrityProof"
            and proof.get("cryptosuite") in _INLINE_SUITES)


def verify_at_once(verifier: Verifier, document: Any, size: int) -> VerificationResult | None:
    """``verifier.verify_credential(document)``, here on the event loop, when the document is
    small, of a form cheap to verify (:func:`cheap_to_verify`) and everything it needs is in
    memory (its issuer's DID document, its status lists: the common case at a steady load),
    which spares a thread hop (a fifth of a signature check); None when it is large or costly
    (it would hold the loop and every other request of this process: past the fast JSON-LD
    path, or :data:`INLINE_RDFC_WORK` units of RDFC-1.0 work, the attempt stops, see
    :class:`~tradevc.vc.rdfc.deferring_work`) or something must be fetched (the network must
    not block the loop: the attempt stops before the request is made, see
    :func:`~tradevc.vc.retrieval.http.without_blocking`): verify it in a thread then."""
    if size > INLINE_BODY_BYTES or not cheap_to_verify(document):
        return None
    try:
        with without_blocking(), deferring_work(INLINE_RDFC_WORK):
            return verifier.verify_credential(document)
    except (WouldBlock, WorkDeferred):
        return None


def _committing(request: Request) -> Callable[[], None]:
    """For a verification on a worker thread: commits ``request`` (on the event loop, as the
    guard's deadline check runs there) just before the challenge is used up; past the deadline
    that raises the 503 problem and the challenge stays usable (see :mod:`.deadlines`)."""
    return lambda: from_thread.run_sync(commit, request)


def _signer_key(signers: list[str]) -> str:
    """What a received presentation id is kept under: its signer's DID (several, sorted, for a
    presentation that proofs by several DIDs made)."""
    return " ".join(sorted(set(signers)))


def _only_challenge_refused(result: PresentationResult) -> bool:
    """The presentation's proofs verified (it has signers) and nothing failed but the challenge
    store's check: the challenge used already (the same presentation again), or, a day after it
    expired, forgotten (``unknown``), or expired."""
    wrong = result.failures + result.errors
    return bool(result.signers) and bool(wrong) and all(
        c.name == "challenge" and c.code == "INVALID_CHALLENGE_ERROR" for c in wrong
    )


def _bound(presentation: Any) -> tuple[str | None, Any]:
    """The challenge and domain a presentation's proof names (None where it names none)."""
    proofs = presentation.get("proof") if isinstance(presentation, dict) else None
    for proof in proofs if isinstance(proofs, list) else [proofs]:
        if isinstance(proof, dict) and isinstance(proof.get("challenge"), str):
            return proof["challenge"], proof.get("domain")
    return None, None


@router.post(
    "/presentations", tags=["verify"], summary="Submit a presentation (Traceability profile)",
    responses={**_VERIFY_RESPONSES,
               200: {"description": "received and verified: {id, verified: true, results, credentials, ...}"},
               409: {"description": "a presentation with this id was received from its signer already", **_PROBLEM}},
    openapi_extra={"requestBody": {"required": True, "content": {"application/json": {"schema": {
        "type": "object", "required": ["verifiablePresentation"], "properties": {
            "verifiablePresentation": {"type": "object", "required": ["id", "proof"],
                                       "description": "a presentation with an id, bound to a challenge from "
                                       "POST /challenges"},
            "options": {"type": "object", "properties": {
                "challenge": {"type": "string", "description": "default: the one the presentation's proof names"},
                "domain": {"oneOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}}],
                           "description": "default: the one the presentation's proof names"}}},
        }}}}}},
)
async def submit_presentation(request: Request, _: Grant = Depends(_scope("verify"))) -> Response:
    """The Traceability profile's submission endpoint: the presentation is verified as by
    ``POST /presentations/verify``; its challenge (the proof's, unless ``options`` names the
    expected one) must be one this service gave and is used once. A verified presentation's
    id is kept with its signer (the DID whose key made its proof): the same signer's same id
    again is a 409; another signer's presentation with that id is not refused for it, so no
    one can block a holder's id by sending it first. One not verified is a 422 and nothing is
    kept. The 409 is decided after verification, from the signers whose proofs verified, so a
    forged proof learns nothing of the ids received (see :func:`_only_challenge_refused`)."""
    verifier = _verifier(request)
    records = _state(request).records
    body = await _json_body(request)
    _only(body, ("verifiablePresentation", "options"))
    options = _object(body.get("options"), "options")
    _only(options, ("challenge", "domain"))
    presentation = body.get("verifiablePresentation")
    if not isinstance(presentation, dict):
        raise Problem(400, "verifiablePresentation must be a presentation (a JSON object) with a proof")
    presentation_id = presentation.get("id")
    if not isinstance(presentation_id, str) or not presentation_id:
        raise Problem(400, "the presentation has no id: a submitted presentation needs one")
    bound_challenge, bound_domain = _bound(presentation)
    challenge = options.get("challenge", bound_challenge)
    domain = options.get("domain", bound_domain)
    if not isinstance(challenge, str) or not challenge:
        raise Problem(400, "the presentation's proof names no challenge (get one from POST /challenges)")
    if not (isinstance(domain, str) and domain) and not (
        isinstance(domain, list) and domain and all(isinstance(d, str) and d for d in domain)
    ):
        raise Problem(400, "the presentation's proof names no domain, and options.domain gives none")
    conflict = f"a presentation with id {presentation_id} was received from its signer already"
    try:
        def verify() -> PresentationResult:
            # committed before the challenge is used up: past the deadline, neither the
            # challenge nor the id is used (a 503 never hides a received presentation)
            return verifier.verify_presentation(presentation, challenge=challenge, domain=domain,
                                                before_use=_committing(request))

        result = await run_in_threadpool(verify)
        # the same presentation again: its challenge is used up (or forgotten since), and that
        # is all that fails. A 409 then, if its id was received from the signers its proofs
        # verified with (so only one who holds a presentation those keys made learns whether it
        # was received; a forged proof is a 422 like any other)
        if _only_challenge_refused(result) and await run_in_threadpool(
            records.received, presentation_id, _signer_key(result.signers)
        ):
            raise Problem(409, conflict)
        answer = _answer(result, [])  # raises the 422 or 503 problem when not verified
        commit(request)  # (committed already if it verified)
        if not await run_in_threadpool(records.receive, presentation_id, _signer_key(result.signers)):
            raise Problem(409, conflict)
    except RecordsError as e:
        _log.error("the records: %s", e.message)
        raise Problem(503, "the service's records cannot be reached (the server's log says why)", kind="records",
                      title="Records unavailable") from None
    report: dict[str, Any] = json.loads(bytes(answer.body))
    return _json({"id": presentation_id, **report})


@router.post(
    "/challenges", tags=["verify"], summary="A one-time challenge for a presentation", status_code=201,
    responses={201: {"description": "{challenge, expires}"}, 401: {**_PROBLEM}, 403: {**_PROBLEM}},
)
async def new_challenge(request: Request, _: Grant = Depends(_scope("verify"))) -> Response:
    verifier = _verifier(request)
    _only(await _json_body(request, optional=True), ())
    try:
        challenge = await run_in_threadpool(verifier.new_challenge)
    except ChallengeStoreError as e:
        raise Problem(503, e.message, kind="challenge-store", title="Challenge store unavailable") from None
    expires = challenge.expires.strftime("%Y-%m-%dT%H:%M:%SZ")
    return _json({"challenge": challenge.token, "expires": expires}, 201)


# -- DID resolution ------------------------------------------------------------------------------

RESOLUTION_MEDIA = ("application/did-resolution", 'application/ld+json;profile="https://w3id.org/did-resolution"')
"""The media types of a DID Resolution result: the current one of W3C DID Resolution, and the
older JSON-LD profile the Universal Resolver answers to."""
RESOLUTION_STATUS = {
    "invalidDid": 400, "invalidOptions": 400, "notFound": 404, "representationNotSupported": 406,
    "methodNotSupported": 501, "invalidDidDocument": 500, "internalError": 500,
    "invalidPublicKey": 400, "invalidPublicKeyLength": 400, "unsupportedPublicKeyType": 400,
}
"""The HTTP status of each ``didResolutionMetadata.error`` (DID Resolution, HTTP(S) binding)."""


def _wanted(accept: str) -> tuple[str, str] | None:
    """What the ``Accept`` header asks for: ``("result", media type)`` for a resolution result,
    ``("document", representation)`` for the DID document alone, or None if nothing here
    fits. The first media range that fits wins (q-values are not weighed)."""
    for item in (accept or "*/*").split(","):
        media, *params = [part.strip() for part in item.split(";")]
        media = media.lower()
        profile = next((p.split("=", 1)[1].strip('"') for p in params if p.lower().startswith("profile=")), None)
        if media == "application/did-resolution":
            return "result", RESOLUTION_MEDIA[0]
        if media == "application/ld+json" and profile == "https://w3id.org/did-resolution":
            return "result", RESOLUTION_MEDIA[1]
        if media in (DID_JSON, DID_LD_JSON):
            return "document", media
        if media in ("*/*", "application/*", "application/json", "application/ld+json"):
            return "document", DID_LD_JSON
    return None


@router.get(
    "/1.0/identifiers/{did:path}", tags=["verify"], summary="Resolve a DID (DID Resolution, HTTP(S) binding)",
    responses={
        200: {"description": "the DID document (application/did+ld+json or application/did+json), or with Accept: "
                             "application/did-resolution the DID Resolution result", "content": {
                                 DID_LD_JSON: {}, DID_JSON: {}, RESOLUTION_MEDIA[0]: {}, RESOLUTION_MEDIA[1]: {}}},
        400: {"description": "invalidDid: a DID resolution result with the error"},
        401: {**_PROBLEM}, 403: {**_PROBLEM},
        404: {"description": "notFound: a DID resolution result with the error"},
        406: {"description": "representationNotSupported"},
        501: {"description": "methodNotSupported"},
        500: {"description": "internalError (the DID document could not be fetched...)"},
    },
)
async def resolve_did(did: str, request: Request, _: Grant = Depends(_scope("verify"))) -> Response:
    """Resolve ``did`` with the verifier's resolvers (did:key, did:jwk, and did:web over HTTPS
    within the verifier's allowed hosts). A failure answers with the DID Resolution result
    carrying ``didResolutionMetadata.error`` and the status of :data:`RESOLUTION_STATUS`."""
    verifier = _verifier(request)
    wanted = _wanted(request.headers.get("accept", ""))
    representation = wanted[1] if wanted is not None and wanted[0] == "document" else DID_LD_JSON
    if wanted is None:
        result = ResolutionResult(None, {}, {"error": "representationNotSupported"})
    else:
        result = await run_in_threadpool(
            lambda: resolve_did_document(did, resolvers=verifier.resolvers, accept=representation))
    error = result.error
    if error is None and wanted is not None and wanted[0] == "document":
        media = result.did_resolution_metadata.get("contentType", representation)
        return Response(json.dumps(result.did_document, ensure_ascii=False).encode("utf-8"), media_type=media)
    media = wanted[1] if wanted is not None and wanted[0] == "result" else RESOLUTION_MEDIA[1]
    body = result.to_json()
    if error is not None and result.message:
        body["didResolutionMetadata"]["errorMessage"] = result.message
    return Response(json.dumps(body, ensure_ascii=False).encode("utf-8"), media_type=media,
                    status_code=RESOLUTION_STATUS.get(error, 500) if error is not None else 200)


# -- entries -------------------------------------------------------------------------------------

REPORT_CSP = ("default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'; "
              "frame-ancestors 'none'")
"""The report page runs no script and loads nothing: its style and drawings are inline."""


def _entries(request: Request) -> EntryDesk:
    entries = _state(request).entries
    if entries is None:
        raise Problem(404, "this service decides on no entries: it has no [verifier] configured")
    return entries


def _moment(value: Any) -> datetime | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise Problem(400, "options.at must be an ISO 8601 time")
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise Problem(400, f"options.at: not an ISO 8601 time: {value!r}") from None
    moment = moment if moment.tzinfo is not None else moment.replace(tzinfo=timezone.utc)
    if not 1970 <= moment.year <= 9000:  # the verifier adds its clock skew and validity periods to it
        raise Problem(400, "options.at must be between the years 1970 and 9000")
    return moment


@router.post(
    "/entries/verify", tags=["entries"], summary="Decide on an entry from the importer's presentation",
    status_code=201,
    responses={201: {"description": "the entry report {id, decision, lines, findings, ...}; Location: /entries/{id}"},
               400: {"description": "a malformed request or entry declaration (problems)", **_PROBLEM},
               401: {**_PROBLEM}, 403: {**_PROBLEM},
               503: {"description": "the ledger could not be used", **_PROBLEM}},
    openapi_extra={"requestBody": {"required": True, "content": {"application/json": {"schema": {
        "type": "object", "required": ["entry", "presentation", "options"], "properties": {
            "entry": {"type": "object", "description": "the entry declaration (as vc-verify entry reads it)"},
            "presentation": {"oneOf": [{"type": "object"}, {"type": "string"}]},
            "options": {"type": "object", "required": ["challenge", "domain"], "properties": {
                "challenge": {"type": "string", "description": "one from POST /challenges"},
                "domain": {"oneOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}}]},
                "at": {"type": "string", "description": "verify the documents as of this ISO 8601 time"}}},
        }}}}}},
)
async def verify_entry(request: Request, grant: Grant = Depends(_scope("entries"))) -> Response:
    """Decide as ``vc-verify entry`` does (a REJECT is a report, not an error); the report is
    kept by its id for ``GET /entries/{id}`` of the same client."""
    entries = _entries(request)
    body = await _json_body(request)
    _only(body, ("entry", "presentation", "options"))
    options = _object(body.get("options"), "options")
    _only(options, ("challenge", "domain", "at"))
    entry, presentation = body.get("entry"), body.get("presentation")
    if not isinstance(entry, dict):
        raise Problem(400, "entry must be the entry declaration (a JSON object)")
    if not isinstance(presentation, (dict, str)):
        raise Problem(400, "presentation must be a presentation (a JSON object or a compact JWS)")
    challenge, domain = _challenge_and_domain(options)
    now = _moment(options.get("at"))

    def decide() -> tuple[str, str]:
        return entries.decide(entry, presentation, challenge=challenge, domain=domain, now=now,
                              client_id=grant.client_id)

    commit(request)  # the decision goes into the ledger: not cut off by the deadline once begun
    try:
        report_id, text = await run_in_threadpool(decide)
    except EntryError as e:
        raise Problem(400, f"not an entry declaration: {e.problems[0]}", extra={"problems": e.problems}) from None
    except RuleError as e:
        _log.error("the entry rules of the trust policy could not be applied: %s", e)
        raise Problem(500, "the entry rules of the trust policy could not be applied (the server's log says why)") from None
    except LedgerError as e:
        _log.error("the ledger: %s", e)
        raise Problem(503, "the ledger cannot be reached (the server's log says why)", kind="ledger",
                      title="Ledger unavailable") from None
    except RecordsError as e:
        _log.error("the records: %s", e.message)
        raise Problem(503, "the report could not be kept: the service's records cannot be reached (the server's "
                      "log says why)", kind="records", title="Records unavailable") from None
    return Response(text.encode("utf-8"), status_code=201, media_type="application/json",
                    headers={"Location": f"/entries/{report_id}"})


def _wants_html(accept: str) -> bool:
    for item in accept.split(","):
        media = item.split(";")[0].strip().lower()
        if media in ("text/html", "application/xhtml+xml"):
            return True
        if media in ("application/json", "*/*", "application/*"):
            return False
    return False


@router.get(
    "/entries/{report_id}", tags=["entries"], summary="An entry report: JSON, or the HTML page with Accept: text/html",
    responses={200: {"description": "the report", "content": {"application/json": {}, "text/html": {}}},
               401: {**_PROBLEM}, 403: {**_PROBLEM}, 404: {**_PROBLEM}},
)
async def entry_report(report_id: str, request: Request, grant: Grant = Depends(_scope("entries"))) -> Response:
    """The report, to the client that asked for it (404 to any other, as for an unknown id)."""
    entries = _entries(request)
    try:
        report = await run_in_threadpool(entries.report, report_id, grant.client_id)
    except RecordsError as e:
        _log.error("the records: %s", e.message)
        raise Problem(503, "the service's records cannot be reached (the server's log says why)", kind="records",
                      title="Records unavailable") from None
    if report is None:
        days = _state(request).records.report_seconds // 86_400
        kept = (f"reports are kept {days} days, for the client that asked for them" if _state(request).records.kept
                else "reports are kept in this process's memory only, until it ends")
        raise Problem(404, f"no entry report {report_id} for this client here ({kept})")
    if _wants_html(request.headers.get("accept", "")):
        return Response(report.html.encode("utf-8"), media_type="text/html; charset=utf-8", headers={
            "Content-Security-Policy": REPORT_CSP, "X-Content-Type-Options": "nosniff", "Cache-Control": "no-store",
        })
    return Response(report.json.encode("utf-8"), media_type="application/json")


# -- issuing -------------------------------------------------------------------------------------


@router.post(
    "/issuers/{name}/credentials/issue", tags=["issue"], summary="Issue a credential", status_code=201,
    responses={201: {"description": "{verifiableCredential, warnings}"}, 400: {**_PROBLEM}, 401: {**_PROBLEM},
               403: {**_PROBLEM}, 404: {**_PROBLEM}},
    openapi_extra={"requestBody": {"required": True, "content": {"application/json": {"schema": {
        "type": "object", "required": ["credential"], "properties": {
            "credential": {"type": "object", "description": "an unsigned credential, or a credential subject with "
                           "options.type"},
            "options": {"type": "object", "properties": {
                "type": {"type": "string", "description": "a known trade credential type"},
                "format": {"enum": ["di", "jose"], "default": "di"},
                "cryptosuite": {"type": "string"}}},
        }}}}}},
)
async def issue(name: str, request: Request, grant: Grant = Depends(_scope("issue"))) -> Response:
    issuers = _issuers(request, name, grant)
    body = await _json_body(request)
    _only(body, ("credential", "options"))
    options = _object(body.get("options"), "options")
    _only(options, ("type", "format", "cryptosuite"))
    credential = body.get("credential")
    if not isinstance(credential, dict):
        raise Problem(400, "credential must be a JSON object")
    type_name = options.get("type")
    if type_name is not None:
        if not isinstance(type_name, str) or known_type(type_name) is None:
            raise Problem(400, f"options.type: {type_name!r} is not a known credential type")
        type_name = known_type(type_name)
    requested = options.get("format", "di")
    securing = {"di": "data-integrity", "jose": "jose"}.get(requested) if isinstance(requested, str) else None
    if securing is None:
        raise Problem(400, "options.format is 'di' or 'jose'")
    cryptosuite = options.get("cryptosuite")
    if cryptosuite is not None and not isinstance(cryptosuite, str):
        raise Problem(400, "options.cryptosuite must be a string")

    def call() -> tuple[dict[str, Any] | str, list[str]]:
        return issuers.issue(name, credential, type_name=type_name, securing=securing, cryptosuite=cryptosuite)

    commit(request)  # never a 503 for a credential that was issued: past here the deadline does not apply
    try:
        signed, warnings = await run_in_threadpool(call)
    except VcError as e:
        raise Problem(400, f"{e.code}: {e.message}", kind="not-issued", title="Not issued",
                      extra={"codes": [e.code]}) from None
    return _json({"verifiableCredential": signed, "warnings": warnings}, 201)


@router.post(
    "/issuers/{name}/credentials/status", tags=["status"], summary="Revoke, suspend or reinstate a credential",
    responses={200: {"description": "{credentialId, results: [{status, changed}]}"}, 400: {**_PROBLEM},
               401: {**_PROBLEM}, 403: {**_PROBLEM}, 404: {**_PROBLEM}, 409: {**_PROBLEM}},
    openapi_extra={"requestBody": {"required": True, "content": {"application/json": {"schema": {
        "type": "object", "required": ["credentialId", "credentialStatus"], "properties": {
            "credentialId": {"type": "string"},
            "credentialStatus": {"type": "array", "minItems": 1, "items": {
                "type": "object", "required": ["status"], "properties": {
                    "type": {"type": "string"}, "status": {"enum": sorted(STATUS_ACTIONS)}}}},
        }}}}}},
)
async def change_status(name: str, request: Request, grant: Grant = Depends(_scope("status"))) -> Response:
    issuers = _issuers(request, name, grant)
    body = await _json_body(request)
    _only(body, ("credentialId", "credentialStatus"))
    credential_id, entries = body.get("credentialId"), body.get("credentialStatus")
    if not isinstance(credential_id, str) or not credential_id:
        raise Problem(400, "credentialId must be a non-empty string")
    if not isinstance(entries, list) or len(entries) != 1:
        # one change a request: a second refused after the first was applied (a revocation is
        # for good) would answer 409 for a change that was made
        raise Problem(400, "credentialStatus must be a list of one {type, status}: one change a request")
    statuses = []
    for entry in entries:
        if not isinstance(entry, dict) or not isinstance(entry.get("status"), str) or entry["status"] not in STATUS_ACTIONS or (
            "type" in entry and not isinstance(entry["type"], str)
        ) or set(entry) - {"type", "status"}:
            raise Problem(400, f"each credentialStatus entry is {{type?, status}}, status one of "
                          f"{', '.join(sorted(STATUS_ACTIONS))}")
        statuses.append(entry["status"])
    if not await run_in_threadpool(issuers.known, name, credential_id):
        raise Problem(404, f"no credential {credential_id} was issued by {name}")
    commit(request)  # never a 503 for a change that was made
    try:
        changes = await run_in_threadpool(issuers.change_status, name, credential_id, statuses)
    except VcError as e:
        raise Problem(409, f"{e.code}: {e.message}", extra={"codes": [e.code]}) from None
    finally:
        verifier = _state(request).verifier
        if verifier is not None and verifier.status_checker is not None:
            verifier.status_checker.clear_cache()  # this server's own lists changed: fetch them afresh
    return _json({"credentialId": credential_id,
                  "results": [{"status": c.status, "changed": c.changed} for c in changes]})


# -- the token endpoint --------------------------------------------------------------------------


@router.post(
    "/token", tags=["auth"], summary="OAuth 2.0 client credentials grant (RFC 6749 4.4)",
    responses={200: {"description": "{access_token, token_type: Bearer, expires_in, scope}"},
               400: {"description": "RFC 6749 5.2 error JSON"}, 401: {"description": "invalid_client"},
               429: {"description": "too many failed client authentications from this address", **_PROBLEM}},
    openapi_extra={"requestBody": {"required": True, "content": {"application/x-www-form-urlencoded": {"schema": {
        "type": "object", "required": ["grant_type"], "properties": {
            "grant_type": {"enum": ["client_credentials"]}, "scope": {"type": "string"},
            "client_id": {"type": "string"}, "client_secret": {"type": "string"}}}}}}},
)
async def token(request: Request) -> Response:
    limits, address = _state(request).limits, request.client.host if request.client else ""
    claimed: list[str] = []

    def gate(client_id: str) -> None:  # failures count per address and client id: guessing one
        claimed.append(client_id)      # client's secret locks out no other client
        wait = limits.token_blocked(f"{address} {client_id}")
        if wait is not None:
            raise _too_many(wait, "too many failed authentications of this client from this address; "
                            f"try again in {wait} s")

    try:
        answer = _state(request).tokens.token_response(  # an OAuthError is answered by the app's handler
            await request.body(), request.headers.get("content-type"), request.headers.get("authorization"), gate
        )
    except OAuthError as e:
        if e.error == "invalid_client":
            limits.token_failed(f"{address} {claimed[-1] if claimed else ''}")
        raise
    return _json(answer, headers={"Cache-Control": "no-store", "Pragma": "no-cache"})


# -- the issuers' website ------------------------------------------------------------------------


@router.api_route("/{path:path}", methods=["GET", "HEAD"], include_in_schema=False)
async def site(path: str, request: Request) -> Response:
    """did.json and the status lists, at the paths their URLs name: looked up by the exact
    path in what the issuers publish (nothing is read from disk), so no other file is served."""
    issuers = _state(request).issuers
    if issuers is not None and issuers.stale():
        await run_in_threadpool(issuers.refresh)  # signed again once a day, so they never expire
    if issuers is not None and issuers.behind():  # another worker (or vc-issuer) changed a status
        await run_in_threadpool(issuers.sync)
    site_files = issuers.site if issuers is not None else {}
    found = site_files.get(path)
    if found is not None and request.url.query:  # <list>?timestamp=: the version then in effect
        try:
            version = version_as_of(path, request.url.query,
                                    lambda relative: f.data if (f := site_files.get(relative)) is not None else None)
        except NotServed as e:
            raise Problem(e.status, e.reason) from None
        if version is not None:
            found = site_files.get(version)
    if found is None:
        allowed = sorted({method for route in router.routes if isinstance(route, APIRoute)
                          and route.endpoint is not site and route.path_regex.match("/" + path)
                          for method in route.methods or ()})
        if allowed:  # an endpoint's path: it takes other methods (not a file that is missing)
            raise Problem(405, f"{request.method} is not allowed here; use {', '.join(allowed)}",
                          headers={"Allow": ", ".join(allowed)})
        raise Problem(404, "nothing here")
    return Response(found.data, media_type=found.media_type, headers={
        "Cache-Control": "no-cache", "Access-Control-Allow-Origin": "*", "X-Content-Type-Options": "nosniff",
    })
