"""DID Resolution results (vc.did.resolution): resolve() and dereference(), their JSON shape and
their error names, for did:key, did:jwk, did:web (a real local HTTPS server) and resolvers
from elsewhere."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import StaticDidResolver
from support.https_server import body
from tradevc.vc.retrieval.did import key as did_key_method
from tradevc.vc.retrieval.did.jwk import DidJwkResolver, did_jwk
from tradevc.vc.retrieval.did.key import DidKeyResolver
from tradevc.vc.retrieval.did import RESOLUTION_ERRORS, DidResolutionError
from tradevc.vc.retrieval.did.resolution import DID_JSON, DID_LD_JSON, DereferencingResult, ResolutionResult, dereference, resolve
from tradevc.vc.retrieval.did.resolver import DidResolvers
from tradevc.vc.retrieval.did.web import DidWebResolver
from tradevc.vc.retrieval.http import HttpsFetcher
from tradevc.vc.keys import KeyPair
from tradevc.vc.multibase import base58btc_encode, base64url_encode, multicodec_wrap

ED = KeyPair.generate("Ed25519")
P256 = KeyPair.generate("P-256")
P256_FIELD_PRIME = 2**256 - 2**224 + 2**192 + 2**96 - 1


def did_key(code: int, data: bytes) -> str:
    return "did:key:z" + base58btc_encode(multicodec_wrap(code, data))


def encode_jwk(jwk: dict) -> str:
    return "did:jwk:" + base64url_encode(json.dumps(jwk).encode())


# -- resolve: the result ------------------------------------------------------------------------


def test_resolve_did_key_gives_the_did_resolution_shape():
    result = resolve(ED.did)
    assert isinstance(result, ResolutionResult)
    assert result.error is None and result.message is None
    assert result.did_document == did_key_method.resolve(ED.did)
    assert result.to_json() == {
        "didDocument": did_key_method.resolve(ED.did),
        "didDocumentMetadata": {},
        "didResolutionMetadata": {"contentType": "application/did+ld+json"},
    }
    assert json.loads(json.dumps(result.to_json())) == result.to_json()
    # the X25519 keyAgreement key is there by default
    assert result.did_document["keyAgreement"][0].startswith(ED.did + "#z6LS")


def test_to_json_is_a_copy():
    result = resolve(ED.did)
    out = result.to_json()
    out["didDocument"]["verificationMethod"].clear()
    out["didResolutionMetadata"]["contentType"] = "mutated"
    assert len(result.did_document["verificationMethod"]) == 2
    assert result.did_resolution_metadata == {"contentType": DID_LD_JSON}


def test_resolve_in_the_json_representation_drops_the_context():
    result = resolve(P256.did, accept=DID_JSON)
    assert result.did_resolution_metadata == {"contentType": "application/did+json"}
    assert "@context" not in result.did_document
    expected = did_key_method.resolve(P256.did)
    del expected["@context"]
    assert result.did_document == expected


@pytest.mark.parametrize("accept", ["application/json", "application/did+cbor", "", None, "*/*"])
def test_resolve_refuses_other_representations(accept):
    result = resolve(ED.did, accept=accept)
    assert result.error == "representationNotSupported" and result.did_document is None
    assert result.to_json() == {
        "didDocument": None,
        "didDocumentMetadata": {},
        "didResolutionMetadata": {"error": "representationNotSupported"},
    }
    assert "not supported" in result.message


def test_resolve_did_key_options():
    as_jwk = resolve(ED.did, public_key_format="JsonWebKey2020")
    assert as_jwk.error is None
    assert as_jwk.did_document == did_key_method.resolve(ED.did, public_key_format="JsonWebKey2020")
    assert as_jwk.did_document["verificationMethod"][0]["publicKeyJwk"] == ED.to_jwk()
    assert as_jwk.did_document["verificationMethod"][1]["publicKeyJwk"]["crv"] == "X25519"
    plain = resolve(ED.did, enable_encryption_key_derivation=False)
    assert "keyAgreement" not in plain.did_document and len(plain.did_document["verificationMethod"]) == 1
    # did:key options mean nothing to other methods
    jwk_did = did_jwk(P256)
    assert resolve(jwk_did, public_key_format="JsonWebKey2020").did_document == resolve(jwk_did).did_document


@pytest.mark.parametrize("value", ["Ed25519VerificationKey2020", "JsonWebKey", "multikey"])
def test_resolve_refuses_unknown_public_key_formats(value):
    result = resolve(ED.did, public_key_format=value)
    assert result.error == "unsupportedPublicKeyType" and result.did_document is None


@pytest.mark.parametrize(
    "options", [{"enable_encryption_key_derivation": "yes"}, {"enable_encryption_key_derivation": 1},
                {"public_key_format": 5}, {"public_key_format": ["Multikey"]}]
)
def test_resolve_refuses_options_of_the_wrong_type(options):
    result = resolve(ED.did, **options)
    assert result.error == "invalidOptions" and result.did_document is None


# -- resolve: errors ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "did,error",
    [
        (None, "invalidDid"),
        (42, "invalidDid"),
        (b"did:key:z6Mk", "invalidDid"),
        ("", "invalidDid"),
        ("did:key", "invalidDid"),
        ("did:KEY:" + ED.public_key_multibase, "invalidDid"),
        ("did:key:a b", "invalidDid"),
        ("urn:uuid:1234", "invalidDid"),
        (ED.verification_method, "invalidDid"),  # a DID URL
        (ED.did + "/path", "invalidDid"),
        ("did:key:u" + "A" * 46, "invalidDid"),
        ("did:key:z6Mk0OIl", "invalidDid"),  # 0, O, I, l are not base58btc
        ("did:key:z", "invalidDid"),
        ("did:example:123", "methodNotSupported"),
        ("did:ion:abc", "methodNotSupported"),
        (did_key(0xED, ED.public_key_bytes[:31]), "invalidPublicKeyLength"),
        (did_key(0x1200, ED.public_key_bytes), "invalidPublicKeyLength"),
        (did_key(0xED, bytes([1]) + bytes(31)), "invalidPublicKey"),  # the identity: small order
        (did_key(0xED, bytes.fromhex("ee" + "ff" * 30 + "7f")), "invalidPublicKey"),  # non-canonical
        (did_key(0x1200, b"\x02" + P256_FIELD_PRIME.to_bytes(32, "big")), "invalidPublicKey"),  # x = p
        (did_key(0xE7, b"\x02" + bytes(32)), "unsupportedPublicKeyType"),  # secp256k1
        (did_key(0xEC, bytes(32)), "invalidPublicKey"),  # x25519, u = 0: small order
        (did_key(0xEC, bytes(33)), "invalidPublicKeyLength"),
        (did_key(0x1300, bytes(32)), "unsupportedPublicKeyType"),  # a secret key
        ("did:jwk:not-base64!", "invalidDid"),
        (encode_jwk({"kty": "OKP", "crv": "Ed25519", "x": "AQ"}), "invalidDid"),
        (encode_jwk(ED.to_jwk(private=False) | {"d": base64url_encode(bytes(32))}), "invalidDid"),
        (encode_jwk({"kty": "RSA", "n": "AQAB", "e": "AQAB"}), "unsupportedPublicKeyType"),
    ],
)
def test_resolve_errors(did, error):
    result = resolve(did)
    assert result.error == error, result.message
    assert result.did_document is None and result.did_document_metadata == {}
    assert result.did_resolution_metadata == {"error": error}
    assert isinstance(result.message, str) and result.message


def test_a_did_url_is_pointed_to_dereference():
    assert "dereference" in resolve(ED.verification_method).message
    assert "dereference" not in resolve("did:key").message


def test_resolve_did_jwk():
    did = did_jwk(P256)
    result = resolve(did)
    assert result.error is None and result.did_document == DidJwkResolver().resolve(did)
    assert result.did_resolution_metadata == {"contentType": DID_LD_JSON}


class _Raising:
    def __init__(self, exc: BaseException) -> None:
        self.exc = exc

    def resolve(self, did: str) -> dict:
        raise self.exc


class _Returning:
    def __init__(self, value: object) -> None:
        self.value = value

    def resolve(self, did: str) -> object:
        return self.value


@pytest.mark.parametrize(
    "resolver,error",
    [
        (_Raising(RuntimeError("boom")), "internalError"),
        (_Raising(KeyError("id")), "internalError"),
        (_Returning(["not", "a", "document"]), "invalidDidDocument"),
        (_Returning(None), "invalidDidDocument"),
        (_Returning({"id": "did:example:other"}), "invalidDidDocument"),
        (_Returning({"id": "did:example:mill", "verificationMethod": []}), None),
    ],
)
def test_resolvers_from_elsewhere_never_raise(resolver, error):
    result = resolve("did:example:mill", resolvers=DidResolvers({"example": resolver}))
    assert result.error == error, result.message
    if error is None:
        # no @context: the JSON representation, whatever was asked
        assert result.did_resolution_metadata == {"contentType": DID_JSON}
        assert result.did_document == {"id": "did:example:mill", "verificationMethod": []}


def test_resolved_documents_do_not_share_the_cache():
    static = StaticDidResolver("did:example:mill", ED, ["assertionMethod"])
    resolvers = DidResolvers({"example": static}, cache_ttl=60)
    first = resolve("did:example:mill", resolvers=resolvers)
    first.did_document["verificationMethod"].clear()
    again = resolve("did:example:mill", resolvers=resolvers)
    assert len(again.did_document["verificationMethod"]) == 1


def test_offline_did_web_is_an_internal_error_that_says_why():
    result = resolve("did:web:mill.example")
    assert result.error == "internalError" and "needs the network" in result.message
    assert resolve("did:web:127.0.0.1").error == "invalidDid"


# -- resolve: did:web over a real local HTTPS server --------------------------------------------


def _publish(server, did: str, document: dict | None = None) -> dict:
    document = document or {
        "@context": ["https://www.w3.org/ns/did/v1", "https://w3id.org/security/multikey/v1"],
        "id": did,
        "verificationMethod": [
            {"id": "#key-1", "type": "Multikey", "controller": did, "publicKeyMultibase": ED.public_key_multibase}
        ],
        "assertionMethod": ["#key-1"],
        "service": [{"id": "#files", "type": "LinkedDomains", "serviceEndpoint": "https://mill.example/"}],
    }
    path = server.root / ".well-known" / "did.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(document))
    return document


def _online(server) -> DidResolvers:
    return DidResolvers({"web": DidWebResolver(HttpsFetcher(server.session(), allow_hosts=server.allow_hosts)), "key": DidKeyResolver()})


def test_resolve_did_web(https_server):
    did = f"did:web:{https_server.did_host}"
    document = _publish(https_server, did)
    result = resolve(did, resolvers=_online(https_server))
    assert result.error is None and result.did_document == document
    assert result.did_resolution_metadata == {"contentType": DID_LD_JSON}


def test_resolve_did_web_not_found(https_server):
    did = f"did:web:{https_server.did_host}"
    result = resolve(did, resolvers=_online(https_server))
    assert result.error == "notFound" and "404" in result.message
    assert result.to_json() == {"didDocument": None, "didDocumentMetadata": {}, "didResolutionMetadata": {"error": "notFound"}}


@pytest.mark.parametrize(
    "response,error",
    [
        (body(b"{}", status=500), "internalError"),
        (body(b"{}", status=403), "internalError"),
        (body(b"<html>"), "internalError"),
        (body(b"[1, 2]"), "invalidDidDocument"),
        (body(b'{"id": "did:web:evil.example"}'), "invalidDidDocument"),
    ],
)
def test_resolve_did_web_failures(https_server, response, error):
    did = f"did:web:{https_server.did_host}"
    https_server.special["/.well-known/did.json"] = response
    result = resolve(did, resolvers=_online(https_server))
    assert result.error == error, result.message
    assert result.did_document is None


# -- dereference --------------------------------------------------------------------------------


def test_dereference_a_did_gives_its_document():
    result = dereference(ED.did)
    assert isinstance(result, DereferencingResult)
    assert result.error is None
    assert result.to_json() == {
        "contentStream": did_key_method.resolve(ED.did),
        "contentMetadata": {},
        "dereferencingMetadata": {"contentType": DID_LD_JSON},
    }


def test_dereference_a_verification_method():
    result = dereference(ED.verification_method)
    assert result.error is None and result.content_metadata == {}
    assert result.dereferencing_metadata == {"contentType": DID_LD_JSON}
    assert result.content_stream == {"@context": did_key_method.CONTEXT, **ED.to_multikey()}
    as_json = dereference(ED.verification_method, accept=DID_JSON)
    assert as_json.content_stream == ED.to_multikey()
    assert as_json.dereferencing_metadata == {"contentType": DID_JSON}
    assert json.loads(json.dumps(result.to_json()))["contentStream"]["id"] == ED.verification_method


def test_dereference_the_key_agreement_method_and_json_web_keys():
    agreement = resolve(ED.did).did_document["keyAgreement"][0]
    result = dereference(agreement)
    assert result.content_stream["id"] == agreement and result.content_stream["type"] == "Multikey"
    assert result.content_stream["publicKeyMultibase"] == agreement.split("#")[1]
    as_jwk = dereference(agreement, public_key_format="JsonWebKey2020")
    assert as_jwk.content_stream["@context"] == did_key_method.JWK_CONTEXT
    assert as_jwk.content_stream["publicKeyJwk"]["crv"] == "X25519"
    # without derivation there is no such method
    assert dereference(agreement, enable_encryption_key_derivation=False).error == "notFound"


def test_dereference_did_jwk():
    did = did_jwk(P256)
    result = dereference(did + "#0")
    assert result.error is None
    assert result.content_stream["publicKeyJwk"] == P256.to_jwk()
    assert result.content_stream["id"] == did + "#0"


def test_dereference_relative_ids_and_services(https_server):
    did = f"did:web:{https_server.did_host}"
    _publish(https_server, did)
    resolvers = _online(https_server)
    method = dereference(did + "#key-1", resolvers=resolvers)
    assert method.error is None
    assert method.content_stream["id"] == did + "#key-1"  # absolute, though the document's is relative
    assert method.content_stream["publicKeyMultibase"] == ED.public_key_multibase
    assert method.content_stream["@context"][0] == "https://www.w3.org/ns/did/v1"
    service = dereference(did + "#files", resolvers=resolvers)
    assert service.content_stream["type"] == "LinkedDomains"
    assert dereference(did + "#key-2", resolvers=resolvers).error == "notFound"


def test_dereference_a_method_embedded_in_a_relationship():
    did = "did:example:mill"
    document = {
        "id": did,
        "authentication": [
            {"id": f"{did}#auth", "type": "Multikey", "controller": did, "publicKeyMultibase": ED.public_key_multibase}
        ],
    }
    result = dereference(f"{did}#auth", resolvers=DidResolvers({"example": _Returning(document)}))
    assert result.error is None and result.content_stream == document["authentication"][0]
    assert result.dereferencing_metadata == {"contentType": DID_JSON}


@pytest.mark.parametrize(
    "url,error",
    [
        (None, "invalidDidUrl"),
        (7, "invalidDidUrl"),
        ("", "invalidDidUrl"),
        ("#key-1", "invalidDidUrl"),
        ("did:key#z6Mk", "invalidDidUrl"),
        ("did:key:a b#x", "invalidDidUrl"),
        (ED.did + "#a b", "invalidDidUrl"),
        (ED.did + "#a#b", "invalidDidUrl"),
        (ED.did + "#%zz", "invalidDidUrl"),
        (ED.did + "/a b", "invalidDidUrl"),
        ("did:key:z6Mk0OIl#z6Mk0OIl", "invalidDidUrl"),  # the DID is invalidDid
        (ED.did + "#", "notFound"),
        (ED.did + "#z6MkNotThere", "notFound"),
        (ED.did + "/path", "notFound"),
        (ED.did + "?versionId=1", "notFound"),
        (ED.did + "?service=files#x", "notFound"),
        ("did:example:123#key-1", "methodNotSupported"),
        (did_key(0xED, bytes([1]) + bytes(31)) + "#x", "invalidPublicKey"),
        (did_key(0xED, ED.public_key_bytes[:31]) + "#x", "invalidPublicKeyLength"),
        (did_key(0xE7, b"\x02" + bytes(32)) + "#x", "unsupportedPublicKeyType"),
        ("did:web:mill.example#key-1", "internalError"),  # offline
    ],
)
def test_dereference_errors(url, error):
    result = dereference(url)
    assert result.error == error, result.message
    assert result.content_stream is None and result.content_metadata == {}
    assert result.dereferencing_metadata == {"error": error}
    assert result.to_json()["contentStream"] is None


def test_dereference_passes_the_representation_error_on():
    assert dereference(ED.verification_method, accept="text/html").error == "representationNotSupported"


def test_dereference_did_web_not_found(https_server):
    did = f"did:web:{https_server.did_host}"
    assert dereference(did + "#key-1", resolvers=_online(https_server)).error == "notFound"


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=80))
def test_resolve_and_dereference_never_raise(suffix):
    for value in ("did:key:" + suffix, "did:jwk:" + suffix, "did:" + suffix, suffix):
        assert isinstance(resolve(value), ResolutionResult)
        assert isinstance(dereference(value), DereferencingResult)


def test_resolution_errors_must_be_did_resolution_names():
    assert {"invalidDid", "notFound", "methodNotSupported", "invalidPublicKey"} <= RESOLUTION_ERRORS
    assert DidResolutionError("x", error="notFound").error == "notFound"
    with pytest.raises(ValueError, match="not a DID Resolution error"):
        DidResolutionError("x", error="NOT_FOUND")


def test_the_resolution_module_pulls_in_no_application_code():
    code = (
        "import sys, tradevc.vc.retrieval.did.resolution;"
        "print(','.join(m for m in ('click', 'tradevc.issuer', 'tradevc.verifier', 'tradevc.wallet',"
        " 'tradevc.vc.securing', 'tradevc.vc.verification') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""
