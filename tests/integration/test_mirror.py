"""Serving another party's did:web documents and status lists from a mirror (the local HTTPS
server) or a snapshot directory: where the bytes come from changes, what is accepted does not."""

from __future__ import annotations

import gzip
import json
import os
import time
from datetime import datetime, timedelta, timezone

import pytest
import requests

from tradevc.issuer import Issuer
from tradevc.issuer.credential_types import load_example
from support.dids import did_document
from support.https_server import body, redirect_to, slow
from tradevc.vc.retrieval.did.resolver import DidResolvers, retrieve_verification_method
from tradevc.vc.retrieval.did.web import DidWebResolver
from tradevc.vc.errors import ResolutionError
from tradevc.vc.retrieval.http import HttpsFetcher, RetrievalError
from tradevc.vc.keys import KeyPair
from tradevc.vc.retrieval.mirror import Mirror
from tradevc.verifier import TrustPolicy, Verifier

PASS = b"issuer passphrase"
VALID_FROM = datetime.now(timezone.utc).replace(microsecond=0) - timedelta(days=1)
MILL = "did:web:mill.example"


def put(directory, relative, document):
    path = directory / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(document) if not isinstance(document, str) else document)
    return path


def resolver(server, mirror, **kw):
    return DidWebResolver(HttpsFetcher(server.session(), mirror=mirror, **kw))


# -- did:web documents from an HTTPS mirror --------------------------------------------------------


def test_a_did_web_document_is_read_from_the_mirror(https_server):
    key = KeyPair.generate("Ed25519")
    put(https_server.site("mill.example"), ".well-known/did.json", did_document(MILL, key))
    web = resolver(https_server, https_server.mirror("mill.example"))
    assert web.resolve(MILL)["id"] == MILL
    assert https_server.requested == ["/mill.example/.well-known/did.json"]
    assert str(web.origin(MILL)) == f"mirror {https_server.url('mill.example/.well-known/did.json')}"
    method = retrieve_verification_method(f"{MILL}#key-1", DidResolvers({"web": web}))
    assert method.key.public_key_multibase == key.public_key_multibase


def test_a_path_did_is_read_from_the_mirror_under_its_path(https_server):
    did = "did:web:trade.example:issuers:mill"
    put(https_server.site("trade.example"), "issuers/mill/did.json", did_document(did, KeyPair.generate("Ed25519")))
    assert resolver(https_server, https_server.mirror("trade.example")).resolve(did)["id"] == did
    assert https_server.requested == ["/trade.example/issuers/mill/did.json"]


def test_a_host_not_in_the_map_is_fetched_from_itself(https_server):
    did = f"did:web:{https_server.did_host}"
    put(https_server.root, ".well-known/did.json", did_document(did, KeyPair.generate("Ed25519")))
    web = resolver(https_server, https_server.mirror("mill.example"), allow_hosts=https_server.allow_hosts)
    assert web.resolve(did)["id"] == did
    assert https_server.requested == ["/.well-known/did.json"]
    assert web.origin(did) is None


def test_the_mirror_cannot_change_whose_document_it_is(https_server):
    evil = "did:web:evil.example"
    put(https_server.site("mill.example"), ".well-known/did.json", did_document(evil, KeyPair.generate("Ed25519")))
    with pytest.raises(ResolutionError, match="evil.example") as info:
        resolver(https_server, https_server.mirror("mill.example")).resolve(MILL)
    assert info.value.code == "INVALID_CONTROLLED_IDENTIFIER_DOCUMENT_ID"
    assert "from mirror https://localhost:" in info.value.message


def test_the_mirror_cannot_redirect(https_server):
    https_server.special["/mill.example/.well-known/did.json"] = redirect_to(https_server.url("elsewhere/did.json"))
    with pytest.raises(RetrievalError, match="redirects are not followed") as info:
        resolver(https_server, https_server.mirror("mill.example")).resolve(MILL)
    assert "from mirror" in info.value.message
    assert https_server.requested == ["/mill.example/.well-known/did.json"]


def test_size_and_time_limits_apply_to_the_mirror(https_server):
    mirror = https_server.mirror("mill.example")
    https_server.special["/mill.example/.well-known/did.json"] = body(b" " * 2_000_000, declare_length=False)
    with pytest.raises(RetrievalError, match="limit"):
        resolver(https_server, mirror).resolve(MILL)
    https_server.special["/mill.example/.well-known/did.json"] = slow(1.5)
    with pytest.raises(RetrievalError, match="did not answer"):
        resolver(https_server, mirror, timeout=0.5).resolve(MILL)


def _answer(headers, *pieces, pause=0.0):
    def handler(request):
        request.send_response(200)
        for name, value in headers.items():
            request.send_header(name, value)
        request.end_headers()
        try:
            for piece in pieces:
                request.wfile.write(piece)
                request.wfile.flush()
                time.sleep(pause)
        except OSError:
            pass

    return handler


def test_a_compressed_body_counts_as_sent(https_server):
    """A gzip stream of empty members decodes to nothing, so the size limit never counted it:
    endless, it kept the fetch reading for ever. Identity is asked for, and only it taken."""
    empty = gzip.compress(b"")
    https_server.special["/mill.example/.well-known/did.json"] = _answer(
        {"Content-Encoding": "gzip"}, empty * (2_000_000 // len(empty)) + gzip.compress(b"{}"))
    with pytest.raises(RetrievalError, match="Content-Encoding 'gzip'"):
        resolver(https_server, https_server.mirror("mill.example")).fetcher.get_json(
            "https://mill.example/.well-known/did.json", what="DID document")


def test_the_time_limit_bounds_the_whole_body(https_server):
    """Each byte within the read timeout, but the body as a whole later than the time limit."""
    https_server.special["/mill.example/.well-known/did.json"] = _answer(
        {"Content-Length": "20"}, *(bytes([c]) for c in b"{" + b" " * 18 + b"}"), pause=0.1)
    fetcher = resolver(https_server, https_server.mirror("mill.example"), timeout=0.5).fetcher
    started = time.monotonic()
    with pytest.raises(RetrievalError, match="did not answer within 0.5 s"):
        fetcher.get_json("https://mill.example/.well-known/did.json", what="DID document")
    assert time.monotonic() - started < 1.5


def test_a_body_cut_short_is_a_retrieval_error(https_server):
    https_server.special["/mill.example/.well-known/did.json"] = _answer({"Content-Length": "100"}, b"{}")
    fetcher = resolver(https_server, https_server.mirror("mill.example")).fetcher
    with pytest.raises(RetrievalError, match="cannot fetch"):
        fetcher.get_json("https://mill.example/.well-known/did.json", what="DID document")


def test_a_content_length_of_non_ascii_digits_is_not_a_traceback(https_server):
    """str.isdigit() is true of a superscript two (byte 0xB2 in a header), which int() refuses."""
    https_server.special["/mill.example/.well-known/did.json"] = _answer({"Content-Length": "\u00b2"}, b"{}")
    fetcher = resolver(https_server, https_server.mirror("mill.example")).fetcher
    try:
        fetcher.get_json("https://mill.example/.well-known/did.json", what="DID document")
    except RetrievalError:
        pass


def test_the_mirror_is_trusted_through_the_session_only(https_server):
    put(https_server.site("mill.example"), ".well-known/did.json", did_document(MILL, KeyPair.generate("Ed25519")))
    session = requests.Session()
    session.trust_env = False  # the system's CAs: they do not know the throwaway CA
    web = DidWebResolver(HttpsFetcher(session, mirror=https_server.mirror("mill.example")))
    with pytest.raises(RetrievalError, match="TLS certificate check failed"):
        web.resolve(MILL)


def test_a_path_cannot_climb_out_of_the_mirror_prefix(https_server):
    put(https_server.site("producer.example"), "status/1", {"producer": True})
    fetcher = HttpsFetcher(https_server.session(), mirror=https_server.mirror("mill.example", "producer.example"))
    for url in ("https://mill.example/../producer.example/status/1", "https://mill.example/%2e%2e/producer.example/status/1",
                "https://mill.example/x/%2E%2E/..%2Fproducer.example%2Fstatus%2F1"):
        with pytest.raises(RetrievalError, match="cannot be mapped"):
            fetcher.get_json(url, what="status list")
    assert https_server.requested == []
    assert fetcher.get_json("https://producer.example/status/1", what="status list") == {"producer": True}


def test_a_mirror_must_be_https():
    for url in ("http://127.0.0.1:8080/mill/", "file:///srv/mill/", "127.0.0.1/mill", "https://127.0.0.1/?x=1", 7):
        with pytest.raises(ValueError, match="mirror"):
            Mirror({"mill.example": url})
    for host in ("mill.example/", "", "-bad.example", "mill.example:0", "mill.example:99999", "a b"):
        with pytest.raises(ValueError):
            Mirror({host: "https://127.0.0.1/"})


# -- the Verifier, end to end -------------------------------------------------------------------


@pytest.fixture
def mill(tmp_path):
    issuer = Issuer.init(tmp_path / "mill-home", PASS, name="Aceros del Norte", did_web_domain="mill.example",
                         status_base_url="https://mill.example/status/")
    yield issuer
    issuer.close()


def certificate(issuer):
    return issuer.issue(
        load_example("USMCACertificationOfOrigin"), type_name="USMCACertificationOfOrigin",
        valid_from=VALID_FROM.strftime("%Y-%m-%dT%H:%M:%SZ"),
        valid_until=(VALID_FROM + timedelta(days=300)).strftime("%Y-%m-%dT%H:%M:%SZ"),
    )


def customs(mill, **kw):
    return Verifier(policy=TrustPolicy({mill.did: ["USMCACertificationOfOrigin"]}), **kw)


def test_the_verifier_reads_did_documents_and_status_lists_from_the_mirror(mill, https_server):
    assert mill.did == MILL
    signed = certificate(mill)
    mill.publish(https_server.site("mill.example"))
    verifier = customs(mill, session=https_server.session(), mirror=https_server.mirror("mill.example"))
    result = verifier.verify_credential(signed)
    assert result.verified, result.summary()
    base = https_server.url("mill.example/")
    proof = result.check("proof")
    assert f"{MILL} resolved from mirror {base}.well-known/did.json" in proof.message
    assert proof.data == {"didDocumentFrom": f"mirror {base}.well-known/did.json"}
    revocation = result.check("revocation")
    assert f"read from mirror {base}status/" in revocation.message
    assert revocation.data["statusListFrom"].startswith(f"mirror {base}status/")
    assert "/mill.example/.well-known/did.json" in https_server.requested

    mill.revoke(signed["id"])
    mill.publish(https_server.site("mill.example"))
    revoked = customs(mill, session=https_server.session(), mirror=https_server.mirror("mill.example"))
    result = revoked.verify_credential(signed)
    assert result.check("revocation").code == "REVOKED" and not result.verified
    assert "read from mirror" in result.check("revocation").message


def test_without_the_mirror_the_same_credential_cannot_be_checked(mill, https_server):
    signed = certificate(mill)
    mill.publish(https_server.site("mill.example"))
    result = customs(mill, session=https_server.session()).verify_credential(signed)
    assert not result.verified and result.could_not_verify  # mill.example is not on the network of the tests
    assert https_server.requested == []


def test_an_unmapped_issuer_is_verified_and_reported_as_before(https_server, tmp_path):
    with Issuer.init(tmp_path / "local", PASS, name="Local", did_web_domain=https_server.host,
                     status_base_url=https_server.url("status/")) as local:
        signed = certificate(local)
        local.publish(https_server.root)
        verifier = customs(local, session=https_server.session(), mirror=https_server.mirror("mill.example"),
                           allow_hosts=https_server.allow_hosts)
        result = verifier.verify_credential(signed)
    assert result.verified, result.summary()
    assert all("from mirror" not in c.message and "From" not in "".join(c.data) for c in result.checks)
    assert "/.well-known/did.json" in https_server.requested


def test_a_mirrored_status_list_signed_by_another_issuer_is_refused(mill, https_server, tmp_path):
    signed = certificate(mill)
    mill.publish(https_server.site("mill.example"))
    with Issuer.init(tmp_path / "other", PASS, name="Other", did_web_domain="mill.example",
                     status_base_url="https://mill.example/status/") as impostor:
        certificate(impostor)
        # the impostor's lists replace the mill's on the mirror; the DID document stays the mill's
        for url, credential in impostor.status_list_credentials():
            put(https_server.site("mill.example"), url.split("mill.example/", 1)[1], credential)
    verifier = customs(mill, session=https_server.session(), mirror=https_server.mirror("mill.example"))
    result = verifier.verify_credential(signed)
    assert not result.verified
    assert result.check("revocation").code == "STATUS_VERIFICATION_ERROR"
    assert result.check("revocation").outcome.value == "error"


# -- snapshot directories ----------------------------------------------------------------------


def test_the_verifier_reads_a_snapshot_with_no_network(mill, https_server, tmp_path):
    signed = certificate(mill)
    snapshot = tmp_path / "snapshot"
    mill.publish(snapshot / "mill.example")
    verifier = customs(mill, session=https_server.session(), mirror=Mirror(snapshots=[snapshot]))
    result = verifier.verify_credential(signed)
    assert result.verified, result.summary()
    assert https_server.requested == []
    document = snapshot.resolve() / "mill.example" / ".well-known" / "did.json"
    assert f"{MILL} resolved from snapshot {document}" in result.check("proof").message
    assert f"read from snapshot {snapshot.resolve() / 'mill.example' / 'status'}" in result.check("revocation").message

    mill.revoke(signed["id"])
    mill.publish(snapshot / "mill.example")
    again = customs(mill, session=https_server.session(), mirror=Mirror(snapshots=[snapshot]))
    assert again.verify_credential(signed).check("revocation").code == "REVOKED"


def fetcher_for(snapshot, **kw):
    return HttpsFetcher(requests.Session(), mirror=Mirror(snapshots=[snapshot]), **kw)


def test_a_did_path_cannot_leave_the_snapshot(tmp_path):
    snapshot = tmp_path / "snapshot"
    (snapshot / "mill.example").mkdir(parents=True)
    secret = did_document("did:web:mill.example:x", KeyPair.generate("Ed25519"))
    put(tmp_path, "did.json", secret)  # snapshot/mill.example/../../did.json
    put(snapshot, "did.json", secret)  # snapshot/mill.example/../did.json
    web = DidWebResolver(fetcher_for(snapshot))
    for did in ("did:web:mill.example:..", "did:web:mill.example:..:..", "did:web:mill.example:%2e%2e",
                "did:web:mill.example:%2E%2E:%2e%2e", "did:web:mill.example:.", "did:web:mill.example:..%2f..",
                "did:web:mill.example:%2e%2e%2f%2e%2e"):
        with pytest.raises(ResolutionError) as info:
            web.resolve(did)
        assert "not allowed" in info.value.message or "cannot be mapped" in info.value.message, did


def test_a_status_list_url_cannot_leave_the_snapshot(tmp_path):
    snapshot = tmp_path / "snapshot"
    put(snapshot, "mill.example/status/1", {"listed": True})
    put(tmp_path, "secret.json", {"secret": True})
    put(snapshot, "secret.json", {"secret": True})
    fetcher = fetcher_for(snapshot)
    assert fetcher.get_json("https://mill.example/status/1", what="status list") == {"listed": True}
    for url in ("https://mill.example/../secret.json", "https://mill.example/status/../../secret.json",
                "https://mill.example/%2e%2e/secret.json", "https://mill.example/%2E%2E/%2e%2e/secret.json",
                "https://mill.example/status%2f..%2f..%2fsecret.json", "https://mill.example/..%5csecret.json",
                "https://mill.example/./status/1", "https://mill.example/status//1"):
        with pytest.raises(RetrievalError, match="cannot be mapped"):
            fetcher.get_json(url, what="status list")


def test_a_lone_surrogate_in_a_snapshot_path_is_a_retrieval_error(tmp_path):
    """A status list URL is whatever the credential says, and JSON may escape half a surrogate
    pair: the file name could not be encoded, and UnicodeEncodeError came out of the fetcher."""
    snapshot = tmp_path / "snapshot"
    put(snapshot, "mill.example/status/1", {"listed": True})
    fetcher = fetcher_for(snapshot, network=False)
    for url in ("https://mill.example/status/\ud800", "https://mill.example/\udfff/1"):
        with pytest.raises(RetrievalError, match="cannot be mapped"):
            fetcher.get_json(url, what="status list")
        assert fetcher.origin(url) is None


def test_a_link_out_of_the_snapshot_is_not_followed(tmp_path):
    snapshot = tmp_path / "snapshot"
    put(tmp_path, "secret.json", {"secret": True})
    (snapshot / "mill.example" / "status").mkdir(parents=True)
    os.symlink(tmp_path / "secret.json", snapshot / "mill.example" / "status" / "1")
    os.symlink(tmp_path, snapshot / "other.example")
    fetcher = fetcher_for(snapshot)
    for url in ("https://mill.example/status/1", "https://other.example/secret.json"):
        with pytest.raises(RetrievalError, match="outside its snapshot"):
            fetcher.get_json(url, what="status list")


def test_a_host_name_too_long_for_a_file_name_is_a_retrieval_error(tmp_path):
    """Looking for its directory in the snapshot raised OSError (ENAMETOOLONG) out of the
    fetcher, and out of its origin(), which never raises."""
    snapshot = tmp_path / "snapshot"
    put(snapshot, "mill.example/status/1", {"listed": True})
    host = ".".join(["a" * 60] * 5)
    fetcher = fetcher_for(snapshot, network=False)
    assert fetcher.origin(f"https://{host}/status/1") is None
    with pytest.raises(RetrievalError):
        fetcher.get_json(f"https://{host}/status/1", what="status list")
    web = DidWebResolver(fetcher)
    assert web.origin(f"did:web:{host}") is None
    with pytest.raises(RetrievalError):
        web.resolve(f"did:web:{host}")


def test_a_link_loop_in_the_snapshot_is_a_retrieval_error(tmp_path):
    """Path.resolve() raises RuntimeError for a loop of links (before Python 3.13): it came
    out of the fetcher as a traceback, for any URL whose path reached the loop."""
    snapshot = tmp_path / "snapshot"
    (snapshot / "mill.example" / "status").mkdir(parents=True)
    os.symlink("1", snapshot / "mill.example" / "status" / "1")
    os.symlink("b", snapshot / "mill.example" / "status" / "a")
    os.symlink("a", snapshot / "mill.example" / "status" / "b")
    fetcher = fetcher_for(snapshot, network=False)
    for url in ("https://mill.example/status/1", "https://mill.example/status/a", "https://mill.example/status/1/x"):
        with pytest.raises(RetrievalError, match="cannot be read from the snapshot"):
            fetcher.get_json(url, what="status list")


def test_snapshot_files_are_size_limited_and_must_exist(tmp_path):
    snapshot = tmp_path / "snapshot"
    put(snapshot, "mill.example/status/big", " " * 5000)
    (snapshot / "mill.example" / "status" / "dir").mkdir()
    fetcher = fetcher_for(snapshot, max_bytes=4096)
    with pytest.raises(RetrievalError, match="over the 4096-byte limit"):
        fetcher.get_json("https://mill.example/status/big", what="status list")
    with pytest.raises(RetrievalError, match="not in the snapshot"):
        fetcher.get_json("https://mill.example/status/2", what="status list")
    with pytest.raises(RetrievalError, match="not a regular file"):
        fetcher.get_json("https://mill.example/status/dir", what="status list")
    for url in ("https://mill.example/status/", "https://mill.example/", "https://mill.example/status/1?v=2"):
        with pytest.raises(RetrievalError, match="names a directory|names no file|query"):
            fetcher.get_json(url, what="status list")


def test_a_host_without_a_snapshot_directory_is_fetched_from_itself(https_server, tmp_path):
    snapshot = tmp_path / "snapshot"
    put(snapshot, "mill.example/status/1", {"from": "snapshot"})
    put(https_server.root, "status/1", {"from": "network"})
    fetcher = HttpsFetcher(https_server.session(), mirror=Mirror(snapshots=[snapshot]), allow_hosts=https_server.allow_hosts)
    assert fetcher.get_json(https_server.url("status/1"), what="status list") == {"from": "network"}
    assert fetcher.get_json("https://mill.example/status/1", what="status list") == {"from": "snapshot"}
    assert https_server.requested == ["/status/1"]


def test_a_mapped_host_written_with_its_final_dot_is_still_mapped(https_server, tmp_path):
    """mill.example. is mill.example (a fully qualified name): it was fetched from the network,
    past the mirror or snapshot that maps the host."""
    snapshot = tmp_path / "snapshot"
    put(snapshot, "mill.example/status/1", {"from": "snapshot"})
    mirror = Mirror({"trade.example": "https://127.0.0.1:1/trade/"}, snapshots=[snapshot])
    assert str(mirror.origin("https://MILL.example./status/1")) == f"snapshot {snapshot.resolve() / 'mill.example/status/1'}"
    assert str(mirror.origin("https://trade.example.:443/x")) == "mirror https://127.0.0.1:1/trade/x"
    assert mirror.origin("https://mill.example../status/1") is None
    fetcher = HttpsFetcher(https_server.session(), mirror=mirror, network=False)
    assert fetcher.get_json("https://mill.example./status/1", what="status list") == {"from": "snapshot"}


def test_offline_means_snapshots_only(mill, https_server, tmp_path):
    with pytest.raises(ValueError, match="snapshot directories, not https mirrors"):
        Verifier.offline(policy=TrustPolicy({MILL: ["X"]}), mirror=https_server.mirror("mill.example"))
    put(https_server.root, "status/1", {"from": "network"})
    snapshot = tmp_path / "snapshot"
    put(snapshot, "mill.example/status/1", {"from": "snapshot"})
    fetcher = HttpsFetcher(https_server.session(), mirror=Mirror(snapshots=[snapshot]), network=False)
    assert fetcher.get_json("https://mill.example/status/1", what="status list") == {"from": "snapshot"}
    with pytest.raises(RetrievalError, match="not in a snapshot, and this verifier is offline"):
        fetcher.get_json(https_server.url("status/1"), what="status list")
    assert https_server.requested == []
    signed = certificate(mill)
    mill.publish(snapshot / "mill.example")
    verifier = Verifier.offline(policy=TrustPolicy({MILL: ["USMCACertificationOfOrigin"]}),
                                mirror=Mirror(snapshots=[snapshot]))
    assert verifier.verify_credential(signed).verified


# -- the mapping file ---------------------------------------------------------------------------


def test_the_mapping_file(tmp_path):
    (tmp_path / "snap").mkdir()
    path = put(tmp_path, "mirror.json", {"hosts": {"Mill.Example": "https://127.0.0.1:8443/mill"},
                                         "snapshots": ["snap"]})
    mirror = Mirror.from_file(path)
    assert mirror.hosts == {"mill.example": "https://127.0.0.1:8443/mill/"}
    assert mirror.snapshots == [(tmp_path / "snap").resolve()]
    assert str(mirror.origin("https://mill.example:443/status/1?x=1")) == "mirror https://127.0.0.1:8443/mill/status/1?x=1"
    assert mirror.origin("https://mill.example:8443/status/1") is None  # another port is another site
    assert mirror.origin("https://producer.example/status/1") is None


def test_mirrors_combine_first_one_wins(tmp_path):
    (tmp_path / "a" / "mill.example").mkdir(parents=True)
    (tmp_path / "b" / "mill.example").mkdir(parents=True)
    first = Mirror({"mill.example": "https://first.test/"}, snapshots=[tmp_path / "a"])
    second = Mirror({"mill.example": "https://second.test/", "producer.example": "https://second.test/p/"},
                    snapshots=[tmp_path / "b", tmp_path / "a"])
    merged = first.merged(second)
    assert merged.hosts == {"mill.example": "https://first.test/", "producer.example": "https://second.test/p/"}
    assert merged.snapshots == [(tmp_path / "a").resolve(), (tmp_path / "b").resolve()]
    snapshots_only = Mirror(snapshots=[tmp_path / "b", tmp_path / "a"])
    assert snapshots_only.origin("https://mill.example/x").location == str((tmp_path / "b").resolve() / "mill.example" / "x")
    assert not snapshots_only.uses_network and merged.uses_network


@pytest.mark.parametrize("content, match", [
    ("not json", "not JSON"),
    ("[]", "JSON object"),
    ("{}", "JSON object"),
    ('{"hosts": {}, "extra": 1}', "JSON object"),
    ('{"hosts": ["mill.example"]}', "hosts"),
    ('{"hosts": {"mill.example": "http://127.0.0.1/"}}', "https"),
    ('{"snapshots": "snap"}', "snapshots"),
    ('{"snapshots": ["missing"]}', "not a directory"),
])
def test_a_bad_mapping_file_is_refused(tmp_path, content, match):
    path = put(tmp_path, "mirror.json", content)
    with pytest.raises(ValueError, match=match):
        Mirror.from_file(path)


# -- the command line ---------------------------------------------------------------------------


@pytest.fixture
def issued(mill, tmp_path):
    """A certificate of the mill in a file, and a trust policy file for it."""
    path, trust = tmp_path / "coo.json", tmp_path / "trust.json"
    path.write_text(json.dumps(certificate(mill)))
    trust.write_text(json.dumps({"trustedIssuers": [{"did": mill.did, "name": "Mill",
                                                     "types": ["USMCACertificationOfOrigin"]}]}))
    return path, trust


def vc_verify(*args):
    from click.testing import CliRunner

    from tradevc.verifier.cli import cli

    return CliRunner().invoke(cli, ["credential", *map(str, args)])


def test_vc_verify_mirror_flag_and_file(mill, issued, https_server, tmp_path):
    path, trust = issued
    mill.publish(https_server.site("mill.example"))
    ca = ["--ca-bundle", https_server.ca_path]
    r = vc_verify(path, "--trust", trust, *ca, "--mirror", f"mill.example={https_server.url('mill.example/')}")
    assert r.exit_code == 0, r.output
    assert f"{MILL} resolved from mirror https://localhost:{https_server.port}/mill.example/" in r.output
    assert "read from mirror" in r.output
    mapping = put(tmp_path, "mirror.json", {"hosts": {"mill.example": https_server.url("mill.example/")}})
    r = vc_verify(path, "--trust", trust, *ca, "--mirror-file", mapping, "--json")
    assert r.exit_code == 0, r.output
    proof = next(c for c in json.loads(r.output)["checks"] if c["name"] == "proof")
    assert proof["data"]["didDocumentFrom"].startswith("mirror https://localhost:")
    r = vc_verify(path, "--trust", trust, *ca)  # no mirror: mill.example is not reachable from the tests
    assert r.exit_code == 3, r.output


def test_vc_verify_snapshot_online_and_offline(mill, issued, tmp_path):
    path, trust = issued
    snapshot = tmp_path / "snapshot"
    mill.publish(snapshot / "mill.example")
    for extra in ([], ["--offline"]):
        r = vc_verify(path, "--trust", trust, "--snapshot", snapshot, *extra)
        assert r.exit_code == 0, r.output
        assert f"resolved from snapshot {snapshot.resolve()}" in r.output
    r = vc_verify(path, "--trust", trust, "--offline")  # offline without the snapshot: as before
    assert r.exit_code == 3, r.output
    from click.testing import CliRunner

    from tradevc.verifier.cli import cli

    inbox = tmp_path / "inbox"
    inbox.mkdir()
    (inbox / "coo.json").write_text(path.read_text())
    r = CliRunner().invoke(cli, ["batch", str(inbox), "--trust", str(trust), "--workers", "1", "--offline",
                                 "--snapshot", str(snapshot), "--json"])
    assert r.exit_code == 0, r.output
    (snapshot / "mill.example" / ".well-known" / "did.json").unlink()
    r = vc_verify(path, "--trust", trust, "--snapshot", snapshot, "--offline")
    assert r.exit_code == 3 and "not in the snapshot" in r.output, r.output


def test_vc_verify_prints_a_report_that_quotes_a_lone_surrogate(issued, tmp_path):
    """The status list URL, quoted in the report, held "\\ud800": stdout could not encode it,
    and vc-verify ended with a UnicodeEncodeError instead of the report. A lone surrogate is
    not I-JSON (issue 15): the document is now refused before its status is looked at, and
    the report still prints."""
    path, trust = issued
    document = json.loads(path.read_text())
    document["credentialStatus"] = {"id": "https://mill.example/status/1#6", "type": "BitstringStatusListEntry",
                                    "statusPurpose": "revocation", "statusListIndex": "6",
                                    "statusListCredential": "https://mill.example/status/\ud800"}
    hostile = tmp_path / "hostile.json"
    hostile.write_text(json.dumps(document))  # ASCII: the surrogate is written as its JSON escape
    snapshot = tmp_path / "snapshot"
    (snapshot / "mill.example").mkdir(parents=True)
    r = vc_verify(hostile, "--trust", trust, "--snapshot", snapshot, "--offline")
    assert r.exit_code == 1 and "PARSING_ERROR" in r.output and "\\ud800" in r.output, (r.output, r.exception)
    r = vc_verify(hostile, "--trust", trust, "--snapshot", snapshot, "--offline", "--json")
    assert r.exit_code == 1, (r.output, r.exception)
    assert json.loads(r.output)["checks"][0]["code"] == "PARSING_ERROR"


@pytest.mark.parametrize("flags, message", [
    (["--mirror", "mill.example"], "expected HOST=URL"),
    (["--mirror", "mill.example=http://127.0.0.1:8080/mill/"], "must be an https URL"),
    (["--mirror", "mill example=https://127.0.0.1/"], "not a host name"),
    (["--mirror-file", "missing.json"], "cannot read"),
    (["--snapshot", "missing-dir"], "not a directory"),
    (["--offline", "--mirror", "mill.example=https://127.0.0.1/"], "--offline reads --snapshot directories only"),
])
def test_vc_verify_bad_mirror_flags_are_usage_errors(issued, tmp_path, monkeypatch, flags, message):
    path, trust = issued
    monkeypatch.chdir(tmp_path)
    r = vc_verify(path, "--trust", trust, *flags)
    assert r.exit_code == 2, r.output
    assert message in r.output and "Traceback" not in r.output
