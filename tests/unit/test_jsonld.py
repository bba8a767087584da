"""The pinned-context loader and data-loss detection."""

from __future__ import annotations

import hashlib
import json
from importlib import resources

import pytest

from conftest import load_vector
from vc.errors import ContextNotPinned, DataLossError, InvalidDocument, ResolutionError
from vc.jsonld import PinnedContextLoader, default_loader, expand, to_dataset

V2 = "https://www.w3.org/ns/credentials/v2"
INDEX = json.loads(resources.files("contexts").joinpath("index.json").read_bytes())["contexts"]


@pytest.mark.parametrize("entry", INDEX, ids=[e["file"] for e in INDEX])
def test_every_pinned_context_matches_its_sha256_and_the_shared_copy(entry):
    data = resources.files("contexts").joinpath(entry["file"]).read_bytes()
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
