"""The FastAPI application: the endpoints of :mod:`.routes` behind a guard that gives every
request an id (the ``X-Request-Id`` response header, and in the log), refuses a body over
the configured size (413), and turns anything unexpected into a 500 problem that carries the
request id and nothing else (the log has the details)."""

from __future__ import annotations

import asyncio
import inspect
import itertools
import logging
import os
import time
from dataclasses import replace
from typing import Any, Callable, Mapping

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.utils import get_openapi
from fastapi.responses import Response
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from tradevc import __version__
from tradevc.vc.retrieval.http import DEFAULT_TIMEOUT as DEFAULT_FETCH_TIMEOUT

from tradevc.verifier.ledger import LedgerError, open_ledger

from .auth import OAuthError, TokenService

from .config import DEFAULT_MAX_CONCURRENT, DEFAULT_REQUEST_TIMEOUT, ConfigError, ServiceConfig
from .deadlines import Deadline, deadline_problem
from .fastlane import VERIFY_PATH, FastLane
from .desks import EntryDesk, Issuers, build_verifier
from .limits import Limits
from .logs import log_request
from .metrics import Metrics
from .problems import PROBLEM_JSON, Problem, problem_body
from .records import Records, RecordsError, open_records
from .routes import State, router
from .workers import Runtime

__all__ = ["REQUEST_ID_HEADER", "create_app", "open_state"]

log = logging.getLogger("tradevc.service")
REQUEST_ID_HEADER = "X-Request-Id"
_REQUEST_ID_NAME = REQUEST_ID_HEADER.lower().encode("latin-1")
DESCRIPTION = """A W3C VC API service over tradevc: issue credentials (with their status
entries), revoke, suspend and reinstate them, serve the issuers' did.json and status lists,
verify credentials and presentations, and hand out one-time challenges.

Get a bearer token from `POST /token` (OAuth 2.0 client credentials) with the scopes
`issue`, `status`, `verify` and `metrics` (`GET /metrics`, Prometheus). A client over its
rate limit gets a 429 problem with `Retry-After`; a request still running at the deadline
(`[listen] request_timeout_seconds`) a 503 problem (`urn:tradevc:problem:deadline`), and one
over the requests the server runs at once a 503 (`urn:tradevc:problem:busy`), both with
`Retry-After`. Errors are RFC 9457 problem details; a credential that is not
verified is a 422 problem (`urn:tradevc:problem:not-verified`) with the report's codes, one
that could not be verified a 503 (`urn:tradevc:problem:could-not-verify`)."""


UNAVAILABLE = ("the request ran past its deadline (urn:tradevc:problem:deadline) or the server was running the most "
               "requests it runs at once (urn:tradevc:problem:busy); try again after Retry-After")
_PROBLEM_CONTENT: dict[str, Any] = {"content": {PROBLEM_JSON: {}}}


_NO_TELEMETRY: dict[str, Any] = (
    {"telemetry": {"tracing": False, "metrics": False}}
    if "telemetry" in inspect.signature(FastAPI.__init__).parameters else {}
)
"""FastAPI's own OpenTelemetry (newer FastAPI), off: the service counts in Prometheus, and
FastAPI asked on every request whether a tracer had been set up."""


class _TooLarge(Exception):
    pass


def route_template(scope: Scope) -> str:
    """The template of the route ``scope`` matched (``/issuers/{name}/credentials/issue``), or
    ``unmatched``: what the metrics and the log name, never the raw path."""
    path = getattr(scope.get("route"), "path", None)
    return path if isinstance(path, str) else "unmatched"


HEALTH_PATHS = frozenset(("/healthz", "/readyz"))
"""Never refused for the concurrency cap: a busy server is still alive and ready."""
BUSY_RETRY_AFTER = 1
"""The ``Retry-After`` (seconds) of a request refused over the concurrency cap."""


class Guard:
    """Pure ASGI middleware: request id, body size limit, deadline, concurrency cap, no stack
    traces in answers, and each request counted in ``metrics`` and logged (one JSON line, see
    :mod:`.logs`).

    A request still running ``request_timeout`` seconds after it came is answered with a 503
    ``deadline`` problem, unless it committed to a side effect in time (see
    :mod:`.deadlines`); its work goes on (a thread cannot be stopped), its answer dropped, and
    the server's graceful shutdown waits for it like for any request. Over ``max_concurrent``
    requests at once (those past their deadline count until their work ends: they still hold
    a thread), a request is refused at once with a 503 ``busy`` problem rather than queued;
    the health checks never are, nor the requests ``uncapped`` says (the issuers' published
    documents: see :func:`create_app`), which are not counted either."""

    def __init__(self, app: ASGIApp, max_body_bytes: int, metrics: Metrics | None = None, *,
                 request_timeout: float = DEFAULT_REQUEST_TIMEOUT, max_concurrent: int = DEFAULT_MAX_CONCURRENT,
                 uncapped: Callable[[Scope], bool] | None = None) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes
        self.metrics = metrics
        self.request_timeout = request_timeout
        self.max_concurrent = max_concurrent
        self.uncapped = uncapped
        self.in_flight = 0
        """Requests running now (the health checks aside), those past their deadline too."""
        self._ids_pid = -1
        self._ids_prefix = ""
        self._ids = itertools.count()

    def _request_id(self) -> str:
        """32 hex digits, unique across the server's processes and restarts: a random prefix
        drawn once per process (again after a fork), then a counter (a random UUID a request
        costs a system call and some microseconds, for no more uniqueness)."""
        if self._ids_pid != os.getpid():
            self._ids_pid, self._ids_prefix, self._ids = os.getpid(), os.urandom(10).hex(), itertools.count()
        return f"{self._ids_prefix}{next(self._ids) & 0xFFFFFFFFFFFF:012x}"

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        began = time.perf_counter()
        state = scope.setdefault("state", {})
        state["request_id"] = self._request_id()
        try:
            await self._guarded(scope, receive, send, began)
        finally:
            if not state.get("recorded"):
                self._record(scope, began)

    def _record(self, scope: Scope, began: float) -> None:
        """Count the request in the metrics and log it, once, when it is answered."""
        state = scope["state"]
        state["recorded"] = True
        status = state.get("status", 500)  # no answer started: the client went away, or worse
        seconds, method, route = time.perf_counter() - began, str(scope.get("method")), route_template(scope)
        if self.metrics is not None:
            self.metrics.observe(method, route, status, seconds, scope.get("path_params"))
        client_id = state.get("client_id")
        log_request(state["request_id"], client_id if isinstance(client_id, str) else None, method, route,
                    status, seconds * 1000)

    async def _guarded(self, scope: Scope, receive: Receive, send: Send, began: float) -> None:
        request_id: str = scope["state"]["request_id"]
        started = False
        deadline = Deadline(self.request_timeout)
        scope["state"]["deadline"] = deadline

        async def send_with_id(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                scope["state"]["status"] = message["status"]
                message["headers"] = [*(h for h in message.get("headers", ()) if h[0].lower() != _REQUEST_ID_NAME),
                                      (_REQUEST_ID_NAME, request_id.encode("latin-1"))]
            await send(message)

        async def problem(status: int, detail: str, *, kind: str | None = None, title: str | None = None,
                          headers: Mapping[str, str] | None = None) -> None:
            body = problem_body(status, detail, kind=kind, title=title, request_id=request_id)
            await send_with_id({"type": "http.response.start", "status": status, "headers": [
                (b"content-type", PROBLEM_JSON.encode()), (b"content-length", str(len(body)).encode()),
                *((name.lower().encode(), value.encode()) for name, value in (headers or {}).items()),
            ]})
            await send_with_id({"type": "http.response.body", "body": body})

        limit = self.max_body_bytes
        for name, value in scope.get("headers", []):
            if name == b"content-length":
                if not value.isdigit():
                    await problem(400, "a malformed Content-Length")
                    return
                if int(value) > limit:
                    await problem(413, f"the request body is over {limit} bytes")
                    return
        counted = scope.get("path") not in HEALTH_PATHS and not (self.uncapped is not None and self.uncapped(scope))
        if counted and self.in_flight >= self.max_concurrent:
            log.warning("request %s refused: %d requests are running, the most at once", request_id, self.in_flight,
                        extra={"request_id": request_id})
            await problem(503, f"the server is busy: it runs at most {self.max_concurrent} requests at once; "
                          f"try again in {BUSY_RETRY_AFTER} s", kind="busy", title="Server busy",
                          headers={"Retry-After": str(BUSY_RETRY_AFTER)})
            return
        received = 0

        async def limited() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise _TooLarge
            return message

        async def send_unless_expired(message: Message) -> None:
            if not deadline.expired:  # else the caller was answered 503 already
                await send_with_id(message)

        async def answer_at_deadline() -> None:
            answer = deadline_problem(self.request_timeout)
            await problem(answer.status, answer.detail, kind=answer.kind, title=answer.title, headers=answer.headers)
            self._record(scope, began)

        def at_deadline() -> None:
            """On the event loop, like the endpoint's commit: the two cannot interleave."""
            if started or deadline.committed:  # answering, or committed to a side effect: let it finish
                return
            deadline.expired = True
            log.warning("request %s ran past its deadline of %g s: answered 503, its work goes on",
                        request_id, self.request_timeout, extra={"request_id": request_id,
                                                                 "route": route_template(scope)})
            answering.append(asyncio.ensure_future(answer_at_deadline()))

        answering: list[asyncio.Task[None]] = []  # the 503 sent at the deadline
        if counted:
            self.in_flight += 1
        timer = asyncio.get_running_loop().call_later(self.request_timeout, at_deadline)
        try:
            await self.app(scope, limited, send_unless_expired)
        except _TooLarge:
            if not started and not deadline.expired:
                await problem(413, f"the request body is over {limit} bytes")
        except Exception as e:
            if deadline.expired:  # the client went away meanwhile, or the like: nobody to tell
                log.warning("request %s failed after its deadline: %s", request_id, type(e).__name__,
                            extra={"request_id": request_id})
                return
            log.exception("request %s failed", request_id, extra={
                "request_id": request_id, "method": scope.get("method"), "route": route_template(scope)})
            if not started:
                await problem(500, f"an internal error; give the request id {request_id} to the operator")
        finally:
            timer.cancel()
            if counted:
                self.in_flight -= 1
            if deadline.expired:
                log.warning("request %s ended %.1f s after its deadline", request_id,
                            time.perf_counter() - began - self.request_timeout, extra={"request_id": request_id})
            for task in answering:  # its answer is complete before this returns (else uvicorn adds a 500)
                await task


def _request_id(request: Request) -> str | None:
    value = getattr(request.state, "request_id", None)
    return value if isinstance(value, str) else None


class _Application(FastAPI):
    """FastAPI, but a request on the fast lane's path goes straight to the guard (the same
    instance the middleware stack holds, so its counts are shared), skipping the few ASGI
    layers FastAPI and Starlette put first: the error middleware (the guard answers every
    error itself), the telemetry and body-limit layers (neither configured). Several
    microseconds a request, on the border's most frequent one."""

    _shortcut: Any = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"] == VERIFY_PATH and self._shortcut is not False:
            guard = self._shortcut or self._guard()
            if guard is not None:
                scope["app"] = self
                await guard(scope, receive, send)
                return
        await super().__call__(scope, receive, send)

    def _guard(self) -> Guard | None:
        """The guard of the middleware stack, wrapping the fast lane (None: not so built)."""
        if self.middleware_stack is None:
            self.middleware_stack = self.build_middleware_stack()
        layer: Any = self.middleware_stack
        for _ in range(16):
            if isinstance(layer, Guard):
                self._shortcut = layer if isinstance(layer.app, FastLane) else False
                return self._shortcut or None
            layer = getattr(layer, "app", None)
        self._shortcut = False
        return None


def create_app(config: ServiceConfig | None = None, state: State | None = None, *, fast_lane: bool = True) -> FastAPI:
    """The application, serving ``state`` (see :func:`open_state`); with neither, one that
    serves nothing but describes itself (for the OpenAPI document). ``fast_lane=False`` leaves
    out :class:`~.fastlane.FastLane` (its tests compare the answers with and without it)."""
    app = _Application(
        title="tradevc service", version=__version__, description=DESCRIPTION, docs_url=None, redoc_url=None,
        **_NO_TELEMETRY,
    )
    app.state.tradevc = state
    app.include_router(router)

    async def on_problem(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, Problem)
        return exc.response(_request_id(request))

    async def on_oauth(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, OAuthError)
        return Response(exc.body(), status_code=exc.status, media_type="application/json", headers=exc.headers)

    async def on_http(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, StarletteHTTPException)
        problem = Problem(exc.status_code, str(exc.detail), headers=dict(exc.headers or {}))
        return await on_problem(request, problem)

    async def on_invalid(request: Request, exc: Exception) -> Response:
        return await on_problem(request, Problem(400, "the request does not have the expected form"))

    def openapi() -> dict[str, Any]:
        """FastAPI's document, told the truth: a malformed request is a 400 problem here (not
        its 422 "Validation Error", which this service keeps for "not verified"), every
        body can be too large (413) or of another media type than JSON (415), a client over its rate limit gets a 429, and any request
        but the health checks may be answered at its deadline or refused over the cap (503)."""
        if app.openapi_schema is None:
            document = get_openapi(title=app.title, version=app.version, description=app.description,
                                   routes=app.routes)
            for path, operations in document.get("paths", {}).items():
                for method, operation in operations.items():
                    responses = operation.get("responses", {})
                    if responses.get("422", {}).get("description") == "Validation Error":
                        del responses["422"]
                        responses.setdefault("400", {"description": "a malformed request"})
                    if method == "post":
                        responses.setdefault("413", {"description": "the request body is over the limit"})
                    if method == "post" and path != "/token":  # its form of another type is a 400 (RFC 6749)
                        responses.setdefault("415", {"description": "the request body is not JSON (send it as "
                                                                    "application/json)", **_PROBLEM_CONTENT})
                    if operation.get("security"):
                        responses.setdefault("429", {"description": "the client is over its rate limit (see "
                                                                    "Retry-After)"})
                    if path not in HEALTH_PATHS:
                        unavailable = responses.setdefault("503", {"description": "", **_PROBLEM_CONTENT})
                        unavailable["description"] = "; or ".join(filter(None, (
                            unavailable["description"], UNAVAILABLE)))
            schemas = document.get("components", {}).get("schemas", {})
            for name in ("HTTPValidationError", "ValidationError"):
                schemas.pop(name, None)
            if not schemas:
                document.get("components", {}).pop("schemas", None)
            app.openapi_schema = document
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
    app.add_exception_handler(Problem, on_problem)
    app.add_exception_handler(OAuthError, on_oauth)
    app.add_exception_handler(StarletteHTTPException, on_http)
    app.add_exception_handler(RequestValidationError, on_invalid)
    app.state.metrics = Metrics()
    config = config if config is not None else ServiceConfig()

    def published(scope: Scope) -> bool:
        """A GET or HEAD of a document the issuers publish (did.json, a status list): served
        from memory on the event loop, never refused over the cap, so that a verifier that is
        its own issuers' website can still fetch them when the server is busy."""
        issuers = state.issuers if state is not None else None
        return (issuers is not None and scope.get("method") in ("GET", "HEAD")
                and str(scope.get("path", "")).lstrip("/") in issuers.site)

    if fast_lane:
        app.add_middleware(FastLane)  # inside the guard (added later, it wraps this)
    app.add_middleware(Guard, max_body_bytes=config.max_body_bytes, metrics=app.state.metrics,
                       request_timeout=config.request_timeout, max_concurrent=config.max_concurrent,
                       uncapped=published)
    return app


def open_state(config: ServiceConfig, shared: Runtime | None = None) -> State:
    """Open the issuers and build the verifier and token service of ``config``; with
    ``shared`` (several workers, forked after this) the rate limits and, unless the
    configuration names a file, the one-time challenges are kept in its folder for all of them.
    The token key made here when the configuration has none is the one every worker inherits.

    :raises ConfigError: an issuer cannot be opened, the trust policy cannot be read..."""
    tokens = TokenService(config.clients, lifetime=config.token_lifetime, key=config.token_key)
    # no network fetch of a verification outlives the request's deadline
    fetch_timeout = min(DEFAULT_FETCH_TIMEOUT, config.request_timeout)
    verifier_config = config.verifier
    if verifier_config is not None and verifier_config.challenges is None and shared is not None:
        verifier_config = replace(verifier_config, challenges=shared.challenges)
    verifier = build_verifier(verifier_config, timeout=fetch_timeout) if verifier_config is not None else None
    entries = EntryDesk(verifier, config.verifier.trust, config.ledger) if config.verifier and verifier else None
    issuers = Issuers(config.issuers) if config.issuers else None
    try:
        records = open_kept_records(config, shared)  # last: its warning only once the rest is known to be right
    except BaseException:
        if issuers is not None:
            issuers.close()
        raise
    if entries is not None:
        entries.records = records
    limits = Limits(config.clients, config.token_failures, shared=shared.buckets if shared is not None else None)
    if issuers is not None and verifier is not None and verifier.status_checker is not None:
        # the verifier's cached lists are dropped when this service's own lists change, in any worker
        verifier.status_checker.generation = issuers.changes
    return State(tokens=tokens, issuers=issuers, verifier=verifier, ready=True, entries=entries, limits=limits,
                 records=records)


def open_kept_records(config: ServiceConfig, shared: Runtime | None = None) -> Records:
    """The records of ``[records]`` (see :mod:`.records`). The ledger is opened first, so that
    its tables exist before the records' are added to its database. With several workers and
    no database configured, they go to an SQLite file of the workers' private folder: shared
    by the workers, lost at stop (as in memory).

    :raises ConfigError: the ledger or the records' database cannot be opened."""
    if config.ledger is not None:
        try:
            open_ledger(config.ledger).close()
        except LedgerError as e:
            raise ConfigError(f"ledger.url: {e.message}") from None
    settings = config.records
    location = settings.location
    if location is None and shared is not None:
        log.warning("the received presentation ids and the entry reports are not kept: they live in the workers' "
                    "private folder until the service stops; configure [ledger] url or [records] file to keep them")
        location = str(shared.folder / "records.sqlite")
    try:
        return open_records(location, report_days=settings.entry_report_days,
                            presentation_days=settings.presentation_days, memory_limit=settings.memory_limit)
    except RecordsError as e:
        where = "ledger.url" if settings.location == config.ledger else "records.file"
        raise ConfigError(f"{where}: the records: {e.message}") from None


def close_state(state: Any) -> None:
    if isinstance(state, State):
        if state.issuers is not None:
            state.issuers.close()
        if state.verifier is not None and state.verifier.challenges is not None:
            state.verifier.challenges.close()
        state.records.close()
