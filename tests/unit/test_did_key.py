"""did:key resolution (vc.did.key) and DID URL parsing (vc.did)."""

from __future__ import annotations

import hashlib
import os

import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import load_vector
from tradevc.vc.retrieval.did import DID_RE, DidResolutionError, DidResolver, parse_did_url
from tradevc.vc.retrieval.did.key import CONTEXT, JWK_CONTEXT, DidKeyResolver, resolve, x25519_from_ed25519
from tradevc.vc.retrieval.did.resolver import DidResolvers, retrieve_verification_method
from tradevc.vc.errors import KeyMaterialError, ResolutionError
from tradevc.vc.keys import KeyPair
from tradevc.vc.multibase import base58btc_decode, base58btc_encode, base64url_decode, multicodec_unwrap, multicodec_wrap

SIGNING_RELATIONSHIPS = ["authentication", "assertionMethod", "capabilityDelegation", "capabilityInvocation"]


ED = KeyPair.generate("Ed25519")
P256 = KeyPair.generate("P-256")
IDENTITY = bytes([1]) + bytes(31)
# a u-coordinate of a point of order 8 of Curve25519 (2 is the u of a point of the twist)
X25519_ORDER_8 = 325606250916557431795983626356110631294008115727848805560023387167927233504


def did_key(code: int, data: bytes) -> str:
    return "did:key:z" + base58btc_encode(multicodec_wrap(code, data))


# -- vectors (w3c-ccg/did-method-key) ---------------------------------------------------------------


def _expected_public_bytes(vm: dict) -> bytes:
    if "publicKeyBase58" in vm:
        return base58btc_decode(vm["publicKeyBase58"])
    jwk = vm["publicKeyJwk"]
    if jwk["kty"] == "OKP":
        return base64url_decode(jwk["x"])
    # compressed SEC1: 02/03 by the parity of y, then x
    y = base64url_decode(jwk["y"])
    return bytes([2 + (y[-1] & 1)]) + base64url_decode(jwk["x"])


def _supported_vectors() -> dict[str, dict]:
    vectors = {}
    for did, vector in load_vector("did-key/ed25519-x25519.json").items():
        vectors[did] = vector["didDocument"]
    for did, vector in load_vector("did-key/nist-curves.json").items():
        if not did.startswith("did:key:z2J9"):  # P-521 is not supported
            vectors[did] = vector["didDocument"]
    return vectors


VECTORS = _supported_vectors()


@pytest.mark.parametrize("did", list(VECTORS), ids=lambda did: did[8:24])
def test_resolve_vectors(did):
    expected = VECTORS[did]
    document = resolve(did)
    assert document["@context"] == CONTEXT == [
        "https://www.w3.org/ns/did/v1",
        "https://w3id.org/security/multikey/v1",
    ]
    assert document["id"] == did == expected["id"]
    vm = document["verificationMethod"][0]
    expected_vm = expected["verificationMethod"][0]
    # the vectors use older VM types (Ed25519VerificationKey2018, JsonWebKey2020, P256Key2021);
    # what must agree is the id (did#multibase), the controller and the key bytes
    assert vm["id"] == expected_vm["id"] == f"{did}#{did[len('did:key:'):]}"
    assert vm["type"] == "Multikey"
    assert vm["controller"] == expected_vm["controller"] == did
    assert vm["publicKeyMultibase"] == did[len("did:key:"):]
    assert KeyPair.from_multibase(vm["publicKeyMultibase"]).public_key_bytes == _expected_public_bytes(expected_vm)
    for relationship in SIGNING_RELATIONSHIPS:
        assert document[relationship] == expected[relationship] == [vm["id"]]
    if did.startswith("did:key:z6Mk"):
        # Ed25519: the derived X25519 key, byte for byte as the vector has it
        derived = document["verificationMethod"][1]
        expected_derived = expected["verificationMethod"][1]
        assert len(document["verificationMethod"]) == len(expected["verificationMethod"]) == 2
        assert derived["id"] == expected_derived["id"] and derived["id"].startswith(f"{did}#z6LS")
        assert derived["type"] == "Multikey" and derived["controller"] == did
        assert document["keyAgreement"] == expected["keyAgreement"] == [derived["id"]]
        code, raw = multicodec_unwrap(base58btc_decode(derived["publicKeyMultibase"][1:]))
        assert code == 0xEC
        assert raw == _expected_public_bytes(expected_derived)
        assert derived["id"] == f"{did}#{derived['publicKeyMultibase']}"
    else:
        # P-256 / P-384: no derived key (the older vectors list the signing key itself)
        assert len(document["verificationMethod"]) == 1
        assert "keyAgreement" not in document
    assert DidKeyResolver().resolve(did) == document


@pytest.mark.parametrize("did", list(VECTORS), ids=lambda did: did[8:24])
def test_resolve_vectors_without_encryption_key_derivation(did):
    document = resolve(did, enable_encryption_key_derivation=False)
    assert [vm["id"] for vm in document["verificationMethod"]] == [VECTORS[did]["verificationMethod"][0]["id"]]
    assert "keyAgreement" not in document
    resolver = DidKeyResolver(enable_encryption_key_derivation=False)
    assert resolver.resolve(did) == document
    assert resolver.resolve_with_options(did, {"enableEncryptionKeyDerivation": True}) == resolve(did)


def _jwk_vectors() -> list[tuple[str, dict]]:
    vectors = []
    for name in ("ed25519-x25519.json", "nist-curves.json"):
        for did, vector in load_vector(f"did-key/{name}").items():
            if did.startswith("did:key:z2J9"):  # P-521 is not supported
                continue
            if vector["didDocument"]["verificationMethod"][0]["type"] == "JsonWebKey2020":
                vectors.append((did, vector["didDocument"]))
    return vectors


JWK_VECTORS = _jwk_vectors()


def test_there_are_json_web_key_vectors_of_every_supported_curve():
    curves = {doc["verificationMethod"][0]["publicKeyJwk"]["crv"] for _, doc in JWK_VECTORS}
    assert curves == {"Ed25519", "P-256", "P-384"}


@pytest.mark.parametrize("did,expected", JWK_VECTORS, ids=[did[8:24] for did, _ in JWK_VECTORS])
def test_resolve_json_web_key_2020_vectors(did, expected):
    document = resolve(did, public_key_format="JsonWebKey2020")
    assert document["@context"] == JWK_CONTEXT == expected["@context"] == [
        "https://www.w3.org/ns/did/v1",
        "https://w3id.org/security/suites/jws-2020/v1",
    ]
    vm = document["verificationMethod"][0]
    expected_vm = expected["verificationMethod"][0]
    # JsonWebKey2020 is the vectors' own type: the whole method must match, x and y byte for byte
    assert vm == expected_vm
    assert set(vm["publicKeyJwk"]) == ({"kty", "crv", "x", "y"} if vm["publicKeyJwk"]["kty"] == "EC" else {"kty", "crv", "x"})
    for relationship in SIGNING_RELATIONSHIPS:
        assert document[relationship] == expected[relationship] == [vm["id"]]
    if did.startswith("did:key:z6Mk"):
        assert document["verificationMethod"][1] == expected["verificationMethod"][1]
        assert document["verificationMethod"][1]["publicKeyJwk"]["crv"] == "X25519"
        assert document["keyAgreement"] == expected["keyAgreement"]
    else:
        assert len(document["verificationMethod"]) == 1 and "keyAgreement" not in document
    assert DidKeyResolver(public_key_format="JsonWebKey2020").resolve(did) == document
    assert DidKeyResolver().resolve_with_options(did, {"publicKeyFormat": "JsonWebKey2020"}) == document


@pytest.mark.parametrize("did", [d for d in VECTORS if d.startswith("did:key:z6Mk")], ids=lambda did: did[8:24])
def test_x25519_derivation_matches_the_vector_key_pairs(did):
    # the vectors' X25519 private key must give the public key we derive (RFC 7748 base point)
    vector = load_vector("did-key/ed25519-x25519.json")[did]
    agreement = vector["keyAgreementKeyPair"]
    if "privateKeyBase58" in agreement:
        private = X25519PrivateKey.from_private_bytes(base58btc_decode(agreement["privateKeyBase58"]))
        expected = private.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    else:
        expected = base64url_decode(agreement["publicKeyJwk"]["x"])
    ed_public = KeyPair.from_multibase(did[len("did:key:"):]).public_key_bytes
    assert x25519_from_ed25519(ed_public) == expected


def test_x25519_derivation_agrees_with_the_ed25519_secret():
    # X25519 with the clamped SHA-512 half of the Ed25519 seed is the Montgomery form of the same point
    for _ in range(5):
        seed = os.urandom(32)
        ed_public = Ed25519PrivateKey.from_private_bytes(seed).public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
        scalar = hashlib.sha512(seed).digest()[:32]
        x_public = X25519PrivateKey.from_private_bytes(scalar).public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
        assert x25519_from_ed25519(ed_public) == x_public


@pytest.mark.parametrize("value", [b"", bytes(31), bytes(33), "a" * 32, IDENTITY])
def test_x25519_derivation_refuses_what_has_no_counterpart(value):
    with pytest.raises(ValueError):
        x25519_from_ed25519(value)


def test_resolve_generated_keys_and_documents_are_fresh():
    for key_type in ("Ed25519", "P-256", "P-384"):
        key = KeyPair.generate(key_type)
        document = resolve(key.did)
        assert document["verificationMethod"][0] == key.to_multikey()
        assert len(document["verificationMethod"]) == (2 if key_type == "Ed25519" else 1)
        assert document["assertionMethod"] == [key.verification_method]
        document["@context"].append("mutated")
        document["verificationMethod"][0]["type"] = "mutated"
        assert resolve(key.did)["@context"] == CONTEXT
        assert resolve(key.did)["verificationMethod"][0] == key.to_multikey()


@pytest.mark.parametrize("value", ["Ed25519VerificationKey2020", "multikey", "JsonWebKey", "", None])
def test_resolve_refuses_unknown_public_key_formats(value):
    with pytest.raises(DidResolutionError, match="not supported") as e:
        resolve(ED.did, public_key_format=value)
    assert e.value.error == "unsupportedPublicKeyType"


@pytest.mark.parametrize("value", [None, 1, "true"])
def test_resolve_refuses_a_non_boolean_derivation_option(value):
    with pytest.raises(TypeError):
        resolve(ED.did, enable_encryption_key_derivation=value)


def test_did_key_resolver_is_a_did_resolver():
    assert isinstance(DidKeyResolver(), DidResolver)
    assert "key" in DidResolvers.offline().methods


def test_retrieve_verification_method_through_the_offline_resolvers():
    key = KeyPair.generate("P-256")
    method = retrieve_verification_method(key.verification_method, DidResolvers.offline())
    assert method.key.did == key.did and method.type == "Multikey"
    assert method.is_listed_under("assertionMethod") and not method.is_listed_under("keyAgreement")


def test_the_derived_key_agreement_method_is_not_a_signing_key():
    document = resolve(ED.did)
    agreement = document["keyAgreement"][0]
    with pytest.raises(ResolutionError, match="unusable key material") as e:
        retrieve_verification_method(agreement, DidResolvers.offline())
    assert e.value.code == "INVALID_VERIFICATION_METHOD"
    # the signing method is still listed only under the signing relationships
    method = retrieve_verification_method(ED.verification_method, DidResolvers.offline())
    assert method.relationships == frozenset(SIGNING_RELATIONSHIPS)


# -- refusals -----------------------------------------------------------------------------------



@pytest.mark.parametrize(
    "did,message,error",
    [
        ("did:web:example.com", "not a did:key", "invalidDid"),
        ("did:KEY:" + ED.public_key_multibase, "not a did:key", "invalidDid"),
        ("key:" + ED.public_key_multibase, "not a did:key", "invalidDid"),
        (ED.public_key_multibase, "not a did:key", "invalidDid"),
        ("did:key:", "no key", "invalidDid"),
        (ED.did + "#" + ED.public_key_multibase, "a fragment", "invalidDid"),
        (ED.did + "/path", "a path", "invalidDid"),
        (ED.did + "?versionId=1", "a query", "invalidDid"),
        ("did:key:u" + "A" * 46, "base58btc multibase", "invalidDid"),
        ("did:key:" + ED.public_key_multibase[1:], "base58btc multibase", "invalidDid"),
        ("did:key:z6Mk0OIl", "base58btc character", "invalidDid"),
        ("did:key:zNotAKey", "multicodec", "unsupportedPublicKeyType"),
        ("did:key:z", "truncated", "invalidDid"),
        (did_key(0xEC, bytes(31)), "32 bytes, not 31", "invalidPublicKeyLength"),
        (did_key(0xEC, ED.public_key_bytes + b"\x00"), "32 bytes, not 33", "invalidPublicKeyLength"),
        (did_key(0xEC, bytes(32)), "small order", "invalidPublicKey"),  # u = 0
        (did_key(0xEC, (1).to_bytes(32, "little")), "small order", "invalidPublicKey"),  # order 4
        (did_key(0xEC, X25519_ORDER_8.to_bytes(32, "little")), "small order", "invalidPublicKey"),
        (did_key(0xEC, (2**255 - 19).to_bytes(32, "little")), "non-canonical", "invalidPublicKey"),  # u = p
        (did_key(0xEC, (2**255 - 19 + 4).to_bytes(32, "little")), "non-canonical", "invalidPublicKey"),
        (did_key(0xEC, (2).to_bytes(32, "little")), "twist", "invalidPublicKey"),
        (did_key(0xEC, (2**255 - 20).to_bytes(32, "little")), "twist", "invalidPublicKey"),  # u = -1
        (did_key(0x99, ED.public_key_bytes), "unknown", "unsupportedPublicKeyType"),
        (did_key(0xED, ED.public_key_bytes[:31]), "32 bytes, not 31", "invalidPublicKeyLength"),
        (did_key(0x1200, ED.public_key_bytes), r"33 bytes.*, not 32", "invalidPublicKeyLength"),  # Ed25519 key, P-256 codec
        (did_key(0xED, P256.public_key_bytes), "32 bytes, not 33", "invalidPublicKeyLength"),
        (did_key(0x1200, b"\x02" + (2**256 - 2**224 + 2**192 + 2**96 - 1).to_bytes(32, "big")), "P-256", "invalidPublicKey"),
        (did_key(0xED, IDENTITY), "small order", "invalidPublicKey"),
        (did_key(0xED, bytes(32)), "small order", "invalidPublicKey"),
        (did_key(0xED, bytes.fromhex("ee" + "ff" * 30 + "7f")), "non-canonical", "invalidPublicKey"),
        (did_key(0x1300, bytes(32)), "secret key", "unsupportedPublicKeyType"),
    ],
)
def test_resolve_refuses(did, message, error):
    with pytest.raises(DidResolutionError, match=message) as e:
        resolve(did)
    assert did in e.value.message
    assert e.value.code == "RESOLUTION_ERROR"
    assert e.value.error == error
    with pytest.raises(ResolutionError):
        DidKeyResolver().resolve(did)


def test_key_errors_are_chained_as_the_cause():
    with pytest.raises(ResolutionError) as e:
        resolve(did_key(0xED, IDENTITY))
    assert isinstance(e.value.__cause__, KeyMaterialError)
    assert "weak Ed25519 public key" in e.value.diagnostics()


@pytest.mark.parametrize("value", [None, 42, b"did:key:z6Mk"])
def test_resolve_refuses_non_strings(value):
    with pytest.raises(ResolutionError, match="string"):
        resolve(value)


@pytest.mark.parametrize("name", ["secp256k1", "bls12381", "rsa"])
def test_resolve_refuses_unsupported_vector_key_types(name):
    for did in load_vector(f"did-key/{name}.json"):
        with pytest.raises(ResolutionError, match="multicodec") as e:
            resolve(did)
        assert isinstance(e.value.__cause__, KeyMaterialError)
        assert e.value.error == "unsupportedPublicKeyType"


def test_resolve_refuses_p521_vectors():
    dids = [d for d in load_vector("did-key/nist-curves.json") if d.startswith("did:key:z2J9")]
    assert len(dids) == 2
    for did in dids:
        with pytest.raises(ResolutionError, match="p521-pub") as e:
            resolve(did)
        assert e.value.error == "unsupportedPublicKeyType"


X25519_VECTORS = load_vector("did-key/x25519.json")["didDocument"]


@pytest.mark.parametrize("did", list(X25519_VECTORS), ids=lambda did: did[8:24])
def test_resolve_x25519_vectors(did):
    expected = X25519_VECTORS[did]
    expected_vm = expected["verificationMethod"][0]
    jwk = expected_vm["type"] == "JsonWebKey2020"
    public_key_format = "JsonWebKey2020" if jwk else "Multikey"
    document = resolve(did, public_key_format=public_key_format)
    assert document["@context"] == (JWK_CONTEXT if jwk else CONTEXT)
    (vm,) = document["verificationMethod"]
    assert vm["id"] == expected_vm["id"] == f"{did}#{did[len('did:key:'):]}"
    assert vm["controller"] == expected_vm["controller"] == did
    # a key agreement key: keyAgreement only, never a signing relationship
    assert document["keyAgreement"] == expected["keyAgreement"] == [vm["id"]]
    assert not any(r in document for r in SIGNING_RELATIONSHIPS)
    if jwk:
        assert vm == expected_vm
    else:
        code, raw = multicodec_unwrap(base58btc_decode(vm["publicKeyMultibase"][1:]))
        assert (code, raw) == (0xEC, _expected_public_bytes(expected_vm))
    # derivation applies to Ed25519 keys only
    assert resolve(did, public_key_format=public_key_format, enable_encryption_key_derivation=False) == document


def test_a_derived_key_agreement_key_resolves_as_its_own_did_key():
    derived = resolve(ED.did)["verificationMethod"][1]
    own = resolve("did:key:" + derived["publicKeyMultibase"])
    assert own["verificationMethod"][0]["publicKeyMultibase"] == derived["publicKeyMultibase"]
    assert own["keyAgreement"] == [own["verificationMethod"][0]["id"]]


def test_an_x25519_did_key_is_not_a_signing_key():
    did = next(iter(X25519_VECTORS))
    with pytest.raises(ResolutionError, match="unusable key material") as e:
        retrieve_verification_method(f"{did}#{did[len('did:key:'):]}", DidResolvers.offline())
    assert e.value.code == "INVALID_VERIFICATION_METHOD"


def test_the_identity_key_forgery_is_stopped_at_resolution():
    did = did_key(0xED, IDENTITY)
    forged = IDENTITY + bytes(32)  # R = identity, S = 0
    # the danger: cryptography alone accepts this signature for any message
    Ed25519PublicKey.from_public_bytes(IDENTITY).verify(forged, b"I owe you 1,000,000")
    # did:key resolution and verification method retrieval refuse the key
    with pytest.raises(ResolutionError, match="small order"):
        resolve(did)
    with pytest.raises(ResolutionError) as e:
        retrieve_verification_method(did + "#" + did[len("did:key:"):], DidResolvers.offline())
    assert "small order" in e.value.diagnostics()
    # and a real key never accepts the forged signature
    with pytest.raises(InvalidSignature):
        ED.verify(forged, b"I owe you 1,000,000")


@settings(max_examples=150, deadline=None)
@given(st.text(max_size=60))
def test_resolve_raises_only_resolution_error(suffix):
    try:
        resolve("did:key:" + suffix)
    except DidResolutionError as e:
        assert e.error in ("invalidDid", "unsupportedPublicKeyType", "invalidPublicKeyLength", "invalidPublicKey")


# -- parse_did_url ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url,expected",
    [
        ("did:key:z6MkA#z6MkA", ("did:key:z6MkA", "z6MkA")),
        ("did:key:z6MkA", ("did:key:z6MkA", None)),
        ("did:example:123#key-1", ("did:example:123", "key-1")),
        ("did:web:example.com%3A8443:users:alice#owner", ("did:web:example.com%3A8443:users:alice", "owner")),
        ("did:ex::a#f", ("did:ex::a", "f")),
        ("did:example:123#", ("did:example:123", "")),
        ("did:example:123#a/b?c:d@e!$&'()*+,;=~%20", ("did:example:123", "a/b?c:d@e!$&'()*+,;=~%20")),
    ],
)
def test_parse_did_url(url, expected):
    assert parse_did_url(url) == expected


@pytest.mark.parametrize(
    "url,message",
    [
        ("", "not a valid DID"),
        ("did:", "not a valid DID"),
        ("did:key", "not a valid DID"),
        ("did:key:", "not a valid DID"),
        ("did::abc", "not a valid DID"),
        ("did:KEY:abc", "not a valid DID"),
        ("did:key:abc:", "not a valid DID"),
        ("did:key:a b", "not a valid DID"),
        ("did:key:%zz", "not a valid DID"),
        ("did:key:caf\u00e9", "not a valid DID"),
        ("DID:key:abc", "not a valid DID"),
        ("urn:uuid:1234", "not a valid DID"),
        ("did:web:example.com/path#key", "path or query"),
        ("did:web:example.com?service=x#key", "path or query"),
        ("did:example:123#a b", "invalid fragment"),
        ("did:example:123#a#b", "invalid fragment"),
        ("did:example:123#%g0", "invalid fragment"),
    ],
)
def test_parse_did_url_refuses(url, message):
    for _ in range(2):  # results are remembered; refusals are not, they raise every time
        with pytest.raises(ResolutionError, match=message):
            parse_did_url(url)


def test_parse_did_url_parses_long_urls_without_keeping_them():
    did = "did:web:example.com:" + "a" * 2000
    assert parse_did_url(did + "#k") == (did, "k")
    with pytest.raises(ResolutionError, match="invalid fragment"):
        parse_did_url(did + "#a b")


@pytest.mark.parametrize("value", [None, 1, b"did:key:z6Mk"])
def test_parse_did_url_refuses_non_strings(value):
    with pytest.raises(ResolutionError, match="string"):
        parse_did_url(value)


def test_did_re_accepts_every_generated_did():
    for key_type in ("Ed25519", "P-256", "P-384"):
        assert DID_RE.fullmatch(KeyPair.generate(key_type).did)
