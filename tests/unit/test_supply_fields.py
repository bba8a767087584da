"""The trade types' supply-path fields on the issuing side: heats with weights on mill test
reports, quantities and kinds on certifications and licences, the transformation event, the
trade context, and ``vc-issuer issue --derived-from``."""

from __future__ import annotations

import copy
import json
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
from click.testing import CliRunner

from support.expanded import expanded_iris
from tradevc.issuer.cli import cli as issuer_cli
from tradevc.issuer.credential_types import (
    TRACEABILITY_V1,
    build_credential,
    check_credential,
    get_type,
    load_example,
    resolve_type_name,
)
from tradevc.vc.checks.supply import TRADE_CONTEXT, credential_bytes, read_supply_facts
from tradevc.vc.digests import digest_sri
from tradevc.vc.errors import InvalidDocument, ProtectedTermRedefinition
from tradevc.vc.jsonld import default_loader, expand
from tradevc.vc.keys import KeyPair
from tradevc.vc.model import CREDENTIALS_V2
from tradevc.vc.securing.data_integrity import sign_credential
from tradevc.verifier import TrustPolicy, verify_credential
from tradevc.verifier.supply import walk_supply_path

MTR, USMCA, SIMA, EVENT = (
    "MillTestReportCredential", "USMCACertificationOfOrigin", "SIMASteelImportLicenseCredential",
    "TransformationEventCredential",
)
ISSUER_DEPENDENT = "https://www.w3.org/ns/credentials/issuer-dependent#"
VOCAB = "https://tradevc.example/vocab#"


def build(type_name: str, subject: dict[str, Any] | None = None) -> dict[str, Any]:
    return build_credential(type_name, load_example(type_name) if subject is None else subject,
                            issuer="did:example:mill", valid_from="2026-01-01T00:00:00Z",
                            valid_until="2026-12-31T00:00:00Z")


def problems(type_name: str, change: Any) -> str:
    subject = load_example(type_name)
    change(subject)
    with pytest.raises(InvalidDocument) as info:
        build(type_name, subject)
    return info.value.message


# ---- mill test report heats -------------------------------------------------------------------


def product(subject: dict[str, Any]) -> dict[str, Any]:
    first: dict[str, Any] = subject["product"][0]
    return first


@pytest.mark.parametrize("field", ["heatNumber", "originalCountryOfMeltAndPour", "weight", "weightUnit"])
def test_a_heat_needs_its_number_country_weight_and_unit(field):
    message = problems(MTR, lambda s: product(s).pop(field))
    assert f"credentialSubject.product[0].{field}: required field is missing" in message


@pytest.mark.parametrize("unit", ["KG", "t", "kgm", "MTR", ""])
def test_a_heat_weight_unit_is_a_mass_unit(unit):
    message = problems(MTR, lambda s: product(s).update(weightUnit=unit))
    assert "credentialSubject.product[0].weightUnit: must be one of KGM, TNE, LBR, STN" in message


@pytest.mark.parametrize("weight", [0, "0", -1, "-2.5", "heavy", True, None])
def test_a_heat_weight_is_positive(weight):
    message = problems(MTR, lambda s: product(s).update(weight=weight))
    assert "credentialSubject.product[0].weight: must be a" in message


@pytest.mark.parametrize("country", ["China", "cn", "CHN", ""])
def test_a_heat_melt_country_is_alpha_2(country):
    message = problems(MTR, lambda s: product(s).update(originalCountryOfMeltAndPour=country))
    assert "credentialSubject.product[0].originalCountryOfMeltAndPour" in message


@pytest.mark.parametrize(("weight", "unit"), [("39.211", "TNE"), (39211, "KGM"), ("86446.5", "LBR"), (43.2, "STN")])
def test_heat_weights_in_each_unit(weight, unit):
    subject = load_example(MTR)
    product(subject).update(weight=weight, weightUnit=unit)
    check_credential(build(MTR, subject))


def test_the_schema_says_what_the_model_says():
    """A mill test report the models would refuse is refused by the shipped schema too."""
    from tradevc.vc.checks.schemas import default_schema_store, shipped_schema_for

    store = default_schema_store()
    url = shipped_schema_for(MTR)
    assert url is not None
    credential = build(MTR)
    assert store.problems(url, credential) == []
    for change in ({"weightUnit": "KG"}, {"weight": "-1"}, {"weight": 0}):
        bad = copy.deepcopy(credential)
        product(bad["credentialSubject"]).update(change)
        assert store.problems(url, bad), change
    bad = copy.deepcopy(credential)
    del product(bad["credentialSubject"])["weight"]
    assert store.problems(url, bad)


def test_heat_terms_expand_to_defined_iris():
    expanded = expanded_iris(expand(build(MTR), default_loader()))
    for iri in ("https://w3id.org/traceabilit#heatNumber", "https://schema.org/addressCountry",
                "https://schema.org/weight", "http://qudt.org/schema/qudt/Unit"):
        assert iri in expanded, iri
    assert not {i for i in expanded if i.startswith(ISSUER_DEPENDENT)}


# ---- certification and licence ----------------------------------------------------------------


def test_usmca_quantity_and_kind():
    credential = build(USMCA)
    assert credential["@context"] == [CREDENTIALS_V2, TRACEABILITY_V1, TRADE_CONTEXT]
    expanded = expanded_iris(expand(credential, default_loader()))
    assert {VOCAB + "declaredQuantity", VOCAB + "certificationKind"} <= expanded
    assert {i.removeprefix(ISSUER_DEPENDENT) for i in expanded if i.startswith(ISSUER_DEPENDENT)} == {"certifier"}
    assert "must be 'SingleShipment'" in problems(USMCA, lambda s: s.update(certificationKind="Once"))
    assert "declaredQuantity.unitCode: must be one of KGM, TNE, LBR, STN, H87, MTR" in problems(
        USMCA, lambda s: s["goods"][0]["declaredQuantity"].update(unitCode="XYZ"))
    assert "declaredQuantity.value: must be a positive number" in problems(
        USMCA, lambda s: s["goods"][0]["declaredQuantity"].update(value="0"))
    subject = load_example(USMCA)  # both optional
    del subject["certificationKind"]
    for good in subject["goods"]:
        good.pop("declaredQuantity", None)
    assert build(USMCA, subject)["@context"] == [CREDENTIALS_V2, TRACEABILITY_V1]


def test_sima_licence_kind():
    credential = build(SIMA)
    assert credential["credentialSubject"]["licenseKind"] == "Standard"
    assert VOCAB + "licenseKind" in expanded_iris(expand(credential, default_loader()))
    assert "must be 'Standard'" in problems(SIMA, lambda s: s.update(licenseKind="Multiple"))
    check_credential(build(SIMA, {**load_example(SIMA), "licenseKind": "LowValue"}))


def test_the_trade_context_is_required_and_comes_after_traceability():
    credential = build(SIMA)
    without = {**credential, "@context": [CREDENTIALS_V2, TRACEABILITY_V1]}
    with pytest.raises(InvalidDocument, match="must include https://tradevc.example/contexts/trade/v1"):
        check_credential(without)
    swapped = {**credential, "@context": [CREDENTIALS_V2, TRADE_CONTEXT, TRACEABILITY_V1]}
    with pytest.raises(InvalidDocument, match="must come before"):
        check_credential(swapped)


def test_the_trade_context_is_protected():
    redefining = build(EVENT)
    redefining["@context"] = redefining["@context"] + [{"sourceCredential": "https://evil.example/source"}]
    with pytest.raises(ProtectedTermRedefinition):
        expand(redefining, default_loader())


# ---- transformation event ---------------------------------------------------------------------


def test_the_transformation_event_type():
    ctype = get_type(EVENT)
    assert ctype is not None and ctype.subject_type == "TransformationEvent"
    assert resolve_type_name("TransformationEvent") == EVENT
    credential = build(EVENT)
    assert credential["@context"] == [CREDENTIALS_V2, TRACEABILITY_V1, TRADE_CONTEXT]
    expanded = expanded_iris(expand(credential, default_loader()))
    assert not {i for i in expanded if i.startswith(ISSUER_DEPENDENT)}
    for term in ("TransformationEventCredential", "TransformationEvent", "consumedProducts", "newProducts",
                 "sourceCredential", "yieldTolerance"):
        assert VOCAB + term in expanded, term
    assert {"https://schema.org/location", "https://schema.org/agent", "https://ref.gs1.org/epcis/eventTime"} <= expanded
    facts = read_supply_facts(credential)
    assert facts.kind == "transformation-event" and facts.country == "MX"
    assert [i.heat_number for i in facts.consumed] == ["H26-18841", "H26-18842"]
    assert sum(i.weight_kg for i in facts.produced if i.weight_kg) == 78422


def test_inputs_and_outputs_cannot_be_swapped_under_an_rdfc_proof():
    """The vocabulary's TransformEvent maps both lists to one IRI; ours do not."""
    key = KeyPair.generate("Ed25519")
    credential = build_credential(EVENT, load_example(EVENT), issuer=key.did, valid_from="2026-01-01T00:00:00Z")
    signed = sign_credential(credential, key, created="2026-01-01T00:00:00Z")
    swapped = copy.deepcopy(signed)
    subject = swapped["credentialSubject"]
    subject["consumedProducts"], subject["newProducts"] = subject["newProducts"], subject["consumedProducts"]
    now = datetime(2026, 6, 1, tzinfo=timezone.utc)
    assert verify_credential(signed, policy=TrustPolicy.unsafe_any_issuer(), now=now).verified
    assert not verify_credential(swapped, policy=TrustPolicy.unsafe_any_issuer(), now=now).verified


def test_event_outputs_cannot_outweigh_inputs():
    def heavier(subject: dict[str, Any]) -> None:
        subject["newProducts"][0]["weight"] = "45"
    assert "outputs cannot exceed inputs" in problems(EVENT, heavier)
    subject = load_example(EVENT)
    subject["newProducts"][0]["weight"] = "40.9"  # 80.111 t out of 80.15 t
    check_credential(build(EVENT, subject))


@pytest.mark.parametrize(("change", "expected"), [
    (lambda s: s["consumedProducts"][0].pop("sourceCredential"), "consumedProducts[0].sourceCredential: required"),
    (lambda s: s["consumedProducts"][0].update(sourceCredential="not a url"), "must be the id of the parent credential"),
    (lambda s: [s["consumedProducts"][0].pop(k) for k in ("heatNumber", "identifier")], "must name the heat"),
    (lambda s: s["consumedProducts"][0].update(weightUnit="G"), "weightUnit: must be one of"),
    (lambda s: s["newProducts"][0].pop("commodity"), "newProducts[0].commodity: required"),
    (lambda s: s["newProducts"][0].pop("identifier"), "newProducts[0].identifier: required"),
    (lambda s: s.update(eventTime="yesterday"), "eventTime: must be an XML Schema dateTime"),
    (lambda s: s.update(yieldTolerance="2"), "yieldTolerance: must be a fraction from 0 to 1"),
    (lambda s: s.update(consumedProducts=[]), "consumedProducts: must not be empty"),
    (lambda s: s["place"]["address"].update(addressCountry="Mexico"), "place.address.addressCountry"),
])
def test_event_refusals(change, expected):
    assert expected in problems(EVENT, change)


# ---- vc-issuer issue --derived-from ------------------------------------------------------------


@pytest.fixture
def mills(tmp_path):
    homes = {}
    for name in ("melt", "pipe"):
        env = {"TRADEVC_ISSUER_HOME": str(tmp_path / name), "TRADEVC_ISSUER_PASSPHRASE": "s3cret s3cret"}
        result = CliRunner().invoke(issuer_cli, ["init", "--name", f"{name} mill"], env=env)
        assert result.exit_code == 0, result.output
        homes[name] = env
    return homes


def test_derived_from_pins_the_inputs_and_the_path_verifies(tmp_path, mills):
    yesterday = (datetime.now(timezone.utc) - timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    mtr_subject = tmp_path / "mtr.subject.json"
    mtr_subject.write_text(json.dumps(load_example(MTR)))
    mtr_file, jwt_file, event_file = tmp_path / "mtr.json", tmp_path / "mtr.jwt", tmp_path / "event.json"
    for out, fmt in ((mtr_file, "di"), (jwt_file, "jose")):
        result = CliRunner().invoke(issuer_cli, [
            "issue", "--type", MTR, "--subject", str(mtr_subject), "--valid-from", yesterday, "--format", fmt,
            "--out", str(out)], env=mills["melt"])
        assert result.exit_code == 0, result.output
    mtr = json.loads(mtr_file.read_text())
    token = jwt_file.read_text().strip()
    jwt_id = json.loads(__import__("base64").urlsafe_b64decode(token.split(".")[1] + "==="))["id"]
    event = load_example(EVENT)
    event["consumedProducts"][0]["sourceCredential"] = mtr["id"]
    event["consumedProducts"][1]["sourceCredential"] = jwt_id
    for item in event["consumedProducts"]:
        item["weight"] = "39.211"  # all of each heat, as the report gives it
    for item in event["newProducts"]:
        item["weight"] = "39.1"
    subject = tmp_path / "event.subject.json"
    subject.write_text(json.dumps(event))
    result = CliRunner().invoke(issuer_cli, [
        "issue", "--type", "TransformationEvent", "--subject", str(subject), "--valid-from", yesterday,
        "--derived-from", str(mtr_file), "--derived-from", str(jwt_file), "--out", str(event_file)], env=mills["pipe"])
    assert result.exit_code == 0, result.output
    signed = json.loads(event_file.read_text())
    assert signed["relatedResource"] == [
        {"id": mtr["id"], "mediaType": "application/vc", "digestSRI": digest_sri(credential_bytes(mtr), "sha384")},
        {"id": jwt_id, "mediaType": "application/vc+jwt", "digestSRI": digest_sri(token.encode(), "sha384")},
    ]

    def verify(document: Any) -> Any:
        return verify_credential(document, policy=TrustPolicy.unsafe_any_issuer())

    report = verify(signed)
    assert report.verified, report.summary()
    path = walk_supply_path([signed], [mtr_file.read_bytes(), token], verify)
    assert path.findings == [], path.findings
    assert {(h.number, h.melt_country) for h in path.heats_for(signed["id"])} == {("H26-18841", "MX"), ("H26-18842", "MX")}
    # the input changed after the event was signed: the walk says so
    mtr["credentialSubject"]["product"][0]["weight"] = "99"
    assert "DIGEST_MISMATCH" in [f.code for f in walk_supply_path([signed], [mtr, token], verify).findings]


def test_derived_from_refuses_what_is_not_a_credential_in_one_line(tmp_path, mills):
    subject = tmp_path / "event.subject.json"
    subject.write_text(json.dumps(load_example(EVENT)))
    for content in (b'{"type": ["VerifiableCredential"]}', b"not a token", b"\xff\xfe"):
        bad = tmp_path / "input"
        bad.write_bytes(content)
        result = CliRunner().invoke(issuer_cli, [
            "issue", "--type", "TransformationEvent", "--subject", str(subject), "--derived-from", str(bad)],
            env=mills["pipe"])
        # not UTF-8 (a UTF-16 byte order mark) is a bad value: exit 2 (tests/unit/test_text_encodings.py)
        assert result.exit_code == (2 if content == b"\xff\xfe" else 1), result.output
        assert result.output.startswith("error: ") and "Traceback" not in result.output
        assert len(result.output.strip().splitlines()) == 1


def test_read_coverage_of_certifications_and_licences():
    from decimal import Decimal

    from tradevc.vc.checks.supply import read_coverage

    usmca = read_coverage(build(USMCA))
    assert usmca is not None and usmca.kind == "Blanket" and usmca.problems == ()
    assert [(g.commodity_code, g.quantity, g.unit, g.weight_kg) for g in usmca.goods] == [
        ("730419", Decimal(78422), "KGM", Decimal(78422)), ("720851", None, None, None),
    ]
    sima = read_coverage(build(SIMA))
    assert sima is not None and sima.kind == "Standard"
    assert [(g.commodity_code, g.weight_kg, g.melt_country) for g in sima.goods] == [("7304.19.1020", Decimal(78422), "MX")]
    assert sima.goods[0].pointer == "/credentialSubject/productInformation/0"
    assert read_coverage(build(MTR)) is None
    bad = build(USMCA)
    bad["credentialSubject"]["goods"][0]["declaredQuantity"]["value"] = "lots"
    assert read_coverage(bad).problems  # type: ignore[union-attr]
