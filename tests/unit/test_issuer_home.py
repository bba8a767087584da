"""The issuer home: profile, encrypted keys, DIDs and key rotation."""

from __future__ import annotations

import json
import stat

import pytest

from tradevc.issuer.errors import IssuerError
from tradevc.issuer.home import IssuerHome
from tradevc.vc.errors import KeyMaterialError

PASS = b"correct horse battery staple"


def mode(path):
    return stat.S_IMODE(path.stat().st_mode)


def test_did_key_issuer(tmp_path):
    home = IssuerHome.create(tmp_path / "mill", name="Aceros del Norte", passphrase=PASS)
    key, method = home.signing_key(PASS)
    assert home.profile.did == key.did and method == key.verification_method
    assert mode(tmp_path / "mill") == 0o700
    assert mode(tmp_path / "mill" / "issuer.json") == 0o600
    sealed = tmp_path / "mill" / home.profile.current_key.file
    assert mode(sealed) == 0o600
    assert sealed.read_bytes().startswith(b"TVCW")  # sealed: see test_issuer_key_sealing.py
    assert key.secret_key_multibase.encode() not in (tmp_path / "mill" / "issuer.json").read_bytes()
    reopened = IssuerHome.open(tmp_path / "mill")
    assert reopened.profile.did == home.profile.did
    assert home.did_document_path() is None


def test_wrong_passphrase(tmp_path):
    home = IssuerHome.create(tmp_path / "h", name="X", passphrase=PASS)
    with pytest.raises(KeyMaterialError, match="wrong passphrase"):
        home.signing_key(b"guess")


def test_did_web_issuer_and_document(tmp_path):
    home = IssuerHome.create(
        tmp_path / "h", name="Aceros del Norte", passphrase=PASS, did_web_domain="certifier.aceros-del-norte.example",
        status_base_url="https://certifier.aceros-del-norte.example/status/", key_type="Ed25519",
    )
    assert home.profile.did == "did:web:certifier.aceros-del-norte.example"
    key, method = home.signing_key(PASS)
    assert method == f"did:web:certifier.aceros-del-norte.example#{key.public_key_multibase}"
    doc = home.did_document()
    assert doc["id"] == home.profile.did
    assert doc["assertionMethod"] == [method] and doc["authentication"] == [method]
    assert doc["verificationMethod"][0]["publicKeyMultibase"] == key.public_key_multibase
    assert home.did_document_path() == ".well-known/did.json"


def test_did_web_with_path(tmp_path):
    home = IssuerHome.create(tmp_path / "h", name="X", passphrase=PASS, did_web_domain="example.com/issuers/mill")
    assert home.profile.did == "did:web:example.com:issuers:mill"
    assert home.did_document_path() == "issuers/mill/did.json"


def test_rotation_keeps_old_keys_for_assertion(tmp_path):
    home = IssuerHome.create(tmp_path / "h", name="X", passphrase=PASS, did_web_domain="example.com")
    _, old = home.signing_key(PASS)
    record = home.rotate_key(PASS)
    _, new = home.signing_key(PASS)
    assert new == record.id != old
    doc = IssuerHome.open(tmp_path / "h").did_document()
    assert doc["assertionMethod"] == [old, new]
    assert doc["authentication"] == [new]
    with pytest.raises(IssuerError, match="current key"):
        home.remove_key(new)
    home.remove_key(old)
    doc = home.did_document()
    assert doc["assertionMethod"] == [new] and [m["id"] for m in doc["verificationMethod"]] == [new]


def test_rotation_needs_the_passphrase_and_did_web(tmp_path):
    web = IssuerHome.create(tmp_path / "w", name="X", passphrase=PASS, did_web_domain="example.com")
    with pytest.raises(KeyMaterialError):
        web.rotate_key(b"wrong")
    assert len(web.profile.keys) == 1
    key_home = IssuerHome.create(tmp_path / "k", name="X", passphrase=PASS)
    with pytest.raises(IssuerError, match="did:key"):
        key_home.rotate_key(PASS)


@pytest.mark.parametrize("kwargs,message", [
    ({"did_web_domain": "127.0.0.1"}, "IP address"),
    ({"did_web_domain": "bad_domain!"}, "domain"),
    ({"status_base_url": "http://example.com/status/"}, "https"),
    ({"status_base_url": "https://example.com/status"}, "ending in '/'"),
    ({"key_type": "P-256"}, "Ed25519"),
    ({"name": "  "}, "name"),
])
def test_invalid_profiles(tmp_path, kwargs, message):
    args = {"name": "X", "passphrase": PASS} | kwargs
    with pytest.raises(IssuerError, match=message):
        IssuerHome.create(tmp_path / "h", **args)


def test_existing_home_is_not_overwritten(tmp_path):
    IssuerHome.create(tmp_path / "h", name="X", passphrase=PASS)
    before = (tmp_path / "h" / "issuer.json").read_bytes()
    with pytest.raises(IssuerError, match="already"):
        IssuerHome.create(tmp_path / "h", name="Y", passphrase=PASS)
    assert (tmp_path / "h" / "issuer.json").read_bytes() == before


def test_missing_and_damaged_profiles(tmp_path):
    with pytest.raises(IssuerError, match="vc-issuer init"):
        IssuerHome.open(tmp_path / "nothing")
    (tmp_path / "bad").mkdir(mode=0o700)
    (tmp_path / "bad" / "issuer.json").write_text("{not json")
    (tmp_path / "bad" / "issuer.json").chmod(0o600)  # private, as init writes it: only the content is bad
    with pytest.raises(IssuerError, match="not a valid issuer profile"):
        IssuerHome.open(tmp_path / "bad")
    (tmp_path / "bad" / "issuer.json").write_text(json.dumps({"version": 99}))
    with pytest.raises(IssuerError, match="version"):
        IssuerHome.open(tmp_path / "bad")
