"""Status list edge cases, served over the local HTTPS server and checked by the Verifier:
a GZIP bomb, a list that is too short, an index out of range, StatusList2021, and
multi-bit 'message' entries."""

from __future__ import annotations

import base64
import gzip
import json
from datetime import datetime, timezone

from conftest import load_vector
from tradevc.issuer import sign_credential
from tradevc.vc.keys import KeyPair
from tradevc.vc.status import BitstringStatusList
from tradevc.verifier import TrustPolicy, Verifier

NOW = datetime(2026, 6, 15, tzinfo=timezone.utc)
KEY = KeyPair.generate("Ed25519")


def serve_list(server, name, subject, *, types=("VerifiableCredential", "BitstringStatusListCredential"),
               contexts=("https://www.w3.org/ns/credentials/v2",)):
    url = server.url(f"status/{name}")
    document = {
        "@context": list(contexts), "id": url, "type": list(types), "issuer": KEY.did,
        "validFrom": "2026-01-01T00:00:00Z", "validUntil": "2026-12-31T00:00:00Z",
        "credentialSubject": {"id": f"{url}#list"} | subject,
    }
    signed = sign_credential(document, KEY, created="2026-01-01T00:00:00Z")
    path = server.root / "status" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(signed))
    return url


def credential_with(entry, contexts=None):
    credential = load_vector("di-eddsa/unsigned.json") | {"issuer": KEY.did, "credentialStatus": entry}
    if contexts:
        credential["@context"] = credential["@context"] + contexts
    return sign_credential(credential, KEY, created="2026-01-01T00:00:00Z")


def entry(url, index, purpose="revocation", **extra):
    return {"id": f"{url}#{index}", "type": "BitstringStatusListEntry", "statusPurpose": purpose,
            "statusListIndex": str(index), "statusListCredential": url} | extra


def verify(server, document):
    return Verifier(policy=TrustPolicy({KEY.did: ["AlumniCredential"]}), session=server.session(),
                    allow_hosts=server.allow_hosts).verify_credential(document, now=NOW)


def bits(length=131_072, **set_bits):
    status = BitstringStatusList(length)
    for index, value in set_bits.items():
        status.set(int(index.lstrip("i")), value)
    return status.encode()


def test_revoked_bit_and_clear_bit(https_server):
    url = serve_list(https_server, "r", {"type": "BitstringStatusList", "statusPurpose": "revocation",
                                         "encodedList": bits(i5=1)})
    assert verify(https_server, credential_with(entry(url, 6))).verified
    assert verify(https_server, credential_with(entry(url, 5))).check("revocation").code == "REVOKED"


def test_gzip_bomb(https_server):
    bomb = gzip.compress(bytes(64 * 1024 * 1024), compresslevel=9)  # 64 MiB of zeros, ~64 KB compressed
    encoded = "u" + base64.urlsafe_b64encode(bomb).decode().rstrip("=")
    url = serve_list(https_server, "bomb", {"type": "BitstringStatusList", "statusPurpose": "revocation",
                                            "encodedList": encoded})
    result = verify(https_server, credential_with(entry(url, 1)))
    assert result.check("revocation").code == "STATUS_LIST_LENGTH_ERROR"
    assert result.could_not_verify


def test_list_too_short(https_server):
    short = "u" + base64.urlsafe_b64encode(gzip.compress(bytes(1024))).decode().rstrip("=")
    url = serve_list(https_server, "short", {"type": "BitstringStatusList", "statusPurpose": "revocation",
                                             "encodedList": short})
    assert verify(https_server, credential_with(entry(url, 1))).check("revocation").code == "STATUS_LIST_LENGTH_ERROR"


def test_index_out_of_range(https_server):
    url = serve_list(https_server, "r", {"type": "BitstringStatusList", "statusPurpose": "revocation",
                                         "encodedList": bits()})
    result = verify(https_server, credential_with(entry(url, 131_072)))
    assert result.check("revocation").code == "RANGE_ERROR"
    assert result.verified is False and not result.could_not_verify


def test_purpose_mismatch(https_server):
    url = serve_list(https_server, "s", {"type": "BitstringStatusList", "statusPurpose": "suspension",
                                         "encodedList": bits()})
    check = verify(https_server, credential_with(entry(url, 3))).check("revocation")
    assert check.code == "STATUS_VERIFICATION_ERROR" and "statusPurpose" in check.message


def test_tampered_list_is_refused(https_server):
    url = serve_list(https_server, "r", {"type": "BitstringStatusList", "statusPurpose": "revocation",
                                         "encodedList": bits(i5=1)})
    path = https_server.root / "status" / "r"
    document = json.loads(path.read_text())
    document["credentialSubject"]["encodedList"] = bits()  # the issuer's revocation, erased
    path.write_text(json.dumps(document))
    check = verify(https_server, credential_with(entry(url, 5))).check("revocation")
    assert check.code == "STATUS_VERIFICATION_ERROR"


def test_message_entries(https_server):
    status = BitstringStatusList(131_072, status_size=2)
    status.set(9, 2)
    # statusSize and statusMessage belong to the credential's entry, not to the list
    url = serve_list(https_server, "m", {"type": "BitstringStatusList", "statusPurpose": "message",
                                         "encodedList": status.encode()})
    messages = [{"status": "0x0", "message": "pending"}, {"status": "0x1", "message": "accepted"},
                {"status": "0x2", "message": "held for inspection"}, {"status": "0x3", "message": "refused"}]
    result = verify(https_server, credential_with(entry(url, 9, "message", statusSize=2, statusMessage=messages)))
    check = result.check("status")
    assert check.outcome.value == "passed" and "held for inspection" in check.message


def test_a_multi_bit_entry_needs_one_status_message_per_value(https_server):
    # Bitstring Status List v1.0: statusMessage MUST be present if statusSize is greater than 1,
    # and has 2^statusSize elements (each with status and message). Before: all of these passed.
    status = BitstringStatusList(131_072, status_size=2)
    status.set(9, 2)
    url = serve_list(https_server, "m-rule", {"type": "BitstringStatusList", "statusPurpose": "message",
                                              "encodedList": status.encode()})
    four = [{"status": hex(v), "message": f"code {v}"} for v in range(4)]
    refused = {
        "missing": ({"statusSize": 2}, "needs a statusMessage"),
        "too few": ({"statusSize": 2, "statusMessage": four[:3]}, "3 element(s), but statusSize 2 has 4"),
        "too many": ({"statusSize": 2, "statusMessage": four + four[:1]}, "5 element(s)"),
        "one bit, four messages": ({"statusSize": 1, "statusMessage": four}, "statusSize 1 has 2"),
        "no size, four messages": ({"statusMessage": four}, "statusSize 1 has 2"),
        "element without message": ({"statusSize": 2, "statusMessage": four[:3] + [{"status": "0x3"}]},
                                    "string status and message"),
        # the largest size I-JSON allows (a bigger integer is refused before signing): 2**size never computed
        "huge size": ({"statusSize": 2**53 - 1, "statusMessage": four}, f"has 2^{2**53 - 1}"),
    }
    for name, (extra, fragment) in refused.items():
        result = verify(https_server, credential_with(entry(url, 9, "message", **extra)))
        check = result.check("status")
        assert check.outcome.value == "failed" and check.code == "STATUS_VERIFICATION_ERROR", (name, result.summary())
        assert fragment in check.message, (name, check.message)
        assert result.verified is False
    # the negative tests: a conforming entry passes and reads its message; one bit needs no
    # statusMessage, and may have one of two elements
    result = verify(https_server, credential_with(entry(url, 9, "message", statusSize=2, statusMessage=four)))
    assert result.verified and result.check("status").message.startswith("message status 0x2: code 2"), result.summary()
    one_bit = serve_list(https_server, "m-one", {"type": "BitstringStatusList", "statusPurpose": "message",
                                                 "encodedList": bits(i9=1)})
    for extra in ({}, {"statusSize": 1}, {"statusSize": 1, "statusMessage": four[:2]}):
        result = verify(https_server, credential_with(entry(one_bit, 9, "message", **extra)))
        assert result.verified and result.check("status").message.startswith("message status 0x1"), result.summary()


def test_status_list_2021(https_server):
    # an older, VC 1.1 credential and list
    v1, sl2021, di = ("https://www.w3.org/2018/credentials/v1", "https://w3id.org/vc/status-list/2021/v1",
                      "https://w3id.org/security/data-integrity/v2")
    url = https_server.url("status/2021")
    document = {
        "@context": [v1, sl2021, di], "id": url, "type": ["VerifiableCredential", "StatusList2021Credential"],
        "issuer": KEY.did, "issuanceDate": "2026-01-01T00:00:00Z",
        "credentialSubject": {"id": f"{url}#list", "type": "StatusList2021", "statusPurpose": "revocation",
                              "encodedList": bits(i7=1)[1:]},  # StatusList2021 has no multibase prefix
    }
    path = https_server.root / "status" / "2021"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(sign_credential(document, KEY, created="2026-01-01T00:00:00Z")))

    def old_credential(index):
        credential = {
            "@context": [v1, sl2021, di], "type": ["VerifiableCredential"], "issuer": KEY.did,
            "issuanceDate": "2026-01-01T00:00:00Z", "credentialSubject": {"id": "did:example:importer"},
            "credentialStatus": {"id": f"{url}#{index}", "type": "StatusList2021Entry", "statusPurpose": "revocation",
                                 "statusListIndex": str(index), "statusListCredential": url},
        }
        return sign_credential(credential, KEY, created="2026-01-01T00:00:00Z")

    verifier = Verifier(policy=TrustPolicy.unsafe_any_issuer(), session=https_server.session(),
                        allow_hosts=https_server.allow_hosts)
    result = verifier.verify_credential(old_credential(7), now=NOW)
    assert result.check("revocation").code == "REVOKED", result.summary()
    assert verifier.verify_credential(old_credential(8), now=NOW).verified


# -- status lists secured as vc+jwt ------------------------------------------------------------------


def serve_jwt_list(server, name, encoded, *, key=KEY, content_type="application/vc+jwt", change=None):
    """A BitstringStatusListCredential secured as a vc+jwt, served with ``content_type``."""
    from support.https_server import body
    from tradevc.vc.securing.jose import sign_credential_jwt

    url = server.url(f"status/{name}")
    document = {
        "@context": ["https://www.w3.org/ns/credentials/v2"], "id": url,
        "type": ["VerifiableCredential", "BitstringStatusListCredential"], "issuer": key.did,
        "validFrom": "2026-01-01T00:00:00Z", "validUntil": "2026-12-31T00:00:00Z",
        "credentialSubject": {"id": f"{url}#list", "type": "BitstringStatusList", "statusPurpose": "revocation",
                              "encodedList": encoded},
    }
    token = sign_credential_jwt(document, key)
    if change is not None:
        token = change(token)
    server.special[f"/status/{name}"] = body(token.encode(), content_type=content_type)
    return url


def test_a_status_list_secured_as_vc_jwt(https_server):
    url = serve_jwt_list(https_server, "jwt", bits(i5=1))
    assert verify(https_server, credential_with(entry(url, 6))).verified
    result = verify(https_server, credential_with(entry(url, 5)))
    assert result.check("revocation").code == "REVOKED", result.summary()


def test_a_vc_jwt_status_list_is_recognised_by_its_form(https_server):
    url = serve_jwt_list(https_server, "octets", bits(i2=1), content_type="application/octet-stream")
    assert verify(https_server, credential_with(entry(url, 2))).check("revocation").code == "REVOKED"


def test_a_vc_jwt_status_list_signed_by_someone_else_is_refused(https_server):
    url = serve_jwt_list(https_server, "other", bits(), key=KeyPair.generate("Ed25519"))
    result = verify(https_server, credential_with(entry(url, 5)))
    check = result.check("revocation")
    assert check.code == "STATUS_VERIFICATION_ERROR" and result.could_not_verify, result.summary()


def test_a_tampered_vc_jwt_status_list_is_refused(https_server):
    from tradevc.vc.multibase import base64url_decode, base64url_encode

    def erase_revocations(token):  # the issuer's signature stays, the list is replaced
        header, payload, signature = token.split(".")
        claims = json.loads(base64url_decode(payload))
        claims["credentialSubject"]["encodedList"] = bits()
        return f"{header}.{base64url_encode(json.dumps(claims).encode())}.{signature}"

    url = serve_jwt_list(https_server, "tampered", bits(i5=1), change=erase_revocations)
    result = verify(https_server, credential_with(entry(url, 5)))
    assert result.check("revocation").code == "STATUS_VERIFICATION_ERROR" and result.could_not_verify
    assert "does not verify" in result.check("revocation").message


def test_a_jws_that_is_not_a_credential_is_refused(https_server):
    from support.https_server import body
    from tradevc.vc.securing.jose import sign_presentation_jwt

    token = sign_presentation_jwt([], KEY, challenge="c", domain="d")
    https_server.special["/status/vp"] = body(token.encode(), content_type="application/vc+jwt")
    result = verify(https_server, credential_with(entry(https_server.url("status/vp"), 5)))
    check = result.check("revocation")
    assert check.code == "STATUS_VERIFICATION_ERROR" and "not a credential" in check.message, result.summary()


def test_a_body_that_is_neither_json_nor_a_jws_cannot_be_read(https_server):
    from support.https_server import body

    https_server.special["/status/junk"] = body(b"not.a.token!", content_type="application/vc+jwt")
    result = verify(https_server, credential_with(entry(https_server.url("status/junk"), 5)))
    check = result.check("revocation")
    assert check.code == "STATUS_RETRIEVAL_ERROR" and "did not return JSON" in check.message


def test_a_list_with_a_ttl_beyond_the_calendar_is_read_not_raised(https_server):
    # ttl is the list issuer's number: one too large for now + it must not raise out of the
    # verification (whoever signed the credential chose the list)
    for name, ttl in (("ttl-max", 2**53 - 1), ("ttl-date", 3 * 10**14)):
        url = serve_list(https_server, name, {"type": "BitstringStatusList", "statusPurpose": "revocation",
                                              "encodedList": bits(i5=1), "ttl": ttl})
        desk = Verifier(policy=TrustPolicy({KEY.did: ["AlumniCredential"]}), session=https_server.session(),
                        allow_hosts=https_server.allow_hosts)
        assert desk.verify_credential(credential_with(entry(url, 6)), now=NOW).verified
        revoked = desk.verify_credential(credential_with(entry(url, 5)), now=NOW)  # from the cache
        assert revoked.check("revocation").code == "REVOKED", revoked.summary()
    # beyond 2**53-1 (too large for a timedelta, once) it is not I-JSON (issue 15): the list is
    # not read, and the status could not be checked
    for name, ttl in (("ttl-int", 10**30), ("ttl-days", 10**17)):
        url = serve_list(https_server, name, {"type": "BitstringStatusList", "statusPurpose": "revocation",
                                              "encodedList": bits(i5=1), "ttl": 1})
        served = https_server.root / "status" / name  # the signers refuse such a number: written here
        served.write_text(served.read_text().replace('"ttl": 1', f'"ttl": {ttl}'))
        desk = Verifier(policy=TrustPolicy({KEY.did: ["AlumniCredential"]}), session=https_server.session(),
                        allow_hosts=https_server.allow_hosts)
        result = desk.verify_credential(credential_with(entry(url, 6)), now=NOW)
        check = result.check("revocation")
        assert check.code == "STATUS_RETRIEVAL_ERROR" and "2**53" in check.message, result.summary()


def test_a_status_message_that_is_no_list_is_refused_not_raised(https_server):
    status = BitstringStatusList(131_072, status_size=2)
    status.set(9, 2)
    url = serve_list(https_server, "m-odd", {"type": "BitstringStatusList", "statusPurpose": "message",
                                             "encodedList": status.encode()})
    for odd in (5, True, 2.5, None, "0x0"):
        result = verify(https_server, credential_with(entry(url, 9, "message", statusSize=2, statusMessage=odd)))
        check = result.check("status")
        assert check.outcome.value == "failed" and check.code == "STATUS_VERIFICATION_ERROR", result.summary()
        assert "statusMessage must be an array" in check.message


def test_a_revoked_credential_does_not_hide_its_status_behind_an_iri(https_server):
    # the RDFC signature covers the statement, not the member name "credentialStatus"
    url = serve_list(https_server, "iri", {"type": "BitstringStatusList", "statusPurpose": "revocation",
                                           "encodedList": bits(i5=1)})
    revoked = credential_with(entry(url, 5))
    assert verify(https_server, revoked).check("revocation").code == "REVOKED"
    hidden = {("https://www.w3.org/2018/credentials#credentialStatus" if k == "credentialStatus" else k): v
              for k, v in revoked.items()}
    result = verify(https_server, hidden)
    assert not result.verified and result.check("data_loss").code == "DATA_LOSS_DETECTION_ERROR", result.summary()


def test_an_entry_type_given_as_a_list_is_not_read_but_not_raised(https_server):
    # ["BitstringStatusListEntry"] is the same RDF as the string: anyone may rewrite it under an
    # RDFC proof; the verification must report it, not raise
    url = serve_list(https_server, "typed", {"type": "BitstringStatusList", "statusPurpose": "revocation",
                                             "encodedList": bits(i5=1)})
    revoked = credential_with(entry(url, 5))
    revoked["credentialStatus"]["type"] = ["BitstringStatusListEntry"]
    result = verify(https_server, revoked)
    assert not result.verified and result.check("revocation").code == "UNSUPPORTED_ERROR", result.summary()


def test_a_revoked_credential_does_not_hide_its_status_in_an_included_node(https_server):
    # an @included node with the credential's id and type makes the very same statements
    url = serve_list(https_server, "included", {"type": "BitstringStatusList", "statusPurpose": "revocation",
                                                "encodedList": bits(i5=1)})
    revoked = credential_with(entry(url, 5))
    hidden = {k: v for k, v in revoked.items() if k != "credentialStatus"} | {
        "@included": [{"id": revoked["id"], "type": "VerifiableCredential",
                       "credentialStatus": revoked["credentialStatus"]}]}
    result = verify(https_server, hidden)
    assert not result.verified and result.check("data_loss").code == "DATA_LOSS_DETECTION_ERROR", result.summary()


def test_a_status_list_url_urlsplit_refuses_is_could_not_verify(https_server):
    """urlsplit raises ValueError for a bracketed host that is not an IPv6 address: the
    fetcher let it out, a traceback from verify_credential online and offline."""
    document = credential_with(entry("https://[mill.example/status/1", 6))
    for network in (True, False):
        verifier = Verifier(policy=TrustPolicy({KEY.did: ["AlumniCredential"]}), session=https_server.session(),
                            network=network)
        result = verifier.verify_credential(document, now=NOW)
        assert result.could_not_verify and result.check("revocation").code == "STATUS_RETRIEVAL_ERROR", result.summary()
    assert https_server.requested == []


def test_a_cached_list_is_not_used_for_another_issuers_credential(https_server):
    """Issuer B's credential points at issuer A's list. Fetched fresh, the list is refused
    (verified as A's, not B's); once A's credential has put the list in the verifier's cache,
    it must be refused all the same, not read for B (whose entry is clear there)."""
    other = KeyPair.generate("Ed25519")
    url = serve_list(https_server, "a", {"type": "BitstringStatusList", "statusPurpose": "revocation",
                                         "encodedList": bits()})
    verifier = Verifier(policy=TrustPolicy({KEY.did: ["AlumniCredential"], other.did: ["AlumniCredential"]}),
                        session=https_server.session(), allow_hosts=https_server.allow_hosts)
    theirs = load_vector("di-eddsa/unsigned.json") | {"issuer": other.did, "credentialStatus": entry(url, 5)}
    theirs = sign_credential(theirs, other, created="2026-01-01T00:00:00Z")

    fresh = Verifier(policy=verifier.policy, session=https_server.session(),
                     allow_hosts=https_server.allow_hosts).verify_credential(theirs, now=NOW)
    assert fresh.check("revocation").code == "STATUS_VERIFICATION_ERROR" and not fresh.verified

    assert verifier.verify_credential(credential_with(entry(url, 5)), now=NOW).verified  # A's own: cached now
    fetches = https_server.requested.count("/status/a")
    result = verifier.verify_credential(theirs, now=NOW)
    assert https_server.requested.count("/status/a") == fetches  # read from the cache
    check = result.check("revocation")
    assert check.code == "STATUS_VERIFICATION_ERROR", result.summary()
    assert f"issued by {KEY.did}, not by the credential's issuer {other.did}" in check.message
    assert not result.verified


def test_a_cached_list_is_fetched_again_when_the_generation_moves(https_server):
    """A service whose lists another of its processes may change tells the status checker so
    (``generation``): a list cached under another generation is not used; one that does not
    move keeps the cache."""
    url = serve_list(https_server, "gen", {"type": "BitstringStatusList", "statusPurpose": "revocation",
                                           "encodedList": bits()})
    verifier = Verifier(policy=TrustPolicy({KEY.did: ["AlumniCredential"]}), session=https_server.session(),
                        allow_hosts=https_server.allow_hosts)
    generation = [0]
    assert verifier.status_checker is not None
    verifier.status_checker.generation = lambda: generation[0]
    credential = credential_with(entry(url, 7))
    assert verifier.verify_credential(credential, now=NOW).verified
    fetches = https_server.requested.count("/status/gen")
    assert verifier.verify_credential(credential, now=NOW).verified
    assert https_server.requested.count("/status/gen") == fetches  # the same generation: cached
    serve_list(https_server, "gen", {"type": "BitstringStatusList", "statusPurpose": "revocation",
                                     "encodedList": bits(i7=1)})
    assert verifier.verify_credential(credential, now=NOW).verified  # (still the cached list)
    generation[0] += 1
    revoked = verifier.verify_credential(credential, now=NOW)
    assert revoked.check("revocation").code == "REVOKED" and not revoked.verified
    assert https_server.requested.count("/status/gen") == fetches + 1
