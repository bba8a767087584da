"""issuer.credential_types: the trade credential types, their examples, and the checks before signing."""

from __future__ import annotations

import copy
import re
import uuid
from datetime import datetime, timedelta, timezone
from types import MappingProxyType
from typing import Any

import pytest

from support.expanded import expanded_iris
from tradevc.issuer import sign_credential
from tradevc.issuer.credential_types import (
    TRACEABILITY_V1,
    build_credential,
    check_credential,
    get_type,
    load_example,
    type_names,
)
from tradevc.vc.errors import DataLossError, InvalidDocument
from tradevc.vc.jsonld import default_loader, expand
from tradevc.vc.keys import KeyPair
from tradevc.vc.model import CREDENTIALS_V2
from tradevc.vc.checks.supply import TRADE_CONTEXT
from tradevc.verifier import TrustPolicy, verify_credential

USMCA = "USMCACertificationOfOrigin"
MTR = "MillTestReportCredential"
SIMA = "SIMASteelImportLicenseCredential"
INVOICE = "CommercialInvoiceCredential"
TYPES = [USMCA, MTR, SIMA, INVOICE]

ISSUER_DEPENDENT = "https://www.w3.org/ns/credentials/issuer-dependent#"

# Terms the examples use that the pinned traceability context does not define, so they expand
# under its @vocab (issuer-dependent). Keep this short: every other term must be a real one.
ALLOWED_UNDEFINED = {
    # The vocabulary has the USMCACertifier type (role, certifierDetails) but no property that
    # links a USMCAClaims subject to its certifier.
    USMCA: {"certifier"},
    MTR: set(),
    SIMA: set(),
    INVOICE: set(),
}

# validFrom, validUntil and a verification time inside the period, per type.
PERIODS: dict[str, tuple[str, str | None, datetime]] = {
    # a USMCA blanket period of (just under) 12 months
    USMCA: ("2026-01-01T00:00:00Z", "2026-12-31T23:59:59Z", datetime(2026, 6, 15, 12, tzinfo=timezone.utc)),
    MTR: ("2026-03-28T00:00:00Z", None, datetime(2026, 6, 15, 12, tzinfo=timezone.utc)),
    # a SIMA license is valid for 75 days
    SIMA: ("2026-03-30T00:00:00Z", "2026-06-13T23:59:59Z", datetime(2026, 4, 6, 12, tzinfo=timezone.utc)),
    INVOICE: ("2026-04-03T00:00:00Z", None, datetime(2026, 6, 15, 12, tzinfo=timezone.utc)),
}


def build(type_name: str, subject: Any = None, **kw: Any) -> dict[str, Any]:
    valid_from, valid_until, _ = PERIODS[type_name]
    kw.setdefault("issuer", "did:example:aceros-del-norte")
    kw.setdefault("valid_from", valid_from)
    kw.setdefault("valid_until", valid_until)
    return build_credential(type_name, load_example(type_name) if subject is None else subject, **kw)


def problems_of(credential: dict[str, Any]) -> str:
    with pytest.raises(InvalidDocument) as info:
        check_credential(credential)
    assert info.value.code == "MALFORMED_VALUE_ERROR"
    return info.value.message


def path_text(path: tuple[Any, ...]) -> str:
    text = "credentialSubject"
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else f".{part}"
    return text


def locate(document: Any, path: tuple[Any, ...]) -> tuple[Any, Any]:
    """The container of the last step of ``path`` and that step."""
    for part in path[:-1]:
        document = document[part]
    return document, path[-1]


def without(type_name: str, *paths: tuple[Any, ...]) -> dict[str, Any]:
    """A valid credential of ``type_name`` with the fields at ``paths`` (in its subject) removed."""
    credential = build(type_name)
    for path in paths:
        container, last = locate(credential["credentialSubject"], path)
        del container[last]
    return credential


def with_value(type_name: str, path: tuple[Any, ...], value: Any) -> dict[str, Any]:
    credential = build(type_name)
    container, last = locate(credential["credentialSubject"], path)
    container[last] = value
    return credential



# ---- the registry -----------------------------------------------------------------------------


def test_known_types():
    # the four trade types, then those that say who the parties are (tests/unit/test_vouch_types.py)
    assert type_names() == TYPES + [
        "TransformationEventCredential", "IdentityAnchorCredential", "AccreditationCredential", "GS1PrefixLicenseCredential",
        "GS1CompanyPrefixLicenseCredential", "IntellectualPropertyRightsLicenseCredential",
        "PowerOfAttorneyCredential",  # tests/unit/test_power_of_attorney.py
    ]
    usmca = get_type(USMCA)
    assert usmca is not None and usmca.subject_type == "USMCAClaims"
    assert usmca.requires_valid_until and usmca.max_validity == timedelta(days=366)
    assert usmca.max_validity_months == 12
    assert get_type(SIMA).requires_valid_until and get_type(SIMA).subject_type == "SIMASteelImportLicense"
    assert not get_type(MTR).requires_valid_until and get_type(MTR).max_validity is None
    assert get_type(INVOICE).subject_type == "Invoice"
    assert get_type("MyCustomCredential") is None
    assert get_type("VerifiableCredential") is None


def test_load_example_returns_a_fresh_copy():
    first = load_example(USMCA)
    first["goods"].clear()
    assert load_example(USMCA)["goods"]


# ---- the examples -------------------------------------------------------------------------


@pytest.mark.parametrize("type_name", TYPES)
def test_example_builds_and_passes_the_checks(type_name):
    credential = build(type_name)
    # the USMCA and SIMA examples use the trade context's terms (declaredQuantity, certificationKind, licenseKind)
    trade = [TRADE_CONTEXT] if type_name in (USMCA, SIMA) else []
    assert credential["@context"] == [CREDENTIALS_V2, TRACEABILITY_V1] + trade
    assert credential["type"] == ["VerifiableCredential", type_name]
    assert get_type(type_name).subject_type in credential["credentialSubject"]["type"]
    check_credential(credential)  # does not raise


@pytest.mark.parametrize("type_name", TYPES)
def test_example_expands_without_data_loss(type_name):
    try:
        expanded = expand(build(type_name), default_loader())
    except DataLossError as e:  # pragma: no cover - the failure message is the point
        pytest.fail(f"{type_name}: {e.message}")
    assert expanded


@pytest.mark.parametrize("type_name", TYPES)
def test_example_terms_are_defined_by_the_vocabulary(type_name):
    """Only the allow-listed terms fall to the traceability context's issuer-dependent @vocab."""
    iris = expanded_iris(expand(build(type_name), default_loader()))
    undefined = {iri.removeprefix(ISSUER_DEPENDENT) for iri in iris if iri.startswith(ISSUER_DEPENDENT)}
    assert undefined == ALLOWED_UNDEFINED[type_name]
    assert f"https://w3id.org/traceability#{type_name}" in iris


def test_the_vocabulary_terms_expand_to_their_iris():
    """Spot checks that the type-scoped contexts were applied."""
    iris = set()
    for type_name in TYPES:
        iris |= expanded_iris(expand(build(type_name), default_loader()))
    for iri in (
        "https://w3id.org/traceability#commodityCode",  # USMCAProduct, Commodity
        "https://w3id.org/traceability#originCriterion",  # USMCAProduct
        "https://w3id.org/traceability#certifierRole",  # USMCACertifier.role
        "https://schema.org/jobTitle",  # ContactPoint.jobTitle
        "https://schema.org/PostalAddress",  # Place.address
        "https://w3id.org/traceabilit#heatNumber",  # SteelProduct.heatNumber (sic)
        "https://vocabulary.uncefact.org/manufactureCountry",  # manufacturingCountry
        "https://purl.obolibrary.org/obo/chebi/formula",  # ChemicalProperty.formula
        "https://w3id.org/traceability#countryOfMeltAndPour",  # SIMASteelImportProductSpecifier
        "https://vocabulary.uncefact.org/declaredValueForCustomsAmount",  # customsValue
        "https://schema.org/weight",  # SteelProduct.weight
        "https://vocabulary.uncefact.org/despatchedQuantity",  # TradeLineItem.itemCount
        "https://schema.org/totalPaymentDue",  # Invoice.totalPaymentDue
        "https://schema.org/priceCurrency",  # PriceSpecification.priceCurrency
    ):
        assert iri in iris, iri


def test_examples_name_the_same_parties_and_goods():
    usmca, mtr, sima, invoice = (load_example(t) for t in TYPES)
    importer = usmca["importerDetails"][0]
    for party in (mtr["customer"], sima["importer"], invoice["buyer"]):
        assert party["name"] == importer["name"]
        assert party["location"] == importer["location"]
    exporter = usmca["exporterDetails"]
    assert sima["exporter"]["name"] == invoice["seller"]["name"] == exporter["name"]
    assert sima["exporter"]["location"] == invoice["seller"]["location"] == exporter["location"]
    assert mtr["manufacturer"]["location"] == sima["manufacturer"]["location"] == usmca["producerDetails"]["location"]
    assert usmca["goods"][0]["commodityCode"] == "730419"
    assert {p["commodity"]["commodityCode"] for p in mtr["product"]} == {"730419"}
    assert invoice["itemsShipped"][0]["product"]["commodity"]["commodityCode"] == "730419"
    hts = sima["productInformation"][0]["product"]["commodity"]["commodityCode"]
    assert hts == "7304.19.1020" and hts.replace(".", "").startswith("730419")
    assert mtr["purchaseOrderNo"] == invoice["referencesOrder"] == invoice["itemsShipped"][0]["purchaseOrderNumber"]
    assert mtr["invoiceNo"] == invoice["invoiceNumber"]
    weight = sima["productInformation"][0]["product"]["weight"]["value"]
    assert weight == invoice["totalWeight"]["value"] == invoice["itemsShipped"][0]["netWeight"]["value"]
    assert sima["productInformation"][0]["customsValue"]["value"] == invoice["totalPaymentDue"]["price"]


@pytest.fixture(scope="module")
def key():
    return KeyPair.generate("Ed25519")


@pytest.mark.parametrize("type_name", TYPES)
def test_example_signs_and_verifies(type_name, key):
    valid_from, _, now = PERIODS[type_name]
    issuer: Any = key.did
    if type_name == USMCA:  # an issuer object, as in the reference credential
        issuer = {"id": key.did, "type": ["Organization"], "name": "Aceros del Norte S.A. de C.V."}
    credential = build(type_name, issuer=issuer, name=get_type(type_name).title)
    signed = sign_credential(credential, key, created=valid_from)
    report = verify_credential(signed, policy=TrustPolicy.unsafe_any_issuer(), now=now)
    assert report.verified, report.summary()


def test_a_mill_test_report_of_many_similar_heats_still_canonicalizes(key):
    """Observations carry a name, so heats with identical chemistry stay cheap to canonicalize
    (without it, two heats of this example already exceed the RDFC work limit)."""
    subject = load_example(MTR)
    template = subject["product"][0]
    elements = ["C", "Mn", "P", "S", "Si", "Cu", "Ni", "Cr", "Mo", "V", "Nb", "Ti", "Al", "B", "N", "Ca"]
    subject["product"] = []
    for i in range(6):
        product = copy.deepcopy(template)
        product["identifier"], product["heatNumber"] = f"LOT-{i}", f"H26-{18900 + i}"
        product["inspection"]["chemicalObservation"] = [
            {
                "type": ["Observation"],
                "name": element,
                "property": {"type": ["ChemicalProperty"], "formula": element},
                "measurement": {"type": ["MeasuredValue"], "value": "0.01", "unitCode": "P1"},
            }
            for element in elements
        ]
        product["inspection"]["mechanicalObservation"] = [
            {
                "type": ["Observation"],
                "name": "Charpy V-notch impact energy at -10 C",
                "property": {"type": ["MechanicalProperty"], "name": "Charpy impact energy"},
                "measurement": {"type": ["MeasuredValue"], "value": "54", "unitCode": "J"},
            }
        ] * 3
        subject["product"].append(product)
    valid_from, _, now = PERIODS[MTR]
    credential = build_credential(MTR, subject, issuer=key.did, valid_from=valid_from)
    signed = sign_credential(credential, key, created=valid_from)
    assert verify_credential(signed, policy=TrustPolicy.unsafe_any_issuer(), now=now).verified


# ---- required fields ----------------------------------------------------------------------

REQUIRED: dict[str, list[tuple[Any, ...]]] = {
    USMCA: [
        ("type",),
        ("certifier",),
        ("certifier", "type"),
        ("certifier", "role"),
        ("certifier", "certifierDetails"),
        ("certifier", "certifierDetails", "name"),
        ("certifier", "certifierDetails", "jobTitle"),
        ("certifier", "certifierDetails", "phoneNumber"),
        ("certifier", "certifierDetails", "email"),
        ("certifier", "certifierDetails", "place"),
        ("certifier", "certifierDetails", "place", "address", "addressCountry"),
        ("exporterDetails",),
        ("exporterDetails", "type"),
        ("exporterDetails", "name"),
        ("exporterDetails", "location"),
        ("exporterDetails", "location", "address"),
        ("exporterDetails", "location", "address", "type"),
        ("exporterDetails", "location", "address", "streetAddress"),
        ("exporterDetails", "location", "address", "addressLocality"),
        ("exporterDetails", "location", "address", "addressCountry"),
        ("producerDetails",),
        ("producerDetails", "name"),
        ("producerDetails", "location"),
        ("importerDetails",),
        ("importerDetails", 0, "name"),
        ("importerDetails", 0, "location"),
        ("goods",),
        ("goods", 0, "type"),
        ("goods", 0, "description"),
        ("goods", 0, "commodityCode"),
        ("goods", 1, "originCriterion"),
        ("goods", 1, "countryOfOrigin"),
    ],
    MTR: [
        ("type",),
        ("customer",),
        ("customer", "name"),
        ("customer", "location"),
        ("internalCertificateNo",),
        ("purchaseOrderNo",),
        ("product",),
        ("product", 0, "type"),
        ("product", 0, "identifier"),
        ("product", 0, "manufacturingCountry"),
        ("product", 0, "originalCountryOfMeltAndPour"),
        ("product", 0, "heatNumber"),
        ("product", 0, "specification"),
        ("product", 0, "inspection"),
        ("product", 1, "inspection", "type"),
        ("product", 1, "inspection", "chemicalObservation"),
        ("product", 1, "inspection", "mechanicalObservation"),
        ("product", 0, "inspection", "chemicalObservation", 2, "name"),
        ("product", 0, "inspection", "chemicalObservation", 2, "property"),
        ("product", 0, "inspection", "chemicalObservation", 2, "property", "formula"),
        ("product", 0, "inspection", "chemicalObservation", 2, "measurement"),
        ("product", 0, "inspection", "chemicalObservation", 2, "measurement", "value"),
        ("product", 0, "inspection", "mechanicalObservation", 1, "name"),
        ("product", 0, "inspection", "mechanicalObservation", 0, "property", "name"),
        ("product", 0, "inspection", "mechanicalObservation", 0, "measurement", "value"),
    ],
    SIMA: [
        ("type",),
        ("licenseNumber",),
        ("importer",),
        ("importer", "name"),
        ("exporter",),
        ("exporter", "location"),
        ("manufacturer",),
        ("manufacturer", "name"),
        ("countryOfOrigin",),
        ("countryOfExportation",),
        ("productInformation",),
        ("productInformation", 0, "type"),
        ("productInformation", 0, "countryOfMeltAndPour"),
        ("productInformation", 0, "customsValue"),
        ("productInformation", 0, "customsValue", "value"),
        ("productInformation", 0, "customsValue", "currency"),
        ("productInformation", 0, "product"),
        ("productInformation", 0, "product", "commodity"),
        ("productInformation", 0, "product", "commodity", "commodityCode"),
        ("productInformation", 0, "product", "weight"),
        ("productInformation", 0, "product", "weight", "value"),
        ("productInformation", 0, "product", "weight", "unitCode"),
    ],
    INVOICE: [
        ("type",),
        ("invoiceNumber",),
        ("seller",),
        ("seller", "name"),
        ("buyer",),
        ("buyer", "location"),
        ("itemsShipped",),
        ("itemsShipped", 0, "type"),
        ("itemsShipped", 0, "description"),
        ("itemsShipped", 0, "itemCount"),
        ("itemsShipped", 0, "priceSpecification"),
        ("itemsShipped", 0, "priceSpecification", "price"),
        ("itemsShipped", 0, "priceSpecification", "priceCurrency"),
        ("totalPaymentDue",),
        ("totalPaymentDue", "price"),
        ("totalPaymentDue", "priceCurrency"),
    ],
}


@pytest.mark.parametrize(
    ("type_name", "path"),
    [(t, p) for t, paths in REQUIRED.items() for p in paths],
    ids=lambda v: ".".join(map(str, v)) if isinstance(v, tuple) else v,
)
def test_each_required_field_is_named_when_missing(type_name, path):
    message = problems_of(without(type_name, path))
    assert f"{path_text(path)}: required field is missing" in message


def test_every_missing_field_is_listed_in_one_error():
    credential = without(
        USMCA,
        ("certifier", "role"),
        ("exporterDetails", "name"),
        ("importerDetails",),
        ("goods", 0, "commodityCode"),
        ("goods", 1, "countryOfOrigin"),
    )
    del credential["validUntil"]
    message = problems_of(credential)
    for text in (
        "credentialSubject.certifier.role: required field is missing",
        "credentialSubject.exporterDetails.name: required field is missing",
        "credentialSubject.importerDetails: required field is missing",
        "credentialSubject.goods[0].commodityCode: required field is missing",
        "credentialSubject.goods[1].countryOfOrigin: required field is missing",
        "validUntil: required field is missing",
    ):
        assert text in message
    assert message.startswith(f"invalid {USMCA}: ")
    assert message.count("; ") == 5


def test_every_problem_in_a_mill_test_report_is_listed():
    credential = without(MTR, ("purchaseOrderNo",), ("product", 0, "heatNumber"))
    chemistry = credential["credentialSubject"]["product"][1]["inspection"]["chemicalObservation"]
    chemistry[0]["measurement"]["value"] = "n/a"
    del chemistry[4]  # Si
    message = problems_of(credential)
    assert "credentialSubject.purchaseOrderNo: required field is missing" in message
    assert "credentialSubject.product[0].heatNumber: required field is missing" in message
    assert "credentialSubject.product[1].inspection.chemicalObservation[0].measurement.value: must be a number" in message
    assert "credentialSubject.product[1].inspection.chemicalObservation: must report C, Mn, P, S, Si" in message
    assert "missing Si" in message


# ---- malformed values ---------------------------------------------------------------------


@pytest.mark.parametrize("code", ["73041", "7304190", "73O419", "7304.19", " 730419", "", "７３０４１９"])
def test_bad_hs_code(code):
    message = problems_of(with_value(USMCA, ("goods", 0, "commodityCode"), code))
    assert "credentialSubject.goods[0].commodityCode: must be a 6-digit HS code" in message


def test_hs_code_must_be_a_string():
    message = problems_of(with_value(USMCA, ("goods", 0, "commodityCode"), 730419))
    assert "credentialSubject.goods[0].commodityCode: " in message


@pytest.mark.parametrize("criterion", ["E", "b", "AB", ""])
def test_bad_origin_criterion(criterion):
    message = problems_of(with_value(USMCA, ("goods", 1, "originCriterion"), criterion))
    assert "credentialSubject.goods[1].originCriterion: must be one of the USMCA origin criteria A, B, C, D" in message


@pytest.mark.parametrize("criterion", ["A", "B", "C", "D"])
def test_each_origin_criterion(criterion):
    check_credential(with_value(USMCA, ("goods", 0, "originCriterion"), criterion))


def test_bad_commodity_code_type():
    message = problems_of(with_value(USMCA, ("goods", 0, "commodityCodeType"), "HTS"))
    assert "credentialSubject.goods[0].commodityCodeType: must be 'HS'" in message


@pytest.mark.parametrize("role", ["Exporter", "exporter", "Importer", "PRODUCER"])
def test_certifier_roles(role):
    check_credential(with_value(USMCA, ("certifier", "role"), role))


def test_bad_certifier_role():
    message = problems_of(with_value(USMCA, ("certifier", "role"), "broker"))
    assert "credentialSubject.certifier.role: must be one of Importer, Exporter, Producer" in message


@pytest.mark.parametrize("country", ["Mexico", "mx", "MEX", "Mx", "M", ""])
@pytest.mark.parametrize(
    ("type_name", "path"),
    [
        (USMCA, ("goods", 0, "countryOfOrigin")),
        (USMCA, ("exporterDetails", "location", "address", "addressCountry")),
        (MTR, ("product", 0, "manufacturingCountry")),
        (MTR, ("product", 1, "originalCountryOfMeltAndPour")),
        (SIMA, ("countryOfOrigin",)),
        (SIMA, ("countryOfExportation",)),
        (SIMA, ("productInformation", 0, "countryOfMeltAndPour")),
    ],
)
def test_bad_country_code(type_name, path, country):
    message = problems_of(with_value(type_name, path, country))
    assert f"{path_text(path)}: must be an ISO 3166-1 alpha-2 country code" in message


@pytest.mark.parametrize("value", [0, -1, 0.0, "0", "-250.5", "abc", "", True, None, [], float("inf")])
@pytest.mark.parametrize(
    "path",
    [
        ("productInformation", 0, "product", "weight", "value"),
        ("productInformation", 0, "customsValue", "value"),
    ],
)
def test_non_positive_sima_weight_or_value(path, value):
    message = problems_of(with_value(SIMA, path, value))
    assert f"{path_text(path)}: must be a" in message


@pytest.mark.parametrize("value", [1, 0.5, "78422", "113711.90"])
def test_positive_sima_weight_as_number_or_numeric_string(value):
    check_credential(with_value(SIMA, ("productInformation", 0, "product", "weight", "value"), value))


def test_sima_weight_must_be_in_kilograms():
    message = problems_of(with_value(SIMA, ("productInformation", 0, "product", "weight", "unitCode"), "LBR"))
    assert "credentialSubject.productInformation[0].product.weight.unitCode: must be 'KGM'" in message


def test_sima_customs_value_must_be_in_dollars():
    message = problems_of(with_value(SIMA, ("productInformation", 0, "customsValue", "currency"), "MXN"))
    assert "credentialSubject.productInformation[0].customsValue.currency: must be 'USD'" in message


@pytest.mark.parametrize("code", ["730419", "7304.19.10", "7304-19-1020", "7304.19.102O"])
def test_bad_hts_code(code):
    path = ("productInformation", 0, "product", "commodity", "commodityCode")
    message = problems_of(with_value(SIMA, path, code))
    assert f"{path_text(path)}: must be a 10-digit HTS code" in message


def test_hts_code_without_dots():
    check_credential(with_value(SIMA, ("productInformation", 0, "product", "commodity", "commodityCode"), "7304191020"))


def test_sima_product_information_may_be_one_object():
    credential = build(SIMA)
    credential["credentialSubject"]["productInformation"] = credential["credentialSubject"]["productInformation"][0]
    check_credential(credential)
    credential["credentialSubject"]["productInformation"]["countryOfMeltAndPour"] = "mx"
    message = problems_of(credential)
    assert "credentialSubject.productInformation.countryOfMeltAndPour: must be an ISO 3166-1" in message


@pytest.mark.parametrize("element", ["C", "Mn", "P", "S", "Si"])
def test_mill_test_report_needs_each_element(element):
    credential = build(MTR)
    inspection = credential["credentialSubject"]["product"][0]["inspection"]
    inspection["chemicalObservation"] = [
        o for o in inspection["chemicalObservation"] if o["property"]["formula"] != element
    ]
    message = problems_of(credential)
    assert "credentialSubject.product[0].inspection.chemicalObservation: must report C, Mn, P, S, Si" in message
    assert f"missing {element}" in message


def test_mill_test_report_values_may_be_numbers_or_numeric_strings():
    credential = build(MTR)
    chemistry = credential["credentialSubject"]["product"][0]["inspection"]["chemicalObservation"]
    chemistry[0]["measurement"]["value"] = 0.08
    chemistry[1]["measurement"]["value"] = 1
    check_credential(credential)


@pytest.mark.parametrize("value", ["-0.01", -1, "high", None, False])
def test_mill_test_report_chemistry_must_be_non_negative_numbers(value):
    path = ("product", 0, "inspection", "chemicalObservation", 0, "measurement", "value")
    message = problems_of(with_value(MTR, path, value))
    assert f"{path_text(path)}: must " in message


@pytest.mark.parametrize("value", [0, "-412", "strong"])
def test_mill_test_report_mechanical_values_must_be_positive(value):
    path = ("product", 0, "inspection", "mechanicalObservation", 0, "measurement", "value")
    message = problems_of(with_value(MTR, path, value))
    assert f"{path_text(path)}: must " in message


@pytest.mark.parametrize(
    ("type_name", "path"),
    [
        (USMCA, ("goods",)),
        (USMCA, ("importerDetails",)),
        (MTR, ("product",)),
        (MTR, ("product", 0, "inspection", "mechanicalObservation")),
        (MTR, ("product", 0, "inspection", "chemicalObservation")),
        (SIMA, ("productInformation",)),
        (INVOICE, ("itemsShipped",)),
    ],
)
def test_lists_must_not_be_empty(type_name, path):
    message = problems_of(with_value(type_name, path, []))
    assert f"{path_text(path)}: must not be empty" in message


@pytest.mark.parametrize(
    ("path", "value", "expected"),
    [
        (("itemsShipped", 0, "itemCount"), 0, "must be a positive number"),
        (("itemsShipped", 0, "itemCount"), "many", "must be a number"),
        (("itemsShipped", 0, "priceSpecification", "price"), -10, "must not be negative"),
        (("itemsShipped", 0, "priceSpecification", "priceCurrency"), "usd", "must be an ISO 4217 currency code"),
        (("totalPaymentDue", "priceCurrency"), "US$", "must be an ISO 4217 currency code"),
        (("totalPaymentDue", "price"), "lots", "must be a number"),
        (("invoiceNumber",), "  ", "must not be empty"),
        (("seller",), "Aceros del Norte", "must be a JSON object"),
    ],
)
def test_bad_invoice_values(path, value, expected):
    message = problems_of(with_value(INVOICE, path, value))
    assert f"{path_text(path)}: {expected}" in message


def test_nested_objects_need_the_type_that_defines_their_terms():
    """The reference credential's goods are typed Product, under which commodityCode is undefined."""
    message = problems_of(with_value(USMCA, ("goods", 0, "type"), ["Product"]))
    assert "credentialSubject.goods[0].type: must include 'USMCAProduct'" in message


def test_subject_of_the_wrong_type():
    message = problems_of(with_value(USMCA, ("type",), ["USMCACertificate"]))
    assert "credentialSubject.type: must include 'USMCAClaims'" in message


def test_organization_address_gets_a_hint():
    """The reference credential puts address directly on an Organization, which has no such term."""
    credential = build(USMCA)
    exporter = credential["credentialSubject"]["exporterDetails"]
    exporter["address"] = exporter.pop("location")["address"]
    message = problems_of(credential)
    assert "credentialSubject.exporterDetails.location: required field is missing" in message
    assert "Organization has no 'address' term" in message


def test_producer_and_importer_may_be_one_object_or_a_list():
    credential = build(USMCA)
    subject = credential["credentialSubject"]
    subject["producerDetails"] = [subject["producerDetails"], subject["exporterDetails"]]
    subject["importerDetails"] = subject["importerDetails"][0]
    check_credential(credential)
    del subject["producerDetails"][1]["name"]
    del subject["importerDetails"]["name"]
    message = problems_of(credential)
    assert "credentialSubject.producerDetails[1].name: required field is missing" in message
    assert "credentialSubject.importerDetails.name: required field is missing" in message


def test_several_subjects_are_each_checked():
    credential = build(INVOICE)
    second = copy.deepcopy(credential["credentialSubject"])
    del second["buyer"]
    credential["credentialSubject"] = [credential["credentialSubject"], second]
    message = problems_of(credential)
    assert "credentialSubject[1].buyer: required field is missing" in message
    assert "credentialSubject[0]" not in message


def test_missing_or_malformed_subject():
    credential = build(INVOICE)
    del credential["credentialSubject"]
    assert "credentialSubject: required field is missing" in problems_of(credential)
    credential["credentialSubject"] = "an invoice"
    assert "credentialSubject: must be a JSON object" in problems_of(credential)


def test_build_rejects_a_subject_that_is_not_an_object():
    with pytest.raises(InvalidDocument, match="must be a JSON object"):
        build_credential(INVOICE, ["not", "an", "object"], issuer="did:example:1")  # type: ignore[arg-type]
    with pytest.raises(InvalidDocument, match="not a JSON value"):
        build_credential("MyCustomCredential", {"when": datetime.now()}, issuer="did:example:1")


# ---- validity periods ---------------------------------------------------------------------


@pytest.mark.parametrize("type_name", [USMCA, SIMA])
def test_valid_until_is_required(type_name):
    with pytest.raises(InvalidDocument) as info:
        build(type_name, valid_until=None)
    assert "validUntil: required field is missing" in info.value.message


@pytest.mark.parametrize("type_name", [MTR, INVOICE])
def test_valid_until_is_optional(type_name):
    assert "validUntil" not in build(type_name, valid_until=None)


@pytest.mark.parametrize(
    ("valid_from", "valid_until"),
    [
        ("2026-01-01T00:00:00Z", "2027-01-01T00:00:01Z"),
        ("2026-01-01T00:00:00Z", "2027-06-30T23:59:59Z"),
        ("2026-03-31T00:00:00Z", "2027-04-01T00:00:00Z"),
        ("2028-02-29T00:00:00Z", "2029-03-01T00:00:00Z"),
        ("2026-01-01T00:00:00-05:00", "2027-01-01T00:00:00-06:00"),  # an hour over, in UTC
    ],
)
def test_usmca_blanket_period_over_12_months(valid_from, valid_until):
    with pytest.raises(InvalidDocument) as info:
        build(USMCA, valid_from=valid_from, valid_until=valid_until)
    assert "validUntil: the validity period validFrom..validUntil of a USMCACertificationOfOrigin must not exceed 12 months" in info.value.message


@pytest.mark.parametrize(
    ("valid_from", "valid_until"),
    [
        ("2026-01-01T00:00:00Z", "2027-01-01T00:00:00Z"),  # exactly 12 months
        ("2026-01-01T00:00:00Z", "2026-12-31T23:59:59Z"),
        ("2028-02-29T00:00:00Z", "2029-02-28T00:00:00Z"),
        ("2026-06-15T00:00:00Z", "2026-07-15T00:00:00Z"),
    ],
)
def test_usmca_blanket_period_up_to_12_months(valid_from, valid_until):
    build(USMCA, valid_from=valid_from, valid_until=valid_until)


def test_valid_until_must_follow_valid_from():
    with pytest.raises(InvalidDocument, match="validUntil: must be after validFrom"):
        build(SIMA, valid_from="2026-06-13T00:00:00Z", valid_until="2026-03-30T00:00:00Z")


def test_usmca_needs_valid_from_to_bound_the_period():
    credential = build(USMCA)
    del credential["validFrom"]
    assert "validFrom: required field is missing" in problems_of(credential)


def test_malformed_dates_are_reported():
    credential = build(USMCA)
    credential["validUntil"] = "2026-12-31"
    assert "validUntil: validUntil must be an XML Schema dateTimeStamp" in problems_of(credential)


# ---- unknown types and build_credential ----------------------------------------------------


def test_unknown_types_pass_through_unchanged():
    credential = {
        "@context": [CREDENTIALS_V2],
        "type": ["VerifiableCredential", "MyCustomCredential"],
        "issuer": "did:example:1",
        "credentialSubject": {"anything": ["goes", 1]},
    }
    snapshot = copy.deepcopy(credential)
    assert check_credential(credential) is None
    assert credential == snapshot
    check_credential({"type": "VerifiableCredential"})
    check_credential({})


def test_build_an_unknown_type():
    subject = {"id": "did:example:subject", "favouriteAlloy": "Inconel 625"}
    credential = build_credential("MyCustomCredential", subject, issuer="did:example:1")
    assert credential["type"] == ["VerifiableCredential", "MyCustomCredential"]
    assert credential["credentialSubject"] == subject  # no type added
    assert "validUntil" not in credential


def test_build_does_not_mutate_the_subject():
    subject = load_example(USMCA)
    del subject["type"]
    snapshot = copy.deepcopy(subject)
    credential = build(USMCA, subject)
    assert subject == snapshot
    assert credential["credentialSubject"]["type"] == ["USMCAClaims"]  # added to the copy only
    credential["credentialSubject"]["goods"][0]["commodityCode"] = "999999"
    credential["credentialSubject"]["importerDetails"].append({})
    assert subject == snapshot


def test_build_accepts_any_mapping_and_keeps_a_given_subject_type():
    subject = MappingProxyType(load_example(INVOICE))
    credential = build(INVOICE, subject)
    assert credential["credentialSubject"] == dict(subject)
    assert credential["credentialSubject"]["type"] == ["Invoice"]


def test_build_copies_an_issuer_object():
    issuer = {"id": "did:example:1", "type": ["Organization"], "name": "Aceros del Norte S.A. de C.V."}
    credential = build(INVOICE, issuer=issuer)
    assert credential["issuer"] == issuer and credential["issuer"] is not issuer


def test_build_makes_a_urn_uuid_v4_id():
    first, second = build(INVOICE), build(INVOICE)
    for credential in (first, second):
        assert credential["id"].startswith("urn:uuid:")
        value = uuid.UUID(credential["id"].removeprefix("urn:uuid:"))
        assert value.version == 4
        assert str(value) == credential["id"].removeprefix("urn:uuid:")
    assert first["id"] != second["id"]
    assert build(INVOICE, credential_id="urn:example:invoice:1")["id"] == "urn:example:invoice:1"


def test_build_defaults_valid_from_to_now():
    before = datetime.now(timezone.utc).replace(microsecond=0)
    credential = build_credential(INVOICE, load_example(INVOICE), issuer="did:example:1")
    after = datetime.now(timezone.utc)
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z", credential["validFrom"])
    assert before <= datetime.fromisoformat(credential["validFrom"]) <= after


def test_build_sets_the_name_and_the_order_of_properties():
    credential = build(SIMA, name="SIMA Steel Import License")
    assert credential["name"] == "SIMA Steel Import License"
    assert list(credential) == [
        "@context", "id", "type", "name", "issuer", "validFrom", "validUntil", "credentialSubject", "credentialSchema",
    ]
    assert list(build(MTR)) == ["@context", "id", "type", "issuer", "validFrom", "credentialSubject", "credentialSchema"]


def test_build_raises_for_a_bad_subject_of_a_known_type():
    subject = load_example(INVOICE)
    del subject["seller"]
    with pytest.raises(InvalidDocument, match=r"credentialSubject\.seller: required field is missing"):
        build(INVOICE, subject)
