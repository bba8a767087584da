"""The service's guard (tradevc.service.app.Guard): whatever goes wrong inside an endpoint, the
answer is a 500 problem with the request id and nothing of the error; the log has the details."""

from __future__ import annotations

import asyncio
import logging

import httpx

from tradevc.service.app import REQUEST_ID_HEADER, Guard


def post(app, path, **kw):
    """``app``'s answer to a POST, in this process (httpx's ASGI transport)."""
    async def call():
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://service.test") as client:
            return await client.post(path, **kw)

    return asyncio.run(call())


async def failing(scope, receive, send):
    raise RuntimeError("the secret detail of a bug, in /srv/tradevc/service/routes.py line 42")


def test_an_unexpected_error_is_a_500_problem_with_only_the_request_id(caplog):
    with caplog.at_level(logging.ERROR, logger="tradevc.service"):
        answer = post(Guard(failing, max_body_bytes=1024), "/credentials/verify", json={"verifiableCredential": {}})
    assert answer.status_code == 500
    assert answer.headers["content-type"] == "application/problem+json"
    request_id = answer.headers[REQUEST_ID_HEADER]
    problem = answer.json()
    assert problem == {
        "type": "urn:tradevc:problem:internal", "title": "Internal server error", "status": 500,
        "detail": f"an internal error; give the request id {request_id} to the operator", "requestId": request_id,
    }
    assert "secret detail" not in answer.text and "Traceback" not in answer.text
    assert request_id in caplog.text and "secret detail" in caplog.text  # the log has it


def test_a_body_over_the_limit_never_reaches_the_endpoint():
    reached = []

    async def endpoint(scope, receive, send):
        reached.append(True)
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    guarded = Guard(endpoint, max_body_bytes=1024)
    answer = post(guarded, "/x", content=b"x" * 1025)
    assert answer.status_code == 413 and answer.json()["type"] == "urn:tradevc:problem:too-large"
    assert reached == []
    assert post(guarded, "/x", content=b"x" * 1024).status_code == 200
