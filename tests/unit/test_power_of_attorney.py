"""The customs power of attorney on the issuing side: the Traceability Vocabulary's
``PowerOfAttorneyCredential`` (principal = issuer, agent = subject) with the project context's
terms for the principal's importer number, the broker's filer code and licence number, the
scope and the ports; its model, shipped schema, example and ``vc-issuer issue --type
PowerOfAttorney``."""

from __future__ import annotations

import copy
import json
from datetime import datetime, timezone
from typing import Any

import pytest
from click.testing import CliRunner

from support.expanded import expanded_iris
from tradevc.issuer import sign_credential
from tradevc.issuer.cli import cli as issuer_cli
from tradevc.issuer.credential_types import (
    DELEGATION_SCOPES, TRACEABILITY_V1, TYPE_ALIASES, build_credential, check_credential, get_type, load_example,
)
from tradevc.vc.checks.schemas import default_schema_store, shipped_schema_for
from tradevc.vc.checks.supply import TRADE_CONTEXT
from tradevc.vc.errors import InvalidDocument
from tradevc.vc.jsonld import default_loader, expand
from tradevc.vc.keys import KeyPair
from tradevc.vc.model import CREDENTIALS_V2
from tradevc.verifier import TrustPolicy, verify_credential

POA = "PowerOfAttorneyCredential"
IMPORTER = KeyPair.generate("Ed25519")
VALID_FROM, VALID_UNTIL = "2026-01-01T00:00:00Z", "2026-12-31T23:59:59Z"
ISSUER_DEPENDENT = "https://www.w3.org/ns/credentials/issuer-dependent#"


def build(subject: Any = None, **kw: Any) -> dict[str, Any]:
    kw.setdefault("issuer", IMPORTER.did)
    kw.setdefault("valid_from", VALID_FROM)
    kw.setdefault("valid_until", VALID_UNTIL)
    return build_credential(POA, load_example(POA) if subject is None else subject, **kw)


def problems(change: Any, **kw: Any) -> str:
    subject = load_example(POA)
    change(subject)
    with pytest.raises(InvalidDocument) as info:
        build(subject, **kw)
    return info.value.message


def test_the_type_is_the_vocabularys_with_a_short_name():
    ctype = get_type(POA)
    assert ctype is not None and ctype.requires_valid_until and ctype.subject_type == "Organization"
    assert TYPE_ALIASES["PowerOfAttorney"] == POA
    assert set(DELEGATION_SCOPES) >= {"customs-business", "customs-entry"}


def test_the_example_builds_with_the_trade_context_after_the_vocabulary():
    credential = build()
    assert credential["@context"] == [CREDENTIALS_V2, TRACEABILITY_V1, TRADE_CONTEXT]
    assert credential["type"] == ["VerifiableCredential", POA]
    assert credential["credentialSchema"]["id"] == shipped_schema_for(POA)
    check_credential(credential)


def test_every_term_of_the_example_is_defined():
    found = expanded_iris(expand(build(), default_loader()))
    assert not {i for i in found if i.startswith(ISSUER_DEPENDENT)}
    # the vocabulary's type (FIBO's power of attorney) and the project's terms
    assert "https://spec.edmcouncil.org/fibo/ontology/BE/LegalEntities/LegalPersons/PowerOfAttorney" in found
    for term in ("principal", "importerNumber", "filerCode", "customsBrokerLicenseNumber", "delegationScope",
                 "portOfEntry"):
        assert f"https://tradevc.example/vocab#{term}" in found


def test_the_example_conforms_to_the_shipped_schema_and_verifies():
    credential = build()
    assert default_schema_store().problems(shipped_schema_for(POA), credential) == []
    signed = sign_credential(credential, IMPORTER, created=VALID_FROM)
    policy = TrustPolicy.from_dict({"trustedIssuers": [{"did": IMPORTER.did, "name": "importer", "types": [POA]}]})
    result = verify_credential(signed, policy=policy, now=datetime(2026, 6, 1, tzinfo=timezone.utc))
    assert result.verified, result.summary()


def test_a_power_of_attorney_must_expire():
    with pytest.raises(InvalidDocument, match="validUntil: required field is missing .*141.46"):
        build(valid_until=None)


@pytest.mark.parametrize("change,message", [
    (lambda s: s.pop("principal"), "credentialSubject.principal: required field is missing"),
    (lambda s: s["principal"].pop("importerNumber"), "credentialSubject.principal.importerNumber: required"),
    (lambda s: s["principal"].update(importerNumber="761234567"), "CBP importer number"),
    (lambda s: s.update(id="https://brokers.example"), "credentialSubject.id: must be the DID"),
    (lambda s: s.pop("id"), "credentialSubject.id: required field is missing"),
    (lambda s: s.update(scope=[]), "credentialSubject.scope: must not be empty"),
    (lambda s: s.update(scope=["everything"]), "must be one of customs-business, customs-entry"),
    (lambda s: s.pop("scope"), "credentialSubject.scope: required field is missing"),
    (lambda s: s.update(filerCode="AB"), "filer code"),
    (lambda s: s.update(portOfEntry=["Houston"]), "port code"),
    (lambda s: (s.pop("filerCode"), s.pop("brokerLicenseNumber")), "filerCode or brokerLicenseNumber"),
    (lambda s: s.update(type=["Person"]), "'Organization'"),
])
def test_malformed_subjects_are_refused(change, message):
    assert message in problems(change)


def test_the_principal_is_the_issuer():
    # a principal's DID, if given, is the issuer's: nobody grants a power for someone else
    other = KeyPair.generate("Ed25519")
    assert "credentialSubject.principal.id: must be the issuer" in problems(
        lambda s: s["principal"].update(id=other.did))
    build(dict(load_example(POA), principal={**load_example(POA)["principal"], "id": IMPORTER.did}))


def test_an_importer_cannot_appoint_itself():
    assert "credentialSubject.id: the agent cannot be the principal" in problems(lambda s: s.update(id=IMPORTER.did))


def test_the_trade_context_is_required_after_the_vocabulary():
    credential = build()
    del credential["credentialSchema"]
    swapped = {**credential, "@context": [CREDENTIALS_V2, TRADE_CONTEXT, TRACEABILITY_V1]}
    with pytest.raises(InvalidDocument, match="must come before"):
        check_credential(swapped)
    without = {**credential, "@context": [CREDENTIALS_V2, TRACEABILITY_V1]}
    with pytest.raises(InvalidDocument, match="must include https://tradevc.example/contexts/trade/v1"):
        check_credential(without)


def test_vc_issuer_issues_one_with_a_status_entry(tmp_path):
    runner = CliRunner()
    home, passphrase = tmp_path / "home", tmp_path / "pass"
    passphrase.write_text("correct horse battery staple\n")
    base = ["--home", str(home), "--passphrase-file", str(passphrase)]
    done = runner.invoke(issuer_cli, [*base, "init", "--name", "Gulf Coast Pipe & Supply LLC",
                                      "--status-base-url", "https://status.gulfcoastpipe.example/lists/"])
    assert done.exit_code == 0, done.output
    subject = tmp_path / "broker.json"
    subject.write_text(json.dumps(load_example(POA)))
    out = tmp_path / "poa.json"
    done = runner.invoke(issuer_cli, [*base, "issue", "--type", "PowerOfAttorney", "--subject", str(subject),
                                      "--valid-until", "2027-06-30T23:59:59Z", "--out", str(out)])
    assert done.exit_code == 0, done.output
    signed = json.loads(out.read_text())
    assert signed["type"] == ["VerifiableCredential", POA] and signed["validUntil"] == "2027-06-30T23:59:59Z"
    purposes = {s["statusPurpose"] for s in signed["credentialStatus"]}
    assert "revocation" in purposes
    # without a validUntil: one clear line, no traceback
    done = runner.invoke(issuer_cli, [*base, "issue", "--type", "PowerOfAttorney", "--subject", str(subject)])
    assert done.exit_code == 1 and "validUntil: required field is missing" in done.output
    assert "Traceback" not in done.output
    bad = copy.deepcopy(load_example(POA))
    bad["scope"] = ["anything"]
    subject.write_text(json.dumps(bad))
    done = runner.invoke(issuer_cli, [*base, "issue", "--type", "PowerOfAttorney", "--subject", str(subject),
                                      "--valid-until", "2027-06-30T23:59:59Z"])
    assert done.exit_code == 1 and "credentialSubject.scope[0]" in done.output and "Traceback" not in done.output
