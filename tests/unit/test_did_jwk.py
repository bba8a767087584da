"""did:jwk: resolution, refusals, and signing with a did:jwk key."""

from __future__ import annotations

import json

import pytest

from conftest import load_vector
from tradevc.issuer import sign_credential
from tradevc.vc.retrieval.did.jwk import did_jwk, resolve
from tradevc.vc.retrieval.did.resolver import DidResolvers
from tradevc.vc.retrieval.did import DidResolutionError
from tradevc.vc.errors import ResolutionError
from tradevc.vc.keys import KeyPair
from tradevc.vc.multibase import base64url_encode
from tradevc.verifier import TrustPolicy, verify_credential


def encode(jwk):
    return "did:jwk:" + base64url_encode(json.dumps(jwk).encode())


@pytest.mark.parametrize("key_type", ["Ed25519", "P-256", "P-384"])
def test_round_trip(key_type):
    key = KeyPair.generate(key_type)
    did = did_jwk(key)
    document = resolve(did)
    assert document["verificationMethod"][0]["id"] == f"{did}#0"
    assert document["verificationMethod"][0]["publicKeyJwk"] == key.to_jwk()
    assert document["assertionMethod"] == [f"{did}#0"]


def test_spec_example_p256():
    # the P-256 example of the did:jwk specification
    did = ("did:jwk:eyJjcnYiOiJQLTI1NiIsImt0eSI6IkVDIiwieCI6ImFjYklRaXVNczNpOF91c3pFakoydHBUdFJNNEVVM3l6OTFQSDZDZEgyVjAiLCJ5"
           "IjoiX0tjeUxqOXZXTXB0bm1LdG00NkdxRHo4d2Y3NEk1TEtncmwyR3pIM25TRSJ9")
    document = resolve(did)
    assert document["verificationMethod"][0]["publicKeyJwk"]["crv"] == "P-256"


@pytest.mark.parametrize("jwk,message,error", [
    ({"kty": "OKP", "crv": "Ed25519", "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo",
      "d": "nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A"}, "public key only", "invalidDid"),
    ({"kty": "oct", "k": "c2VjcmV0"}, "public key only", "invalidDid"),
    ({"kty": "RSA", "n": "AQAB", "e": "AQAB"}, "unusable", "unsupportedPublicKeyType"),
    ({"kty": "OKP", "crv": "X25519", "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}, "unusable",
     "unsupportedPublicKeyType"),
    ({"kty": "OKP", "crv": "Ed25519", "x": "AQ"}, "32 bytes", "invalidDid"),
    ({"kty": "EC", "crv": "P-256", "x": base64url_encode(bytes(32)), "y": base64url_encode(bytes(32))}, "P-256",
     "invalidDid"),
    ({"crv": "P-256"}, "kty", "invalidDid"),
])
def test_refusals(jwk, message, error):
    with pytest.raises(DidResolutionError, match=message) as e:
        resolve(encode(jwk))
    assert e.value.error == error
    assert isinstance(e.value, ResolutionError) and e.value.code == "RESOLUTION_ERROR"


@pytest.mark.parametrize("did", [
    "did:jwk:", "did:jwk:not-base64!", "did:jwk:" + base64url_encode(b"[1,2]"), "did:key:z6Mk", None,
    "did:jwk:" + base64url_encode(b"[" * 100_000), "did:jwk:" + base64url_encode(b"\xff\xfe"),
])
def test_malformed(did):
    with pytest.raises(DidResolutionError) as e:
        resolve(did)
    assert e.value.error == "invalidDid"


@pytest.mark.parametrize("text", [
    # the same member twice: json.loads keeps the last "x", another parser the first, so one DID
    # would name two keys
    '{"kty":"OKP","crv":"Ed25519","x":"%s","x":"%s"}',
    '{"kty":"OKP","crv":"Ed25519","x":"%s","kty":"OKP","y":"%s"}',
    '{"kty":"OKP","crv":"Ed25519","x":"%s","meta":{"a":"%s","a":1}}',  # at any depth
])
def test_duplicate_members_are_invalid(text):
    first, second = KeyPair.generate("Ed25519"), KeyPair.generate("Ed25519")
    xs = (first.to_jwk()["x"], second.to_jwk()["x"])
    did = "did:jwk:" + base64url_encode((text % xs).encode())
    with pytest.raises(DidResolutionError, match="twice") as e:
        resolve(did)
    assert e.value.error == "invalidDid"


def test_the_same_members_once_each_resolve():
    # the negative test: the text of the first case above without its duplicate resolves
    key = KeyPair.generate("Ed25519")
    did = "did:jwk:" + base64url_encode(('{"kty":"OKP","crv":"Ed25519","x":"%s","meta":{"a":1}}' % key.to_jwk()["x"]).encode())
    assert resolve(did)["verificationMethod"][0]["publicKeyJwk"]["x"] == key.to_jwk()["x"]


def test_encryption_keys_cannot_sign():
    key = KeyPair.generate("P-256")
    document = resolve(encode(key.to_jwk() | {"use": "enc"}))
    assert "assertionMethod" not in document and document["keyAgreement"]


def test_credential_signed_by_a_did_jwk_issuer():
    key = KeyPair.generate("P-256")
    did = did_jwk(key)
    credential = load_vector("di-eddsa/unsigned.json") | {"issuer": did}
    signed = sign_credential(credential, key, cryptosuite="ecdsa-rdfc-2019", verification_method=f"{did}#0")
    result = verify_credential(signed, policy=TrustPolicy({did: ["AlumniCredential"]}), resolvers=DidResolvers.offline())
    assert result.verified, result.summary()
