"""``vc-issuer issue --type``: a type it does not know (a typo such as ``CommercialInvoice``)
is refused unless ``--allow-unknown-type``, since none of the trade checks would run; the
error and ``--help`` list the known types, and the error suggests close matches (issue 18,
point 3)."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from tradevc.issuer import Issuer
from tradevc.issuer.cli import cli
from tradevc.issuer.credential_types import (
    TRACEABILITY_V1, TYPE_ALIASES, load_example, similar_type_names, type_names,
)

PASS = "mill passphrase"


@pytest.fixture(scope="module")
def home(tmp_path_factory):
    path = tmp_path_factory.mktemp("issuer") / "home"
    Issuer.init(path, PASS.encode(), name="Aceros del Norte").close()
    return path


def run(home, *args):
    env = {"TRADEVC_ISSUER_HOME": str(home), "TRADEVC_ISSUER_PASSPHRASE": PASS}
    return CliRunner().invoke(cli, ["issue", *map(str, args)], env=env)


@pytest.fixture
def invoice(tmp_path):
    path = tmp_path / "invoice.json"
    path.write_text(json.dumps(load_example("CommercialInvoiceCredential")), encoding="utf-8")
    return path


def issued_ids(home):
    with Issuer.open(home, PASS.encode()) as issuer:
        return {r.id for r in issuer.issued()}


@pytest.mark.parametrize(
    "typed, suggested",
    [
        ("CommercialInvoice", "CommercialInvoiceCredential"),
        ("MillTestReport", "MillTestReportCredential"),
        ("USMCACertificateOfOrigin", "USMCACertificationOfOrigin"),
        ("identityanchor", "IdentityAnchorCredential"),
    ],
)
def test_a_typo_is_refused_with_the_close_match_and_the_known_types(home, invoice, typed, suggested):
    before = issued_ids(home)
    result = run(home, "--type", typed, "--subject", invoice)
    assert result.exit_code == 2, result.output
    line = result.output
    assert line.startswith(f"error: --type: {typed} is not a known credential type") and line.count("\n") == 1
    assert f"did you mean {suggested}" in line
    assert all(name in line for name in type_names()) and all(alias in line for alias in TYPE_ALIASES)
    assert "--allow-unknown-type" in line and "Traceback" not in line
    assert issued_ids(home) == before


def test_an_unknown_type_with_no_close_match_lists_the_known_types(home, invoice):
    result = run(home, "--type", "Zebra", "--subject", invoice)
    assert result.exit_code == 2 and "did you mean" not in result.output
    assert "known types: USMCACertificationOfOrigin, MillTestReportCredential" in result.output


def test_known_types_and_short_names_are_still_accepted(home, invoice, tmp_path):
    result = run(home, "--type", "CommercialInvoiceCredential", "--subject", invoice)
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["type"] == ["VerifiableCredential", "CommercialInvoiceCredential"]
    anchor = tmp_path / "anchor.json"
    anchor.write_text(json.dumps(load_example("IdentityAnchorCredential")), encoding="utf-8")
    result = run(home, "--type", "IdentityAnchor", "--subject", anchor, "--valid-until", "2027-06-30T23:59:59Z")
    assert result.exit_code == 0, result.output


def test_allow_unknown_type_signs_a_type_of_ones_own_with_a_warning(home, tmp_path):
    subject = tmp_path / "lot.json"
    subject.write_text(json.dumps({"id": "did:example:buyer", "name": "Steel Buyer"}), encoding="utf-8")
    refused = run(home, "--type", "SteelLotCredential", "--subject", subject)
    assert refused.exit_code == 2 and "did you mean" not in refused.output
    result = run(home, "--type", "SteelLotCredential", "--subject", subject, "--allow-unknown-type")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["type"] == ["VerifiableCredential", "SteelLotCredential"]
    assert "warning: SteelLotCredential is not a known credential type" in result.stderr


def test_allow_unknown_type_still_warns_of_the_close_match(home, tmp_path):
    subject = tmp_path / "mtr.json"
    subject.write_text(json.dumps({"id": "did:example:buyer", "name": "Steel Buyer"}), encoding="utf-8")
    result = run(home, "--type", "MillTestReport", "--subject", subject, "--allow-unknown-type")
    assert result.exit_code == 0, result.output
    assert "did you mean MillTestReportCredential?" in result.stderr


def credential_of_type(kind):
    return {
        "@context": ["https://www.w3.org/ns/credentials/v2", TRACEABILITY_V1],  # gives a type of its own an IRI
        "type": ["VerifiableCredential", kind],
        "credentialSubject": {"id": "did:example:buyer", "name": "Steel Buyer"},
    }


def test_a_whole_credential_whose_type_is_nearly_a_known_one_is_refused(home, tmp_path):
    path = tmp_path / "credential.json"
    path.write_text(json.dumps(credential_of_type("MillTestReport")), encoding="utf-8")
    before = issued_ids(home)
    result = run(home, "--credential", path)
    assert result.exit_code == 2, result.output
    assert f"{path}: type MillTestReport is not a known credential type but close to MillTestReportCredential" \
        in result.output
    assert issued_ids(home) == before
    result = run(home, "--credential", path, "--allow-unknown-type")
    assert result.exit_code == 0, result.output
    assert "warning:" in result.stderr


def test_a_whole_credential_of_a_type_of_ones_own_is_signed(home, tmp_path):
    path = tmp_path / "credential.json"
    path.write_text(json.dumps(credential_of_type("SteelLotCredential")), encoding="utf-8")
    result = run(home, "--credential", path)
    assert result.exit_code == 0, result.output
    # no warning about its type (this did:key issuer has no status lists, and is told its
    # credential cannot be revoked: see test_issuer_status_expiry.py)
    assert [line for line in result.stderr.splitlines() if "cannot be revoked" not in line] == []


def test_help_lists_the_known_types_and_the_flag():
    text = CliRunner().invoke(cli, ["issue", "--help"]).output
    flat = " ".join(text.split())
    assert all(name in flat for name in type_names())
    assert "--allow-unknown-type" in flat and "Any other type is refused unless --allow-unknown-type" in flat


def test_similar_type_names():
    assert similar_type_names("CommercialInvoice") == ["CommercialInvoiceCredential"]
    assert similar_type_names("PowerOfAttorny") == ["PowerOfAttorneyCredential"]
    assert similar_type_names("MillTestReportCredential") == []  # a known type is not "similar"
    assert similar_type_names("SteelLotCredential", cutoff=0.85) == []
    assert similar_type_names("Zebra") == []
