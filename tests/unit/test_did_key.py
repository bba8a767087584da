"""did:key resolution (vc.did.key) and DID URL parsing (vc.did)."""

from __future__ import annotations

import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import load_vector
from vc.did import DID_RE, DidResolver, parse_did_url
from vc.did.key import CONTEXT, DidKeyResolver, resolve
from vc.did.resolver import DidResolvers, retrieve_verification_method
from vc.errors import KeyMaterialError, ResolutionError
from vc.keys import KeyPair
from vc.multibase import base58btc_decode, base58btc_encode, base64url_decode, multicodec_wrap

SIGNING_RELATIONSHIPS = ["authentication", "assertionMethod", "capabilityDelegation", "capabilityInvocation"]


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
    (vm,) = document["verificationMethod"]
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
    # no keyAgreement here (the vectors derive an X25519 key for Ed25519, and list P-256 keys)
    assert "keyAgreement" not in document
    assert DidKeyResolver().resolve(did) == document


def test_resolve_generated_keys_and_documents_are_fresh():
    for key_type in ("Ed25519", "P-256", "P-384"):
        key = KeyPair.generate(key_type)
        document = resolve(key.did)
        assert document["verificationMethod"] == [key.to_multikey()]
        assert document["assertionMethod"] == [key.verification_method]
        document["@context"].append("mutated")
        assert resolve(key.did)["@context"] == CONTEXT


def test_did_key_resolver_is_a_did_resolver():
    assert isinstance(DidKeyResolver(), DidResolver)
    assert "key" in DidResolvers.offline().methods


def test_retrieve_verification_method_through_the_offline_resolvers():
    key = KeyPair.generate("P-256")
    method = retrieve_verification_method(key.verification_method, DidResolvers.offline())
    assert method.key.did == key.did and method.type == "Multikey"
    assert method.is_listed_under("assertionMethod") and not method.is_listed_under("keyAgreement")


# -- refusals -----------------------------------------------------------------------------------

ED = KeyPair.generate("Ed25519")
P256 = KeyPair.generate("P-256")
IDENTITY = bytes([1]) + bytes(31)


@pytest.mark.parametrize(
    "did,message",
    [
        ("did:web:example.com", "not a did:key"),
        ("did:KEY:" + ED.public_key_multibase, "not a did:key"),
        ("key:" + ED.public_key_multibase, "not a did:key"),
        (ED.public_key_multibase, "not a did:key"),
        ("did:key:", "no key"),
        (ED.did + "#" + ED.public_key_multibase, "a fragment"),
        (ED.did + "/path", "a path"),
        (ED.did + "?versionId=1", "a query"),
        ("did:key:u" + "A" * 46, "base58btc multibase"),
        ("did:key:" + ED.public_key_multibase[1:], "base58btc multibase"),
        ("did:key:z6Mk0OIl", "base58btc character"),
        ("did:key:zNotAKey", "multicodec"),
        ("did:key:z", "truncated"),
        (did_key(0xEC, ED.public_key_bytes), "x25519-pub"),
        (did_key(0x99, ED.public_key_bytes), "unknown"),
        (did_key(0xED, ED.public_key_bytes[:31]), "32 bytes, not 31"),
        (did_key(0x1200, ED.public_key_bytes), r"33 bytes.*, not 32"),  # Ed25519 key, P-256 codec
        (did_key(0xED, P256.public_key_bytes), "32 bytes, not 33"),
        (did_key(0x1200, b"\x02" + (2**256 - 2**224 + 2**192 + 2**96 - 1).to_bytes(32, "big")), "P-256"),
        (did_key(0xED, IDENTITY), "small order"),
        (did_key(0xED, bytes(32)), "small order"),
        (did_key(0xED, bytes.fromhex("ee" + "ff" * 30 + "7f")), "non-canonical"),
        (did_key(0x1300, bytes(32)), "secret key"),
    ],
)
def test_resolve_refuses(did, message):
    with pytest.raises(ResolutionError, match=message) as e:
        resolve(did)
    assert did in e.value.message
    assert e.value.code == "RESOLUTION_ERROR"
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


def test_resolve_refuses_p521_and_x25519_vectors():
    dids = [d for d in load_vector("did-key/nist-curves.json") if d.startswith("did:key:z2J9")]
    dids += list(load_vector("did-key/x25519.json")["didDocument"])
    assert len(dids) >= 3
    for did in dids:
        with pytest.raises(ResolutionError, match="p521-pub|x25519-pub"):
            resolve(did)


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
    except ResolutionError:
        pass


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
