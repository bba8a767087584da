"""``vc-issuer init --did-web``: the domain is checked as did:web requires (an IDNA host,
an optional port and path, no URL), and the exact URL to publish ``did.json`` at is printed
(issue 18, point 2)."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from tradevc.issuer.cli import cli
from tradevc.issuer.errors import IssuerError
from tradevc.issuer.home import IssuerHome
from tradevc.vc.retrieval.did.web import did_web_for, document_url

PASS = "mill passphrase"

GOOD = [
    ("certifier.acme.example", "did:web:certifier.acme.example",
     "https://certifier.acme.example/.well-known/did.json"),
    ("Certifier.ACME.example", "did:web:certifier.acme.example",
     "https://certifier.acme.example/.well-known/did.json"),
    ("acme.example/issuers/mill", "did:web:acme.example:issuers:mill", "https://acme.example/issuers/mill/did.json"),
    ("acme.example/issuers/mill/", "did:web:acme.example:issuers:mill", "https://acme.example/issuers/mill/did.json"),
    ("acme.example:8443", "did:web:acme.example%3A8443", "https://acme.example:8443/.well-known/did.json"),
    ("acme.example:8443/mill", "did:web:acme.example%3A8443:mill", "https://acme.example:8443/mill/did.json"),
    ("bücher.example", "did:web:xn--bcher-kva.example", "https://xn--bcher-kva.example/.well-known/did.json"),
    ("日本.example", "did:web:xn--wgv71a.example", "https://xn--wgv71a.example/.well-known/did.json"),
    ("xn--bcher-kva.example", "did:web:xn--bcher-kva.example", "https://xn--bcher-kva.example/.well-known/did.json"),
    ("localhost:8443", "did:web:localhost%3A8443", "https://localhost:8443/.well-known/did.json"),
]

BAD = [
    ("https://acme.example", "is a URL: give the domain only"),
    ("https://acme.example/issuers/mill/did.json", "e.g. acme.example/issuers/mill"),
    ("http://acme.example", "is a URL"),
    ("https:acme.example", "is a URL"),
    ("acme.example/.well-known", "leave out .well-known"),
    ("acme.example/did.json", "not the file"),
    ("acme.example?x=1", "no query, fragment or white space"),
    ("acme.example/a b", "no query, fragment or white space"),
    ("acme.example/issuers//mill", "empty segment"),
    ("acme.example/..", "not allowed"),
    ("acme", "not a full domain name"),
    ("-acme.example", "not a valid domain name"),
    ("acme_mill.example", "not a valid domain name"),
    ("xn--zz.example", "not a valid domain name"),
    ("acme.example.", "not a valid domain name"),
    ("acme.example:0", "not a valid port"),
    ("acme.example:70000", "not a valid port"),
    ("acme.example:https", "not a valid port"),
    ("192.0.2.7", "not IP addresses"),
    ("[2001:db8::1]:443", "not IP addresses"),
    ("", "empty"),
]


@pytest.mark.parametrize("given, did, url", GOOD, ids=[g for g, *_ in GOOD])
def test_good_domains(given, did, url):
    assert did_web_for(given) == did
    assert document_url(did) == url


@pytest.mark.parametrize("given, message", BAD, ids=[g or "empty" for g, _ in BAD])
def test_bad_domains(given, message):
    with pytest.raises(ValueError, match=None) as caught:
        did_web_for(given)
    assert message in str(caught.value)


def test_the_home_refuses_a_url_too(tmp_path):
    with pytest.raises(IssuerError, match="is a URL"):
        IssuerHome.create(tmp_path / "h", name="X", passphrase=PASS.encode(), did_web_domain="https://acme.example")
    assert not (tmp_path / "h").exists()


def init(tmp_path, *args):
    env = {"TRADEVC_ISSUER_HOME": str(tmp_path / "home"), "TRADEVC_ISSUER_PASSPHRASE": PASS}
    return CliRunner().invoke(cli, ["init", "--name", "Acme Certifier", *args], env=env)


@pytest.mark.parametrize("given, did, url", GOOD[:7], ids=[g for g, *_ in GOOD[:7]])
def test_init_prints_the_exact_url(tmp_path, given, did, url):
    result = init(tmp_path, "--did-web", given)
    assert result.exit_code == 0, result.output
    assert f"DID: {did}\n" in result.output
    assert f"publish its DID document at {url}\n" in result.output
    assert "https://.well-known" not in result.output
    assert IssuerHome.open(tmp_path / "home").profile.did == did


def test_init_notes_the_ascii_form_of_an_international_host(tmp_path):
    result = init(tmp_path, "--did-web", "bücher.example")
    assert result.exit_code == 0, result.output
    assert "note: the DID names the host bücher.example in its ASCII (IDNA) form" in result.output


@pytest.mark.parametrize("given, message", BAD, ids=[g or "empty" for g, _ in BAD])
def test_init_refuses_a_bad_domain_before_anything_is_made(tmp_path, given, message):
    result = init(tmp_path, "--did-web", given)
    assert result.exit_code == 2, result.output
    assert result.output.startswith("error: --did-web: ") and result.output.count("\n") == 1
    assert message in result.output and "Traceback" not in result.output
    assert not (tmp_path / "home").exists()


def test_init_without_did_web_is_did_key(tmp_path):
    result = init(tmp_path)
    assert result.exit_code == 0 and "DID: did:key:z" in result.output and "publish" not in result.output
