"""The credentials that say who the parties are, on the issuing side: identity anchors,
accreditations, GS1 and IP-rights licences as credential types of issuer.credential_types
(models, shipped schemas, examples, the verifier's read_vouch), and vc-issuer's short names."""

from __future__ import annotations

import copy
import hashlib
import json
from datetime import datetime, timedelta, timezone
from importlib import resources
from typing import Any

import pytest
from click.testing import CliRunner

import tradevc.issuer.credential_types as credential_types
from support.expanded import expanded_iris
from tradevc.issuer import sign_credential
from tradevc.issuer.cli import cli as issuer_cli
from tradevc.issuer.credential_types import (
    TRACEABILITY_V1,
    TYPE_ALIASES,
    build_credential,
    check_credential,
    get_type,
    lei_check_digits_ok,
    load_example,
    resolve_type_name,
)
from tradevc.vc.checks.schemas import default_schema_store, shipped_schema_for
from tradevc.vc.checks.vouches import TRUST_CONTEXT, RegisteredId, read_vouch
from tradevc.vc.errors import InvalidDocument
from tradevc.vc.jsonld import default_loader, expand
from tradevc.vc.keys import KeyPair
from tradevc.vc.model import CREDENTIALS_V2
from tradevc.verifier import TrustPolicy, verify_credential

ANCHOR = "IdentityAnchorCredential"
ACCREDITATION = "AccreditationCredential"
GS1_PREFIX = "GS1PrefixLicenseCredential"
GS1_COMPANY = "GS1CompanyPrefixLicenseCredential"
IP = "IntellectualPropertyRightsLicenseCredential"
TYPES = [ANCHOR, ACCREDITATION, GS1_PREFIX, GS1_COMPANY, IP]
KIND = {ANCHOR: "anchor", ACCREDITATION: "accreditation", GS1_PREFIX: "licence", GS1_COMPANY: "licence", IP: "ip"}
SUBJECT_TYPE = {ANCHOR: "RegisteredParty", ACCREDITATION: "AccreditedBody", GS1_PREFIX: "Licensee",
                GS1_COMPANY: "Licensee", IP: "Licensee"}
TYPE_IRI = {
    ANCHOR: "https://tradevc.example/vocab#IdentityAnchorCredential",
    ACCREDITATION: "https://tradevc.example/vocab#AccreditationCredential",
    GS1_PREFIX: "https://w3id.org/traceability#GS1PrefixLicenseCredential",
    GS1_COMPANY: "https://w3id.org/traceability#GS1CompanyPrefixLicenseCredential",
    IP: "https://w3id.org/traceability#IntellectualPropertyRightsLicenseCredential",
}
ISSUER_DEPENDENT = "https://www.w3.org/ns/credentials/issuer-dependent#"
REGISTRAR = "did:web:registro.economia.example"
VALID_FROM, VALID_UNTIL = "2026-01-01T00:00:00Z", "2027-06-30T23:59:59Z"
NOW = datetime(2026, 6, 15, tzinfo=timezone.utc)
KEY = KeyPair.generate("Ed25519")


def build(type_name: str, subject: Any = None, **kw: Any) -> dict[str, Any]:
    kw.setdefault("issuer", REGISTRAR)
    kw.setdefault("valid_from", VALID_FROM)
    kw.setdefault("valid_until", VALID_UNTIL)
    return build_credential(type_name, load_example(type_name) if subject is None else subject, **kw)


def problems_of(credential: dict[str, Any]) -> str:
    with pytest.raises(InvalidDocument) as info:
        check_credential(credential)
    assert info.value.code == "MALFORMED_VALUE_ERROR"
    return info.value.message


def with_subject(type_name: str, **changes: Any) -> dict[str, Any]:
    """A valid credential of ``type_name`` whose subject has ``changes`` (None removes a member)."""
    credential = build(type_name)
    subject = credential["credentialSubject"]
    for name, value in changes.items():
        if value is None:
            subject.pop(name, None)
        else:
            subject[name] = value
    return credential


def expanded_values(node: Any) -> list[Any]:
    """The ``@value`` of every literal in expanded JSON-LD."""
    if isinstance(node, list):
        return [v for item in node for v in expanded_values(item)]
    if isinstance(node, dict):
        if "@value" in node:
            return [node["@value"]]
        return [v for value in node.values() for v in expanded_values(value)]
    return []


# ---- the registry and the examples --------------------------------------------------------------


def test_the_types_and_their_short_names():
    assert TYPE_ALIASES == {
        "IdentityAnchor": ANCHOR, "Accreditation": ACCREDITATION, "GS1PrefixLicense": GS1_PREFIX,
        "GS1CompanyPrefixLicense": GS1_COMPANY, "IPRightsLicense": IP,
        "TransformationEvent": "TransformationEventCredential", "PowerOfAttorney": "PowerOfAttorneyCredential",
    }
    for name in TYPES:
        ctype = get_type(name)
        assert ctype is not None and ctype.vouch and ctype.subject_type == SUBJECT_TYPE[name]
        assert ctype.contexts == (CREDENTIALS_V2, TRUST_CONTEXT)
        assert resolve_type_name(name) == name
    assert get_type(ANCHOR).requires_valid_until and get_type(ACCREDITATION).requires_valid_until
    assert not get_type(GS1_PREFIX).requires_valid_until and not get_type(IP).requires_valid_until
    assert resolve_type_name("MyCustomCredential") == "MyCustomCredential"  # other names unchanged
    assert not get_type("USMCACertificationOfOrigin").vouch


@pytest.mark.parametrize("type_name", TYPES)
def test_example_builds_passes_the_checks_and_reads_as_a_vouch(type_name):
    credential = build(type_name)
    assert credential["@context"] == [CREDENTIALS_V2, TRUST_CONTEXT]
    assert credential["type"] == ["VerifiableCredential", type_name]
    assert credential["credentialSchema"]["id"] == shipped_schema_for(type_name)
    check_credential(credential)  # does not raise
    assert not default_schema_store().problems(shipped_schema_for(type_name), credential)
    vouch = read_vouch(credential)
    assert vouch is not None and vouch.kind == KIND[type_name]
    assert (vouch.issuer, vouch.subject) == (REGISTRAR, credential["credentialSubject"]["id"])
    assert vouch.credential_id == credential["id"] and vouch.name == credential["credentialSubject"]["name"]


def test_the_anchor_example_says_what_customs_reads():
    vouch = read_vouch(build(ANCHOR))
    assert vouch.identifiers == (
        RegisteredId("MID", "MXACEDEL12SAN"), RegisteredId("LEI", "5493000ACEDELNORTE51"),
        RegisteredId("GS1", "7501234"), RegisteredId("RFC", "ANO010315KT2"),
    )
    assert vouch.scope.types == {"MillTestReportCredential", "USMCACertificationOfOrigin", "CommercialInvoiceCredential"}
    assert vouch.scope.goods == {"72", "73"} and vouch.scope.territories == {"MX"}
    assert vouch.scope.valid_until == datetime(2027, 6, 30, 23, 59, 59, tzinfo=timezone.utc)
    company = read_vouch(build(GS1_COMPANY))
    assert company.parent == load_example(GS1_COMPANY)["extendsCredential"] and company.scope.prefixes == {"7501234"}
    # the company prefix lies within the GS1 prefix its parent licence grants
    assert company.scope.within(read_vouch(build(GS1_PREFIX)).scope) == []
    ip = read_vouch(build(IP))
    assert ip.scope.marks == {"gulfline"} and ip.scope.allows_goods(["7304.19.1020"])


@pytest.mark.parametrize("type_name", TYPES)
def test_example_expands_to_defined_iris_with_no_data_loss(type_name):
    credential = build(type_name)
    expanded = expand(credential, default_loader())  # raises DataLossError for a dropped term
    iris = expanded_iris(expanded)
    assert not {iri for iri in iris if iri.startswith(ISSUER_DEPENDENT)}, "a term fell to the issuer-dependent @vocab"
    assert TYPE_IRI[type_name] in iris
    assert "https://schema.org/name" in iris
    subject = credential["credentialSubject"]
    for member, iri in (
        ("identifier", "https://schema.org/identifier"), ("authorizedCredentialType", "https://tradevc.example/vocab#authorizedCredentialType"),
        ("hsScope", "https://tradevc.example/vocab#hsScope"), ("territory", "https://schema.org/areaServed"),
        ("licenseValue", "https://tradevc.example/vocab#licenseValue"), ("mark", "https://tradevc.example/vocab#mark"),
        ("recordationNumber", "https://tradevc.example/vocab#recordationNumber"),
        ("extendsCredential", "https://tradevc.example/vocab#extendsCredential"),
    ):
        if member in subject:
            assert iri in iris, member
    # every literal of the subject survives expansion (ids and types become IRIs, checked above)
    assert sorted(literals(subject)) == sorted(v for v in expanded_values(expanded[0][CREDENTIAL_SUBJECT]))


CREDENTIAL_SUBJECT = "https://www.w3.org/2018/credentials#credentialSubject"


def literals(node: Any) -> list[Any]:
    if isinstance(node, list):
        return [v for item in node for v in literals(item)]
    if isinstance(node, dict):
        return [v for key, value in node.items() if key not in ("id", "type", "extendsCredential") for v in literals(value)]
    return [node]


def test_the_traceability_context_may_come_before_the_trust_context_only():
    credential = build(GS1_COMPANY)
    credential["@context"] = [CREDENTIALS_V2, TRACEABILITY_V1, TRUST_CONTEXT]
    check_credential(credential)
    assert TYPE_IRI[GS1_COMPANY] in expanded_iris(expand(credential, default_loader()))
    credential["@context"] = [CREDENTIALS_V2, TRUST_CONTEXT, TRACEABILITY_V1]
    assert f"@context: {TRACEABILITY_V1} must come before {TRUST_CONTEXT}" in problems_of(credential)
    credential["@context"] = [CREDENTIALS_V2, TRACEABILITY_V1]
    assert f"@context: must include {TRUST_CONTEXT}" in problems_of(credential)


@pytest.mark.parametrize("type_name", TYPES)
def test_example_signs_and_verifies_with_its_schema(type_name):
    credential = build(type_name, issuer=KEY.did, name=get_type(type_name).title)
    signed = sign_credential(credential, KEY, created=VALID_FROM)
    result = verify_credential(signed, policy=TrustPolicy({KEY.did: [type_name]}), now=NOW)
    assert result.verified, result.summary()
    assert result.check("schema").outcome.value == "passed"


def test_build_gives_a_subject_its_type():
    subject = load_example(ANCHOR)
    del subject["type"]
    assert build(ANCHOR, subject)["credentialSubject"]["type"] == ["RegisteredParty"]


# ---- what every vouch needs ------------------------------------------------------------------------


@pytest.mark.parametrize("type_name", TYPES)
@pytest.mark.parametrize("member", ["id", "name", "type"])
def test_each_vouch_needs_its_subject_id_name_and_type(type_name, member):
    assert f"credentialSubject.{member}: required field is missing" in problems_of(with_subject(type_name, **{member: None}))


@pytest.mark.parametrize("type_name", TYPES)
@pytest.mark.parametrize("value", [
    "https://mill.example", "did:web:", "did:WEB:mill.example", "did:web:mill.example#key-1",
    "did:web:mill.example/path", "mill.example", "",
])
def test_the_subject_id_must_be_a_did(type_name, value):
    assert "credentialSubject.id: must be the DID of the party vouched for" in problems_of(with_subject(type_name, id=value))


@pytest.mark.parametrize("type_name", TYPES)
def test_the_subject_must_have_its_type(type_name):
    message = problems_of(with_subject(type_name, type=["Organization"]))
    assert f"credentialSubject.type: must include '{SUBJECT_TYPE[type_name]}'" in message


@pytest.mark.parametrize("type_name", TYPES)
def test_a_party_cannot_vouch_for_itself(type_name):
    credential = build(type_name)
    credential["issuer"] = {"id": credential["credentialSubject"]["id"], "name": "Aceros del Norte"}
    assert "credentialSubject.id: a party cannot vouch for itself" in problems_of(credential)
    credential["credentialSubject"] = [credential["credentialSubject"]]  # one subject in a list
    assert "credentialSubject.id: a party cannot vouch for itself" in problems_of(credential)


def test_one_subject_may_sit_in_a_list():
    credential = build(ANCHOR)
    credential["credentialSubject"] = [credential["credentialSubject"]]
    check_credential(credential)


def test_authorized_types_are_full_names():
    message = problems_of(with_subject(ACCREDITATION, authorizedCredentialType=["IdentityAnchor"]))
    assert "credentialSubject.authorizedCredentialType[0]: write the full type name 'IdentityAnchorCredential'" in message


@pytest.mark.parametrize("type_name", TYPES)
@pytest.mark.parametrize("value", ["mx", "MEX", "Mexico", "", ["MX", "us"], []])
def test_bad_territory(type_name, value):
    message = problems_of(with_subject(type_name, territory=value))
    assert "credentialSubject.territory" in message
    assert "must not be empty" in message if value == [] else "must be an ISO 3166-1 alpha-2 country code" in message


@pytest.mark.parametrize("type_name", TYPES)
@pytest.mark.parametrize("value", ["7", "730", "73041", "7304.1", "72.08", "7304191020", "7304.19.10", "HS72"])
def test_bad_hs_scope(type_name, value):
    message = problems_of(with_subject(type_name, hsScope=[value]))
    assert "credentialSubject.hsScope[0]: must be an HS chapter (2 digits, '72'), heading" in message


@pytest.mark.parametrize("value", ["72", "7304", "730419", "7304.19", ["72", "7304.19"]])
def test_hs_scope_chapters_headings_subheadings(value):
    check_credential(with_subject(ACCREDITATION, hsScope=value))


@pytest.mark.parametrize("type_name", TYPES)
@pytest.mark.parametrize(("value", "expected"), [
    (["VerifiableCredential"], "'VerifiableCredential' would allow every credential"),
    (["Mill Test Report"], "must be a credential type name"),
    ([""], "must be a credential type name"),
    ([], "must not be empty"),
])
def test_bad_authorized_credential_types(type_name, value, expected):
    message = problems_of(with_subject(type_name, authorizedCredentialType=value))
    assert "credentialSubject.authorizedCredentialType" in message and expected in message


@pytest.mark.parametrize("type_name", [ANCHOR, ACCREDITATION])
def test_anchors_and_accreditations_must_expire(type_name):
    with pytest.raises(InvalidDocument) as info:
        build(type_name, valid_until=None)
    assert "validUntil: required field is missing (an " in info.value.message
    assert "must expire" in info.value.message and "--valid-until" in info.value.message


@pytest.mark.parametrize("type_name", [GS1_PREFIX, GS1_COMPANY, IP])
def test_licences_may_be_open_ended(type_name):
    assert "validUntil" not in build(type_name, valid_until=None)


def test_a_vouch_names_one_subject_as_the_verifier_reads_it():
    """The models accept a list of subjects; read_vouch does not, and its refusal is the
    issuer's: what is signed is what customs can read."""
    credential = build(ANCHOR)
    credential["credentialSubject"] = [credential["credentialSubject"], copy.deepcopy(credential["credentialSubject"])]
    message = problems_of(credential)
    assert "credentialSubject: a vouch names exactly one subject (as the verifier reads it)" in message


def test_read_vouch_is_asked(monkeypatch):
    from tradevc.vc.checks.vouches import VouchError

    def refuse(credential):
        raise VouchError("credentialSubject.hsScope: refused by the reader")

    credential = build(IP)
    monkeypatch.setattr(credential_types, "read_vouch", refuse)
    assert "credentialSubject.hsScope: refused by the reader (as the verifier reads it)" in problems_of(credential)


@pytest.mark.parametrize("type_name", [ANCHOR, ACCREDITATION])
def test_only_licences_extend_a_parent(type_name):
    message = problems_of(with_subject(type_name, extendsCredential="urn:uuid:2f0c4c3e-7d2a-4b8e-9a51-3c6f1e0b7d42"))
    assert "credentialSubject.extendsCredential: only licences extend a parent" in message


# ---- identity anchors ------------------------------------------------------------------------------


def identifier(scheme: str, value: str) -> dict[str, Any]:
    return with_subject(ANCHOR, identifier=[{"type": ["PropertyValue"], "propertyID": scheme, "value": value}])


def test_an_anchor_needs_identifiers():
    assert "credentialSubject.identifier: required field is missing" in problems_of(with_subject(ANCHOR, identifier=None))
    assert "credentialSubject.identifier: must not be empty" in problems_of(with_subject(ANCHOR, identifier=[]))
    message = problems_of(with_subject(ANCHOR, identifier=[{"propertyID": "MID"}, {"value": "X"}, "MXACEDEL12SAN"]))
    assert "credentialSubject.identifier[0].value: required field is missing" in message
    assert "credentialSubject.identifier[1].propertyID: required field is missing" in message
    assert "credentialSubject.identifier[2]: must be a JSON object" in message
    message = problems_of(with_subject(ANCHOR, identifier={"type": "Identifier", "propertyID": "MID", "value": "MXACEDEL12SAN"}))
    assert "credentialSubject.identifier.type: must include 'PropertyValue'" in message


def test_one_identifier_may_be_one_object_without_a_type():
    check_credential(with_subject(ANCHOR, identifier={"propertyID": "EORI", "value": "DE123456789012345"}))


def test_a_untp_style_anchor_gets_a_hint():
    message = problems_of(with_subject(ANCHOR, identifier=None, registeredId="12345678901", idScheme={"id": "https://abr.example"}))
    assert "credentialSubject.identifier: required field is missing (registeredId and idScheme are UNTP's" in message


@pytest.mark.parametrize("value", ["5493000ACEDELNORTE51", "5493001KJTIIGC8Y1R12", "HWUPKR0MPOU8FGXBT394"])
def test_lei_with_good_check_digits(value):
    assert lei_check_digits_ok(value)
    check_credential(identifier("LEI", value))


@pytest.mark.parametrize("value", ["5493000ACEDELNORTE52", "5493000ACEDELNORTE15", "HWUPKR0MPOU8FGXBT395", "5493001KJTIIGC8Y1R21"])
def test_lei_with_bad_check_digits(value):
    assert not lei_check_digits_ok(value)
    message = problems_of(identifier("LEI", value))
    assert f"credentialSubject.identifier[0].value: {value!r} is not an LEI: its check digits (ISO 7064 MOD 97-10) do not match" in message


@pytest.mark.parametrize("value", ["5493000ACEDELNORTE5", "5493000acedelnorte51", "5493000ACEDELNORTEAB", "5493000 ACEDELNORTE51"])
def test_malformed_lei(value):
    assert "credentialSubject.identifier[0].value: an LEI (ISO 17442) is 18 upper-case letters or digits and 2 check digits" in problems_of(
        identifier("LEI", value))


@pytest.mark.parametrize("value", ["MXACEDEL12SAN", "MXACEDEL1234MON", "USDHLEXP1304ERL", "XOACEDEL12TOR", "CNBERSHA", "DEABC2001304BER"])
def test_good_mid(value):
    check_credential(identifier("MID", value))


@pytest.mark.parametrize(("value", "expected"), [
    ("MXACEDELNORTE1234SAN", "a MID has at most 15 characters"),
    ("mxacedel12san", "a MID has only upper-case letters A-Z and digits"),
    ("MX ACEDEL 12 SAN", "a MID has only upper-case letters A-Z and digits, no spaces"),
    ("MX-ACEDEL-12-SAN", "no spaces or punctuation"),
    ("CAACEDEL12TOR", "a MID does not start with CA: a Canadian manufacturer's MID starts with its province code"),
    ("MXACEDEL12", "then the first three letters of the city"),
    ("1XACEDEL12SAN", "a MID is the 2-letter ISO country code"),
    ("MXSAN", "a MID is the 2-letter ISO country code"),
])
def test_bad_mid(value, expected):
    message = problems_of(identifier("MID", value))
    assert "credentialSubject.identifier[0].value: a MID " in message and expected in message


@pytest.mark.parametrize(("scheme", "good", "bad", "expected"), [
    ("EORI", ["DE123456789012345", "GB123456789000", "MXA1"], ["DE", "de123456", "DE1234567890123456", "DE 12345"],
     "an EORI number is the 2-letter country code and up to 15 upper-case letters or digits"),
    ("GS1", ["7501234", "0614141", "012345678901"], ["750", "0123456789012", "75O1234", "750-1234"],
     "a GS1 company prefix is 4 to 12 digits"),
    ("IOR", ["12-3456789", "12-345678900", "261234-12345"], ["123456789", "12-34567", "12-3456789-00", "2612-3412345"],
     "a CBP importer number is an IRS EIN 'NN-NNNNNNN'"),
])
def test_identifier_schemes(scheme, good, bad, expected):
    for value in good:
        check_credential(identifier(scheme, value))
    for value in bad:
        assert f"credentialSubject.identifier[0].value: {expected}" in problems_of(identifier(scheme, value)), value


@pytest.mark.parametrize("scheme", ["lei", "Mid", "eori", " GS1", "ior"])
def test_a_known_scheme_is_spelled_one_way(scheme):
    message = problems_of(identifier(scheme, "anything"))
    assert f"credentialSubject.identifier[0].propertyID: write the scheme as {scheme.strip().upper()!r}" in message


def test_other_schemes_are_free_text_but_not_empty():
    check_credential(identifier("Registro Publico de Comercio", "N-2019-004512"))
    message = problems_of(identifier("RFC", " "))
    assert "credentialSubject.identifier[0].value: must not be empty" in message
    assert "credentialSubject.identifier[0].propertyID: must not be empty" in problems_of(identifier("", "x"))


# ---- accreditations ------------------------------------------------------------------------------


def test_an_accreditation_names_the_types_it_allows():
    message = problems_of(with_subject(ACCREDITATION, authorizedCredentialType=None))
    assert "credentialSubject.authorizedCredentialType: required field is missing" in message
    message = problems_of(with_subject(ACCREDITATION, authorizedCredentialType=[]))
    assert "credentialSubject.authorizedCredentialType: must not be empty" in message
    check_credential(with_subject(ACCREDITATION, authorizedCredentialType="MillTestReportCredential"))
    check_credential(with_subject(ACCREDITATION, authorizedCredentialType=["https://trade.example/vocab#LabReport"]))


def test_an_accreditation_may_name_identifiers():
    message = problems_of(with_subject(ACCREDITATION, identifier=[{"propertyID": "LEI", "value": "5493000ACEDELNORTE52"}]))
    assert "credentialSubject.identifier[0].value: '5493000ACEDELNORTE52' is not an LEI" in message


# ---- licences ------------------------------------------------------------------------------------


def test_a_company_prefix_licence_extends_its_parent():
    message = problems_of(with_subject(GS1_COMPANY, extendsCredential=None))
    assert "credentialSubject.extendsCredential: required field is missing (a GS1CompanyPrefixLicenseCredential is granted under" in message
    check_credential(with_subject(GS1_PREFIX, extendsCredential=None))  # a GS1 prefix licence need not


@pytest.mark.parametrize("type_name", [GS1_PREFIX, GS1_COMPANY, IP])
@pytest.mark.parametrize("value", [
    "2f0c4c3e-7d2a-4b8e-9a51-3c6f1e0b7d42", "urn:uuid", "https:///licences/1", "the parent licence", "/licences/1", "",
])
def test_extends_credential_is_an_absolute_url(type_name, value):
    message = problems_of(with_subject(type_name, extendsCredential=value))
    assert "credentialSubject.extendsCredential: must be the id of the parent credential, an absolute URL or URN" in message


@pytest.mark.parametrize("value", ["urn:uuid:2f0c4c3e-7d2a-4b8e-9a51-3c6f1e0b7d42", "https://gs1mexico.example/licences/750"])
def test_extends_credential_urls(value):
    check_credential(with_subject(GS1_COMPANY, extendsCredential=value))


def test_extends_credential_must_be_one_string():
    message = problems_of(with_subject(GS1_COMPANY, extendsCredential=["urn:uuid:1", "urn:uuid:2"]))
    assert "credentialSubject.extendsCredential: " in message


@pytest.mark.parametrize("type_name", [GS1_PREFIX, GS1_COMPANY])
@pytest.mark.parametrize("value", ["75O1234", "7501-234", "", " 7501234", ["7501234", "ABCD"], 7501234])
def test_licence_values_are_digits(type_name, value):
    message = problems_of(with_subject(type_name, licenseValue=value))
    assert "credentialSubject.licenseValue" in message
    assert "digits 0-9" in message if isinstance(value, (str, list)) else "must be a string, got a number" in message


@pytest.mark.parametrize("type_name", [GS1_PREFIX, GS1_COMPANY])
def test_a_licence_needs_its_values(type_name):
    assert "credentialSubject.licenseValue: required field is missing" in problems_of(with_subject(type_name, licenseValue=None))
    assert "credentialSubject.licenseValue: must not be empty" in problems_of(with_subject(type_name, licenseValue=[]))


def test_company_prefixes_have_4_to_12_digits():
    message = problems_of(with_subject(GS1_COMPANY, licenseValue=["750"]))
    assert "credentialSubject.licenseValue[0]: must be a GS1 company prefix: 4 to 12 digits" in message
    check_credential(with_subject(GS1_PREFIX, licenseValue=["750"]))  # a GS1 prefix may be short
    message = problems_of(with_subject(GS1_PREFIX, licenseValue=["7501234567890"]))
    assert "credentialSubject.licenseValue[0]: must be a GS1 prefix: 1 to 12 digits" in message


def test_an_ip_licence_names_its_marks():
    assert "credentialSubject.mark: required field is missing" in problems_of(with_subject(IP, mark=None))
    assert "credentialSubject.mark: must not be empty" in problems_of(with_subject(IP, mark=[]))
    assert "credentialSubject.mark[1]: must not be empty" in problems_of(with_subject(IP, mark=["GULFLINE", " "]))
    message = problems_of(with_subject(IP, mark=None, trademark="GULFLINE"))
    assert "the recorded marks are mark:" in message
    check_credential(with_subject(IP, mark="GULFLINE", recordationNumber="TMK 24-00317"))


@pytest.mark.parametrize("value", ["24-00317", "TMK 2400317", "tmk 24-00317", "TMK-24-00317", ""])
def test_bad_recordation_number(value):
    message = problems_of(with_subject(IP, recordationNumber=[value]))
    assert "credentialSubject.recordationNumber[0]: must be a CBP recordation number, like 'TMK 11-00163'" in message


def test_an_ip_sub_authorisation_extends_its_parent():
    vouch = read_vouch(build(IP, {**load_example(IP), "extendsCredential": "https://gulfcoastpipe.example/ip/1"}))
    assert vouch.parent == "https://gulfcoastpipe.example/ip/1"


# ---- the shipped schemas say what the models say -------------------------------------------------

S = ("credentialSubject",)
MUTATIONS = [
    (ANCHOR, S + ("id",), "https://mill.example", False),
    (ANCHOR, S + ("id",), "did:web:mill.example", True),
    (ANCHOR, S + ("name",), " ", False),
    (ANCHOR, S + ("identifier",), [], False),
    (ANCHOR, S + ("identifier",), {"propertyID": "MID", "value": "MXACEDEL12SAN"}, True),
    (ANCHOR, S + ("identifier", 0, "value"), "CAACEDEL12TOR", False),
    (ANCHOR, S + ("identifier", 0, "value"), "MXACEDELNORTE1234SAN", False),
    (ANCHOR, S + ("identifier", 0, "value"), "mxacedel12san", False),
    (ANCHOR, S + ("identifier", 1, "value"), "5493000ACEDELNORTE5", False),
    (ANCHOR, S + ("identifier", 2, "value"), "750", False),
    (ANCHOR, S + ("identifier", 3, "value"), "anything at all", True),
    (ANCHOR, S + ("territory",), ["mx"], False),
    (ANCHOR, S + ("territory",), "MX", True),
    (ANCHOR, S + ("hsScope",), ["7304.1"], False),
    (ANCHOR, S + ("hsScope",), ["7304.19"], True),
    (ANCHOR, S + ("authorizedCredentialType",), ["VerifiableCredential"], False),
    (ANCHOR, S + ("authorizedCredentialType",), [], False),
    (ANCHOR, S + ("authorizedCredentialType",), ["MillTestReportCredential", "IdentityAnchor"], False),
    (ANCHOR, S + ("type",), ["Organization"], False),
    (ANCHOR, ("validUntil",), None, False),
    (ANCHOR, ("@context",), [CREDENTIALS_V2, TRACEABILITY_V1], False),
    (ACCREDITATION, S + ("authorizedCredentialType",), None, False),
    (ACCREDITATION, S + ("authorizedCredentialType",), "MillTestReportCredential", True),
    (ACCREDITATION, ("validUntil",), None, False),
    (GS1_PREFIX, S + ("licenseValue",), ["75O"], False),
    (GS1_PREFIX, S + ("licenseValue",), "750", True),
    (GS1_PREFIX, ("validUntil",), None, True),
    (GS1_COMPANY, S + ("extendsCredential",), None, False),
    (GS1_COMPANY, S + ("extendsCredential",), "not a url", False),
    (GS1_COMPANY, S + ("licenseValue",), ["750"], False),
    (IP, S + ("mark",), None, False),
    (IP, S + ("mark",), [], False),
    (IP, S + ("recordationNumber",), ["24-00317"], False),
    (IP, S + ("recordationNumber",), None, True),
]


@pytest.mark.parametrize("type_name", TYPES)
def test_each_shipped_schema_is_pinned_by_its_sha256(type_name):
    index = json.loads(resources.files("tradevc.contexts").joinpath("schemas", "index.json").read_text(encoding="utf-8"))
    [entry] = [e for e in index["schemas"] if e["credentialType"] == type_name]
    data = resources.files("tradevc.contexts").joinpath("schemas", entry["file"]).read_bytes()
    assert hashlib.sha256(data).hexdigest() == entry["sha256"]
    assert json.loads(data)["$id"] == entry["url"] == shipped_schema_for(type_name)
    assert default_schema_store().resource_bytes(entry["url"]) == data


@pytest.mark.parametrize("type_name,path,value,ok", MUTATIONS)
def test_the_schema_says_what_the_models_say(monkeypatch, type_name, path, value, ok):
    credential = build(type_name)
    target = credential
    for part in path[:-1]:
        target = target[part]
    if value is None:
        del target[path[-1]]
    else:
        target[path[-1]] = copy.deepcopy(value)
    schema_ok = not default_schema_store().problems(shipped_schema_for(type_name), credential)
    monkeypatch.setattr(credential_types, "_schema_problems", lambda ctype, c: [])  # the models alone
    try:
        check_credential(credential)
        models_ok = True
    except InvalidDocument:
        models_ok = False
    assert (models_ok, schema_ok) == (ok, ok)


# ---- vc-issuer -----------------------------------------------------------------------------------


def stamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


TODAY = datetime.now(timezone.utc).replace(microsecond=0)
CLI_FROM, CLI_UNTIL = stamp(TODAY - timedelta(days=1)), stamp(TODAY + timedelta(days=365))


@pytest.fixture
def registrar(tmp_path):
    env = {"TRADEVC_ISSUER_HOME": str(tmp_path / "registrar"), "TRADEVC_ISSUER_PASSPHRASE": "s3cret s3cret"}
    result = CliRunner().invoke(issuer_cli, ["init", "--name", "Registro Publico de Comercio"], env=env)
    assert result.exit_code == 0, result.output
    did = next(line.split()[1] for line in result.output.splitlines() if line.startswith("DID:"))
    subject = tmp_path / "mill-subject.json"
    subject.write_text(json.dumps(load_example(ANCHOR)))
    return env, did, subject


@pytest.mark.parametrize("type_option", ["IdentityAnchor", ANCHOR])
def test_vc_issuer_issues_an_identity_anchor_that_verifies(tmp_path, registrar, type_option):
    env, did, subject = registrar
    out = tmp_path / "mill-anchor.json"
    result = CliRunner().invoke(issuer_cli, [
        "issue", "--type", type_option, "--subject", str(subject), "--valid-from", CLI_FROM,
        "--valid-until", CLI_UNTIL, "--out", str(out)], env=env)
    assert result.exit_code == 0, result.output
    anchor = json.loads(out.read_text())
    assert anchor["type"] == ["VerifiableCredential", ANCHOR] and anchor["@context"] == [CREDENTIALS_V2, TRUST_CONTEXT]
    assert anchor["credentialSchema"]["id"] == shipped_schema_for(ANCHOR)
    report = verify_credential(anchor, policy=TrustPolicy({did: [ANCHOR]}))  # signed just now
    assert report.verified, report.summary()
    assert report.check("schema").outcome.value == "passed"
    vouch = read_vouch(anchor)
    assert (vouch.kind, vouch.issuer, vouch.subject) == ("anchor", did, "did:web:certifier.aceros-del-norte.example")
    anchor["credentialSubject"]["identifier"][0]["value"] = "MXACEDEL99SAN"  # the registrar's word cannot be changed
    assert not verify_credential(anchor, policy=TrustPolicy({did: [ANCHOR]})).verified


def test_vc_issuer_refuses_an_anchor_without_an_end_in_one_line(tmp_path, registrar):
    env, _, subject = registrar
    out = tmp_path / "mill-anchor.json"
    result = CliRunner().invoke(issuer_cli, ["issue", "--type", "IdentityAnchor", "--subject", str(subject), "--out", str(out)], env=env)
    assert result.exit_code == 1 and isinstance(result.exception, SystemExit), result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: MALFORMED_VALUE_ERROR: invalid IdentityAnchorCredential: ")
    assert "validUntil: required field is missing (an identity anchor must expire" in lines[0]
    assert "Traceback" not in result.output and not out.exists()


def test_vc_issuer_names_a_bad_identifier(tmp_path, registrar):
    env, _, subject = registrar
    bad = load_example(ANCHOR)
    bad["identifier"][1]["value"] = "5493000ACEDELNORTE52"
    subject.write_text(json.dumps(bad))
    result = CliRunner().invoke(issuer_cli, ["issue", "--type", "IdentityAnchor", "--subject", str(subject),
                                             "--valid-until", CLI_UNTIL], env=env)
    assert result.exit_code == 1
    assert "credentialSubject.identifier[1].value: '5493000ACEDELNORTE52' is not an LEI" in result.output


def test_vc_issuer_help_lists_the_short_names():
    result = CliRunner().invoke(issuer_cli, ["issue", "--help"])
    text = " ".join(result.output.split())
    for alias, name in TYPE_ALIASES.items():
        assert f"{alias} = {name}" in text
    assert "IdentityAnchor" in text and "--valid-until" in text
