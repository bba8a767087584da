"""Retrieved verification methods are kept: for good for did:key, as long as the DID document
for cached methods, never for resolvers whose documents may change without a cache."""

from __future__ import annotations

from conftest import StaticDidResolver
from tradevc.vc.retrieval.did.key import DidKeyResolver
from tradevc.vc.retrieval.did.resolver import DidResolvers, retrieve_verification_method
from tradevc.vc.keys import KeyPair


def test_did_key_methods_are_kept_for_the_process():
    key = KeyPair.generate("Ed25519")
    vm = f"{key.did}#{key.public_key_multibase}"
    first = retrieve_verification_method(vm, DidResolvers.offline())
    assert retrieve_verification_method(vm, DidResolvers.offline()) is first
    # ... but not for a resolver of did:key that is not ours
    static = StaticDidResolver(key.did, key, ["assertionMethod"])
    static.document["verificationMethod"][0]["id"] = vm
    assert retrieve_verification_method(vm, DidResolvers({"key": static})) is not first


def test_uncached_resolvers_are_asked_every_time():
    key, other = KeyPair.generate("Ed25519"), KeyPair.generate("Ed25519")
    static = StaticDidResolver("did:example:mill", key, ["assertionMethod"])
    resolvers = DidResolvers({"example": static})
    assert retrieve_verification_method("did:example:mill#key-1", resolvers).key.did == key.did
    static.document["verificationMethod"][0]["publicKeyMultibase"] = other.public_key_multibase
    assert retrieve_verification_method("did:example:mill#key-1", resolvers).key.did == other.did


def test_cached_documents_bound_their_methods():
    now = [0.0]
    key, other = KeyPair.generate("Ed25519"), KeyPair.generate("Ed25519")
    static = StaticDidResolver("did:example:mill", key, ["assertionMethod"])
    resolvers = DidResolvers({"example": static}, cache_ttl=10, clock=lambda: now[0])
    first = retrieve_verification_method("did:example:mill#key-1", resolvers)
    static.document["verificationMethod"][0]["publicKeyMultibase"] = other.public_key_multibase
    now[0] = 5.0
    assert retrieve_verification_method("did:example:mill#key-1", resolvers) is first
    resolvers.clear_cache()
    assert retrieve_verification_method("did:example:mill#key-1", resolvers).key.did == other.did
    static.document["verificationMethod"][0]["publicKeyMultibase"] = key.public_key_multibase
    now[0] = 25.0
    assert retrieve_verification_method("did:example:mill#key-1", resolvers).key.did == key.did


def test_did_key_methods_of_another_public_key_format_are_not_shared():
    key = KeyPair.generate("Ed25519")
    default = retrieve_verification_method(key.verification_method, DidResolvers.offline())
    as_jwk = DidResolvers({"key": DidKeyResolver(public_key_format="JsonWebKey2020")})
    other = retrieve_verification_method(key.verification_method, as_jwk)
    assert (default.type, other.type) == ("Multikey", "JsonWebKey2020")
    assert other.key.public_key_bytes == default.key.public_key_bytes
    assert retrieve_verification_method(key.verification_method, DidResolvers.offline()) is default
    assert retrieve_verification_method(key.verification_method, as_jwk).type == "JsonWebKey2020"
