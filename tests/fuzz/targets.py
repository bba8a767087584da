"""Fuzz targets: the parsers that read bytes an attacker chooses, each as a function of one
input that either returns or raises one of the errors that parser documents. Anything else
it raises is a crash. ``make fuzz`` runs them under atheris (tests/fuzz/run.py, coverage
guided, from the seeds below); tests/property/test_fuzz_targets.py runs them under
hypothesis in ``make test`` (derandomized, a few hundred inputs) so that they keep working.

To point a target at another parser (the strict JSON reader moving into a shared module,
say), change the one function it calls: the seeds, the runner and the tests stay.

No target reaches the network: the did:web target hands its bytes to the resolver through
a fetcher whose HTTP step is replaced by the input."""

from __future__ import annotations

import base64
import gzip
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Target:
    name: str
    one_input: Callable[[bytes], bool]
    """Reads one input: True if the parser accepted it, False if it refused it with one of its
    documented errors; any other exception is a crash."""
    seeds: Callable[[], list[bytes]]


def _text(data: bytes) -> str:
    """The input as text: its UTF-8 if it is UTF-8, else each byte as the character of its value."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("latin-1")


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode("ascii").rstrip("=")


# -- the strict JSON reader (duplicate members refused) -------------------------------------------


def json_reader(data: bytes) -> bool:
    from tradevc.vc.errors import InvalidDocument
    from tradevc.vc.jsontext import loads as read  # the one strict (I-JSON) reader under test

    try:
        value = read(data)
    except (InvalidDocument, ValueError, UnicodeDecodeError, RecursionError):
        return False
    # what it accepts, the standard library reads alike (NaN written as NaN on both sides)
    assert json.dumps(value, sort_keys=True) == json.dumps(json.loads(data), sort_keys=True), data
    return True


def json_seeds() -> list[bytes]:
    return [b'{"a":1}', b'{"a":1,"a":2}', b' {"a" : [1, 2.5e3, "\\u00e9", null, true]} ', b"[]", b'"x"',
            json.dumps({"credentialSubject": {"id": "did:example:1", "n": [1, {"b": None}]}}).encode()]


# -- the compact JWS parser -------------------------------------------------------------------------


def jws_parser(data: bytes) -> bool:
    """The first byte chooses how the rest is read: as the token's text, or as its header,
    payload and signature bytes, each base64url-encoded (so that the JSON inside is fuzzed)."""
    from tradevc.vc.errors import InvalidDocument
    from tradevc.vc.securing.jws import parse_compact_jws

    if data[:1] == b"\x00":
        parts = data[1:].split(b"\xff", 2)
        token = ".".join(_b64(part) for part in parts)
    else:
        token = _text(data[1:])
    try:
        jws = parse_compact_jws(token)
    except InvalidDocument:
        return False
    assert isinstance(jws.header, dict) and isinstance(jws.payload, dict) and jws.signature
    return True


def jws_seeds() -> list[bytes]:
    header, payload = b'{"alg":"EdDSA","kid":"did:key:z6Mk#z6Mk","typ":"vc+jwt"}', b'{"iss":"did:example:1"}'
    token = f"{_b64(header)}.{_b64(payload)}.{_b64(b'sig')}"
    return [b"\x01" + token.encode(), b"\x00" + header + b"\xff" + payload + b"\xffsig",
            b"\x00" + b'{"alg":"none","alg":"EdDSA"}' + b"\xff{}\xffs", b"\x01a.b.c.d.e", b"\x01e30.e30."]


# -- the did:web document, as fetched ----------------------------------------------------------------

WEB_DID = "did:web:issuer.example"


def did_web_document(data: bytes) -> bool:
    """A body served as ``https://issuer.example/.well-known/did.json``, read by the did:web
    resolver and searched for the key ``#key-1``, as a verifier does (no network)."""
    from tradevc.vc.errors import VcError
    from tradevc.vc.retrieval.did.resolver import DidResolvers, retrieve_verification_method
    from tradevc.vc.retrieval.did.web import DidWebResolver
    from tradevc.vc.retrieval.http import HttpsFetcher

    class Served(HttpsFetcher):
        def _get(self, url: str, *, what: str, accept: str) -> tuple[bytes, str | None]:  # the HTTP step
            assert url == "https://issuer.example/.well-known/did.json", url
            return data, "application/did+json"

    resolvers = DidResolvers({"web": DidWebResolver(Served())})
    try:
        method = retrieve_verification_method(f"{WEB_DID}#key-1", resolvers)
    except VcError:
        return False
    assert method.key is not None
    return True


def did_web_seeds() -> list[bytes]:
    from tradevc.vc.keys import KeyPair

    vm = f"{WEB_DID}#key-1"
    seeds = []
    for key_type in ("Ed25519", "P-256", "P-384"):
        key = KeyPair.generate(key_type)
        for method in ({"type": "Multikey", "publicKeyMultibase": key.public_key_multibase},
                       {"type": "JsonWebKey", "publicKeyJwk": key.to_jwk()}):
            document = {"@context": ["https://www.w3.org/ns/did/v1"], "id": WEB_DID,
                        "verificationMethod": [{"id": vm, "controller": WEB_DID, **method}], "assertionMethod": [vm]}
            seeds.append(json.dumps(document).encode())
    seeds.append(json.dumps({"id": WEB_DID, "assertionMethod": [{"id": "#key-1", "type": "Multikey"}]}).encode())
    return seeds


# -- the status list bitstring -----------------------------------------------------------------------


def status_list(data: bytes) -> bool:
    """The first byte chooses statusSize (1, 2, 4 or 8 bits) and whether the rest is the
    encodedList text itself or the bytes to GZIP and encode (so that the bitstring is fuzzed)."""
    from tradevc.vc.errors import InvalidDocument
    from tradevc.vc.status import BitstringStatusList

    mode = data[0] if data else 0
    size = (1, 2, 4, 8)[mode & 3]
    encoded = "u" + _b64(gzip.compress(data[1:], mtime=0)) if mode & 4 else _text(data[1:])
    try:
        bits = BitstringStatusList.decode(encoded, status_size=size)
    except InvalidDocument:
        return False
    bits.get(bits.length - 1)  # every entry it says it has can be read
    return True


def status_list_seeds() -> list[bytes]:
    from tradevc.vc.status import BitstringStatusList

    small = BitstringStatusList(131_072)
    small.set(5, 1)
    return [b"\x00" + small.encode().encode(), b"\x04" + bytes(16_384), b"\x05" + bytes(16_384) + b"\x01",
            b"\x00uH4sIAAAAAAAAA", b"\x07" + b"\xff" * 40_000]


TARGETS = {
    t.name: t
    for t in (
        Target("json", json_reader, json_seeds),
        Target("jws", jws_parser, jws_seeds),
        Target("did-web", did_web_document, did_web_seeds),
        Target("status-list", status_list, status_list_seeds),
    )
}
