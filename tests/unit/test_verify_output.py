"""``vc-verify`` output people can read (issue 18, point 9): what a credential says (issuer with
its name from the trust policy, subject, validity, the trade fields) before the checks; a
presentation's table of documents and checks and its plain-language verdict; colour only on a
terminal (``NO_COLOR``, ``--color``); and a top-level ``"outcome"`` in every JSON report.

Real signed trade credentials (tests/support/entries.py, dated around today, so that the CLI's
own clock finds them current), a real revocation list served from a snapshot directory
(tests/support/parties.py), the real CLI through click's CliRunner."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from support.entries import CHALLENGE, DOMAIN, IMPORTER, LICENSING, MILL, PRODUCER, certification, licence, mill_report, policy
from support.parties import STATUS_URL, status_snapshot
from tradevc.verifier.cli import cli
from tradevc.verifier.describe import colour_wanted
from tradevc.vc.securing.enveloped import envelope_presentation
from tradevc.vc.securing.jose import sign_presentation_jwt
from tradevc.wallet import sign_presentation

TODAY = datetime.now(timezone.utc).date()
HOSTILE = "line pipe\u202eedoc\x1b[31mred\u200bhidden"


def revocable(index: int) -> Any:
    """A certification edit adding a revocation entry at ``index`` of the snapshot's list."""
    def add(credential: dict[str, Any]) -> None:
        credential["credentialStatus"] = [{
            "id": f"{STATUS_URL}#{index}", "type": "BitstringStatusListEntry", "statusPurpose": "revocation",
            "statusListIndex": str(index), "statusListCredential": STATUS_URL}]
    return add


@pytest.fixture(scope="module")
def docs() -> dict[str, Any]:
    return {
        "mtr": mill_report(day=TODAY, heats=[("H26-18841", "MX", 39211), ("H26-18842", "CN", 39211)]),
        "coo": certification(day=TODAY, goods=("730419", "720851")),
        "sima": licence(day=TODAY),
        "sima-jwt": licence(day=TODAY, jose=True, id="urn:uuid:sima-jwt"),
        "coo-revocable": certification(day=TODAY, id="urn:uuid:coo-revocable", after=revocable(3)),
        "coo-hostile": certification(day=TODAY, id="urn:uuid:coo-hostile", after=lambda c: (
            c["credentialSubject"]["goods"][0].update(description=HOSTILE),
            c["credentialSubject"]["exporterDetails"].update(name="Exporter\u202e" + "x" * 500)))
    }


@pytest.fixture
def trust(tmp_path: Path) -> Path:
    path = tmp_path / "border-policy.json"
    path.write_text(json.dumps(policy()), encoding="utf-8")
    return path


def write(tmp_path: Path, name: str, document: Any) -> Path:
    path = tmp_path / name
    path.write_text(document if isinstance(document, str) else json.dumps(document), encoding="utf-8")
    return path


def verify(*args: str, expect: int, env: dict[str, str] | None = None) -> str:
    result = CliRunner().invoke(cli, list(args), env=env)
    assert result.exit_code == expect, result.output
    return result.stdout


def test_a_certification_of_origin_shows_its_goods_hs_codes_origin_criteria_and_issuer_name(tmp_path, docs, trust):
    out = verify("credential", str(write(tmp_path, "coo.json", docs["coo"])), "--trust", str(trust), "--offline",
                 expect=0)
    lines = out.splitlines()
    assert lines[0] == "VERIFIED: urn:uuid:coo-1"  # the first line as before: scripts read it
    assert lines[1] == "  What it says:"
    assert "USMCA certification of origin (USMCACertificationOfOrigin)" in out
    assert f"issuer: Aceros del Norte export office ({PRODUCER.did})" in out  # the name the policy gives it
    assert "HS 730419, origin criterion B, originating in MX" in out and "HS 720851, origin criterion B" in out
    assert "Seamless line pipe of non-alloy steel" in out
    assert "exporter: Aceros del Norte S.A. de C.V." in out and "importer: Gulf Coast Pipe & Supply LLC" in out
    assert f"valid: {docs['coo']['validFrom']} to {docs['coo']['validUntil']}" in out
    # then the checks, as before, after the description
    assert out.index("What it says") < out.index("  OK   proof") < out.index("  OK   issuer_trust")
    assert "\x1b" not in out  # piped: no colour


def test_a_mill_test_report_shows_its_heats_with_melt_and_pour_country(tmp_path, docs, trust):
    out = verify("credential", str(write(tmp_path, "mtr.json", docs["mtr"])), "--trust", str(trust), "--offline",
                 expect=0)
    assert "mill test report (MillTestReportCredential)" in out
    assert "heat H26-18841: melted and poured in MX, manufactured in MX, 39211 kg, HS 730419" in out
    assert "heat H26-18842: melted and poured in CN" in out
    assert "manufacturer: Aceros del Norte S.A. de C.V." in out
    # the mill is trusted through the register's anchor: its name is the anchor's, and says so
    assert f"issuer: Aceros del Norte ({MILL.did}), as anchored by Registro Publico de Comercio" in out


def test_a_sima_licence_as_a_vc_jwt_shows_its_number_products_and_licensing_office(tmp_path, docs, trust):
    out = verify("credential", str(write(tmp_path, "sima.jwt", docs["sima-jwt"])), "--trust", str(trust),
                 "--offline", expect=0)
    assert "SIMA steel import licence (SIMASteelImportLicenseCredential)" in out
    assert "licence number: SIMA-2026-0418739 (standard)" in out
    assert "HTS 7304.19.1020, melted and poured in MX, 78422 kg" in out
    assert f"issuer: SIMA licensing ({LICENSING.did})" in out


def test_an_issuer_outside_the_policy_is_said_to_be(tmp_path, docs):
    other = tmp_path / "other-policy.json"
    other.write_text(json.dumps({"trustedIssuers": [{"did": LICENSING.did, "name": "SIMA licensing",
                                                     "types": ["SIMASteelImportLicenseCredential"]}]}))
    out = verify("credential", str(write(tmp_path, "coo.json", docs["coo"])), "--trust", str(other), "--offline",
                 expect=1)
    assert f"issuer: {PRODUCER.did} (not in your trust policy)" in out


def test_hidden_and_control_characters_of_a_credential_are_escaped_and_long_values_cut(tmp_path, docs, trust):
    out = verify("credential", str(write(tmp_path, "coo.json", docs["coo-hostile"])), "--trust", str(trust),
                 "--offline", expect=0)
    for raw in ("\u202e", "\x1b", "\u200b"):
        assert raw not in out
    assert "line pipe\\u202eedoc\\u001b[31mred\\u200bhidden" in out
    exporter = next(line for line in out.splitlines() if "exporter: Exporter" in line)
    assert exporter.endswith("...") and len(exporter) < 200
    # --color always colours our words, never the document's: its escape is still escaped
    coloured = verify("credential", str(write(tmp_path, "coo.json", docs["coo-hostile"])), "--trust", str(trust),
                      "--offline", "--color", "always", expect=0)
    assert "\x1b[31mred" not in coloured and "\\u001b[31mred" in coloured


def test_a_credential_that_fails_its_proof_still_shows_its_content_labelled_not_to_be_relied_on(tmp_path, docs, trust):
    forged = json.loads(json.dumps(docs["mtr"]))
    forged["credentialSubject"]["product"][0]["heatNumber"] = "H26-99999"
    out = verify("credential", str(write(tmp_path, "forged.json", forged)), "--trust", str(trust), "--offline",
                 expect=1)
    lines = out.splitlines()
    assert lines[0].startswith("NOT VERIFIED")
    assert lines[1] == "  What it says (NOT VERIFIED: do not rely on it):"
    assert "heat H26-99999" in out and "FAIL proof" in out


def test_brief_gives_the_checks_only(tmp_path, docs, trust):
    out = verify("credential", str(write(tmp_path, "coo.json", docs["coo"])), "--trust", str(trust), "--offline",
                 "--brief", expect=0)
    assert "What it says" not in out and out.splitlines()[1].startswith("  OK   structure")


def presented(tmp_path: Path, docs: dict[str, Any], *keys: str) -> Path:
    vp = sign_presentation([docs[k] for k in keys], IMPORTER, challenge=CHALLENGE, domain=DOMAIN,
                           cryptosuite="eddsa-jcs-2022", created=datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"))
    return write(tmp_path, "vp.json", vp)


def present(vp: Path, trust: Path, *more: str, expect: int) -> str:
    return verify("presentation", str(vp), "--trust", str(trust), "--challenge", CHALLENGE, "--domain", DOMAIN,
                  "--offline", *more, expect=expect)


def test_a_presentation_ends_with_a_table_and_the_verdict(tmp_path, docs, trust):
    out = present(presented(tmp_path, docs, "mtr", "coo", "sima"), trust, expect=0)
    assert out.splitlines()[0] == "VERIFIED"
    assert out.count("What it says:") == 3
    rows = [line.split() for line in out.splitlines() if line.lstrip().startswith(("1 ", "2 ", "3 "))]
    assert [row[-1] for row in rows] == ["VERIFIED"] * 3
    assert out.rstrip().splitlines()[-1] == (
        "PRESENTATION VERIFIED: every document is genuine, current, unrevoked and from a trusted issuer.")


def test_the_verdict_names_the_revoked_document_and_the_fine_ones(tmp_path, docs, trust):
    snapshot = status_snapshot(tmp_path / "snapshot", day=TODAY, revoked=(3,), key=PRODUCER)
    out = present(presented(tmp_path, docs, "mtr", "coo-revocable", "sima"), trust, "--snapshot", str(snapshot),
                  expect=1)
    verdict = out[out.index("PRESENTATION NOT VERIFIED"):]
    assert verdict.startswith("PRESENTATION NOT VERIFIED: the USMCA certification of origin urn:uuid:coo-revocable "
                              "from Aceros del Norte export office is revoked (revocation: ")
    assert ("The mill test report urn:uuid:mtr-1 from Aceros del Norte and the SIMA steel import licence "
            "urn:uuid:sima-1 from SIMA licensing are fine.") in verdict
    row = next(line.split() for line in out.splitlines() if line.lstrip().startswith("2 "))
    assert row[-2:] == ["NOT", "VERIFIED"] and "FAIL" in row


def test_the_verdict_says_what_could_not_be_checked_and_what_to_try(tmp_path, docs, trust):
    # offline, no snapshot: the certification's status cannot be read, so the presentation (whose
    # "credentials" check fails when one cannot be verified) is not verified
    out = present(presented(tmp_path, docs, "mtr", "coo-revocable"), trust, expect=1)
    verdict = out[out.index("PRESENTATION NOT VERIFIED"):]
    assert "the USMCA certification of origin urn:uuid:coo-revocable from Aceros del Norte export office could not " \
           "be checked (status: credentialStatus is present but no status checker was given" in verdict
    assert "--snapshot" in verdict and "--pack" in verdict
    assert "The mill test report urn:uuid:mtr-1 from Aceros del Norte is fine." in verdict


@pytest.mark.parametrize("case, expect, outcome", [
    ("good", 0, "verified"), ("forged", 1, "not_verified"), ("unchecked", 3, "could_not_verify")])
def test_every_json_report_has_a_top_level_outcome(tmp_path, docs, trust, case, expect, outcome):
    document = {"good": docs["coo"], "unchecked": docs["coo-revocable"],
                "forged": dict(docs["coo"], validFrom="2020-01-01T00:00:00Z")}[case]
    report = json.loads(verify("credential", str(write(tmp_path, "c.json", document)), "--trust", str(trust),
                               "--offline", "--json", expect=expect))
    assert list(report)[0] == "outcome" and report["outcome"] == outcome
    keys = {"good": ["mtr", "coo"], "forged": ["mtr", "coo"], "unchecked": ["mtr", "coo-revocable"]}[case]
    items = [docs[k] for k in keys]
    if case == "forged":
        items[1] = document
    vp = sign_presentation(items, IMPORTER, challenge=CHALLENGE, domain=DOMAIN, cryptosuite="eddsa-jcs-2022",
                           created=datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"))
    # a presentation with a credential that could not be verified is not verified (its "credentials" check fails)
    report = json.loads(present(write(tmp_path, "vp.json", vp), trust, "--json", expect=min(expect, 1)))
    assert report["outcome"] == {"could_not_verify": "not_verified"}.get(outcome, outcome)
    assert report["credentials"][0]["outcome"] == "verified" and report["credentials"][1]["outcome"] == outcome
    folder = tmp_path / "inbox"
    folder.mkdir()
    write(folder, "c.json", document)
    batch = json.loads(verify("batch", str(folder), "--trust", str(trust), "--offline", "--json", expect=expect))
    assert batch["outcome"] == outcome and [d["outcome"] for d in batch["documents"]] == [outcome]


def test_colour_only_when_asked_or_on_a_terminal_without_no_color(tmp_path, docs, trust):
    path = str(write(tmp_path, "coo.json", docs["coo"]))
    piped = verify("credential", path, "--trust", str(trust), "--offline", expect=0)
    assert "\x1b" not in piped
    always = verify("credential", path, "--trust", str(trust), "--offline", "--color", "always", expect=0,
                    env={"NO_COLOR": "1"})  # an explicit --color always wins over NO_COLOR (no-color.org)
    assert "\x1b[" in always and "VERIFIED" in always
    never = verify("credential", path, "--trust", str(trust), "--offline", "--color", "never", expect=0)
    assert never == piped
    # the decision: a terminal gets colour unless NO_COLOR (any non-empty value) or TERM=dumb
    assert colour_wanted("auto", is_terminal=True, environ={}) is True
    assert colour_wanted("auto", is_terminal=True, environ={"NO_COLOR": "1"}) is False
    assert colour_wanted("auto", is_terminal=True, environ={"NO_COLOR": ""}) is True
    assert colour_wanted("auto", is_terminal=True, environ={"TERM": "dumb"}) is False
    assert colour_wanted("auto", is_terminal=False, environ={}) is False
    assert colour_wanted("never", is_terminal=True, environ={}) is False
    assert colour_wanted("always", is_terminal=False, environ={"NO_COLOR": "1"}) is True


def test_failed_checks_are_red_with_color_always(tmp_path, docs, trust):
    forged = json.loads(json.dumps(docs["mtr"]))
    forged["credentialSubject"]["product"][0]["heatNumber"] = "H26-99999"
    out = verify("credential", str(write(tmp_path, "forged.json", forged)), "--trust", str(trust), "--offline",
                 "--color", "always", expect=1)
    assert "\x1b[31m" in out or "\x1b[1;31m" in out
    assert "\x1b[" not in verify("credential", str(write(tmp_path, "forged.json", forged)), "--trust", str(trust),
                                 "--offline", expect=1)



def test_the_credentials_of_a_vp_jwt_and_of_its_envelope_are_described_too(tmp_path, docs, trust):
    token = sign_presentation_jwt([docs["coo"], docs["sima-jwt"]], IMPORTER, challenge=CHALLENGE, domain=DOMAIN)
    for name, document in (("vp.jwt", token), ("vp.json", envelope_presentation(token))):
        out = present(write(tmp_path, name, document), trust, expect=0)
        assert out.count("What it says:") == 2, out
        assert "licence number: SIMA-2026-0418739" in out and "HS 730419, origin criterion B" in out


def described(credential: Any) -> str:
    """What ``describe`` says of ``credential``, verified by a real offline verifier under the border policy."""
    from tradevc.verifier import Verifier
    from tradevc.verifier.describe import credential_text, shown_credential
    from tradevc.verifier.trust import TrustPathPolicy

    border = TrustPathPolicy.from_dict(policy(), source="border-policy.json")
    report = Verifier.offline(policy=border).verify_credential(credential)
    return credential_text(shown_credential(credential, report), border)


def test_an_invoice_a_transformation_event_and_a_power_of_attorney_show_their_fields():
    from support.entries import sign
    from support.parties import power_of_attorney
    from tradevc.issuer.credential_types import build_credential, load_example

    def issued(type_name: str) -> dict[str, Any]:
        return sign(build_credential(type_name, load_example(type_name), issuer=MILL.did, credential_id=f"urn:uuid:{type_name}",
                                     valid_from=f"{TODAY.isoformat()}T00:00:00Z"), MILL, "eddsa-jcs-2022")

    invoice = described(issued("CommercialInvoiceCredential"))
    assert "commercial invoice (CommercialInvoiceCredential)" in invoice
    assert "invoice ADN-FE-2026-001842, of 2026-04-03, seller: Aceros del Norte S.A. de C.V." in invoice
    assert "HS 730419, 400 pieces, 78422 kg, 113711.9 USD, origin MX: Seamless line pipe" in invoice
    assert "total: 113711.9 USD, 78422 kg" in invoice
    event = described(issued("TransformationEventCredential"))
    assert "event: at 2026-03-02T06:00:00Z, by Aceros del Norte S.A. de C.V., in MX, yield tolerance 0.005" in event
    assert "lot BLT-18841, heat H26-18841, 40100 kg, from urn:uuid:5d1b7c1e-2f4a-4c8e-9a61-0b7e3c2d1a01" in event
    assert "out (2):" in event and "lot ADN-LP4-X52-0001..0200, 39211 kg, HS 730419" in event
    poa = described(power_of_attorney(day=TODAY, index=None))
    assert "customs power of attorney (PowerOfAttorneyCredential)" in poa
    assert "grants its agent (the subject): customs-entry" in poa and "filer code ABC" in poa
    assert "ports: 5301, 2304" in poa


def test_a_long_list_of_goods_is_cut_and_an_unknown_type_shows_the_basics():
    many = described(certification(day=TODAY, goods=tuple(f"7304{i:02d}" for i in range(25))))
    assert "goods (25):" in many and "HS 730419" in many and "HS 730420" not in many
    assert "... and 5 more" in many
    assert len(many.split("Checks:")[0].splitlines()) < 40
    from conftest import load_vector
    from tradevc.issuer import sign_credential
    unsigned = load_vector("di-eddsa/unsigned.json")  # an AlumniCredential of the W3C test vectors
    unsigned["issuer"] = MILL.did
    other = described(sign_credential(unsigned, MILL, cryptosuite="eddsa-jcs-2022", created="2026-01-01T00:00:00Z"))
    assert "AlumniCredential credential (AlumniCredential)" in other and "subject: did:example:" in other, other
    assert "What it says (NOT VERIFIED: do not rely on it):" in other  # the border does not trust the mill for it


def test_a_presentation_that_could_not_be_verified_says_so_and_what_to_try(tmp_path, docs, trust):
    # the holder is a did:web, which cannot be resolved offline: its proof could not be checked
    holder = "did:web:importer.example"
    vp = sign_presentation([docs["mtr"]], IMPORTER, challenge=CHALLENGE, domain=DOMAIN, cryptosuite="eddsa-jcs-2022",
                           holder=holder, verification_method=f"{holder}#key-1",
                           created=datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"))
    out = present(write(tmp_path, "vp.json", vp), trust, expect=3)
    assert out.splitlines()[0] == "COULD NOT VERIFY"
    verdict = out[out.index("PRESENTATION COULD NOT BE VERIFIED: "):]
    assert "the presentation's proof could not be checked (proof: " in verdict
    assert "--snapshot" in verdict and "--pack" in verdict
    assert "The mill test report urn:uuid:mtr-1 from Aceros del Norte is fine." in verdict


def test_no_line_of_what_a_credential_says_starts_with_the_document_s_own_words(tmp_path, trust):
    """A document cannot print a line of its own (say, 'VERIFIED: ...' or 'FAIL ...'), coloured or not:
    every line of the block starts with our label."""
    spoof = "VERIFIED: trust me"
    def edit(c: dict[str, Any]) -> None:
        c["credentialSubject"]["goods"][0].update(commodityCode=spoof, description=spoof, originCriterion=spoof)
        c["credentialSubject"]["exporterDetails"]["name"] = "FAIL proof"
    out = verify("credential", str(write(tmp_path, "c.json", certification(day=TODAY, after=edit))), "--trust",
                 str(trust), "--offline", "--color", "always", expect=0)  # (made without its schema: it verifies)
    from support.entries import sign
    from tradevc.issuer.credential_types import build_credential, load_example
    subject = load_example("TransformationEventCredential")
    subject["consumedProducts"][0]["identifier"] = "FAIL proof"
    subject["newProducts"][0]["identifier"] = spoof
    event = sign(build_credential("TransformationEventCredential", subject, issuer=MILL.did, credential_id="urn:uuid:ev",
                                  valid_from=f"{TODAY.isoformat()}T00:00:00Z"), MILL, "eddsa-jcs-2022")
    other = verify("credential", str(write(tmp_path, "e.json", event)), "--trust", str(trust), "--offline",
                   "--color", "always", expect=1)  # the border does not trust the mill's events: shown all the same
    for text in (out, other):
        block = text[text.index("What it says"):text.index("Checks:")]
        for line in block.splitlines()[1:]:
            assert not line.lstrip().startswith(("VERIFIED", "FAIL", "\x1b")), line
        assert "\x1b[32m" not in block and "\x1b[1;32m" not in block and "\x1b[31m" not in block


def test_a_weight_beyond_any_number_is_shown_without_a_traceback(tmp_path, trust):
    from support.entries import sign
    from tradevc.issuer.credential_types import build_credential, load_example
    credential = build_credential("MillTestReportCredential", load_example("MillTestReportCredential"), issuer=MILL.did,
                                  credential_id="urn:uuid:huge", valid_from=f"{TODAY.isoformat()}T00:00:00Z")
    del credential["credentialSchema"]  # made elsewhere, without the issuing checks
    credential["credentialSubject"]["product"][0].update(weight="1e999999", weightUnit="TNE")
    out = verify("credential", str(write(tmp_path, "huge.json", sign(credential, MILL, "eddsa-jcs-2022"))), "--trust",
                 str(trust), "--offline", expect=0)
    assert "heat H26-18841: melted and poured in MX, manufactured in MX, HS 730419" in out


def test_documents_of_any_shape_are_described_without_raising():
    """Each trade type's example with members replaced by values of other types (numbers, lists,
    objects, empty, huge, hidden characters), as JSON, as a string, or nothing: described, never raised."""
    import copy
    import random

    from tradevc.issuer.credential_types import CREDENTIAL_TYPES, build_credential, load_example
    from tradevc.vc.report import CheckResult, PresentationResult, VerificationResult
    from tradevc.verifier.describe import credential_text, presentation_text, shown_credential, shown_presentation
    from tradevc.verifier.trust import TrustPathPolicy

    border = TrustPathPolicy.from_dict(policy(), source="border-policy.json")
    odd = [None, 1, -1.5, "", [], {}, [1, "a", None], {"a": 1}, True, "1e999999", {"value": "1e99999", "unitCode": "TNE"},
           {"value": [], "unitCode": {}}, "\u202e\x1b[31m", "9" * 500]
    rng = random.Random(18)

    def mutate(node: Any) -> None:
        keys = list(node) if isinstance(node, dict) else range(len(node)) if isinstance(node, list) else []
        for key in keys:
            if rng.random() < 0.25:
                node[key] = copy.deepcopy(rng.choice(odd))
            else:
                mutate(node[key])

    failed = VerificationResult(checks=[CheckResult.failed("proof", "PROOF_VERIFICATION_ERROR", "no")])
    for name in CREDENTIAL_TYPES:
        base = build_credential(name, load_example(name), issuer=MILL.did, credential_id="urn:uuid:odd",
                                valid_from="2026-01-01T00:00:00Z", valid_until="2026-12-01T00:00:00Z")
        for _ in range(20):
            credential = copy.deepcopy(base)
            mutate(credential)
            for document in (credential, json.dumps(credential), None):
                text = credential_text(shown_credential(document, failed), border)
                assert "\x1b" not in text and "\u202e" not in text and len(text.splitlines()) < 200
                report = PresentationResult(checks=[CheckResult.failed("credentials", "X", "no")], credentials=[failed])
                presentation_text(report, shown_presentation({"verifiableCredential": [document]}, report), border)
