"""The VC Data Model checks of vc.model."""

from __future__ import annotations

import base64
import copy
import hashlib
import json
from datetime import datetime, timezone

import pytest

from conftest import load_vector
from tradevc.vc.errors import InvalidDocument
from tradevc.vc.model import DataModel, parse_credential, parse_presentation, parse_proof

V1 = "https://www.w3.org/2018/credentials/v1"


@pytest.fixture
def v2():
    return load_vector("di-eddsa/unsigned.json")


@pytest.fixture
def v1():
    return {
        "@context": [V1, "https://www.w3.org/2018/credentials/examples/v1"],
        "type": ["VerifiableCredential"],
        "issuer": {"id": "did:example:issuer", "name": "Old Issuer"},
        "issuanceDate": "2020-01-01T00:00:00Z",
        "expirationDate": "2030-01-01T00:00:00+02:00",
        "credentialSubject": {"id": "did:example:subject"},
    }


def test_valid_v2_credential(v2):
    credential = parse_credential(v2)
    assert credential.data_model is DataModel.V2_0
    assert credential.issuer_id == "https://vc.example/issuers/5678"
    assert credential.valid_from.isoformat() == "2023-01-01T00:00:00+00:00"
    assert credential.valid_until is None


def test_valid_v1_credential(v1):
    credential = parse_credential(v1)
    assert credential.data_model is DataModel.V1_1
    assert credential.issuer_id == "did:example:issuer"
    assert credential.valid_until.isoformat() == "2030-01-01T00:00:00+02:00"


def test_reference_trade_credential(reference_credential):
    credential = parse_credential(reference_credential)
    assert credential.types == ["VerifiableCredential", "USMCACertificationOfOrigin"]


def test_parsing_does_not_change_the_document(v2):
    before = json.dumps(v2)
    parse_credential(v2)
    assert json.dumps(v2) == before


def _broken(doc, path, value, delete=False):
    doc = copy.deepcopy(doc)
    target = doc
    for part in path[:-1]:
        target = target[part]
    if delete:
        del target[path[-1]]
    else:
        target[path[-1]] = value
    return doc


BAD_V2 = {
    "context-not-first": (["@context"], ["https://www.w3.org/ns/credentials/examples/v2", "https://www.w3.org/ns/credentials/v2"], "first @context"),
    "context-empty": (["@context"], [], "@context"),
    "type-missing-vc": (["type"], ["AlumniCredential"], "VerifiableCredential"),
    "type-not-string": (["type"], ["VerifiableCredential", 3], "type"),
    "issuer-not-url": (["issuer"], "not a url", "issuer"),
    "issuer-object-without-id": (["issuer"], {"name": "x"}, "issuer.id"),
    "issuer-number": (["issuer"], 42, "issuer"),
    "subject-empty-object": (["credentialSubject"], {}, "credentialSubject"),
    "subject-empty-list": (["credentialSubject"], [], "credentialSubject"),
    "valid-from-no-timezone": (["validFrom"], "2023-01-01T00:00:00", "time zone"),
    "valid-from-date-only": (["validFrom"], "2023-01-01", "dateTimeStamp"),
    "valid-from-impossible-date": (["validFrom"], "2023-02-30T00:00:00Z", "valid date"),
    "valid-until-before-from": (["validUntil"], "2022-12-31T23:59:59Z", "before validFrom"),
    "status-without-type": (["credentialStatus"], {"id": "https://example.com/status/1#3"}, "type"),
    "schema-without-type": (["credentialSchema"], [{"id": "https://example.com/schema"}], "type"),
    "evidence-without-type": (["evidence"], {"id": "https://example.com/ev"}, "type"),
    "terms-without-type": (["termsOfUse"], {"id": "https://example.com/tou"}, "type"),
    "refresh-without-type": (["refreshService"], {"id": "https://example.com/r"}, "type"),
    "related-without-digest": (["relatedResource"], [{"id": "https://example.com/x"}], "digestSRI or digestMultibase"),
    "schema-without-id": (["credentialSchema"], {"type": "JsonSchema"}, "credentialSchema must have an id"),
    "schema-id-not-url": (["credentialSchema"], [{"id": "schema.json", "type": "JsonSchema"}], r"credentialSchema\[0\]\.id must be a URL"),
    "schema-not-object": (["credentialSchema"], ["https://example.com/schema"], "must be an object"),
    "related-duplicate-id": (
        ["relatedResource"],
        [{"id": "https://example.com/x", "digestMultibase": "u" + "A" * 43},
         {"id": "https://example.com/x", "digestMultibase": "u" + "B" * 43}],
        "listed twice",
    ),
    "related-empty": (["relatedResource"], [], "must not be empty"),
    "related-bad-sri": (["relatedResource"], [{"id": "https://example.com/x", "digestSRI": "sha384-abc"}], "SHA-384"),
    "related-md5-sri": (["relatedResource"], [{"id": "https://example.com/x", "digestSRI": "md5-CY9rzUYh03PK3k6DJie09g=="}], "Subresource Integrity"),
    "related-bad-multibase": (["relatedResource"], [{"id": "https://example.com/x", "digestMultibase": "uEiA"}], "multihash"),
    "related-not-multibase": (["relatedResource"], [{"id": "https://example.com/x", "digestMultibase": "mEiA"}], "multibase prefix"),
    "related-digest-number": (["relatedResource"], [{"id": "https://example.com/x", "digestSRI": 384}], "non-empty string"),
    "id-not-url": (["id"], "58172aac", "id must be a URL"),
    "proof-not-object": (["proof"], "signature", "proof"),
}


@pytest.mark.parametrize("name", sorted(BAD_V2))
def test_v2_rule_violations_are_reported(v2, name):
    path, value, message = BAD_V2[name]
    with pytest.raises(InvalidDocument, match=message) as info:
        parse_credential(_broken(v2, path, value))
    assert info.value.code == "MALFORMED_VALUE_ERROR"


@pytest.mark.parametrize("field", ["@context", "type", "issuer", "credentialSubject"])
def test_required_properties(v2, field):
    with pytest.raises(InvalidDocument, match=field):
        parse_credential(_broken(v2, [field], None, delete=True))


def test_v1_requires_issuance_date(v1):
    with pytest.raises(InvalidDocument, match="issuanceDate"):
        parse_credential(_broken(v1, ["issuanceDate"], None, delete=True))


def test_v1_expiration_before_issuance(v1):
    with pytest.raises(InvalidDocument, match="expirationDate"):
        parse_credential(_broken(v1, ["expirationDate"], "2019-01-01T00:00:00Z"))


def test_all_problems_listed_at_once(v2):
    doc = _broken(_broken(v2, ["issuer"], "nope"), ["type"], ["Other"])
    with pytest.raises(InvalidDocument) as info:
        parse_credential(doc)
    assert "issuer" in str(info.value) and "VerifiableCredential" in str(info.value)


@pytest.mark.parametrize("value", [None, [], "a string", 3])
def test_non_object_documents(value):
    with pytest.raises(InvalidDocument):
        parse_credential(value)


def test_related_resource_with_digest_is_fine(v2):
    sri = "sha384-" + base64.b64encode(hashlib.sha384(b"logo").digest()).decode()
    doc = _broken(v2, ["relatedResource"], [{"id": "https://example.com/logo.png", "digestSRI": sri}])
    parse_credential(doc)


def test_presentation():
    vp = {
        "@context": ["https://www.w3.org/ns/credentials/v2"],
        "type": ["VerifiablePresentation"],
        "holder": "did:example:holder",
        "verifiableCredential": [load_vector("di-eddsa/eddsa-rdfc-2022/signedDataInt.json")],
    }
    assert parse_presentation(vp).holder_id == "did:example:holder"
    with pytest.raises(InvalidDocument, match="VerifiablePresentation"):
        parse_presentation({**vp, "type": ["VerifiableCredential"]})
    with pytest.raises(InvalidDocument, match="holder"):
        parse_presentation({**vp, "holder": "nobody"})


def test_proof_model():
    proof = load_vector("di-eddsa/eddsa-rdfc-2022/signedDataInt.json")["proof"]
    assert parse_proof(proof).cryptosuite == "eddsa-rdfc-2022"
    for field in ("type", "verificationMethod", "proofPurpose"):
        broken = {k: v for k, v in proof.items() if k != field}
        with pytest.raises(InvalidDocument, match=field):
            parse_proof(broken)
    with pytest.raises(InvalidDocument, match="created"):
        parse_proof({**proof, "created": "2023-02-24 23:36:38"})
    with pytest.raises(InvalidDocument, match="verificationMethod"):
        parse_proof({**proof, "verificationMethod": "no-scheme"})


def test_parse_datetime_answers_alike_each_time():
    """Parsed dates are remembered; a remembered failure still raises, with the field's name."""
    from tradevc.vc.model import parse_datetime

    for _ in range(2):
        assert parse_datetime("2026-01-01T10:00:00+02:00") == datetime(2026, 1, 1, 8, tzinfo=timezone.utc)
        with pytest.raises(ValueError, match="validFrom '2023-02-30T00:00:00Z' is not a valid date"):
            parse_datetime("2023-02-30T00:00:00Z", field="validFrom")
        with pytest.raises(ValueError, match="validUntil must be an XML Schema dateTimeStamp"):
            parse_datetime("2023-02-03", field="validUntil")
        with pytest.raises(ValueError, match="dateTimeStamp"):
            parse_datetime(20230203)
    long_year = "-" + "9" * 100 + "-01-01T00:00:00Z"  # matches the pattern, not a date Python knows
    with pytest.raises(ValueError, match="not a valid date"):
        parse_datetime(long_year)
