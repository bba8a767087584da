"""Differential test: the fast path of :mod:`vc.fastpath` and the general path (pyld expansion,
RDF conversion, RDFC-1.0) give byte-identical canonical N-Quads, or the same error, for
hypothesis-generated credentials shaped like trade credentials, with strings holding control
characters and any Unicode, numbers, dates, language tags, nested nodes, arrays, lists,
presentations with enveloped credentials (graph containers), undefined terms, relative IRIs
and keywords the fast path does not handle."""

from __future__ import annotations

import copy
import json
from importlib import resources
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from tradevc.vc import fastpath
from tradevc.vc.errors import CanonicalizationError, VcError
from tradevc.vc.fastpath import canonical_nquads, fast_quads, reference_canonical_nquads
from conftest import write_context_folder
from tradevc.vc.jsonld import PinnedContextLoader, default_loader

LOADER = default_loader()
REFERENCE = json.loads(
    (Path(__file__).resolve().parents[2] / "bench" / "usmca-certification-of-origin.json").read_text("utf-8")
)
SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

TRACE_TYPES = ["Organization", "PostalAddress", "Product", "Place", "USMCAClaims", "Person", "Entity"]
# Terms of the traceability context (some type-scoped), of VC 2.0, and a few undefined ones
# (which the traceability context's @vocab catches, or which are dropped inside scoped contexts).
TERMS = [
    "name", "description", "email", "phoneNumber", "address", "streetAddress", "addressLocality",
    "addressCountry", "postalCode", "commodityCode", "commodityCodeType", "originCriterion",
    "countryOfOrigin", "url", "id", "type", "unknownClaim", "weight", "value", "unitCode",
    "manufacturer", "geo", "latitude", "longitude", "observation", "validFrom", "relatedLink",
]

text = st.text(st.characters(exclude_categories=("Cs",)), max_size=12)
control_text = st.text(st.sampled_from(["\x00", "\x07", "\b", "\t", "\n", "\r", "\x1f", "\x7f", '"', "\\", "é", "漢", "🚢"]),
                       max_size=6)
dates = st.datetimes().map(lambda d: d.strftime("%Y-%m-%dT%H:%M:%SZ"))
numbers = st.one_of(st.integers(), st.floats(allow_nan=False, allow_infinity=False), st.booleans())
iris = st.one_of(
    st.from_regex(r"urn:uuid:[0-9a-f]{8}", fullmatch=True),
    st.from_regex(r"https://example\.com/[a-z]{1,5}", fullmatch=True),
    st.from_regex(r"did:web:[a-z]{1,6}\.example", fullmatch=True),
    st.from_regex(r"_:[a-z]{1,3}", fullmatch=True),
    st.sampled_from(["relative/iri", "a b", "https://example.com/<x>", "urn:x\x85y", "urn:x\u00a0y",
                     "_:b\u2028", "https://example.com/\u3000"]),
)
languages = st.sampled_from(["en", "es-MX", "FR", "zh-Hant-TW", "not a tag", ""])
value_objects = st.one_of(
    st.builds(lambda v, lang: {"@value": v, "@language": lang}, text, languages),
    st.builds(lambda v, t: {"@value": v, "@type": t}, st.one_of(text, dates, numbers),
              st.sampled_from(["xsd:date", "xsd:dateTime", "http://www.w3.org/2001/XMLSchema#double", "xsd:string",
                               "@json", "relative"])),
    st.builds(lambda v: {"@value": v}, st.one_of(text, numbers, st.none())),
)
scalars = st.one_of(text, control_text, dates, numbers, iris, st.none())


def nodes(children: st.SearchStrategy[Any]) -> st.SearchStrategy[dict[str, Any]]:
    return st.builds(
        lambda types, props, ident: {**({"type": types} if types else {}), **({"id": ident} if ident else {}), **props},
        st.lists(st.sampled_from(TRACE_TYPES), max_size=2, unique=True),
        st.dictionaries(st.sampled_from([t for t in TERMS if t not in ("id", "type")]), children, max_size=4),
        st.one_of(st.none(), iris),
    )


values = st.recursive(
    st.one_of(scalars, value_objects),
    lambda inner: st.one_of(
        nodes(inner),
        st.lists(inner, max_size=3),
        st.lists(inner, max_size=3).map(lambda xs: {"@list": xs}),
        inner.map(lambda x: {"@reverse": {"name": x}}),
        inner.map(lambda x: {"@context": {"foo": "https://example.com/foo"}, "name": x}),
    ),
    max_leaves=10,
)


def assert_same(document: dict[str, Any], hash_name: str = "sha256", loader: PinnedContextLoader = LOADER) -> None:
    try:
        expected: Any = reference_canonical_nquads(document, loader=loader, hash_name=hash_name)
    except VcError as e:
        expected = type(e)
    try:
        actual: Any = canonical_nquads(document, loader=loader, hash_name=hash_name)
    except VcError as e:
        actual = type(e)
    assert actual == expected  # byte for byte, or the same error class
    quads = fast_quads(document, loader)
    if quads is not None:  # the fast path converted it: a lossless, valid document (RDFC may
        # still refuse it, e.g. two identical credentials in a presentation exceed the work limit)
        assert isinstance(expected, str) or expected is CanonicalizationError


@SETTINGS
@given(subject=st.dictionaries(st.sampled_from(TERMS), values, max_size=6), hash_name=st.sampled_from(["sha256", "sha384"]))
# Found by this test (about one seed in 50): U+0085 is white space to pyld, which hands on None
# for such an IRI inside a list; the general path raised TypeError (and verify_credential with it).
@example(subject={"name": {"@list": [{"id": "urn:x\x85y"}]}}, hash_name="sha256")
@example(subject={"manufacturer": [{"@list": [{"id": "urn:x\x85y", "type": ["Place"]}]}]}, hash_name="sha384")
def test_generated_credentials_match_the_general_path(subject: dict[str, Any], hash_name: str) -> None:
    credential = copy.deepcopy(REFERENCE)
    credential["credentialSubject"] = {"type": ["USMCAClaims"], **subject}
    assert_same(credential, hash_name)


TRACEABILITY = "https://w3id.org/traceability/v1"
USER_TRACEABILITY = "https://contexts.trade.example/traceability/v1"


@pytest.fixture(scope="module")
def user_loader(tmp_path_factory: pytest.TempPathFactory) -> PinnedContextLoader:
    """The bundled contexts, and the traceability context pinned by a user under another URL."""
    document = json.loads(resources.files("tradevc.contexts").joinpath("traceability-v1.jsonld").read_bytes())
    folder = write_context_folder(tmp_path_factory.mktemp("user-contexts"), {USER_TRACEABILITY: document})
    return PinnedContextLoader.with_user_contexts(folder)


@SETTINGS
@given(subject=st.dictionaries(st.sampled_from(TERMS), values, max_size=6), hash_name=st.sampled_from(["sha256", "sha384"]))
def test_user_pinned_contexts_match_the_general_path(
    user_loader: PinnedContextLoader, subject: dict[str, Any], hash_name: str
) -> None:
    credential = copy.deepcopy(REFERENCE)
    credential["@context"] = [USER_TRACEABILITY if c == TRACEABILITY else c for c in credential["@context"]]
    assert fast_quads(credential, user_loader) is not None  # the same fast path as the bundled contexts
    credential["credentialSubject"] = {"type": ["USMCAClaims"], **subject}
    assert_same(credential, hash_name, loader=user_loader)


@SETTINGS
@given(goods=st.lists(nodes(st.one_of(scalars, value_objects)), max_size=5), name=st.one_of(text, control_text))
def test_goods_lists_match_the_general_path(goods: list[dict[str, Any]], name: str) -> None:
    credential = copy.deepcopy(REFERENCE)
    credential["credentialSubject"]["goods"] = goods
    credential["name"] = name
    assert_same(credential)


@SETTINGS
@given(credentials=st.lists(st.dictionaries(st.sampled_from(TERMS), scalars, max_size=3), min_size=1, max_size=3))
def test_presentations_with_graph_containers_match(credentials: list[dict[str, Any]]) -> None:
    enveloped = []
    for subject in credentials:
        credential = copy.deepcopy(REFERENCE)
        credential["credentialSubject"] = {"type": ["USMCAClaims"], **subject}
        credential["proof"] = {"type": "DataIntegrityProof", "cryptosuite": "eddsa-rdfc-2022",
                               "created": "2026-01-01T00:00:00Z", "proofPurpose": "assertionMethod",
                               "verificationMethod": "did:key:z6Mk#z6Mk", "proofValue": "z1"}
        enveloped.append(credential)
    presentation = {"@context": REFERENCE["@context"], "type": ["VerifiablePresentation"],
                    "holder": "did:web:importer.example", "verifiableCredential": enveloped}
    assert_same(presentation)


def test_the_reference_credential_takes_the_fast_path() -> None:
    assert fast_quads({k: v for k, v in REFERENCE.items()}, LOADER) is not None
    assert_same(REFERENCE)


@pytest.mark.parametrize(
    "change",
    [
        lambda d: d.update({"@context": [*d["@context"], {"extra": "https://example.com/extra"}]}),
        lambda d: d["credentialSubject"].update({"@reverse": {"name": "x"}}),
        lambda d: d["credentialSubject"].update({"@included": [{"id": "urn:x"}]}),
        lambda d: d.update({"id": "relative"}),
        lambda d: d["issuer"].update({"@type": "relative"}),
        lambda d: d["credentialSubject"].update({"@foo": "bar"}),
        lambda d: d["credentialSubject"].update({"goods": [[{"type": "Product"}]]}),
        lambda d: d.update({"@context": ["https://www.w3.org/ns/credentials/v2"]}),
    ],
)
def test_the_fast_path_falls_back_and_keeps_the_errors(change: Any) -> None:
    document = copy.deepcopy(REFERENCE)
    change(document)
    assert_same(document)


@pytest.mark.parametrize(
    "first,then",
    [
        (None, float("nan")),  # orjson writes NaN as null
        (None, float("inf")),
        (1, True),
        (1, 1.0),
        ("2c5ea4c0-4067-11e9-8bad-9b1deb4d3b7d", "uuid"),  # a UUID object is written as its string
        ("a", "enum"),
    ],
)
def test_the_last_conversion_is_reused_only_for_the_same_json(first: Any, then: Any) -> None:
    """The conversion of the previous document is reused only when the new one is the same
    JSON, never for values that orjson writes alike but JSON-LD does not read alike."""
    import enum
    import uuid

    if then == "uuid":
        then = uuid.UUID(first)
    elif then == "enum":
        then = enum.Enum("Kind", {"A": first}).A
    documents = []
    for value in (first, then):
        document = copy.deepcopy(REFERENCE)
        document["credentialSubject"]["weight"] = value
        documents.append(document)
    canonical_nquads(documents[0], loader=LOADER)  # remembered as the last conversion
    assert_same(documents[1])


def test_caches_stay_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(fastpath, "MAX_CACHE_ENTRIES", 50)
    loader = type(LOADER)()
    for i in range(40):
        document = copy.deepcopy(REFERENCE)
        document["id"] = f"urn:uuid:{i}"
        assert canonical_nquads(document, loader=loader) == reference_canonical_nquads(document, loader=loader)
    cache = fastpath._cache_for(loader)
    assert cache._entries <= 50


def test_contexts_stay_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    """Type combinations each make an active context; a hostile stream of them cannot pile up."""
    monkeypatch.setattr(fastpath, "MAX_CONTEXTS", 5)
    loader = type(LOADER)()
    types = ["Organization", "PostalAddress", "Product", "Place", "Person", "Entity"]
    for first in types:
        for second in types:
            document = copy.deepcopy(REFERENCE)
            document["credentialSubject"]["producerDetails"]["type"] = [first, second]
            assert canonical_nquads(document, loader=loader) == reference_canonical_nquads(document, loader=loader)
            assert fastpath._cache_for(loader)._contexts <= 5


json_values = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(min_value=-(2**60), max_value=2**60), st.text(), control_text,
              st.floats(allow_nan=False, allow_infinity=False)),
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=4), inner, max_size=4)),
    max_leaves=20,
)


@settings(max_examples=400, deadline=None)
@given(value=json_values)
def test_fast_jcs_matches_rfc8785(value: Any) -> None:
    import rfc8785

    fast = fastpath.fast_jcs(value)
    try:
        expected = rfc8785.dumps(value)
    except (rfc8785.CanonicalizationError, TypeError, ValueError, UnicodeError):
        assert fast is None
        return
    assert fast is None or fast == expected


def test_fast_jcs_covers_credentials() -> None:
    import rfc8785

    assert fastpath.fast_jcs(REFERENCE) == rfc8785.dumps(REFERENCE)
    assert fastpath.fast_jcs({"a": 1.5}) == b'{"a":1.5}'
    assert fastpath.fast_jcs({"a": 1.0}) is None and fastpath.fast_jcs({"a": 1e-7}) is None
    assert fastpath.fast_jcs({"\U0001f6a2": 1, "\uffff": 2}) is None
    # astral characters in values do not change the key order: written, and exactly as JCS
    value = {"b": "\U0001f6a2", "a": ["\x00\x1f\x7f\u2028", 2**53 - 1, -(2**53 - 1)]}
    assert fastpath.fast_jcs(value) == rfc8785.dumps(value)
    # out of the JSON types or of JCS's number domain: left to rfc8785
    import datetime
    import uuid

    for odd in (2**53, -(2**53), datetime.datetime(2026, 1, 1), uuid.uuid4(), {1: "a"}, "\ud800", float("nan")):
        assert fastpath.fast_jcs({"a": odd}) is None, odd


@pytest.mark.parametrize(
    "type_name",
    ["MillTestReportCredential", "USMCACertificationOfOrigin", "SIMASteelImportLicenseCredential",
     "CommercialInvoiceCredential"],
)
def test_every_trade_credential_type_takes_the_fast_path(type_name: str) -> None:
    """A guard against the fast path silently giving up on the credentials it exists for."""
    from tradevc.issuer.credential_types import load_example

    credential = {
        "@context": REFERENCE["@context"], "id": "urn:uuid:0b7c6f7e-2f0a-4a55-9d1e-4c2f8e1a0b01",
        "type": ["VerifiableCredential", type_name], "issuer": "did:web:issuer.example",
        "validFrom": "2026-01-01T00:00:00Z", "credentialSubject": load_example(type_name),
    }
    assert fast_quads(credential, LOADER) is not None
    assert_same(credential)


@pytest.mark.parametrize("weird", ["\x85", "\u00a0", "\u2028", "a\u3000b"])
def test_whitespace_in_iris_is_left_to_the_general_path(weird: str) -> None:
    """pyld drops triples whose IRIs hold Unicode whitespace; the fast path must not keep them."""
    for change in (
        lambda d: d["credentialSubject"].update({"type": weird}),
        lambda d: d.update({"id": f"urn:uuid:{weird}"}),
        lambda d: d["issuer"].update({"id": f"did:web:{weird}"}),
    ):
        document = copy.deepcopy(REFERENCE)
        change(document)
        assert_same(document)


def test_presentations_take_the_fast_path() -> None:
    """An embedded credential brings its own @context under verifiableCredential's "@context": null."""
    credential = copy.deepcopy(REFERENCE)
    credential["proof"] = {"type": "DataIntegrityProof", "cryptosuite": "eddsa-rdfc-2022",
                           "created": "2026-01-01T00:00:00Z", "proofPurpose": "assertionMethod",
                           "verificationMethod": "did:key:z6Mk#z6Mk", "proofValue": "z1"}
    presentation = {"@context": ["https://www.w3.org/ns/credentials/v2"], "type": "VerifiablePresentation",
                    "holder": "did:web:importer.example", "verifiableCredential": [credential]}
    assert fast_quads(presentation, LOADER) is not None
    assert_same(presentation)


# -- inline contexts (accepted under JCS and JOSE, or pinned by hash under RDFC) --------------------

EX = "https://trade.example/vocab#"
inline_terms = st.dictionaries(
    st.sampled_from(["heatNumber", "grade", "mill", "chemistry", "note"]),
    st.one_of(
        st.sampled_from([EX + "a", EX + "b", "https://schema.org/name"]),
        st.builds(
            lambda iri, extra: {"@id": iri, **extra},
            st.sampled_from([EX + "a", EX + "b"]),
            st.sampled_from([{}, {"@type": "@id"}, {"@type": "xsd:integer"}, {"@container": "@list"},
                             {"@language": "es"}, {"@container": "@set"}, {"@type": "@vocab"}]),
        ),
    ),
    min_size=1, max_size=5,
)


@SETTINGS
@given(terms=inline_terms, vocab=st.sampled_from([None, EX, "absent"]),
       values=st.dictionaries(st.sampled_from(["heatNumber", "grade", "mill", "chemistry", "note"]), scalars, max_size=5))
def test_inline_contexts_match_the_general_path(terms: dict[str, Any], vocab: Any, values: dict[str, Any]) -> None:
    context = dict(terms) if vocab == "absent" else {"@vocab": vocab, **terms}
    credential = copy.deepcopy(REFERENCE)
    credential["@context"] = [*credential["@context"], context]
    credential["credentialSubject"] = {"type": ["USMCAClaims"], **values}
    assert_same(credential)


def test_a_credential_with_an_inline_context_takes_the_fast_path() -> None:
    credential = copy.deepcopy(REFERENCE)
    credential["@context"] = [*credential["@context"], {"heatNumber": EX + "heatNumber"}]
    credential["credentialSubject"]["heatNumber"] = "H-1"
    assert fast_quads(credential, LOADER) is not None
    assert canonical_nquads(credential, loader=LOADER) == reference_canonical_nquads(credential, loader=LOADER)


def test_a_cached_inline_context_does_not_change_with_the_callers_object() -> None:
    loader = type(LOADER)()
    context = {"Lot": {"@id": EX + "Lot", "@context": {"grade": EX + "grade"}}, "heatNumber": EX + "heatNumber"}
    first = copy.deepcopy(REFERENCE)
    first["@context"] = [*first["@context"], context]
    first["credentialSubject"]["heatNumber"] = "H-1"
    assert fast_quads(first, loader) is not None  # the inline context is processed and kept (Lot unused)
    original = copy.deepcopy(context)
    context["Lot"]["@context"]["grade"] = EX + "forged"  # the caller changes its object afterwards
    second = copy.deepcopy(REFERENCE)
    second["@context"] = [*second["@context"], original]
    second["credentialSubject"] = {"type": ["USMCAClaims", "Lot"], "grade": "A36"}
    nquads = canonical_nquads(second, loader=loader)
    assert EX + "grade" in nquads and "forged" not in nquads
    assert nquads == reference_canonical_nquads(second, loader=loader)
