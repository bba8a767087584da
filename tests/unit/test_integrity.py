"""Integrity of related resources (VC Data Model 2.0 section 5.3): digestSRI and
digestMultibase (multihash and raw forms) are parsed strictly, compared with the exact bytes
the verifier holds (pinned contexts, held schemas), and a resource it does not hold is
reported as not checked, never fetched."""

from __future__ import annotations

import base64
import hashlib
from datetime import datetime, timezone
from importlib import resources

import pytest

from conftest import load_vector
from tradevc.issuer import sign_credential
from tradevc.vc.errors import InvalidDocument
from tradevc.vc.checks.integrity import PinnedContextFiles
from tradevc.vc.digests import (
    Digest,
    ResourceIntegrityError,
    check_digests,
    digest_multibase,
    digest_sri,
    parse_digests,
)
from tradevc.vc.keys import KeyPair
from tradevc.vc.multibase import base58btc_encode
from tradevc.verifier import TrustPolicy, verify_credential

NOW = datetime(2026, 6, 15, 12, 0, tzinfo=timezone.utc)
ANY = TrustPolicy.unsafe_any_issuer()
V2 = "https://www.w3.org/ns/credentials/v2"
EXAMPLES_V2 = "https://www.w3.org/ns/credentials/examples/v2"
KEY = KeyPair.generate("Ed25519")
V2_BYTES = resources.files("tradevc.contexts").joinpath("credentials-v2.jsonld").read_bytes()
EXAMPLES_BYTES = resources.files("tradevc.contexts").joinpath("credentials-examples-v2.jsonld").read_bytes()


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


# -- parsing ------------------------------------------------------------------------------------


@pytest.mark.parametrize("algorithm", ["sha256", "sha384", "sha512"])
def test_sri_in_either_base64_alphabet_with_or_without_padding(algorithm):
    digest = hashlib.new(algorithm, b"resource").digest()
    for text in (b64(digest), b64url(digest), b64(digest).rstrip("=")):
        [parsed] = parse_digests({"digestSRI": f"{algorithm}-{text}"}, "x")
        assert (parsed.algorithm, parsed.value, parsed.prop) == (algorithm, digest, "digestSRI")


def test_sri_with_several_expressions_and_options():
    a = hashlib.sha256(b"a").digest()
    b = hashlib.sha384(b"a").digest()
    parsed = parse_digests({"digestSRI": f" sha256-{b64(a)}?ct=application/ld+json  sha384-{b64(b)} "}, "x")
    assert [(d.algorithm, d.value) for d in parsed] == [("sha256", a), ("sha384", b)]
    listed = parse_digests({"digestSRI": [f"sha256-{b64(a)}", f"sha384-{b64(b)}"]}, "x")
    assert [d.value for d in listed] == [a, b]


@pytest.mark.parametrize("value,message", [
    ("sha384-abc", "SHA-384"),
    ("sha1-" + b64(hashlib.sha1(b"a").digest()), "Subresource Integrity"),
    ("md5-" + b64(hashlib.md5(b"a").digest()), "Subresource Integrity"),
    ("sha256:" + b64(hashlib.sha256(b"a").digest()), "Subresource Integrity"),
    ("sha256-" + b64(hashlib.sha384(b"a").digest()), "SHA-256"),  # a digest of the wrong length
    ("sha256-" + b64(hashlib.sha256(b"a").digest()) + "===", "Subresource Integrity"),
    ("", "non-empty string"),
    ([], "non-empty string"),
    (["sha256-" + b64(hashlib.sha256(b"a").digest()), 3], "non-empty string"),
    (None, "non-empty string"),
])
def test_malformed_sri_is_refused(value, message):
    with pytest.raises(InvalidDocument, match=message) as caught:
        parse_digests({"digestSRI": value}, "relatedResource[0]")
    assert caught.value.code == "MALFORMED_VALUE_ERROR"
    assert "relatedResource[0].digestSRI" in caught.value.message


@pytest.mark.parametrize("algorithm,code", [
    ("sha256", 0x12), ("sha384", 0x20), ("sha512", 0x13), ("sha3_256", 0x16), ("sha3_384", 0x15), ("sha3_512", 0x14),
])
def test_multihash_digest_multibase_in_base64url_and_base58btc(algorithm, code):
    digest = hashlib.new(algorithm, b"resource").digest()
    multihash = bytes([code, len(digest)]) + digest
    for text in ("u" + b64url(multihash), "z" + base58btc_encode(multihash)):
        [parsed] = parse_digests({"digestMultibase": text}, "x")
        assert (parsed.algorithm, parsed.value) == (algorithm, digest)


@pytest.mark.parametrize("algorithm", ["sha256", "sha384", "sha512"])
def test_raw_digest_multibase_is_read_as_sha2(algorithm):
    digest = hashlib.new(algorithm, b"resource").digest()
    for text in ("u" + b64url(digest), "z" + base58btc_encode(digest)):
        [parsed] = parse_digests({"digestMultibase": text}, "x")
        assert (parsed.algorithm, parsed.value) == (algorithm, digest)


@pytest.mark.parametrize("payload,message", [
    (bytes([0x12, 0x20]) + bytes(31), "neither"),  # a multihash one byte short
    (bytes([0x12, 0x30]) + bytes(48), "neither"),  # sha2-256 code with a 384-bit length
    (bytes([0x11, 0x14]) + bytes(20), "neither"),  # sha1
    (bytes(20), "neither"),
    (b"", "neither"),
])
def test_malformed_digest_multibase_is_refused(payload, message):
    with pytest.raises(InvalidDocument, match=message):
        parse_digests({"digestMultibase": "u" + b64url(payload)}, "x")


@pytest.mark.parametrize("text", ["mEiA", "", "u====", "uEi+A", "z0OIl"])
def test_digest_multibase_that_is_not_multibase_is_refused(text):
    with pytest.raises(InvalidDocument, match="digestMultibase"):
        parse_digests({"digestMultibase": text}, "x")


def test_helpers_round_trip():
    data = b"the exact bytes"
    for algorithm in ("sha256", "sha384", "sha512"):
        [d] = parse_digests({"digestSRI": digest_sri(data, algorithm)}, "x")
        assert d.matches(data) and not d.matches(data + b" ")
        for form in ("multihash", "raw"):
            for base in ("base64url", "base58btc"):
                [d] = parse_digests({"digestMultibase": digest_multibase(data, algorithm, form=form, base=base)}, "x")
                assert d.matches(data) and d.algorithm == algorithm
    [d] = parse_digests({"digestMultibase": digest_multibase(data, "sha3_384")}, "x")
    assert d.matches(data) and d.name == "SHA3-384"
    with pytest.raises(ValueError):
        digest_multibase(data, "sha3_256", form="raw")  # 32 raw bytes would read as SHA-256
    with pytest.raises(ValueError):
        digest_sri(data, "sha3_256")


def test_check_digests_requires_every_digest_to_match():
    data = b"resource"
    good = parse_digests({"digestSRI": digest_sri(data), "digestMultibase": digest_multibase(data)}, "x")
    check_digests(good, data, "the resource")
    bad = good + [Digest("digestMultibase", "sha256", hashlib.sha256(b"other").digest(), "uEiB...")]
    with pytest.raises(ResourceIntegrityError, match="does not match the resource") as caught:
        check_digests(bad, data, "the resource")
    assert caught.value.code == "RESOURCE_INTEGRITY_ERROR"
    assert digest_sri(data, "sha256") in caught.value.message  # says what the digest really is


def test_pinned_context_files_are_the_exact_pinned_bytes():
    files = PinnedContextFiles()
    assert files.resource_bytes(V2) == V2_BYTES
    assert files.resource_bytes("https://example.com/not-pinned") is None


def test_the_spec_example_digest_of_the_v2_context_has_a_stray_character():
    """VC Data Model 2.0 gives the v2 context's digestSRI as 'sha384-Ml/Hrj...ZbYU': 65 base64
    characters cannot encode 48 bytes. Without the leading 'M' it is exactly the SHA-384 of the
    pinned file, which confirms the pin (and the example's examples-context digest likewise)."""
    spec_value = "sha384-Ml/HrjlBCNWyAX91hr6LFV2Y3heB5Tcr6IeE4/Tje8YyzYBM8IhqjHWiWpr8+ZbYU"
    with pytest.raises(InvalidDocument, match="SHA-384"):
        parse_digests({"digestSRI": spec_value}, "x")
    assert digest_sri(V2_BYTES) == spec_value.replace("-M", "-", 1)
    assert digest_sri(EXAMPLES_BYTES) == "sha384-zNNbQTWCSUSi0bbz7dbua+RcENv7C6FvlmYJ1Y+I727HsPOHdzwELMYO9Mz68M26"


# -- verification ---------------------------------------------------------------------------------


def credential(related=None, **changes):
    document = load_vector("di-eddsa/unsigned.json")
    document["issuer"] = KEY.did
    if related is not None:
        document["relatedResource"] = related
    document.update(changes)
    return document


def signed(related=None, **changes):
    return sign_credential(credential(related, **changes), KEY, created="2026-01-01T00:00:00Z")


def verify(document):
    return verify_credential(document, policy=ANY, now=NOW)


def related_checks(result):
    return [c for c in result.checks if c.name == "related_resource"]


@pytest.mark.parametrize("digest", [
    {"digestSRI": digest_sri(V2_BYTES)},
    {"digestSRI": digest_sri(V2_BYTES, "sha256")},
    {"digestMultibase": digest_multibase(V2_BYTES)},  # multihash, base64url
    {"digestMultibase": digest_multibase(V2_BYTES, "sha384", form="raw")},  # raw, base64url
    {"digestMultibase": digest_multibase(V2_BYTES, base="base58btc")},
    {"digestMultibase": digest_multibase(V2_BYTES, "sha512", form="raw", base="base58btc")},
    {"digestSRI": digest_sri(V2_BYTES), "digestMultibase": digest_multibase(V2_BYTES, "sha3_256")},
])
def test_a_pinned_context_whose_digest_matches_passes(digest):
    result = verify(signed([{"id": V2, **digest}, {"id": EXAMPLES_V2, "digestSRI": digest_sri(EXAMPLES_BYTES)}]))
    assert result.verified, result.summary()
    checks = related_checks(result)
    assert [(c.subject, c.outcome.value) for c in checks] == [(V2, "passed"), (EXAMPLES_V2, "passed")]
    names = [c.name for c in result.checks]
    assert names.index("related_resource") > names.index("status") and names[-1] == "issuer_trust"


@pytest.mark.parametrize("digest", [
    {"digestSRI": digest_sri(V2_BYTES + b"\n")},
    {"digestSRI": digest_sri(EXAMPLES_BYTES)},  # another pinned file's digest
    {"digestMultibase": digest_multibase(V2_BYTES + b" ")},
    {"digestMultibase": digest_multibase(V2_BYTES.replace(b"VerifiableCredential", b"VerifiableCredentia1", 1),
                                         "sha384", form="raw")},
    {"digestSRI": digest_sri(V2_BYTES), "digestMultibase": digest_multibase(b"not the context")},  # one of two
])
def test_a_pinned_context_whose_digest_does_not_match_fails(digest):
    result = verify(signed([{"id": V2, **digest}]))
    assert not result.verified
    [check] = related_checks(result)
    assert (check.outcome.value, check.code, check.subject) == ("failed", "RESOURCE_INTEGRITY_ERROR", V2)
    assert "does not match" in check.message
    assert result.check("proof").outcome.value == "passed"  # the signature is fine; the resource is not


def test_a_resource_the_verifier_does_not_hold_is_reported_not_checked(monkeypatch):
    def no_network(*args, **kwargs):
        raise AssertionError("a related resource must never be fetched")

    monkeypatch.setattr("urllib.request.urlopen", no_network)
    monkeypatch.setattr("requests.sessions.Session.request", no_network)
    logo = "https://example.com/logo.png"
    result = verify(signed([{"id": logo, "digestSRI": digest_sri(b"logo bytes")},
                            {"id": V2, "digestSRI": digest_sri(V2_BYTES)}]))
    checks = {c.subject: c for c in related_checks(result)}
    assert checks[logo].outcome.value == "skipped" and "not held locally" in checks[logo].message
    assert checks[V2].outcome.value == "passed"
    assert result.verified, result.summary()  # not checked is not a failure, and says so


def test_no_related_resource_no_check():
    result = verify(signed())
    assert result.verified and not related_checks(result)


@pytest.mark.parametrize("related,message", [
    ([{"id": V2, "digestSRI": digest_sri(V2_BYTES)}, {"id": V2, "digestSRI": digest_sri(V2_BYTES)}], "listed twice"),
    ([{"id": V2}], "digestSRI or digestMultibase"),
    ([{"id": V2, "digestSRI": "sha384-Ml/HrjlBCNWyAX91hr6LFV2Y3heB5Tcr6IeE4/Tje8YyzYBM8IhqjHWiWpr8+ZbYU"}], "SHA-384"),
    ([{"id": V2, "digestMultibase": "u" + b64url(hashlib.sha256(V2_BYTES).digest()[:20])}], "digestMultibase"),
    ([{"digestSRI": digest_sri(V2_BYTES)}], "URL id"),
    ([{"id": "not a url", "digestSRI": digest_sri(V2_BYTES)}], "URL id"),
])
def test_malformed_related_resources_fail_the_structure_check(related, message):
    result = verify(unsigned_with_proof(related))
    check = result.check("structure")
    assert (check.outcome.value, check.code) == ("failed", "MALFORMED_VALUE_ERROR"), result.summary()
    assert message in check.message


def unsigned_with_proof(related):
    """A signed credential with ``related`` put in afterwards (signing refuses the malformed
    data model): the structure check must catch it before anything else."""
    document = signed()
    document["relatedResource"] = related
    return document


@pytest.mark.parametrize("schema,message", [
    ({"type": "JsonSchema"}, "must have an id"),
    ([{"id": "https://example.com/s.json"}], "must have a type"),
    ({"id": "https://example.com/s.json", "type": "JsonSchema", "digestSRI": "sha256-x"}, "SHA-256"),
])
def test_malformed_credential_schema_entries_fail_the_structure_check(schema, message):
    document = signed()
    document["credentialSchema"] = schema
    result = verify(document)
    check = result.check("structure")
    assert (check.outcome.value, check.code) == ("failed", "MALFORMED_VALUE_ERROR"), result.summary()
    assert message in check.message


def test_jose_credentials_get_the_same_check():
    from tradevc.vc.securing.jose import sign_credential_jwt

    good = sign_credential_jwt(credential([{"id": V2, "digestMultibase": digest_multibase(V2_BYTES)}]), KEY)
    result = verify(good)
    assert result.verified and related_checks(result)[0].outcome.value == "passed", result.summary()
    bad = sign_credential_jwt(credential([{"id": V2, "digestMultibase": digest_multibase(EXAMPLES_BYTES)}]), KEY)
    result = verify(bad)
    assert not result.verified
    assert related_checks(result)[0].code == "RESOURCE_INTEGRITY_ERROR"
