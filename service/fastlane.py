"""The fast lane of ``POST /credentials/verify``: the border's most frequent request, answered
without FastAPI's request machinery when nothing about it is unusual.

FastAPI spends on each request, around an endpoint of a few lines, about as much as a
signature check: a dozen nested ASGI layers, the dependency solver, request objects. For the
verifier's one hot endpoint this lane (pure ASGI, inside the guard: request id, limits,
deadline, the log and the metrics apply as to any request) does what the route does, with the
same functions, in one coroutine; and hands the request on to the route, as it came, at the
first thing that is not the common case:

- no valid bearer token with the scope ``verify``, or no verifier here: the route's
  dependency answers the 401, 403 or 404 (nothing was taken from the client's rate);
- over the client's rate limit (taken once, here: the route is told, see
  :data:`~.routes.RATE_TAKEN`), or a body that is not a JSON object asking for a credential:
  the route answers, the body passed on as it was read.

What the lane answers itself is the verification's answer (200, or the 422 or 503 problem).
It verifies on the event loop only a small credential that is cheap to verify and whose
issuer's documents are in memory (see :func:`~.routes.verify_at_once`); any other in a
thread, as the route would. The tests compare its answers with the route's.
"""

from __future__ import annotations

from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .problems import Problem
from .routes import (
    RATE_TAKEN, State, bearer_grant, credential_answer, credential_body, router, verify_at_once,
)

__all__ = ["FastLane", "VERIFY_PATH"]

VERIFY_PATH = "/credentials/verify"


class FastLane:
    """Pure ASGI middleware: ``POST /credentials/verify`` answered here when it can be (see the
    module's documentation); every other request, and that one when it cannot, go to ``app``."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.route: Any = next(route for route in router.routes if getattr(route, "path", None) == VERIFY_PATH
                               and "POST" in getattr(route, "methods", ()))
        """The route the lane stands in for (the guard's log and metrics name its template)."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] != VERIFY_PATH or scope["method"] != "POST" or scope.get("root_path"):
            await self.app(scope, receive, send)
            return
        app = scope.get("app")
        state: State | None = getattr(getattr(app, "state", None), "tradevc", None)
        verifier = state.verifier if state is not None else None
        authorization = content_type = None
        for name, value in scope["headers"]:
            if name == b"authorization" and authorization is None:
                authorization = value.decode("latin-1")
            elif name == b"content-type" and content_type is None:
                content_type = value.decode("latin-1")
        grant = bearer_grant(state, authorization) if state is not None and authorization is not None else None
        if verifier is None or state is None or grant is None or "verify" not in grant.scopes:
            await self.app(scope, receive, send)
            return
        request_state = scope.setdefault("state", {})
        request_state["client_id"] = grant.client_id
        wait = request_state[RATE_TAKEN] = state.limits.client(grant.client_id)
        if wait is not None:
            await self.app(scope, receive, send)
            return
        chunks = []
        while True:
            message = await receive()
            if message["type"] != "http.request":  # the client went away: nothing to answer
                return
            chunks.append(message.get("body", b""))
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        try:
            document, leave_out = credential_body(body, content_type)
        except Problem:  # the route says what is wrong
            await self.app(scope, _replay(body, receive), send)
            return
        result = verify_at_once(verifier, document, len(body))
        if result is None:  # costly, large, or something to fetch: in a thread
            result = await run_in_threadpool(verifier.verify_credential, document)
        try:
            response = credential_answer(result, leave_out)
        except Problem as problem:  # not verified, or could not verify
            response = problem.response(request_state.get("request_id"))
        scope["route"] = self.route
        # what response(scope, receive, send) sends (there is no background task)
        await send({"type": "http.response.start", "status": response.status_code, "headers": response.raw_headers})
        await send({"type": "http.response.body", "body": response.body})


def _replay(body: bytes, receive: Receive) -> Receive:
    """A ``receive`` that gives ``body`` (read already) once, then what ``receive`` gives."""
    given = False

    async def replayed() -> Message:
        nonlocal given
        if not given:
            given = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replayed
