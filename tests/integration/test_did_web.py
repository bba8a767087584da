"""did:web resolution against a real local HTTPS server."""

from __future__ import annotations

import json

import pytest

from support.dids import did_document
from support.https_server import body, redirect_to, slow
from tradevc.vc.retrieval.did.resolver import DidResolvers, retrieve_verification_method
from tradevc.vc.retrieval.did.web import DidWebResolver
from tradevc.vc.errors import ResolutionError
from tradevc.vc.retrieval.http import HttpsFetcher, RetrievalError
from tradevc.vc.keys import KeyPair


def publish(server, did, relative, key=None, **overrides):
    key = key or KeyPair.generate("Ed25519")
    vm = f"{did}#key-1"
    document = did_document(did, key, **overrides)
    path = server.root / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(document))
    return key, vm


def resolver(server, **kw):
    return DidWebResolver(HttpsFetcher(server.session(), allow_hosts=server.allow_hosts, **kw))


def test_well_known(https_server):
    did = f"did:web:{https_server.did_host}"
    key, vm = publish(https_server, did, ".well-known/did.json")
    assert resolver(https_server).resolve(did)["id"] == did
    method = retrieve_verification_method(vm, DidResolvers({"web": resolver(https_server)}))
    assert method.key.public_key_multibase == key.public_key_multibase
    assert method.is_listed_under("assertionMethod") and not method.is_listed_under("authentication")


def test_path_did(https_server):
    did = f"did:web:{https_server.did_host}:issuers:mill"
    publish(https_server, did, "issuers/mill/did.json")
    assert resolver(https_server).resolve(did)["id"] == did
    assert https_server.requested == ["/issuers/mill/did.json"]


def test_id_mismatch(https_server):
    did = f"did:web:{https_server.did_host}"
    publish(https_server, did, ".well-known/did.json", id="did:web:evil.example")
    with pytest.raises(ResolutionError, match="evil.example") as info:
        resolver(https_server).resolve(did)
    assert info.value.code == "INVALID_CONTROLLED_IDENTIFIER_DOCUMENT_ID"
    assert info.value.error == "invalidDidDocument"
    https_server.special["/.well-known/did.json"] = body(b"[1, 2]")
    with pytest.raises(ResolutionError, match="not a JSON object") as info:
        resolver(https_server).resolve(did)
    assert info.value.error == "invalidDidDocument"


def test_redirect_to_another_host_is_not_followed(https_server):
    did = f"did:web:{https_server.did_host}"
    https_server.special["/.well-known/did.json"] = redirect_to("https://evil.example/.well-known/did.json")
    with pytest.raises(RetrievalError, match="redirect") as info:
        resolver(https_server).resolve(did)
    assert info.value.status == 302


@pytest.mark.parametrize("target", ["https://{host}/moved/did.json", "https://127.0.0.1:{port}/moved/did.json",
                                    "/moved/did.json"], ids=["same host", "another loopback name", "relative"])
def test_redirect_to_a_reachable_valid_document_is_not_followed(https_server, target):
    """The redirect target serves the DID's valid document, over TLS the session trusts: a
    fetcher that followed redirects would resolve the DID. It must stop at the 302 and never
    ask for the target."""
    did = f"did:web:{https_server.did_host}"
    publish(https_server, did, "moved/did.json")
    location = target.format(host=https_server.host, port=https_server.port)
    https_server.special["/.well-known/did.json"] = redirect_to(location)
    session = https_server.session()
    assert session.get(location if location.startswith("https:") else https_server.url(location)).json()["id"] == did
    https_server.requested.clear()
    with pytest.raises(RetrievalError, match="redirects are not followed") as info:
        DidWebResolver(HttpsFetcher(session, allow_hosts=https_server.allow_hosts)).resolve(did)
    assert info.value.status == 302
    assert https_server.requested == ["/.well-known/did.json"]  # the target was never asked for


def test_oversize_document(https_server):
    did = f"did:web:{https_server.did_host}"
    https_server.special["/.well-known/did.json"] = body(b" " * 2_000_000)
    with pytest.raises(RetrievalError, match="limit"):
        resolver(https_server).resolve(did)
    https_server.special["/.well-known/did.json"] = body(b" " * 2_000_000, declare_length=False)
    with pytest.raises(RetrievalError, match="limit"):
        resolver(https_server).resolve(did)


def test_timeout(https_server):
    did = f"did:web:{https_server.did_host}"
    https_server.special["/.well-known/did.json"] = slow(1.5)
    with pytest.raises(RetrievalError, match="did not answer"):
        resolver(https_server, timeout=0.3).resolve(did)


def test_not_found_and_not_json(https_server):
    did = f"did:web:{https_server.did_host}"
    with pytest.raises(RetrievalError, match="404") as info:
        resolver(https_server).resolve(did)
    assert info.value.status == 404
    https_server.special["/.well-known/did.json"] = body(b"<html>")
    with pytest.raises(RetrievalError, match="JSON") as info:
        resolver(https_server).resolve(did)
    assert info.value.status is None


def test_untrusted_certificate(https_server):
    did = f"did:web:{https_server.did_host}"
    publish(https_server, did, ".well-known/did.json")
    import requests

    with pytest.raises(RetrievalError, match="certificate"):
        # system CAs do not know our CA
        DidWebResolver(HttpsFetcher(requests.Session(), allow_hosts=https_server.allow_hosts)).resolve(did)


def test_server_down():
    # a port on loopback where nothing listens
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(RetrievalError, match="cannot fetch"):
        DidWebResolver(HttpsFetcher(allow_hosts=[f"localhost:{port}"])).resolve(f"did:web:localhost%3A{port}")


def test_cache_with_ttl(https_server):
    did = f"did:web:{https_server.did_host}"
    publish(https_server, did, ".well-known/did.json")
    now = [0.0]
    resolvers = DidResolvers({"web": resolver(https_server)}, cache_ttl=60, clock=lambda: now[0])
    resolvers.resolve(did)
    resolvers.resolve(did)
    assert https_server.requested == ["/.well-known/did.json"]
    now[0] = 61
    resolvers.resolve(did)
    assert len(https_server.requested) == 2
