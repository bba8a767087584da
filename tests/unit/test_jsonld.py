"""The pinned-context loader and data-loss detection."""

from __future__ import annotations

import hashlib
import json
from importlib import resources

import pytest

from conftest import load_vector
from tradevc.vc.errors import ContextNotPinned, DataLossError, InvalidDocument, ResolutionError
from tradevc.vc.jsonld import PinnedContextLoader, default_loader, expand, to_dataset

V2 = "https://www.w3.org/ns/credentials/v2"
INDEX = json.loads(resources.files("tradevc.contexts").joinpath("index.json").read_bytes())["contexts"]


@pytest.mark.parametrize("entry", INDEX, ids=[e["file"] for e in INDEX])
def test_every_pinned_context_matches_its_sha256_and_the_shared_copy(entry):
    data = resources.files("tradevc.contexts").joinpath(entry["file"]).read_bytes()
    assert hashlib.sha256(data).hexdigest() == entry["sha256"]
    document = default_loader()(entry["url"])
    assert document["documentUrl"] == entry["url"]
    assert document["tag"] == "static"
    assert document["document"] == json.loads(data)


def test_unknown_context_is_refused_naming_the_url():
    with pytest.raises(ContextNotPinned, match="https://evil.example/ctx"):
        default_loader()("https://evil.example/ctx")


def test_loader_refuses_a_file_whose_hash_does_not_match():
    loader = PinnedContextLoader({V2: ("credentials-v2.jsonld", "00" * 32)})
    with pytest.raises(ResolutionError, match="SHA-256"):
        loader(V2)


def test_document_with_unpinned_context_fails_expansion_with_context_not_pinned():
    doc = {"@context": [V2, "https://evil.example/ctx"], "type": "VerifiableCredential"}
    with pytest.raises(ContextNotPinned, match="https://evil.example/ctx"):
        expand(doc, default_loader())


def test_undefined_property_is_data_loss_naming_the_term():
    doc = load_vector("di-eddsa/unsigned.json")
    doc["@context"] = [V2]  # without the examples context, alumniOf is undefined
    with pytest.raises(DataLossError, match="alumniOf") as info:
        expand(doc, default_loader())
    assert info.value.code == "DATA_LOSS_DETECTION_ERROR"


def test_undefined_type_is_data_loss():
    doc = {"@context": [V2], "type": ["VerifiableCredential", "MadeUpCredential"]}
    with pytest.raises(DataLossError, match="MadeUpCredential"):
        expand(doc, default_loader())


def test_relative_id_is_data_loss():
    doc = {"@context": [V2], "id": "relative/credential", "type": ["VerifiableCredential"]}
    with pytest.raises(DataLossError, match="relative/credential"):
        expand(doc, default_loader())


def test_relative_id_inside_claims_is_data_loss():
    doc = load_vector("di-eddsa/unsigned.json")
    doc["credentialSubject"]["id"] = "abcdefgh"
    with pytest.raises(DataLossError, match="abcdefgh"):
        to_dataset(doc, default_loader())


def test_invalid_json_ld_is_invalid_document():
    doc = {"@context": [V2], "@id": 5}
    with pytest.raises(InvalidDocument):
        expand(doc, default_loader())


def test_contexts_are_processed_once_per_loader():
    loader = PinnedContextLoader()
    doc = load_vector("di-eddsa/unsigned.json")
    to_dataset(doc, loader)
    cached = dict(loader.context_cache)
    assert V2 in cached
    to_dataset(doc, loader)
    # the second document reuses the very same processed contexts
    assert all(loader.context_cache[k] is v for k, v in cached.items())


# -- "@vocab": null and the other nullable context entries ----------------------------------------

EX = "https://trade.example/vocab#"


def _subject_doc(*inline):
    return {
        "@context": [V2, *inline], "type": ["VerifiableCredential"],
        "credentialSubject": {"id": "did:example:subject", "heatNumber": "H-1"},
    }


def test_null_vocab_without_a_vocabulary_mapping_is_a_no_op_not_a_crash():
    # credentials/v2 has no @vocab: JSON-LD 1.1 says null removes a mapping if there is one
    with pytest.raises(DataLossError, match="heatNumber"):
        expand(_subject_doc({"@vocab": None}), default_loader())
    doc = _subject_doc({"@vocab": None, "heatNumber": EX + "heatNumber"})
    expanded = expand(doc, default_loader())
    subject = expanded[0]["https://www.w3.org/2018/credentials#credentialSubject"][0]
    assert subject[EX + "heatNumber"] == [{"@value": "H-1"}]


def test_null_vocab_removes_an_earlier_vocabulary_mapping():
    assert EX + "heatNumber" in json.dumps(expand(_subject_doc({"@vocab": EX}), default_loader()))
    with pytest.raises(DataLossError, match="heatNumber"):
        expand(_subject_doc({"@vocab": EX}, {"@vocab": None}), default_loader())


@pytest.mark.parametrize("entry", ["@language", "@direction"])
def test_null_language_and_direction_without_a_value_are_no_ops(entry):
    doc = _subject_doc({entry: None, "heatNumber": EX + "heatNumber"})
    assert to_dataset(doc, default_loader())["@default"]


# -- finding the contexts a document uses ------------------------------------------------------------

from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from tradevc.vc.jsonld import _walk, contexts_of  # noqa: E402

_tricky = st.sampled_from(['"@context":', '\\"@context\\":"x"', "@context", '"', "\\", "{", "[", "https://a.example/c"])
_json = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(-10, 10), _tricky, st.text(max_size=4)),
    lambda inner: st.one_of(
        st.lists(inner, max_size=3),
        st.dictionaries(st.sampled_from(["@context", "a", "@context\\", '"@context"', "proof"]), inner, max_size=3),
    ),
    max_leaves=12,
)


@settings(max_examples=300, deadline=None)
@given(document=st.dictionaries(st.sampled_from(["@context", "credentialSubject", "proof", "x"]), _json, max_size=4))
def test_the_fast_scan_for_contexts_finds_what_a_walk_finds(document):
    assert contexts_of(document) == _walk(document)


def test_contexts_are_found_everywhere_in_order():
    document = {
        "@context": [V2, {"a": EX + "a"}],
        "credentialSubject": {"@context": [None, "https://b.example/c"], "z": [{"@context": "https://c.example/c"}]},
        "proof": {"@context": V2},
        "note": '"@context":{"evil": 1}',
    }
    use = contexts_of(document)
    assert use.urls == (V2, "https://b.example/c", "https://c.example/c")
    assert use.inline == ({"a": EX + "a"}, None)
    assert contexts_of({"@context": [V2], "x": {"@context": "https://c.example/c"}}).inline == ()


@pytest.mark.parametrize("value", [{"@list": [{"id": "urn:x\x85y"}]}, {"id": "urn:x\u00a0y"}, {"id": "_:b\u2028"}])
def test_white_space_in_an_iri_is_data_loss_not_a_crash(value):
    # pyld drops such a triple, and inside a list handed on None (a TypeError in the general path)
    from tradevc.vc.securing.data_integrity import sign_credential
    from tradevc.vc.verification import verify_credential
    from tradevc.vc.keys import KeyPair
    from tradevc.vc.checks.policy import TrustPolicy

    doc = load_vector("di-eddsa/unsigned.json")
    doc["credentialSubject"]["alumniOf"] = value
    with pytest.raises(DataLossError, match="white space"):
        to_dataset(doc, default_loader())
    key = KeyPair.generate("Ed25519")
    signed = sign_credential({**load_vector("di-eddsa/unsigned.json"), "issuer": key.did}, key)
    signed["credentialSubject"]["alumniOf"] = value
    with pytest.raises(DataLossError):
        sign_credential({k: v for k, v in signed.items() if k != "proof"}, key)
    result = verify_credential(signed, policy=TrustPolicy.unsafe_any_issuer())
    assert result.check("data_loss").code == "DATA_LOSS_DETECTION_ERROR" and not result.verified


def test_an_integer_beyond_the_float_range_is_invalid_json_ld_not_a_traceback():
    """pyld calls float() on every number: json.loads reads integers of up to 4300 digits, and
    one beyond 1e308 raised OverflowError out of expansion (and out of verify_credential).
    Expansion refuses it; verification refuses it before (not I-JSON, issue 15)."""
    from tradevc.issuer import sign_credential
    from tradevc.vc.keys import KeyPair
    from tradevc.verifier import TrustPolicy, verify_credential

    key = KeyPair.generate("Ed25519")
    document = load_vector("di-eddsa/unsigned.json")
    document["issuer"] = key.did
    signed = sign_credential(document, key, cryptosuite="eddsa-rdfc-2022", created="2026-01-01T00:00:00Z")
    signed["credentialSubject"]["weight"] = 10**400
    with pytest.raises(InvalidDocument):
        expand({k: v for k, v in signed.items() if k != "proof"}, default_loader())
    result = verify_credential(signed, policy=TrustPolicy({key.did: ["AlumniCredential"]}))
    assert not result.verified and result.check("structure").code == "PARSING_ERROR", result.summary()
