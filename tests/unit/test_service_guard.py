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


# -- the deadline -----------------------------------------------------------------------------------


def answering(status):
    async def answer(send):
        await send({"type": "http.response.start", "status": status, "headers": []})
        await send({"type": "http.response.body", "body": b"done"})
    return answer


def test_a_request_past_its_deadline_is_a_503_problem_and_its_late_answer_is_dropped():
    late = []

    async def endpoint(scope, receive, send):
        await asyncio.sleep(0.3)  # past the deadline (the client was answered meanwhile)
        await answering(200)(send)  # dropped
        late.append(True)

    answer = post(Guard(endpoint, max_body_bytes=1024, request_timeout=0.05), "/credentials/verify", json={})
    assert answer.status_code == 503 and answer.headers["content-type"] == "application/problem+json"
    assert answer.json()["type"] == "urn:tradevc:problem:deadline"
    assert answer.headers["retry-after"].isdigit()
    assert late == [True] and answer.text != "done"  # the work went on; its answer was dropped


def test_a_committed_request_runs_to_its_end_past_the_deadline():
    """Issuing and status changes commit before their side effect: from then on the deadline
    no longer applies, so a caller never gets a 503 for a credential that was issued."""
    from tradevc.service.deadlines import commit_scope

    async def endpoint(scope, receive, send):
        commit_scope(scope)
        await asyncio.sleep(0.3)  # past the deadline, after the commit
        await answering(201)(send)

    answer = post(Guard(endpoint, max_body_bytes=1024, request_timeout=0.05), "/issuers/x/credentials/issue", json={})
    assert answer.status_code == 201 and answer.text == "done"


def test_a_commit_after_the_deadline_is_refused_so_the_side_effect_never_happens():
    from tradevc.service.deadlines import commit_scope
    from tradevc.service.problems import Problem

    done = asyncio.Event()
    effects, refusals = [], []

    async def endpoint(scope, receive, send):
        await asyncio.sleep(0.2)  # past the deadline, before the commit
        try:
            commit_scope(scope)
            effects.append("issued")
        except Problem as e:
            refusals.append(e.kind)
        done.set()

    async def call():
        transport = httpx.ASGITransport(app=Guard(endpoint, max_body_bytes=1024, request_timeout=0.05),
                                        raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://service.test") as client:
            answer = await client.post("/issuers/x/credentials/issue", json={})
        await asyncio.wait_for(done.wait(), 10)  # the abandoned work reaches its commit
        return answer

    answer = asyncio.run(call())
    assert answer.status_code == 503 and answer.json()["type"] == "urn:tradevc:problem:deadline"
    assert effects == [] and refusals == ["deadline"]


def test_over_the_cap_a_request_is_refused_at_once_and_health_never():
    async def call():
        release = asyncio.Event()
        entered = asyncio.Event()

        async def endpoint(scope, receive, send):
            if scope["path"] == "/slow":
                entered.set()
                await release.wait()
            await answering(200)(send)

        guard = Guard(endpoint, max_body_bytes=1024, max_concurrent=1)
        transport = httpx.ASGITransport(app=guard, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://service.test") as client:
            slow = asyncio.ensure_future(client.get("/slow"))
            await entered.wait()
            refused = await client.get("/challenges")
            health = [await client.get("/healthz"), await client.get("/readyz")]
            release.set()
            held = await slow
            after = await client.get("/challenges")
        return refused, health, held, after

    refused, health, held, after = asyncio.run(call())
    assert refused.status_code == 503 and refused.json()["type"] == "urn:tradevc:problem:busy"
    assert refused.headers["retry-after"] == "1"
    assert [h.status_code for h in health] == [200, 200]
    assert held.status_code == 200 and after.status_code == 200
