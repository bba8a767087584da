"""Reading vouching credentials (tradevc.vc.checks.vouches) and comparing their scopes."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

import pytest

from tradevc.vc.checks.vouches import RegisteredId, Scope, VouchError, mark_key, read_vouch, TRUST_CONTEXT

V2 = "https://www.w3.org/ns/credentials/v2"


def _anchor(**subject: Any) -> dict[str, Any]:
    return {
        "@context": [V2, TRUST_CONTEXT], "id": "urn:uuid:a1", "type": ["VerifiableCredential", "IdentityAnchorCredential"],
        "issuer": {"id": "did:web:registry.example"}, "validFrom": "2026-01-01T00:00:00Z",
        "credentialSubject": {"id": "did:web:mill.example", "type": "RegisteredParty", **subject},
    }


def test_an_anchor_is_read_with_its_identifiers_and_scope() -> None:
    vouch = read_vouch(_anchor(
        identifier=[{"type": "PropertyValue", "propertyID": "MID", "value": "MXACEDEL1234MON"}],
        authorizedCredentialType=["MillTestReportCredential"], hsScope="72",
    ))
    assert vouch is not None and vouch.kind == "anchor"
    assert (vouch.issuer, vouch.subject) == ("did:web:registry.example", "did:web:mill.example")
    assert vouch.identifiers == (RegisteredId("MID", "MXACEDEL1234MON"),)
    assert vouch.scope.types == {"MillTestReportCredential"} and vouch.scope.goods == {"72"}
    assert vouch.scope.valid_from == datetime(2026, 1, 1, tzinfo=timezone.utc)
    assert vouch.label == "IdentityAnchorCredential urn:uuid:a1"


def test_other_credentials_are_not_vouches() -> None:
    assert read_vouch({"type": ["VerifiableCredential", "MillTestReportCredential"], "credentialSubject": {}}) is None


@pytest.mark.parametrize("subject, member", [
    ({"id": "https://mill.example"}, "credentialSubject.id"),
    ({"id": "did:web:mill.example", "hsScope": ["7x"]}, "hsScope"),
    ({"id": "did:web:mill.example", "territory": ["mx"]}, "territory"),
    ({"id": "did:web:mill.example", "identifier": [{"propertyID": "MID"}]}, "identifier[0]"),
    ({"id": "did:web:mill.example", "extendsCredential": "urn:uuid:p"}, "extendsCredential"),
    # an empty list allowed nothing; under an RDFC proof it is not signed (JSON-LD drops it), so
    # whoever holds the vouch may delete it and the dimension becomes unrestricted
    ({"id": "did:web:mill.example", "authorizedCredentialType": []}, "authorizedCredentialType: must not be empty"),
    ({"id": "did:web:mill.example", "hsScope": []}, "hsScope: must not be empty"),
    ({"id": "did:web:mill.example", "territory": []}, "territory: must not be empty"),
])
def test_a_malformed_vouch_names_the_member(subject: dict[str, Any], member: str) -> None:
    credential = _anchor()
    credential["credentialSubject"] = subject
    with pytest.raises(VouchError, match=member.replace("[", r"\[").replace("]", r"\]")):
        read_vouch(credential)


def test_a_untp_identity_anchor_is_read() -> None:
    vouch = read_vouch({
        "type": ["VerifiableCredential", "DigitalIdentityAnchor"], "id": "urn:uuid:u", "issuer": {"id": "did:web:abr.example"},
        "credentialSubject": {"type": ["RegisteredIdentity"], "id": "did:web:smelter.example", "name": "Smelter Pty",
                              "registeredId": "12345678901", "idScheme": {"id": "https://abr.example/abn", "name": "ABN"}},
    })
    assert vouch is not None and vouch.kind == "anchor" and vouch.subject == "did:web:smelter.example"
    assert vouch.identifiers == (RegisteredId("https://abr.example/abn", "12345678901"),)
    assert vouch.scope.types is None


def _t(year: int) -> datetime:
    return datetime(year, 1, 1, tzinfo=timezone.utc)


def test_a_child_scope_within_its_parent() -> None:
    parent = Scope(prefixes=frozenset({"0614"}), goods=frozenset({"73"}), territories=frozenset({"MX", "US"}),
                   valid_from=_t(2026), valid_until=_t(2028))
    child = Scope(prefixes=frozenset({"0614141"}), goods=frozenset({"7304.19"}), territories=frozenset({"MX"}),
                  valid_from=_t(2026), valid_until=_t(2027))
    assert child.within(parent) == []
    wider = Scope(prefixes=frozenset({"0615"}), goods=frozenset({"72"}), territories=frozenset({"CN"}),
                  valid_from=_t(2025), valid_until=None)
    problems = wider.within(parent)
    assert len(problems) == 5, problems
    assert any("0615" in p for p in problems) and any("CN" in p for p in problems)
    # a child that leaves a restricted dimension open goes beyond its parent
    assert Scope(valid_from=_t(2026), valid_until=_t(2027)).within(parent)


def test_narrowed_keeps_what_both_allow() -> None:
    root = Scope(types=frozenset({"A", "B"}), goods=frozenset({"72", "73"}))
    anchor = Scope(types=frozenset({"B", "C"}), goods=frozenset({"7304"}), valid_until=_t(2027))
    both = root.narrowed(anchor)
    assert both.types == {"B"} and both.goods == {"7304"} and both.valid_until == _t(2027)
    assert both.allows_goods(["7304.19.1020"]) and not both.allows_goods(["7208.51"])
    assert Scope().narrowed(anchor) == anchor


def test_marks_compare_by_their_compatibility_form_not_their_code_points() -> None:
    """A mark typed in full-width letters, or with a decomposed accent, is the same mark (NFKC,
    then case folding); a look-alike in another script is not."""
    authorised = Scope(marks=frozenset({mark_key("GULFLINE"), mark_key("Caf\u00e9 Norte")}))
    assert authorised.allows_marks(["\uff27\uff35\uff2c\uff26\uff2c\uff29\uff2e\uff25"])  # full-width GULFLINE
    assert authorised.allows_marks(["CAFE\u0301  norte"])  # E + combining acute accent
    assert mark_key("\uff27ulf\uff2cine") == mark_key("gulfline") == "gulfline"
    assert not authorised.allows_marks(["GULF\u041bINE"])  # a Cyrillic letter is another mark
    assert not authorised.allows_marks(["\u0413ULFLINE"])
    vouch = read_vouch({
        "type": ["VerifiableCredential", "IntellectualPropertyRightsLicenseCredential"], "issuer": "did:web:rh.example",
        "credentialSubject": {"id": "did:web:mill.example", "mark": ["\uff27\uff35\uff2c\uff26\uff2c\uff29\uff2e\uff25"]},
    })
    assert vouch is not None and vouch.scope.marks == {"gulfline"}


@pytest.mark.parametrize("empty", ["", ".", " ", ". ."])
def test_an_empty_code_allows_nothing(empty: str) -> None:
    """A scope built with an empty HS code or GS1 prefix (which read_vouch refuses, but a policy
    or a caller may hand over) is not a prefix of every code."""
    goods = Scope(goods=frozenset({empty}))
    assert not goods.allows_goods(["7208.51"])
    assert Scope(goods=frozenset({"7208"})).within(goods)
    assert Scope(prefixes=frozenset({"0614141"})).within(Scope(prefixes=frozenset({empty})))
    assert goods.narrowed(Scope(goods=frozenset({"7208"}))).goods == frozenset()
    assert not Scope(goods=frozenset({"72"})).allows_goods([empty])


def test_allowed_types_are_judged_on_the_types_beyond_verifiable_credential() -> None:
    """A credential's type list always holds VerifiableCredential, which no vouch names (vc-issuer
    refuses it as an authorised type): the other types must all be authorised, and there must be one."""
    scope = Scope(types=frozenset({"MillTestReportCredential"}))
    assert scope.allows_types(["VerifiableCredential", "MillTestReportCredential"])
    assert scope.allows_types("MillTestReportCredential".split())
    assert not scope.allows_types(["VerifiableCredential", "MillTestReportCredential", "USMCACertificationOfOrigin"])
    assert not scope.allows_types(["VerifiableCredential"])
    assert not scope.allows_types([])
    assert not Scope(types=frozenset({"VerifiableCredential"})).allows_types(["VerifiableCredential", "AnyCredential"])
    assert Scope().allows_types(["VerifiableCredential", "AnyCredential"])  # unrestricted


def test_a_goods_scope_does_not_allow_a_credential_that_names_no_goods() -> None:
    """Under a scope restricted to HS chapter 72, a credential must name its goods: one whose
    codes could not be found (or were moved where the reader does not look) is not within it."""
    scope = Scope(goods=frozenset({"72"}))
    assert scope.allows_goods(["7208.51"]) and not scope.allows_goods(["7208.51", "7304.19"])
    assert not scope.allows_goods([])
    assert Scope().allows_goods([])  # unrestricted
