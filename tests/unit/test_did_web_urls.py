"""did:web identifiers <-> document URLs (the did:web method specification's examples)."""

import pytest

from vc.did.web import did_web, document_path, document_url
from vc.errors import ResolutionError


@pytest.mark.parametrize("did,url", [
    ("did:web:w3c-ccg.github.io", "https://w3c-ccg.github.io/.well-known/did.json"),
    ("did:web:w3c-ccg.github.io:user:alice", "https://w3c-ccg.github.io/user/alice/did.json"),
    ("did:web:example.com%3A3000:user:alice", "https://example.com:3000/user/alice/did.json"),
])
def test_spec_examples(did, url):
    assert document_url(did) == url


def test_round_trip_from_domain():
    assert did_web("Mill.Example") == "did:web:mill.example"
    assert did_web("mill.example:8443", "issuers/steel") == "did:web:mill.example%3A8443:issuers:steel"
    assert document_path("did:web:mill.example%3A8443:issuers:steel") == "issuers/steel/did.json"


@pytest.mark.parametrize("did", [
    "did:web:127.0.0.1", "did:web:10.0.0.1%3A443", "did:web:%5B%3A%3A1%5D", "did:web:example..com",
    "did:web:example.com%3A99999", "did:web:example.com:..", "did:web:-bad.example", "did:key:z6Mk", "did:web:",
])
def test_refused(did):
    with pytest.raises(ResolutionError):
        document_url(did)


@pytest.mark.parametrize("domain,path", [("127.0.0.1", None), ("exa mple.com", None), ("example.com", "a/../b")])
def test_did_web_refuses_bad_input(domain, path):
    with pytest.raises(ValueError):
        did_web(domain, path)
