"""``tradevc-serve`` as a real process on 127.0.0.1, called with httpx over HTTPS: the token
flow and every refusal of a bearer token, issue -> verify (Data Integrity and JOSE), revoke ->
the verifier refuses with the revocation code, a presentation with a one-time challenge, the
issuers' did.json and status lists without a token, limits, and no stack trace in any answer.

The server is one mill's whole website: its did:web DID (did:web:localhost%3APORT) and status
lists are served by the server under test, which its own verifier fetches over HTTPS (the
test CA, localhost allowed)."""

from __future__ import annotations

import base64
import json
import os
import ssl
import time
import uuid
from datetime import datetime
from urllib.parse import quote, quote_plus

import httpx
import pytest
from jwcrypto import jwk, jwt

from support.service import (
    CUSTOMS_SECRET, ERP_SECRET, GROUP_SECRET, MONITOR_SECRET, PASS, TOKEN_KEY, USMCA, issue, mill_service, unsigned,
)
from support.site_process import free_port
from tradevc.issuer import Issuer
from tradevc.service.routes import router
from tradevc.vc.keys import KeyPair
from tradevc.vc.retrieval.did.jwk import did_jwk
from tradevc.vc.securing.data_integrity import sign_presentation

NOT_A_TRACE = ("Traceback", 'File "', "line ", ".py")


def no_traceback(answer: httpx.Response) -> None:
    text = answer.text
    assert "Traceback" not in text and 'File "' not in text, text


@pytest.fixture(scope="module")
def service(tmp_path_factory):
    service = mill_service(tmp_path_factory.mktemp("service"), free_port())
    try:
        yield service
    finally:
        service.stop()


@pytest.fixture(scope="module")
def erp(service):
    return service.token("erp", ERP_SECRET)


@pytest.fixture(scope="module")
def customs(service):
    return service.token("customs", CUSTOMS_SECRET)


# -- health and the website -------------------------------------------------------------------------


def test_health_and_readiness_need_no_token(service):
    assert service.client.get("/healthz").json() == {"status": "ok"}
    ready = service.client.get("/readyz")
    assert ready.status_code == 200 and ready.json() == {"status": "ready", "issuers": ["mill", "smelter"], "verifier": True}
    assert len(ready.headers["x-request-id"]) == 32
    described = service.client.get("/openapi.json")
    assert described.status_code == 200 and "/credentials/verify" in described.json()["paths"]


def test_did_json_and_status_lists_are_served_without_a_token(service, erp):
    credential = issue(service, erp)
    did = service.client.get("/.well-known/did.json")
    assert did.status_code == 200 and did.headers["content-type"] == "application/did+json"
    assert did.json()["id"] == service.did
    assert did.headers["access-control-allow-origin"] == "*" and did.headers["cache-control"] == "no-cache"
    head = service.client.head("/.well-known/did.json")
    assert head.status_code == 200 and head.content == b""
    for entry in credential["credentialStatus"]:
        url = entry["statusListCredential"]
        assert url.startswith(service.base + "/status/")
        listed = service.client.get(url)
        assert listed.status_code == 200 and listed.headers["content-type"] == "application/vc"
        assert listed.json()["credentialSubject"]["statusPurpose"] == entry["statusPurpose"]


@pytest.mark.parametrize("path", ["/status/../../etc/passwd", "/%2e%2e/mill/profile.json", "/mill/profile.json",
                                  "/registry.sqlite", "/status/", "/.well-known/"])
def test_nothing_but_the_published_documents_is_served(service, path):
    answer = service.client.get(path)
    assert answer.status_code == 404
    assert answer.headers["content-type"] == "application/problem+json"
    assert answer.json()["type"] == "urn:tradevc:problem:not-found"


# -- tokens ----------------------------------------------------------------------------------------------


def test_a_token_by_basic_and_by_post(service):
    basic = service.client.post("/token", data={"grant_type": "client_credentials"}, auth=("erp", ERP_SECRET))
    assert basic.status_code == 200, basic.text
    body = basic.json()
    assert body["token_type"] == "Bearer" and body["expires_in"] == 600 and body["scope"] == "issue status"
    assert basic.headers["cache-control"] == "no-store"
    posted = service.client.post("/token", data={
        "grant_type": "client_credentials", "client_id": "customs", "client_secret": CUSTOMS_SECRET, "scope": "verify",
    })
    assert posted.status_code == 200 and posted.json()["scope"] == "verify"
    encoded = base64.b64encode(f"customs:{quote_plus(CUSTOMS_SECRET)}".encode()).decode()  # as RFC 6749 2.3.1 says
    answer = service.client.post("/token", data={"grant_type": "client_credentials"},
                                 headers={"Authorization": f"Basic {encoded}"})
    assert answer.status_code == 200 and answer.json()["scope"] == "verify"
    raw = service.client.post("/token", data={"grant_type": "client_credentials"}, auth=("customs", CUSTOMS_SECRET))
    assert raw.status_code == 200, raw.text  # not form-encoded first, as curl -u sends it


@pytest.mark.parametrize("form, auth, status, error", [
    ({"grant_type": "client_credentials"}, ("erp", "wrong secret 0123456789"), 401, "invalid_client"),
    ({"grant_type": "client_credentials"}, ("nobody", ERP_SECRET), 401, "invalid_client"),
    ({"grant_type": "client_credentials"}, None, 401, "invalid_client"),
    ({"grant_type": "client_credentials", "client_id": "erp", "client_secret": "x" * 20}, None, 401, "invalid_client"),
    ({"grant_type": "password"}, ("erp", ERP_SECRET), 400, "unsupported_grant_type"),
    ({}, ("erp", ERP_SECRET), 400, "invalid_request"),
    ({"grant_type": "client_credentials", "scope": "verify"}, ("erp", ERP_SECRET), 400, "invalid_scope"),
    ({"grant_type": "client_credentials", "scope": "admin"}, ("erp", ERP_SECRET), 400, "invalid_scope"),
    ({"grant_type": "client_credentials", "client_id": "erp", "client_secret": ERP_SECRET},
     ("erp", ERP_SECRET), 400, "invalid_request"),
])
def test_token_refusals(service, form, auth, status, error):
    answer = service.client.post("/token", data=form, auth=auth)
    assert answer.status_code == status, answer.text
    assert answer.json()["error"] == error
    if status == 401:
        assert answer.headers["www-authenticate"].startswith("Basic ")
    no_traceback(answer)


def test_a_token_request_must_be_form_encoded(service):
    answer = service.client.post("/token", json={"grant_type": "client_credentials"}, auth=("erp", ERP_SECRET))
    assert answer.status_code == 400 and answer.json()["error"] == "invalid_request"


def forged(claims, key=TOKEN_KEY, alg="HS256"):
    token = jwt.JWT(header={"alg": alg}, claims=claims)
    token.make_signed_token(jwk.JWK(kty="oct", k=base64.urlsafe_b64encode(key).rstrip(b"=").decode()))
    return token.serialize()


def claims(**changes):
    now = int(time.time())
    base = {"iss": "tradevc-serve", "sub": "customs", "scope": "verify", "iat": now, "exp": now + 600, "jti": "x"}
    return {**base, **changes}


def test_bearer_tokens_are_checked(service, customs, erp):
    body = {"verifiableCredential": {}}
    missing = service.post("/credentials/verify", body, None)
    assert missing.status_code == 401
    assert missing.headers["www-authenticate"] == 'Bearer realm="tradevc"'
    assert missing.headers["content-type"] == "application/problem+json"
    assert missing.json()["type"] == "urn:tradevc:problem:unauthorized"
    now = int(time.time())
    for bad in [
        "not-a-token", customs + "x", customs[:-3] + "AAA",
        forged(claims(exp=now - 1, iat=now - 601)),   # expired
        forged(claims(), key=b"another key of at least 32 bytes!!"),  # not our key
        forged(claims(iss="someone-else")),
        forged(claims(sub="nobody")),                 # a client that is not configured
        forged(claims(), alg="HS384"),
    ]:
        answer = service.post("/credentials/verify", body, bad)
        assert answer.status_code == 401, bad
        assert 'error="invalid_token"' in answer.headers["www-authenticate"]
        no_traceback(answer)
    basic = service.client.post("/credentials/verify", json=body, auth=("customs", CUSTOMS_SECRET))
    assert basic.status_code == 401
    # a forged scope the client does not have gives nothing
    assert service.post("/issuers/mill/credentials/issue", {"credential": {}}, forged(claims(scope="issue"))).status_code == 403
    wrong = service.post("/credentials/verify", body, erp)
    assert wrong.status_code == 403
    assert 'error="insufficient_scope"' in wrong.headers["www-authenticate"]
    assert wrong.json()["type"] == "urn:tradevc:problem:forbidden"
    for path in ("/issuers/mill/credentials/issue", "/issuers/mill/credentials/status"):
        assert service.post(path, {}, customs).status_code == 403
        assert service.post(path, {}, None).status_code == 401
    assert service.post("/challenges", {}, erp).status_code == 403
    assert service.post("/challenges", {}, None).status_code == 401
    assert service.post("/presentations/verify", {}, erp).status_code == 403


def test_a_token_with_a_narrower_scope(service):
    token = service.token("erp", ERP_SECRET, scope="status")
    answer = service.post("/issuers/mill/credentials/issue", {"credential": unsigned(service)}, token)
    assert answer.status_code == 403


# -- issue and verify ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["di", "jose"])
def test_issue_then_verify(service, erp, customs, fmt):
    credential = issue(service, erp, format=fmt)
    if fmt == "jose":
        assert isinstance(credential, str) and credential.count(".") == 2
    else:
        assert credential["proof"]["type"] == "DataIntegrityProof"
    answer = service.post("/credentials/verify", {"verifiableCredential": credential}, customs)
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["verified"] is True and body["skipped"] == []
    names = [c["name"] for c in body["results"]]
    assert {"proof", "revocation", "suspension", "issuer_trust"} <= set(names)


def test_revoke_then_verify_refuses_with_the_revocation_code(service, erp, customs):
    credential = issue(service, erp)
    assert service.post("/credentials/verify", {"verifiableCredential": credential}, customs).status_code == 200
    change = service.post("/issuers/mill/credentials/status", {
        "credentialId": credential["id"], "credentialStatus": [{"type": "BitstringStatusListEntry", "status": "revoked"}],
    }, erp)
    assert change.status_code == 200, change.text
    assert change.json() == {"credentialId": credential["id"], "results": [{"status": "revoked", "changed": True}]}
    answer = service.post("/credentials/verify", {"verifiableCredential": credential}, customs)
    assert answer.status_code == 422, answer.text
    assert answer.headers["content-type"] == "application/problem+json"
    problem = answer.json()
    assert problem["type"] == "urn:tradevc:problem:not-verified" and problem["status"] == 422
    assert problem["title"] == "Not verified" and problem["verified"] is False
    assert "REVOKED" in problem["codes"]
    assert [e["name"] for e in problem["errors"]] == ["revocation"]
    # revoking is permanent: reinstating is refused, and so is an unknown credential
    again = service.post("/issuers/mill/credentials/status", {
        "credentialId": credential["id"], "credentialStatus": [{"status": "reinstated"}]}, erp)
    assert again.status_code == 409 and again.json()["type"] == "urn:tradevc:problem:conflict"
    unknown = service.post("/issuers/mill/credentials/status", {
        "credentialId": "urn:uuid:00000000-0000-0000-0000-000000000000", "credentialStatus": [{"status": "revoked"}]}, erp)
    assert unknown.status_code == 404


@pytest.mark.parametrize("body", [
    {}, {"credentialId": "urn:x"}, {"credentialId": "", "credentialStatus": [{"status": "revoked"}]},
    {"credentialId": "urn:x", "credentialStatus": []},
    {"credentialId": "urn:x", "credentialStatus": [{"status": "deleted"}]},
    {"credentialId": "urn:x", "credentialStatus": [{"status": "revoked", "index": 7}]},
    {"credentialId": "urn:x", "credentialStatus": [{"status": "revoked", "type": 1}]},
    {"credentialId": "urn:x", "credentialStatus": {"status": "revoked"}},
    {"credentialId": "urn:x", "credentialStatus": [{"status": "revoked"}], "force": True},
    {"credentialId": "urn:x", "credentialStatus": [{"status": ["revoked"]}]},  # was a 500 (unhashable)
    {"credentialId": "urn:x", "credentialStatus": [{"status": {"revoked": 1}}]},
])
def test_a_malformed_status_change_is_a_400(service, erp, body):
    answer = service.post("/issuers/mill/credentials/status", body, erp)
    assert answer.status_code == 400, answer.text
    assert answer.json()["type"] == "urn:tradevc:problem:bad-request"


def test_a_challenge_request_takes_no_options(service, customs):
    assert service.post("/challenges", {"ttl": 999999}, customs).status_code == 400
    assert service.post("/challenges", {}, customs).status_code == 201


def test_suspend_and_reinstate(service, erp, customs):
    credential = issue(service, erp)

    def status(value):
        answer = service.post("/issuers/mill/credentials/status", {
            "credentialId": credential["id"], "credentialStatus": [{"status": value}]}, erp)
        assert answer.status_code == 200, answer.text

    status("suspended")
    answer = service.post("/credentials/verify", {"verifiableCredential": credential}, customs)
    assert answer.status_code == 422 and "SUSPENDED" in answer.json()["codes"]
    status("reinstated")
    assert service.post("/credentials/verify", {"verifiableCredential": credential}, customs).status_code == 200


def test_one_status_change_a_request_so_none_is_half_applied(service, erp, customs):
    """Suspend, revoke, reinstate in one request: the last would be refused after the
    revocation was made for good, and a 409 would then answer for a change that was made.
    One change a request: refused whole, nothing applied."""
    credential = issue(service, erp)
    answer = service.post("/issuers/mill/credentials/status", {"credentialId": credential["id"], "credentialStatus": [
        {"status": "suspended"}, {"status": "revoked"}, {"status": "reinstated"}]}, erp)
    assert answer.status_code == 400 and "one change a request" in answer.json()["detail"]
    assert service.post("/credentials/verify", {"verifiableCredential": credential}, customs).status_code == 200


def test_options_checks_scope_a_verification(service, erp, customs):
    credential = issue(service, erp)
    credential["validUntil"] = "2099-01-01T00:00:00Z"  # tampered: the proof no longer verifies
    tampered = service.post("/credentials/verify", {"verifiableCredential": credential,
                                                    "options": {"checks": ["proof"]}}, customs)
    assert tampered.status_code == 422 and "proof" in [e["name"] for e in tampered.json()["errors"]]

    revoked = issue(service, erp)
    service.post("/issuers/mill/credentials/status", {
        "credentialId": revoked["id"], "credentialStatus": [{"status": "revoked"}]}, erp)
    scoped = service.post("/credentials/verify", {"verifiableCredential": revoked, "options": {"checks": ["proof"]}},
                          customs)
    assert scoped.status_code == 200, scoped.text
    body = scoped.json()
    assert body["verified"] is True
    assert {"revocation", "suspension", "validity_period"} <= set(body["skipped"])
    assert "issuer_trust" not in body["skipped"]  # the verifier's policy: never left out
    revocation = next(c for c in body["results"] if c["name"] == "revocation")
    assert revocation["outcome"] == "skipped" and "caller's request" in revocation["message"]
    bad = service.post("/credentials/verify", {"verifiableCredential": revoked, "options": {"checks": ["nothing"]}},
                       customs)
    assert bad.status_code == 400 and "nothing" in bad.json()["detail"]


def test_could_not_verify_is_a_503_problem_of_its_own(service, customs):
    with Issuer.open(service.faraway, PASS.encode()) as far:
        credential = far.issue(unsigned(service) | {"issuer": far.did})
    answer = service.post("/credentials/verify", {"verifiableCredential": credential}, customs)
    assert answer.status_code == 503, answer.text
    assert answer.headers["content-type"] == "application/problem+json"
    problem = answer.json()
    assert problem["type"] == "urn:tradevc:problem:could-not-verify" and problem["title"] == "Could not verify"
    assert problem["verified"] is False and problem["codes"]
    assert {e["outcome"] for e in problem["errors"]} == {"error"}
    # the caller may leave the status out: then what could be checked verified
    scoped = service.post("/credentials/verify", {"verifiableCredential": credential,
                                                  "options": {"checks": ["proof", "issuer_trust"]}}, customs)
    assert scoped.status_code == 200 and "revocation" in scoped.json()["skipped"]


def test_a_forged_credential_is_not_verified(service, erp, customs):
    credential = issue(service, erp)
    credential["credentialSubject"]["name"] = "Someone else"
    answer = service.post("/credentials/verify", {"verifiableCredential": credential}, customs)
    assert answer.status_code == 422
    assert "PROOF_VERIFICATION_ERROR" in answer.json()["codes"]
    no_traceback(answer)


def test_concurrent_issue_requests_each_get_their_own_status_entries(service, erp):
    """FastAPI runs endpoints on a thread pool; the issuer's calls go through its one thread."""
    from concurrent.futures import ThreadPoolExecutor

    def one(_):
        with httpx.Client(base_url=service.base, verify=ssl.create_default_context(cafile=str(service.ca)),
                          timeout=120) as client:
            return client.post("/issuers/mill/credentials/issue", json={"credential": unsigned(service)},
                               headers={"Authorization": f"Bearer {erp}"})

    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(one, range(8)))
    assert [a.status_code for a in answers] == [201] * 8, [a.text for a in answers if a.status_code != 201]
    entries = [(e["statusListCredential"], e["statusListIndex"])
               for a in answers for e in a.json()["verifiableCredential"]["credentialStatus"]]
    assert len(set(entries)) == len(entries) == 16


def test_issue_refusals(service, erp):
    credential = unsigned(service)
    credential["issuer"] = "did:example:someone-else"
    answer = service.post("/issuers/mill/credentials/issue", {"credential": credential}, erp)
    assert answer.status_code == 400 and answer.json()["codes"] == ["ISSUER_ERROR"]
    assert service.post("/issuers/nobody/credentials/issue", {"credential": unsigned(service)}, erp).status_code == 404
    for options in ({"format": "pdf"}, {"format": ["di"]}, {"format": {"di": 1}}, {"type": "NoSuchType"}, {"unknown": 1}):
        answer = service.post("/issuers/mill/credentials/issue", {"credential": unsigned(service), "options": options}, erp)
        assert answer.status_code == 400, options
    invalid = unsigned(service)
    del invalid["credentialSubject"]
    answer = service.post("/issuers/mill/credentials/issue", {"credential": invalid, "options": {"type": USMCA}}, erp)
    assert answer.status_code == 400
    no_traceback(answer)


# -- presentations and challenges --------------------------------------------------------------------------


def test_presentation_with_a_one_time_challenge(service, erp, customs):
    credential = issue(service, erp)
    made = service.post("/challenges", None, customs)
    assert made.status_code == 201, made.text
    challenge = made.json()["challenge"]
    assert len(challenge) >= 40 and made.json()["expires"].endswith("Z")
    holder = KeyPair.generate("Ed25519")
    vp = sign_presentation([credential], holder, challenge=challenge, domain="customs.example")
    body = {"verifiablePresentation": vp, "options": {"challenge": challenge, "domain": "customs.example"}}
    first = service.post("/presentations/verify", body, customs)
    assert first.status_code == 200, first.text
    assert first.json()["verified"] is True and first.json()["credentials"][0]["verified"] is True
    again = service.post("/presentations/verify", body, customs)
    assert again.status_code == 422
    assert "INVALID_CHALLENGE_ERROR" in again.json()["codes"]
    # a challenge this verifier never issued
    vp = sign_presentation([credential], holder, challenge="made-up-challenge", domain="customs.example")
    made_up = service.post("/presentations/verify", {"verifiablePresentation": vp, "options": {
        "challenge": "made-up-challenge", "domain": "customs.example"}}, customs)
    assert made_up.status_code == 422 and "INVALID_CHALLENGE_ERROR" in made_up.json()["codes"]
    missing = service.post("/presentations/verify", {"verifiablePresentation": vp}, customs)
    assert missing.status_code == 400
    scoped = service.post("/presentations/verify", {"verifiablePresentation": vp, "options": {
        "challenge": "made-up-challenge", "domain": "customs.example", "checks": ["proof"]}}, customs)
    assert scoped.status_code == 422 and "INVALID_CHALLENGE_ERROR" in scoped.json()["codes"]  # never skipped


def test_options_checks_scope_each_credential_of_a_presentation(service, erp, customs):
    revoked = issue(service, erp)
    service.post("/issuers/mill/credentials/status", {
        "credentialId": revoked["id"], "credentialStatus": [{"status": "revoked"}]}, erp)
    holder = KeyPair.generate("Ed25519")

    def verify(options, *, domain="customs.example", signed_domain="customs.example"):
        challenge = service.post("/challenges", None, customs).json()["challenge"]
        vp = sign_presentation([revoked], holder, challenge=challenge, domain=signed_domain)
        return service.post("/presentations/verify", {"verifiablePresentation": vp, "options": {
            "challenge": challenge, "domain": domain, **options}}, customs)

    whole = verify({})
    assert whole.status_code == 422 and "REVOKED" in whole.json()["codes"]
    scoped = verify({"checks": ["proof"]})
    assert scoped.status_code == 200, scoped.text
    body = scoped.json()
    assert body["verified"] is True and body["credentials"][0]["verified"] is True
    assert {"revocation", "suspension", "validity_period"} <= set(body["skipped"])
    revocation = next(c for c in body["credentials"][0]["checks"] if c["name"] == "revocation")
    assert revocation["outcome"] == "skipped" and "caller's request" in revocation["message"]
    assert next(c for c in body["results"] if c["name"] == "credentials")["outcome"] == "passed"
    # the presentation's own checks are never left out: a wrong domain is still refused
    elsewhere = verify({"checks": ["proof"]}, signed_domain="elsewhere.example")
    assert elsewhere.status_code == 422, elsewhere.text
    bad = verify({"checks": ["nothing"]})
    assert bad.status_code == 400 and "nothing" in bad.json()["detail"]
    assert verify({"checks": "proof"}).status_code == 400


def test_issuer_trust_is_never_left_out(service, customs):
    """A credential of an issuer the trust policy does not trust is not verified, whatever
    options.checks says: the caller chooses checks of the document, not whom this verifier trusts."""
    group = service.token("group", GROUP_SECRET)
    answer = service.post("/issuers/smelter/credentials/issue", {"credential": smelters(service)}, group)
    assert answer.status_code == 201, answer.text
    credential = answer.json()["verifiableCredential"]
    for checks in (["proof"], ["proof", "issuer_trust"], None):
        options = {"checks": checks} if checks is not None else {}
        refused = service.post("/credentials/verify", {"verifiableCredential": credential, "options": options},
                               customs)
        assert refused.status_code == 422, (checks, refused.text)
        assert "issuer_trust" in [e["name"] for e in refused.json()["errors"]]


def smelters(service):
    return unsigned(service) | {"issuer": {"id": service.smelter, "name": "Smelter"}}


def test_a_client_acts_only_for_its_issuers(service, erp):
    """erp may act for mill only: smelter's issue and status endpoints are a 403 naming the
    issuer; group, listed for both, issues for smelter."""
    refused = service.post("/issuers/smelter/credentials/issue", {"credential": smelters(service)}, erp)
    assert refused.status_code == 403, refused.text
    assert refused.headers["content-type"] == "application/problem+json" and "smelter" in refused.json()["detail"]
    status = service.post("/issuers/smelter/credentials/status", {
        "credentialId": "urn:uuid:00000000-0000-0000-0000-000000000000", "credentialStatus": [{"status": "revoked"}]},
        erp)
    assert status.status_code == 403 and "smelter" in status.json()["detail"]
    group = service.token("group", GROUP_SECRET)
    made = service.post("/issuers/smelter/credentials/issue", {"credential": smelters(service)}, group)
    assert made.status_code == 201, made.text
    assert service.post("/issuers/nowhere/credentials/issue", {"credential": unsigned(service)}, erp).status_code == 404


def test_presentation_submission_traceability(service, erp, customs):
    """POST /presentations: verified and kept by id; the same id again is a 409."""
    credential = issue(service, erp)
    holder = KeyPair.generate("Ed25519")
    challenge = service.post("/challenges", None, customs).json()["challenge"]
    vp_id = f"urn:uuid:{uuid.uuid4()}"
    vp = sign_presentation([credential], holder, challenge=challenge, domain="customs.example", presentation_id=vp_id)
    first = service.post("/presentations", {"verifiablePresentation": vp}, customs)
    assert first.status_code == 200, first.text
    body = first.json()
    assert body["verified"] is True and body["id"] == vp_id and body["credentials"][0]["verified"] is True
    again = service.post("/presentations", {"verifiablePresentation": vp}, customs)
    assert again.status_code == 409, again.text
    assert again.json()["type"] == "urn:tradevc:problem:conflict" and vp_id in again.json()["detail"]
    # with the expected challenge and domain given as options
    challenge = service.post("/challenges", None, customs).json()["challenge"]
    other = sign_presentation([credential], holder, challenge=challenge, domain="customs.example",
                              presentation_id=f"urn:uuid:{uuid.uuid4()}")
    wrong_domain = service.post("/presentations", {"verifiablePresentation": other,
                                                   "options": {"challenge": challenge, "domain": "elsewhere.example"}},
                                customs)
    assert wrong_domain.status_code == 422, wrong_domain.text


def test_presentation_submission_refusals(service, erp, customs):
    credential = issue(service, erp)
    holder = KeyPair.generate("Ed25519")
    # a challenge this service never gave: not verified, and its id is not kept
    vp_id = f"urn:uuid:{uuid.uuid4()}"
    made_up = sign_presentation([credential], holder, challenge="made-up", domain="customs.example",
                                presentation_id=vp_id)
    answer = service.post("/presentations", {"verifiablePresentation": made_up}, customs)
    assert answer.status_code == 422 and "INVALID_CHALLENGE_ERROR" in answer.json()["codes"]
    challenge = service.post("/challenges", None, customs).json()["challenge"]
    fixed = sign_presentation([credential], holder, challenge=challenge, domain="customs.example",
                              presentation_id=vp_id)
    assert service.post("/presentations", {"verifiablePresentation": fixed}, customs).status_code == 200
    # no id, no proof, not an object, unknown options, no token, wrong scope
    challenge = service.post("/challenges", None, customs).json()["challenge"]
    anonymous = sign_presentation([credential], holder, challenge=challenge, domain="customs.example")
    anonymous.pop("id", None)
    no_id = service.post("/presentations", {"verifiablePresentation": anonymous}, customs)
    assert no_id.status_code == 400 and "id" in no_id.json()["detail"]
    unsigned_vp = {k: v for k, v in fixed.items() if k != "proof"} | {"id": f"urn:uuid:{uuid.uuid4()}"}
    assert service.post("/presentations", {"verifiablePresentation": unsigned_vp}, customs).status_code == 400
    assert service.post("/presentations", {"verifiablePresentation": 7}, customs).status_code == 400
    assert service.post("/presentations", {"verifiablePresentation": fixed, "options": {"x": 1}},
                        customs).status_code == 400
    assert service.post("/presentations", {"verifiablePresentation": fixed}, None).status_code == 401
    assert service.post("/presentations", {"verifiablePresentation": fixed}, erp).status_code == 403


# -- DID resolution ------------------------------------------------------------------------------------------

RESOLUTION = 'application/ld+json;profile="https://w3id.org/did-resolution"'


def resolve(service, token, did, accept=None):
    headers = {"Authorization": f"Bearer {token}", **({"Accept": accept} if accept else {})}
    return service.client.get(f"/1.0/identifiers/{quote(did, safe=':')}", headers=headers)


def test_did_resolution_of_did_key_did_jwk_and_the_served_did_web(service, customs):
    holder = KeyPair.generate("Ed25519")
    for did in (holder.did, did_jwk(KeyPair.generate("P-256")), service.did):
        document = resolve(service, customs, did)
        assert document.status_code == 200, document.text
        assert document.headers["content-type"] in ("application/did+ld+json", "application/did+json")
        assert document.json()["id"] == did
        for accept in (RESOLUTION, "application/did-resolution"):
            result = resolve(service, customs, did, accept)
            assert result.status_code == 200, result.text
            assert result.headers["content-type"] == accept
            body = result.json()
            assert body["didDocument"]["id"] == did and body["didDocumentMetadata"] == {}
            assert body["didResolutionMetadata"]["contentType"] in ("application/did+ld+json", "application/did+json")
    plain = resolve(service, customs, holder.did, "application/did+json")
    assert plain.status_code == 200 and "@context" not in plain.json()
    assert plain.headers["content-type"] == "application/did+json"


@pytest.mark.parametrize("did, status, error", [
    ("not-a-did", 400, "invalidDid"),
    ("did:key:zNotAKey", 400, "unsupportedPublicKeyType"),
    ("did:example:123", 501, "methodNotSupported"),
    ("did:web:localhost%3A1:..:..:etc:passwd", 400, "invalidDid"),   # a path traversal in did:web
    ("did:web:127.0.0.1", 400, "invalidDid"),                       # an IP address is not a did:web host
])
def test_did_resolution_errors(service, customs, did, status, error):
    for accept in (None, RESOLUTION):
        answer = resolve(service, customs, did, accept)
        assert answer.status_code == status, answer.text
        body = answer.json()
        assert body["didDocument"] is None and body["didResolutionMetadata"]["error"] == error
        assert answer.headers["content-type"] == RESOLUTION
        no_traceback(answer)


def test_did_resolution_of_a_did_web_not_served_is_not_found(service, customs):
    answer = resolve(service, customs, service.did + ":nobody")
    assert answer.status_code == 404, answer.text
    assert answer.json()["didResolutionMetadata"]["error"] == "notFound"


def test_did_resolution_refusals(service, customs, erp):
    holder = KeyPair.generate("Ed25519")
    assert service.client.get(f"/1.0/identifiers/{holder.did}").status_code == 401
    assert resolve(service, erp, holder.did).status_code == 403
    unacceptable = resolve(service, customs, holder.did, "text/html")
    assert unacceptable.status_code == 406
    assert unacceptable.json()["didResolutionMetadata"]["error"] == "representationNotSupported"
    # a traversal in the URL path does not reach the files of the server
    for path in ("/1.0/identifiers/..%2F..%2Fmill%2Fprofile.json", "/1.0/identifiers/did:web:..%2F..%2Fmill"):
        traversal = service.client.get(path, headers={"Authorization": f"Bearer {customs}"})
        assert traversal.status_code == 400, traversal.text
        assert traversal.json()["didResolutionMetadata"]["error"] == "invalidDid"


# -- limits and errors ----------------------------------------------------------------------------------------


def test_a_body_over_the_limit_is_refused(service, customs):
    big = {"verifiableCredential": {"padding": "x" * 70000}}
    answer = service.post("/credentials/verify", big, customs)
    assert answer.status_code == 413
    assert answer.headers["content-type"] == "application/problem+json"
    assert answer.json()["type"] == "urn:tradevc:problem:too-large"

    def chunks():  # no Content-Length: counted as it comes
        for _ in range(10):
            yield b" " * 8000

    streamed = service.client.post("/credentials/verify", content=chunks(), headers={
        "Authorization": f"Bearer {customs}", "Content-Type": "application/json"})
    assert streamed.status_code == 413


@pytest.mark.parametrize("content", [b"{not json", b'{"verifiableCredential": 1, "verifiableCredential": 2}',
                                     b'{"verifiableCredential": NaN}', b"[]", b"\xff\xfe"])
def test_malformed_json_is_a_400_problem(service, customs, content):
    answer = service.client.post("/credentials/verify", content=content, headers={
        "Authorization": f"Bearer {customs}", "Content-Type": "application/json"})
    assert answer.status_code == 400, answer.text
    assert answer.headers["content-type"] == "application/problem+json"
    problem = answer.json()
    assert problem["type"] == "urn:tradevc:problem:bad-request" and problem["status"] == 400
    assert problem["requestId"] == answer.headers["x-request-id"]
    no_traceback(answer)


def test_other_media_types_and_methods(service, customs):
    answer = service.client.post("/credentials/verify", content=b"<xml/>", headers={
        "Authorization": f"Bearer {customs}", "Content-Type": "application/xml"})
    assert answer.status_code == 415
    assert service.client.put("/credentials/verify").status_code == 405
    no_traceback(answer)


def test_the_document_limits_of_the_verifier_apply(service, customs):
    deep: object = "x"
    for _ in range(200):
        deep = [deep]
    answer = service.post("/credentials/verify", {"verifiableCredential": {"deep": deep}}, customs)
    assert answer.status_code == 422
    assert "RESOURCE_LIMIT_ERROR" in answer.json()["codes"]


def test_the_server_log_has_no_secret(service):
    """The passphrase and secrets never reach the command line (they are in files and the environment)."""
    arguments = " ".join(service.process.args)  # type: ignore[arg-type]
    assert PASS not in arguments and ERP_SECRET not in arguments and CUSTOMS_SECRET not in arguments
    assert os.environ.get("TEST_CUSTOMS_SECRET") is None


# -- metrics -------------------------------------------------------------------------------------


def scrape(service, token):
    from prometheus_client.parser import text_string_to_metric_families

    answer = service.client.get("/metrics", headers={"Authorization": f"Bearer {token}"})
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"].startswith("text/plain; version=")  # the Prometheus text format
    samples = [s for family in text_string_to_metric_families(answer.text) for s in family.samples]
    return {(s.name, tuple(sorted(s.labels.items()))): s.value for s in samples}


def value(samples, name, **labels):
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def test_metrics_need_the_scope_metrics(service, customs):
    assert service.client.get("/metrics").status_code == 401
    assert service.client.get("/metrics", headers={"Authorization": "Bearer x.y.z"}).status_code == 401
    refused = service.client.get("/metrics", headers={"Authorization": f"Bearer {customs}"})
    assert refused.status_code == 403 and "metrics" in refused.json()["detail"]
    assert "tradevc_http_requests_total" not in refused.text


def test_metrics_count_requests_by_route_verifications_and_issues(service, erp, customs):
    monitor = service.token("monitor", MONITOR_SECRET)
    before = scrape(service, monitor)
    credential = issue(service, erp)
    assert service.post("/credentials/verify", {"verifiableCredential": credential}, customs).status_code == 200
    forged = json.loads(json.dumps(credential))
    forged["credentialSubject"]["name"] = "Someone else"
    assert service.post("/credentials/verify", {"verifiableCredential": forged}, customs).status_code == 422
    with Issuer.open(service.faraway, PASS.encode()) as far:
        unreachable = far.issue(unsigned(service) | {"issuer": far.did})
    assert service.post("/credentials/verify", {"verifiableCredential": unreachable}, customs).status_code == 503
    status_url = credential["credentialStatus"][0]["statusListCredential"]
    assert service.client.get(status_url).status_code == 200
    assert service.client.get(f"/status/{credential['id']}").status_code == 404
    after = scrape(service, monitor)

    def grew(name, **labels):
        return value(after, name, **labels) - value(before, name, **labels)

    assert grew("tradevc_credentials_issued_total", issuer="mill") == 1
    for outcome in ("verified", "not_verified", "could_not_verify"):
        assert grew("tradevc_verifications_total", outcome=outcome) == 1, outcome
    route = "/credentials/verify"
    assert grew("tradevc_http_requests_total", method="POST", route=route, status="2xx") == 1
    assert grew("tradevc_http_requests_total", method="POST", route=route, status="4xx") == 1
    assert grew("tradevc_http_requests_total", method="POST", route=route, status="5xx") == 1
    # (at least: the verifier fetches the mill's did.json and status lists from this server too)
    assert grew("tradevc_http_requests_total", method="GET", route="/{path:path}", status="2xx") >= 1
    assert grew("tradevc_http_requests_total", method="GET", route="/{path:path}", status="4xx") == 1
    assert grew("tradevc_http_request_duration_seconds_count", route=route) == 3
    # labels name route templates, never a raw path or a credential's id (unbounded: a DoS on the metrics)
    templates = {r.path for r in router.routes if hasattr(r, "path")} | {"/openapi.json", "unmatched"}
    labels = [dict(key) for _, key in after]
    assert {label["route"] for label in labels if "route" in label} <= templates
    values = " ".join(str(v) for label in labels for v in label.values())
    assert credential["id"] not in values and "/status/" not in values and "urn:uuid" not in values


# -- the log -------------------------------------------------------------------------------------


def test_one_json_log_line_per_request_without_secrets(service, erp, customs):
    verified = service.post("/credentials/verify", {"verifiableCredential": issue(service, erp)}, customs)
    refused = service.post("/credentials/verify", {"verifiableCredential": {"id": "urn:uuid:x"}}, customs)
    anonymous = service.client.get("/healthz")
    unauthorized = service.client.get("/metrics", headers={"Authorization": f"Bearer {erp}x"})
    assert (verified.status_code, refused.status_code, unauthorized.status_code) == (200, 422, 401)
    text = service.log.read_text(encoding="utf-8")
    entries = {}
    for line in text.splitlines():
        if line.startswith("listening on "):  # the command's own message, before the log
            continue
        entry = json.loads(line)  # every other line is one JSON object
        assert {"time", "level", "logger", "message"} <= set(entry), entry
        if "request_id" in entry:
            entries[entry["request_id"]] = entry
    mine = {name: entries[answer.headers["x-request-id"]]
            for name, answer in [("verified", verified), ("refused", refused), ("anonymous", anonymous),
                                 ("unauthorized", unauthorized)]}
    assert mine["verified"]["client_id"] == "customs" and mine["verified"]["status"] == 200
    assert mine["verified"]["method"] == "POST" and mine["verified"]["route"] == "/credentials/verify"
    assert mine["refused"]["status"] == 422 and mine["refused"]["client_id"] == "customs"
    assert mine["anonymous"]["route"] == "/healthz" and "client_id" not in mine["anonymous"]
    assert mine["unauthorized"]["status"] == 401 and "client_id" not in mine["unauthorized"]
    for entry in mine.values():
        assert isinstance(entry["duration_ms"], (int, float)) and entry["duration_ms"] >= 0
        datetime.strptime(entry["time"], "%Y-%m-%dT%H:%M:%S.%fZ")
    # never a secret, a bearer token, or a document
    for secret in (ERP_SECRET, CUSTOMS_SECRET, quote_plus(CUSTOMS_SECRET), MONITOR_SECRET, PASS, erp, customs,
                   erp.split(".")[2], "urn:uuid:x", "Aceros del Norte"):
        assert secret not in text, secret
