"""The fast lane of ``POST /credentials/verify`` (tradevc.service.fastlane) answers as the route
does: the same status, body (the request id aside) and headers for every kind of request, the
ones it answers itself (verified, not verified, checks left out) and the ones it hands on
(no token, another scope, a malformed body, a credential whose issuer must be fetched); and
it takes from a client's rate once, whichever answers. In this process, over httpx's ASGI
transport, one application with the lane and one without."""

from __future__ import annotations

import asyncio
import copy
import json
from pathlib import Path
from typing import Any

import httpx
import pytest

from tradevc.issuer import sign_credential
from tradevc.service.app import create_app, open_state
from tradevc.service.config import load_config
from tradevc.service.fastlane import FastLane
from tradevc.vc.keys import KeyPair

REFERENCE = Path(__file__).resolve().parents[2] / "bench" / "usmca-certification-of-origin.json"
USMCA = "USMCACertificationOfOrigin"
SECRETS = {"customs": "customs-secret-0123456789", "erp": "erp-secret-0123456789abc",
           "slow": "slow-secret-0123456789ab"}
KEY = KeyPair.generate("Ed25519")


def certificate(key: KeyPair = KEY, status: dict[str, Any] | None = None) -> dict[str, Any]:
    document = json.loads(REFERENCE.read_text())
    document.pop("proof", None)
    document.pop("credentialStatus", None)
    if status is not None:
        document["credentialStatus"] = status
    document["issuer"] = key.did if isinstance(document["issuer"], str) else {**document["issuer"], "id": key.did}
    return sign_credential(document, key)


@pytest.fixture(scope="module")
def apps(tmp_path_factory):
    root = tmp_path_factory.mktemp("fastlane")
    (root / "trust.json").write_text(json.dumps({"trustedIssuers": [
        {"did": KEY.did, "name": "Test mill", "types": [USMCA]},
        {"did": "did:web:mill.example", "name": "Mill", "types": [USMCA]}]}))
    for name, secret in SECRETS.items():
        (root / f"{name}.secret").write_text(secret)
    (root / "token.key").write_bytes(b"k" * 48)
    (root / "service.toml").write_text("""
[tokens]
key_file = "token.key"

[verifier]
trust = "trust.json"

[clients.customs]
secret_file = "customs.secret"
scopes = ["verify"]

[clients.erp]
secret_file = "erp.secret"
scopes = ["issue"]

[clients.slow]
secret_file = "slow.secret"
scopes = ["verify"]
rate = "3/minute"
""")
    config = load_config(root / "service.toml")
    # two states: a client's rate taken in one is not taken in the other
    with_lane = create_app(config, open_state(config))
    without = create_app(config, open_state(config), fast_lane=False)
    assert any(m.cls is FastLane for m in with_lane.user_middleware)
    assert not any(m.cls is FastLane for m in without.user_middleware)
    return with_lane, without


def call(app, requests: list[dict[str, Any]]) -> list[httpx.Response]:
    async def run() -> list[httpx.Response]:
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as client:
            tokens = {}
            for name, secret in SECRETS.items():
                answer = await client.post("/token", data={"grant_type": "client_credentials"}, auth=(name, secret))
                tokens[name] = answer.json()["access_token"]
            answers = []
            for request in requests:
                headers = dict(request.get("headers", {}))
                if "as" in request:
                    headers["Authorization"] = f"Bearer {tokens[request['as']]}"
                answers.append(await client.post("/credentials/verify", content=request["body"], headers=headers))
            return answers
    return asyncio.run(run())


def comparable(answer: httpx.Response) -> tuple[int, Any, dict[str, str]]:
    body = answer.json()
    if isinstance(body, dict):
        body.pop("requestId", None)
    headers = {name: value for name, value in answer.headers.items()
               if name in ("content-type", "retry-after", "www-authenticate")}
    return answer.status_code, body, headers


def json_request(body: Any, **extra: Any) -> dict[str, Any]:
    return {"body": json.dumps(body).encode(), "headers": {"Content-Type": "application/json"}, **extra}


def test_the_lane_answers_every_kind_of_request_as_the_route_does(apps):
    good = certificate()
    forged = copy.deepcopy(good)
    forged["credentialSubject"]["id"] = "did:web:someone-else.example"
    elsewhere = certificate(KeyPair.generate("Ed25519"))  # a signer the trust policy does not name
    # its status list must be fetched (from a host that is not public: refused, could not verify)
    web = certificate(status={"id": "https://localhost:9/status/1#7", "type": "BitstringStatusListEntry",
                              "statusPurpose": "revocation", "statusListIndex": "7",
                              "statusListCredential": "https://localhost:9/status/1"})
    requests = [
        json_request({"verifiableCredential": good}, **{"as": "customs"}),
        json_request({"verifiableCredential": forged}, **{"as": "customs"}),
        json_request({"verifiableCredential": elsewhere}, **{"as": "customs"}),
        json_request({"verifiableCredential": good, "options": {"checks": ["proof"]}}, **{"as": "customs"}),
        json_request({"verifiableCredential": web}, **{"as": "customs"}),
        json_request({"verifiableCredential": "not.a.token"}, **{"as": "customs"}),
        json_request({"verifiableCredential": good, "options": {"checks": ["nonsense"]}}, **{"as": "customs"}),
        json_request({"verifiableCredential": good, "options": {"challenge": "x"}}, **{"as": "customs"}),
        json_request({"credential": good}, **{"as": "customs"}),
        json_request([good], **{"as": "customs"}),
        {"body": b'{"verifiableCredential": {"a": 1, "a": 2}}', "headers": {"Content-Type": "application/json"},
         "as": "customs"},
        {"body": b"{not json", "headers": {"Content-Type": "application/json"}, "as": "customs"},
        {"body": json.dumps({"verifiableCredential": good}).encode(), "headers": {"Content-Type": "text/plain"},
         "as": "customs"},
        json_request({"verifiableCredential": good}),  # no token
        json_request({"verifiableCredential": good}, headers={"Content-Type": "application/json",
                                                              "Authorization": "Bearer x.y.z"}),
        json_request({"verifiableCredential": good}, headers={"Content-Type": "application/json",
                                                              "Authorization": "Basic eDp5"}),
        json_request({"verifiableCredential": good}, **{"as": "erp"}),  # another scope
    ]
    fast, slow = call(apps[0], requests), call(apps[1], requests)
    statuses = [answer.status_code for answer in fast]
    assert statuses == [200, 422, 422, 200, 503, 422, 400, 400, 400, 400, 400, 400, 415, 401, 401, 401, 403], statuses
    for i, (a, b) in enumerate(zip(fast, slow)):
        assert comparable(a) == comparable(b), (i, a.text, b.text)
    assert fast[3].json()["skipped"] and not fast[0].json()["skipped"]


def test_a_credential_that_is_not_i_json_is_not_verified_cleanly(apps):
    """The body of a verify request is not walked for I-JSON before the verifier walks the
    credential: a lone surrogate or an integer past 2**53 is a 422 naming PARSING_ERROR (its
    answer written whatever the credential holds), not a 500; a bad option is still a 400."""
    good = json.dumps({"verifiableCredential": certificate()})
    surrogate = good.replace('"credentialSubject": {', '"credentialSubject": {"note": "\\ud800", ', 1)
    surrogate_id = good.replace('"id": "', '"id": "\\udfff', 1)
    big = good.replace('"credentialSubject": {', '"credentialSubject": {"n": 12345678901234567890, ', 1)
    requests = [{"body": body.encode(), "headers": {"Content-Type": "application/json"}, "as": "customs"}
                for body in (surrogate, surrogate_id, big)]
    requests.append(json_request({"verifiableCredential": certificate(), "options": {"checks": [2 ** 60]}},
                                 **{"as": "customs"}))
    fast, slow = call(apps[0], requests), call(apps[1], requests)
    assert [a.status_code for a in fast] == [422, 422, 422, 400], [a.text for a in fast]
    for a, b in zip(fast, slow):
        assert comparable(a) == comparable(b)
    for answer in fast[:3]:
        assert "PARSING_ERROR" in answer.json()["codes"]


def test_a_client_s_rate_is_taken_once_whichever_answers(apps):
    good = certificate()
    requests = [
        json_request({"verifiableCredential": good}, **{"as": "slow"}),       # the lane answers
        {"body": b"{not json", "headers": {"Content-Type": "application/json"}, "as": "slow"},  # handed on
        json_request({"verifiableCredential": good}, **{"as": "slow"}),
        json_request({"verifiableCredential": good}, **{"as": "slow"}),       # the fourth of 3 a minute
        json_request({"verifiableCredential": good}, **{"as": "customs"}),    # another client: unaffected
    ]
    for app in apps:
        answers = call(app, requests)
        assert [a.status_code for a in answers] == [200, 400, 200, 429, 200], [a.text for a in answers]
        assert int(answers[3].headers["retry-after"]) >= 1
        assert answers[3].json()["type"] == "urn:tradevc:problem:too-many-requests"


def test_the_verify_path_goes_straight_to_the_guard_that_wraps_the_lane():
    """The application's shortcut finds the middleware stack's own guard (shared counts), and
    only when the fast lane is there; other paths take FastAPI's whole stack."""
    from tradevc.service.app import Guard, create_app
    from tradevc.service.fastlane import FastLane

    with_lane = create_app()
    guard = with_lane._guard()
    assert isinstance(guard, Guard) and isinstance(guard.app, FastLane)
    layer = with_lane.middleware_stack
    while layer is not guard:  # the very instance of the stack, not a copy
        layer = layer.app
    assert create_app(fast_lane=False)._guard() is None


def test_only_what_is_cheap_is_verified_on_the_event_loop(apps, monkeypatch):
    """One proof of the Data Integrity suites, or a vc+jwt token, is verified on the event
    loop; a credential with more than one proof, or whose RDFC-1.0 canonicalization needs more
    work than allowed there (blank nodes it cannot tell apart at first sight: slow on some
    documents), in a thread, whichever answers (the lane or the route). Observed by wrapping
    each application's verifier: the real verification runs, noting whether an event loop runs
    on the thread it runs on (a deferred attempt is seen on the loop, then in the thread)."""
    from tradevc import cosign_credential, sign_credential_jwt

    def unsigned() -> dict[str, Any]:
        document = certificate()
        document.pop("proof")
        return document

    jcs = sign_credential(unsigned(), KEY, cryptosuite="eddsa-jcs-2022")
    crowded = unsigned()  # 40 blank nodes alike: more than INLINE_RDFC_WORK units to tell apart
    crowded["credentialSubject"]["items"] = [{"type": "Product", "name": "bar"} for _ in range(40)]
    crowded = sign_credential(crowded, KEY, cryptosuite="eddsa-rdfc-2022")
    two_jcs = cosign_credential(jcs, KeyPair.generate("Ed25519"), cryptosuite="eddsa-jcs-2022")
    cases = [  # (credential, verified on the loop)
        (jcs, True),
        (sign_credential_jwt(unsigned(), KEY), True),
        (certificate(), True),  # eddsa-rdfc-2022, no canonicalization work
        (two_jcs, False),
        ({**jcs, "proof": [jcs["proof"]]}, True),  # a proof set of one
        (crowded, None),  # tried on the loop, deferred, verified in a thread
    ]
    for app in apps:
        verifier = app.state.tradevc.verifier
        on_loop: list[bool] = []
        real = verifier.verify_credential

        def observed(document: Any, **options: Any) -> Any:
            try:
                asyncio.get_running_loop()
                on_loop.append(True)
            except RuntimeError:
                on_loop.append(False)
            return real(document, **options)

        monkeypatch.setattr(verifier, "verify_credential", observed)
        answers = call(app, [json_request({"verifiableCredential": c}, **{"as": "customs"}) for c, _ in cases])
        monkeypatch.undo()
        assert [a.status_code for a in answers] == [200] * len(cases), [a.text for a in answers]
        expected = [seen for _, inline in cases for seen in ((True, False) if inline is None else (inline,))]
        assert on_loop == expected, on_loop
