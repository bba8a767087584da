"""The FastAPI application: the endpoints of :mod:`.routes` behind a guard that gives every
request an id (the ``X-Request-Id`` response header, and in the log), refuses a body over
the configured size (413), and turns anything unexpected into a 500 problem that carries the
request id and nothing else (the log has the details)."""

from __future__ import annotations

import logging
import time
import uuid
from dataclasses import replace
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.utils import get_openapi
from fastapi.responses import Response
from starlette.datastructures import MutableHeaders
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from tradevc import __version__

from tradevc.verifier.ledger import LedgerError, open_ledger

from .auth import OAuthError, TokenService

from .config import ConfigError, ServiceConfig
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
DESCRIPTION = """A W3C VC API service over tradevc: issue credentials (with their status
entries), revoke, suspend and reinstate them, serve the issuers' did.json and status lists,
verify credentials and presentations, and hand out one-time challenges.

Get a bearer token from `POST /token` (OAuth 2.0 client credentials) with the scopes
`issue`, `status`, `verify` and `metrics` (`GET /metrics`, Prometheus). A client over its
rate limit gets a 429 problem with `Retry-After`. Errors are RFC 9457 problem details; a credential that is not
verified is a 422 problem (`urn:tradevc:problem:not-verified`) with the report's codes, one
that could not be verified a 503 (`urn:tradevc:problem:could-not-verify`)."""


class _TooLarge(Exception):
    pass


def route_template(scope: Scope) -> str:
    """The template of the route ``scope`` matched (``/issuers/{name}/credentials/issue``), or
    ``unmatched``: what the metrics and the log name, never the raw path."""
    path = getattr(scope.get("route"), "path", None)
    return path if isinstance(path, str) else "unmatched"


class Guard:
    """Pure ASGI middleware: request id, body size limit, no stack traces in answers, and
    each request counted in ``metrics`` and logged (one JSON line, see :mod:`.logs`)."""

    def __init__(self, app: ASGIApp, max_body_bytes: int, metrics: Metrics | None = None) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        began = time.perf_counter()
        state = scope.setdefault("state", {})
        state["request_id"] = uuid.uuid4().hex
        try:
            await self._guarded(scope, receive, send)
        finally:
            status = state.get("status", 500)  # no answer started: the client went away, or worse
            seconds, method, route = time.perf_counter() - began, str(scope.get("method")), route_template(scope)
            if self.metrics is not None:
                self.metrics.observe(method, route, status, seconds, scope.get("path_params"))
            client_id = state.get("client_id")
            log_request(state["request_id"], client_id if isinstance(client_id, str) else None, method, route,
                        status, seconds * 1000)

    async def _guarded(self, scope: Scope, receive: Receive, send: Send) -> None:
        request_id: str = scope["state"]["request_id"]
        started = False

        async def send_with_id(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                scope["state"]["status"] = message["status"]
                MutableHeaders(scope=message)[REQUEST_ID_HEADER] = request_id
            await send(message)

        async def problem(status: int, detail: str) -> None:
            body = problem_body(status, detail, request_id=request_id)
            await send_with_id({"type": "http.response.start", "status": status, "headers": [
                (b"content-type", PROBLEM_JSON.encode()), (b"content-length", str(len(body)).encode()),
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
        received = 0

        async def limited() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise _TooLarge
            return message

        try:
            await self.app(scope, limited, send_with_id)
        except _TooLarge:
            if not started:
                await problem(413, f"the request body is over {limit} bytes")
        except Exception:
            log.exception("request %s failed", request_id, extra={
                "request_id": request_id, "method": scope.get("method"), "route": route_template(scope)})
            if not started:
                await problem(500, f"an internal error; give the request id {request_id} to the operator")


def _request_id(request: Request) -> str | None:
    value = getattr(request.state, "request_id", None)
    return value if isinstance(value, str) else None


def create_app(config: ServiceConfig | None = None, state: State | None = None) -> FastAPI:
    """The application, serving ``state`` (see :func:`open_state`); with neither, one that
    serves nothing but describes itself (for the OpenAPI document)."""
    app = FastAPI(
        title="tradevc service", version=__version__, description=DESCRIPTION, docs_url=None, redoc_url=None,
    )
    app.state.tradevc = state
    app.include_router(router)

    async def on_problem(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, Problem)
        return Response(exc.body(_request_id(request)), status_code=exc.status, media_type=PROBLEM_JSON,
                        headers=exc.headers)

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
        body can be too large (413), and a client over its rate limit gets a 429."""
        if app.openapi_schema is None:
            document = get_openapi(title=app.title, version=app.version, description=app.description,
                                   routes=app.routes)
            for operations in document.get("paths", {}).values():
                for method, operation in operations.items():
                    responses = operation.get("responses", {})
                    if responses.get("422", {}).get("description") == "Validation Error":
                        del responses["422"]
                        responses.setdefault("400", {"description": "a malformed request"})
                    if method == "post":
                        responses.setdefault("413", {"description": "the request body is over the limit"})
                    if operation.get("security"):
                        responses.setdefault("429", {"description": "the client is over its rate limit (see "
                                                                    "Retry-After)"})
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
    app.add_middleware(Guard, max_body_bytes=config.max_body_bytes if config is not None else 1024 * 1024,
                       metrics=app.state.metrics)
    return app


def open_state(config: ServiceConfig, shared: Runtime | None = None) -> State:
    """Open the issuers and build the verifier and token service of ``config``; with
    ``shared`` (several workers, forked after this) the rate limits and, unless the
    configuration names a file, the one-time challenges are kept in its folder for all of them.
    The token key made here when the configuration has none is the one every worker inherits.

    :raises ConfigError: an issuer cannot be opened, the trust policy cannot be read..."""
    tokens = TokenService(config.clients, lifetime=config.token_lifetime, key=config.token_key)
    verifier_config = config.verifier
    if verifier_config is not None and verifier_config.challenges is None and shared is not None:
        verifier_config = replace(verifier_config, challenges=shared.challenges)
    verifier = build_verifier(verifier_config) if verifier_config is not None else None
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
