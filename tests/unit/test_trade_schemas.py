"""The issuing desk and the shipped trade schemas: every trade credential names the JSON Schema
of its type (with the schema's digest), is checked against it before signing, and the
schema says what the issuer's own checks say, so the border accepts exactly what the issuer
issues."""

from __future__ import annotations

import copy
import hashlib
from datetime import datetime, timezone
from importlib import resources
from typing import Any

import pytest

import tradevc.issuer.credential_types as credential_types
from tradevc.issuer import Issuer
from tradevc.issuer.credential_types import attach_schema, build_credential, check_credential, load_example, schema_entry, type_names
from tradevc.vc.errors import InvalidDocument
from tradevc.vc.digests import digest_sri
from tradevc.vc.keys import KeyPair
from tradevc.vc.checks.schemas import default_schema_store, shipped_schema_for
from tradevc.verifier import TrustPolicy, Verifier

USMCA = "USMCACertificationOfOrigin"
MTR = "MillTestReportCredential"
SIMA = "SIMASteelImportLicenseCredential"
INVOICE = "CommercialInvoiceCredential"
DELETE = object()
KEY = KeyPair.generate("Ed25519")


def build(type_name: str) -> dict[str, Any]:
    return build_credential(type_name, load_example(type_name), issuer=KEY.did,
                            valid_from="2026-01-01T00:00:00Z", valid_until="2026-12-31T00:00:00Z")


@pytest.mark.parametrize("type_name", type_names())
def test_build_names_the_shipped_schema_with_its_digest(type_name):
    entry = build(type_name)["credentialSchema"]
    url = shipped_schema_for(type_name)
    file = {USMCA: "usmca-certification-of-origin", MTR: "mill-test-report", SIMA: "sima-steel-import-license",
            INVOICE: "commercial-invoice", "IdentityAnchorCredential": "identity-anchor",
            "AccreditationCredential": "accreditation", "GS1PrefixLicenseCredential": "gs1-prefix-license",
            "GS1CompanyPrefixLicenseCredential": "gs1-company-prefix-license",
            "IntellectualPropertyRightsLicenseCredential": "ip-rights-license",
            "TransformationEventCredential": "transformation-event",
            "PowerOfAttorneyCredential": "power-of-attorney"}[type_name]
    data = resources.files("tradevc.contexts").joinpath("schemas", f"{file}.schema.json").read_bytes()
    assert entry == {"id": url, "type": "JsonSchema", "digestSRI": digest_sri(data)}
    assert entry == schema_entry(type_name)
    assert url == f"https://tradevc.example/schemas/v1/{file}.json"


def test_attach_keeps_a_schema_the_credential_names_and_skips_other_credentials():
    own = {"id": "https://schemas.example/own.json", "type": "JsonSchema"}
    credential = build(USMCA)
    credential["credentialSchema"] = own
    attach_schema(credential)
    assert credential["credentialSchema"] == own
    other = {"@context": ["https://www.w3.org/ns/credentials/v2"], "type": ["VerifiableCredential", "Other"]}
    attach_schema(other)
    assert "credentialSchema" not in other
    legacy = {"@context": ["https://www.w3.org/2018/credentials/v1"], "type": ["VerifiableCredential", USMCA]}
    attach_schema(legacy)  # VC 1.1 contexts do not define JsonSchema or digestSRI
    assert "credentialSchema" not in legacy


def test_the_issuer_checks_against_the_schema_too(monkeypatch):
    """With the issuer's own models switched off, the schema alone still refuses a bad subject,
    naming the path: the schema step is wired in, not decoration."""
    credential = build(SIMA)
    credential["credentialSubject"]["productInformation"][0]["product"]["weight"]["unitCode"] = "LBR"
    with pytest.raises(InvalidDocument, match="unitCode"):
        check_credential(credential)  # the models' message
    relaxed = {name: credential_types.CredentialType(**{**ctype.__dict__, "subject_model": None})
               for name, ctype in credential_types.CREDENTIAL_TYPES.items()}
    monkeypatch.setattr(credential_types, "CREDENTIAL_TYPES", relaxed)
    with pytest.raises(InvalidDocument) as caught:
        check_credential(credential)
    assert ("credentialSubject.productInformation[0].product.weight.unitCode: 'KGM' was expected "
            f"(schema {shipped_schema_for(SIMA)})") in caught.value.message


def test_issued_trade_credentials_pass_the_schema_check_at_the_border(tmp_path):
    with Issuer.init(tmp_path / "mill", b"passphrase", name="Aceros del Norte") as mill:
        now = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
        issued = mill.issue(load_example(USMCA), type_name=USMCA, valid_until="2027-06-30T00:00:00Z", valid_from=now)
        whole = build(INVOICE)
        del whole["credentialSchema"], whole["issuer"]
        invoice = mill.issue(whole)
        verifier = Verifier.offline(policy=TrustPolicy({mill.did: [USMCA, INVOICE]}))
        for credential, type_name in ((issued, USMCA), (invoice, INVOICE)):
            assert credential["credentialSchema"] == schema_entry(type_name)
            result = verifier.verify_credential(credential)
            assert result.verified, result.summary()
            assert result.check("schema").outcome.value == "passed"


def _set(document: dict[str, Any], path: tuple[Any, ...], value: Any) -> None:
    target = document
    for part in path[:-1]:
        target = target[part]
    if value is DELETE:
        del target[path[-1]]
    elif callable(value):
        target[path[-1]] = value(target[path[-1]])
    else:
        target[path[-1]] = value


S = ("credentialSubject",)
GOOD0 = S + ("goods", 0)
EXPORTER = S + ("exporterDetails",)
CHEM = S + ("product", 0, "inspection", "chemicalObservation")
MECH0 = S + ("product", 0, "inspection", "mechanicalObservation", 0, "measurement", "value")
SPEC0 = S + ("productInformation", 0)
ITEM0 = S + ("itemsShipped", 0)
MUTATIONS = [
    (USMCA, GOOD0 + ("commodityCode",), "73041", False),
    (USMCA, GOOD0 + ("commodityCode",), "7304190", False),
    (USMCA, GOOD0 + ("commodityCode",), 730419, False),
    (USMCA, GOOD0 + ("commodityCodeType",), "HTS", False),
    (USMCA, GOOD0 + ("commodityCodeType",), None, True),
    (USMCA, GOOD0 + ("originCriterion",), "E", False),
    (USMCA, EXPORTER + ("location", "address", "addressCountry"), "mx", False),
    (USMCA, EXPORTER + ("location", "address", "addressCountry"), "MEX", False),
    (USMCA, EXPORTER + ("location", "address", "postalCode"), None, True),
    (USMCA, S + ("certifier", "role"), "Broker", False),
    (USMCA, S + ("certifier", "role"), "exporter", True),
    (USMCA, EXPORTER + ("name",), "  ", False),
    (USMCA, EXPORTER + ("type",), ["Person"], False),
    (USMCA, EXPORTER + ("type",), "Organization", True),
    (USMCA, EXPORTER + ("type",), [], False),
    (USMCA, EXPORTER + ("type",), ["Organization", ""], False),
    (USMCA, EXPORTER + ("email",), None, True),
    (USMCA, EXPORTER + ("email",), "", False),
    (USMCA, EXPORTER + ("address",), {"type": ["PostalAddress"]}, True),  # extra terms are allowed
    (USMCA, S + ("importerDetails",), [], False),
    (USMCA, S + ("importerDetails",), lambda v: v[0], True),  # one object or a non-empty list
    (USMCA, S + ("goods",), [], False),
    (USMCA, S + ("producerDetails",), DELETE, False),
    (USMCA, ("validUntil",), DELETE, False),
    (MTR, CHEM, lambda obs: [o for o in obs if o["property"]["formula"] != "Si"], False),
    (MTR, CHEM, lambda obs: [{**o, "property": {**o["property"], "formula": " si "}} if o["property"]["formula"] == "Si"
                             else o for o in obs], True),
    (MTR, MECH0, "0", False),
    (MTR, MECH0, "-5", False),
    (MTR, MECH0, "abc", False),
    (MTR, MECH0, True, False),
    (MTR, MECH0, 1.5, True),
    (MTR, MECH0, " +485 ", True),
    (MTR, CHEM + (0, "measurement", "value"), "0", True),
    (MTR, CHEM + (0, "measurement", "value"), "-0.01", False),
    (MTR, CHEM + (0, "measurement", "value"), ".5", True),
    (MTR, S + ("product",), [], False),
    (SIMA, SPEC0 + ("product", "commodity", "commodityCode"), "7304.19.102", False),
    (SIMA, SPEC0 + ("product", "commodity", "commodityCode"), "7304191020", True),
    (SIMA, SPEC0 + ("product", "weight", "unitCode"), "LBR", False),
    (SIMA, SPEC0 + ("customsValue", "currency"), "EUR", False),
    (SIMA, SPEC0 + ("customsValue", "value"), 0, False),
    (SIMA, S + ("productInformation",), lambda v: v[0], True),
    (SIMA, S + ("countryOfOrigin",), "Mexico", False),
    (SIMA, ("validUntil",), DELETE, False),
    (INVOICE, ITEM0 + ("priceSpecification", "priceCurrency"), "usd", False),
    (INVOICE, ITEM0 + ("itemCount",), 0, False),
    (INVOICE, ITEM0 + ("itemCount",), "2.5", True),
    (INVOICE, S + ("totalPaymentDue", "price"), "-0", True),
    (INVOICE, S + ("totalPaymentDue", "price"), -1, False),
    (INVOICE, S + ("totalPaymentDue",), DELETE, False),
    (INVOICE, S + ("seller", "location"), DELETE, False),
]


@pytest.mark.parametrize("type_name,path,value,ok", MUTATIONS)
def test_the_schema_says_what_the_issuers_models_say(monkeypatch, type_name, path, value, ok):
    credential = build(type_name)
    _set(credential, path, copy.deepcopy(value) if not callable(value) else value)
    schema_ok = not default_schema_store().problems(shipped_schema_for(type_name), credential)
    monkeypatch.setattr(credential_types, "_schema_problems", lambda ctype, c: [])  # the models alone
    try:
        check_credential(credential)
        models_ok = True
    except InvalidDocument:
        models_ok = False
    assert (models_ok, schema_ok) == (ok, ok)


def test_the_shipped_schema_files_are_the_pinned_bytes():
    store = default_schema_store()
    for type_name in type_names():
        url = shipped_schema_for(type_name)
        assert hashlib.sha256(store.resource_bytes(url)).hexdigest() in resources.files("tradevc.contexts").joinpath(
            "schemas", "index.json").read_text()
