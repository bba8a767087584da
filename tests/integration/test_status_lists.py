"""Status list edge cases, served over the local HTTPS server and checked by the Verifier:
a GZIP bomb, a list that is too short, an index out of range, StatusList2021, and
multi-bit 'message' entries."""

from __future__ import annotations

import base64
import gzip
import json
from datetime import datetime, timezone

from conftest import load_vector
from issuer import sign_credential
from vc.keys import KeyPair
from vc.status import BitstringStatusList
from verifier import TrustPolicy, Verifier

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
    return Verifier(policy=TrustPolicy({KEY.did: ["AlumniCredential"]}), session=server.session()).verify_credential(
        document, now=NOW)


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
                {"status": "0x2", "message": "held for inspection"}]
    result = verify(https_server, credential_with(entry(url, 9, "message", statusSize=2, statusMessage=messages)))
    check = result.check("status")
    assert check.outcome.value == "passed" and "held for inspection" in check.message


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

    verifier = Verifier(policy=TrustPolicy.unsafe_any_issuer(), session=https_server.session())
    result = verifier.verify_credential(old_credential(7), now=NOW)
    assert result.check("revocation").code == "REVOKED", result.summary()
    assert verifier.verify_credential(old_credential(8), now=NOW).verified
