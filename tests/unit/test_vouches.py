"""Reading vouching credentials (tradevc.vc.checks.vouches) and comparing their scopes."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

import pytest

from tradevc.vc.checks.vouches import RegisteredId, Scope, VouchError, read_vouch, TRUST_CONTEXT

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
