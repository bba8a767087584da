"""Status lists in the pilots' pre-Recommendation forms, served over the local HTTPS server:
each is refused by a strict Verifier, and read by one with the compatibility profile, which
names the deviation in every report that used the list. The list's signature, its binding to
the credential's issuer and the status bits stay strict."""

from __future__ import annotations

import base64
import gzip
import json
from datetime import datetime, timezone

from click.testing import CliRunner

from conftest import load_vector
from tradevc.issuer import sign_credential
from support.https_server import body
from tradevc.vc.compat import Compatibility
from tradevc.vc.securing.jose import sign_credential_jwt
from tradevc.vc.keys import KeyPair
from tradevc.vc.securing.proofs.data_integrity import add_proof
from tradevc.vc.jsonld import default_loader
from tradevc.vc.status import BitstringStatusList
from tradevc.verifier import TrustPolicy, Verifier

NOW = datetime(2026, 6, 15, tzinfo=timezone.utc)
KEY = KeyPair.generate("Ed25519")
STRANGER = KeyPair.generate("Ed25519")
PILOTS = Compatibility.profile("pilots-2023")
V2 = "https://www.w3.org/ns/credentials/v2"


def bits(**set_bits: int) -> str:
    status = BitstringStatusList(131_072)
    for index, value in set_bits.items():
        status.set(int(index.lstrip("i")), value)
    return status.encode()


def list_document(url: str, encoded: str, *, list_id: str | None = None, issuer: str | None = None) -> dict:
    return {
        "@context": [V2], "id": list_id or url, "type": ["VerifiableCredential", "BitstringStatusListCredential"],
        "issuer": issuer or KEY.did, "validFrom": "2026-01-01T00:00:00Z", "validUntil": "2026-12-31T00:00:00Z",
        "credentialSubject": {"id": f"{url}#list", "type": "BitstringStatusList", "statusPurpose": "revocation",
                              "encodedList": encoded},
    }


def serve(server, path: str, data, content_type: str = "application/json") -> None:
    raw = data if isinstance(data, str) else json.dumps(data)
    server.special["/" + path] = body(raw.encode(), content_type=content_type)


def signed_list(url: str, encoded: str, **kw) -> dict:
    return sign_credential(list_document(url, encoded, **kw), KEY, created="2026-01-01T00:00:00Z")


def named_issuer_list(url: str, encoded: str, key: KeyPair = KEY, name: str = "Aceros del Norte") -> dict:
    """A Data Integrity list as the pilots' signers made it: the issuer a name, which JSON-LD
    processors of the time left out of the signed statements (a name is no IRI)."""
    document = list_document(url, encoded, issuer=key.did)
    del document["issuer"]
    signed = add_proof(document, key, cryptosuite="eddsa-rdfc-2022", verification_method=key.verification_method,
                       created="2026-01-01T00:00:00Z", loader=default_loader())
    return {**signed, "issuer": name}


def credential(url: str, index: int) -> dict:
    entry = {"id": f"{url}#{index}", "type": "BitstringStatusListEntry", "statusPurpose": "revocation",
             "statusListIndex": str(index), "statusListCredential": url}
    document = load_vector("di-eddsa/unsigned.json") | {"issuer": KEY.did, "credentialStatus": entry}
    return sign_credential(document, KEY, created="2026-01-01T00:00:00Z")


def verifier(server, compatibility=None) -> Verifier:
    return Verifier(policy=TrustPolicy({KEY.did: ["AlumniCredential"]}), session=server.session(),
                    compatibility=compatibility, allow_hosts=server.allow_hosts)


def compat_ids(result) -> list[str]:
    return sorted(w.split(":")[1] for w in result.warnings if w.startswith("compat:"))


def assert_refused_by_default(server, url: str, index: int = 6) -> None:
    result = verifier(server).verify_credential(credential(url, index), now=NOW)
    check = result.check("revocation")
    assert result.could_not_verify and check.code == "STATUS_VERIFICATION_ERROR", result.summary()
    assert compat_ids(result) == []


def assert_read_under(server, url: str, compatibility: Compatibility, deviation: str) -> None:
    """Index 5 is revoked and index 6 is not; both reports name ``deviation``, the second
    served from the cache."""
    desk = verifier(server, compatibility)
    revoked = desk.verify_credential(credential(url, 5), now=NOW)
    assert revoked.check("revocation").code == "REVOKED" and not revoked.verified, revoked.summary()
    assert compat_ids(revoked) == [deviation]
    good = desk.verify_credential(credential(url, 6), now=NOW)
    assert good.verified and compat_ids(good) == [deviation], good.summary()


# -- encodedList without the multibase prefix ----------------------------------------------------


def test_an_encoded_list_without_its_multibase_prefix(https_server):
    url = https_server.url("status/bare")
    serve(https_server, "status/bare", signed_list(url, bits(i5=1)[1:]))
    assert_refused_by_default(https_server, url)
    assert verifier(https_server, Compatibility.of("status-list-id-trailing-slash")).verify_credential(
        credential(url, 6), now=NOW).could_not_verify
    assert_read_under(https_server, url, Compatibility.of("encoded-list-prefix"), "encoded-list-prefix")


def test_the_gzip_bomb_limit_stays_without_the_prefix(https_server):
    bomb = base64.urlsafe_b64encode(gzip.compress(bytes(64 * 1024 * 1024), compresslevel=9)).decode().rstrip("=")
    url = https_server.url("status/bomb")
    serve(https_server, "status/bomb", signed_list(url, bomb))
    result = verifier(https_server, PILOTS).verify_credential(credential(url, 1), now=NOW)
    assert result.check("revocation").code == "STATUS_LIST_LENGTH_ERROR" and result.could_not_verify


# -- a list id one trailing slash apart from the entry's URL -------------------------------------


def test_a_list_id_with_a_trailing_slash(https_server):
    url = https_server.url("status/slash")
    serve(https_server, "status/slash", signed_list(url, bits(i5=1), list_id=url + "/"))
    assert_refused_by_default(https_server, url)
    assert_read_under(https_server, url, Compatibility.of("status-list-id-trailing-slash"),
                      "status-list-id-trailing-slash")


def test_an_entry_url_with_a_trailing_slash(https_server):
    url = https_server.url("status/slashed/")
    serve(https_server, "status/slashed/", signed_list(url, bits(i5=1), list_id=url[:-1]))
    assert_refused_by_default(https_server, url)
    assert_read_under(https_server, url, PILOTS, "status-list-id-trailing-slash")


def test_other_id_differences_stay_refused(https_server):
    for name, list_id in (("two", "{u}//"), ("other", "{u}x/"), ("prefix", "{u}/x")):
        url = https_server.url(f"status/{name}")
        serve(https_server, f"status/{name}", signed_list(url, bits(), list_id=list_id.format(u=url)))
        result = verifier(https_server, PILOTS).verify_credential(credential(url, 6), now=NOW)
        assert result.could_not_verify and "has id" in result.check("revocation").message, result.summary()


# -- a list whose issuer is a plain name ---------------------------------------------------------


def test_a_data_integrity_list_whose_issuer_is_a_name(https_server):
    url = https_server.url("status/named")
    serve(https_server, "status/named", named_issuer_list(url, bits(i5=1)))
    assert_refused_by_default(https_server, url)
    assert verifier(https_server, Compatibility.of("encoded-list-prefix")).verify_credential(
        credential(url, 6), now=NOW).could_not_verify
    assert_read_under(https_server, url, Compatibility.of("status-list-issuer-name"), "status-list-issuer-name")


def test_a_jcs_signed_list_whose_issuer_is_a_name(https_server):
    # eddsa-jcs-2022 signs the JSON itself: the name is covered by the signature
    url = https_server.url("status/named-jcs")
    document = list_document(url, bits(i5=1)) | {"issuer": "Aceros del Norte"}
    signed = add_proof(document, KEY, cryptosuite="eddsa-jcs-2022", verification_method=KEY.verification_method,
                       created="2026-01-01T00:00:00Z", loader=default_loader())
    serve(https_server, "status/named-jcs", signed)
    assert_refused_by_default(https_server, url)
    assert_read_under(https_server, url, PILOTS, "status-list-issuer-name")
    serve(https_server, "status/named-jcs", signed | {"issuer": "Someone Else"})
    result = verifier(https_server, PILOTS).verify_credential(credential(url, 6), now=NOW)
    assert result.could_not_verify and "does not verify" in result.check("revocation").message


def test_a_named_list_signed_by_another_did_stays_refused(https_server):
    url = https_server.url("status/stranger")
    serve(https_server, "status/stranger", named_issuer_list(url, bits(), key=STRANGER))
    result = verifier(https_server, PILOTS).verify_credential(credential(url, 6), now=NOW)
    check = result.check("revocation")
    assert result.could_not_verify and check.code == "STATUS_VERIFICATION_ERROR", result.summary()
    assert STRANGER.did in check.message


def test_a_named_list_with_altered_bits_stays_refused(https_server):
    url = https_server.url("status/altered")
    listed = named_issuer_list(url, bits(i5=1))
    listed["credentialSubject"]["encodedList"] = bits()  # the issuer's proof stays, the revocation is erased
    serve(https_server, "status/altered", listed)
    result = verifier(https_server, PILOTS).verify_credential(credential(url, 5), now=NOW)
    assert result.could_not_verify and "does not verify" in result.check("revocation").message


def test_a_vc_jwt_list_whose_issuer_is_a_name(https_server):
    url = https_server.url("status/named-jwt")
    document = list_document(url, bits(i5=1)) | {"issuer": "Aceros del Norte"}
    from tradevc.vc.multibase import base64url_encode

    token = sign_credential_jwt(list_document(url, bits(i5=1)), KEY)  # to borrow a correctly formed header
    header = token.split(".")[0]
    signing_input = f"{header}.{base64url_encode(json.dumps(document).encode())}"
    serve(https_server, "status/named-jwt", f"{signing_input}.{base64url_encode(KEY.sign(signing_input.encode()))}",
          "application/vc+jwt")
    assert_refused_by_default(https_server, url)
    assert_read_under(https_server, url, PILOTS, "status-list-issuer-name")


def test_a_vc_jwt_named_list_signed_by_another_did_stays_refused(https_server):
    from tradevc.vc.multibase import base64url_encode

    url = https_server.url("status/named-jwt-stranger")
    document = list_document(url, bits()) | {"issuer": "Aceros del Norte"}
    header = sign_credential_jwt(list_document(url, bits(), issuer=STRANGER.did), STRANGER).split(".")[0]
    signing_input = f"{header}.{base64url_encode(json.dumps(document).encode())}"
    serve(https_server, "status/named-jwt-stranger",
          f"{signing_input}.{base64url_encode(STRANGER.sign(signing_input.encode()))}", "application/vc+jwt")
    result = verifier(https_server, PILOTS).verify_credential(credential(url, 6), now=NOW)
    assert result.could_not_verify and result.check("revocation").code == "STATUS_VERIFICATION_ERROR"


def test_a_named_list_with_a_legacy_2018_proof(https_server):
    # a pilot list as a whole: Ed25519Signature2018, a name for the issuer, no multibase prefix
    from support.ed25519_2018 import sign_2018

    url = https_server.url("status/pilot")
    document = list_document(url, bits(i5=1)[1:]) | {
        "@context": [V2, "https://w3id.org/security/suites/ed25519-2018/v1"]}
    del document["issuer"]
    serve(https_server, "status/pilot", sign_2018(document, KEY) | {"issuer": "Aceros del Norte"})
    assert_refused_by_default(https_server, url)
    without_2018 = Compatibility.of("status-list-issuer-name", "encoded-list-prefix")
    assert verifier(https_server, without_2018).verify_credential(credential(url, 6), now=NOW).could_not_verify
    desk = verifier(https_server, PILOTS)
    result = desk.verify_credential(credential(url, 5), now=NOW)
    assert result.check("revocation").code == "REVOKED", result.summary()
    assert compat_ids(result) == ["ed25519-signature-2018", "encoded-list-prefix", "status-list-issuer-name"]
    assert desk.verify_credential(credential(url, 6), now=NOW).verified


def test_every_deviation_of_one_list_is_named(https_server):
    url = https_server.url("status/all")
    listed = named_issuer_list(url, bits(i5=1)[1:])
    serve(https_server, "status/all", listed)
    assert_refused_by_default(https_server, url)
    desk = verifier(https_server, PILOTS)
    result = desk.verify_credential(credential(url, 5), now=NOW)
    assert result.check("revocation").code == "REVOKED"
    assert compat_ids(result) == ["encoded-list-prefix", "status-list-issuer-name"]


# -- the command line ----------------------------------------------------------------------------


def test_vc_verify_compat(https_server, tmp_path):
    from tradevc.verifier.cli import cli

    url = https_server.url("status/cli")
    serve(https_server, "status/cli", signed_list(url, bits(i5=1)[1:]))
    path = tmp_path / "credential.json"
    path.write_text(json.dumps(credential(url, 6)))
    trust = tmp_path / "trust.json"
    trust.write_text(json.dumps({"trustedIssuers": {KEY.did: ["AlumniCredential"]}}))
    base = ["credential", str(path), "--trust", str(trust), "--ca-bundle", str(https_server.ca_path),
            "--allow-host", https_server.host]

    strict = CliRunner().invoke(cli, base)
    assert strict.exit_code == 3 and "compat:" not in strict.output, strict.output
    for names in (["--compat", "pilots-2023"], ["--compat", "encoded-list-prefix"]):
        r = CliRunner().invoke(cli, [*base, *names])
        assert r.exit_code == 0, r.output
        assert "WARNING: compat:encoded-list-prefix: status list" in r.output
    r = CliRunner().invoke(cli, [*base, "--compat", "pilots-2023", "--json"])
    assert r.exit_code == 0 and any(w.startswith("compat:encoded-list-prefix") for w in json.loads(r.output)["warnings"])
    bad = CliRunner().invoke(cli, [*base, "--compat", "pilots-2024"])
    assert bad.exit_code == 2 and "unknown compatibility profile or deviation 'pilots-2024'" in bad.output
    assert "Traceback" not in bad.output
