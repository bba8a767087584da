"""The wallet holds anchors (credentials in which a registrar, an accreditation body or a
licensing authority vouches for a party) and adds those for the issuers of what it presents.

Real wallet files, real signatures: a did:key "registrar" anchors a did:key "mill", whose mill
test report the importer presents; the presentations are verified by the library."""

from __future__ import annotations

import copy
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

from tradevc.issuer import sign_credential
from tradevc.issuer.credential_types import build_credential, load_example
from tradevc.vc.keys import KeyPair
from tradevc.verifier import TrustPolicy, Verifier
from tradevc.wallet import CredentialRefused, HolderPolicy, KdfParams, Wallet, describe_vouch
from tradevc.wallet.service import MAX_ANCHOR_DEPTH, MAX_ANCHORS

FAST = KdfParams(n=2**14)
PASS = "importer passphrase"
V2 = "https://www.w3.org/ns/credentials/v2"
TRUST = "https://tradevc.example/contexts/trust/v1"
MID = "MXACEDEL1234MON"

MILL = KeyPair.generate("Ed25519")
OTHER_MILL = KeyPair.generate("Ed25519")
REGISTRAR = KeyPair.generate("Ed25519")
ACCREDITOR = KeyPair.generate("P-256")
GS1_GLOBAL = KeyPair.generate("Ed25519")
GS1_MX = KeyPair.generate("Ed25519")

HOLDER_CHECKS = Verifier.offline(policy=HolderPolicy())  # the wallet's own stance: issuers are customs' call
CUSTOMS = Verifier.offline(policy=TrustPolicy({  # a flat policy trusting every party of these tests
    MILL.did: ["MillTestReportCredential"], OTHER_MILL.did: ["MillTestReportCredential"],
    REGISTRAR.did: ["IdentityAnchorCredential"], ACCREDITOR.did: ["AccreditationCredential"],
    GS1_GLOBAL.did: ["GS1PrefixLicenseCredential"], GS1_MX.did: ["GS1CompanyPrefixLicenseCredential"],
}))
NOW = datetime.now(timezone.utc).replace(microsecond=0)


def _at(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


IN_A_YEAR = _at(NOW + timedelta(days=365))
A_MONTH_AGO = _at(NOW - timedelta(days=30))


def mill_report(issuer: KeyPair = MILL, id: str = "urn:uuid:mtr-1") -> dict[str, Any]:
    document = build_credential("MillTestReportCredential", load_example("MillTestReportCredential"), issuer=issuer.did,
                                valid_from=A_MONTH_AGO, credential_id=id)
    return sign_credential(document, issuer, created=A_MONTH_AGO)


def anchor(subject: KeyPair | str = MILL, issuer: KeyPair = REGISTRAR, *, id: str = "urn:uuid:anchor-mill",
           valid_from: str = A_MONTH_AGO, valid_until: str | None = IN_A_YEAR, **extra: Any) -> dict[str, Any]:
    """An identity anchor: ``issuer`` registers ``subject`` under a MID, for mill test reports."""
    did = subject if isinstance(subject, str) else subject.did
    document: dict[str, Any] = {
        "@context": [V2, TRUST], "id": id, "type": ["VerifiableCredential", "IdentityAnchorCredential"],
        "issuer": issuer.did, "validFrom": valid_from,
        "credentialSubject": {
            "id": did, "type": "RegisteredParty", "name": "Aceros del Norte",
            "identifier": [{"type": "PropertyValue", "propertyID": "MID", "value": MID}],
            "authorizedCredentialType": ["MillTestReportCredential"], **extra,
        },
    }
    if valid_until is not None:
        document["validUntil"] = valid_until
    return sign_credential(document, issuer, created=valid_from)


def accreditation(subject: KeyPair = REGISTRAR, issuer: KeyPair = ACCREDITOR, *, id: str = "urn:uuid:acc-registrar"):
    """``issuer`` accredits ``subject`` to issue identity anchors."""
    document = {
        "@context": [V2, TRUST], "id": id, "type": ["VerifiableCredential", "AccreditationCredential"],
        "issuer": issuer.did, "validFrom": A_MONTH_AGO, "validUntil": IN_A_YEAR,
        "credentialSubject": {"id": subject.did, "type": "AccreditedBody", "name": "Registro Mercantil",
                              "authorizedCredentialType": ["IdentityAnchorCredential"]},
    }
    return sign_credential(document, issuer, cryptosuite="ecdsa-rdfc-2019", created=A_MONTH_AGO)


def licence(subject: KeyPair | str, issuer: KeyPair, *, id: str, prefix: str, parent: str | None = None,
            type: str = "GS1CompanyPrefixLicenseCredential") -> dict[str, Any]:
    did = subject if isinstance(subject, str) else subject.did
    body: dict[str, Any] = {"id": did, "type": "Licensee", "licenseValue": [prefix]}
    if parent is not None:
        body["extendsCredential"] = parent
    document = {"@context": [V2, TRUST], "id": id, "type": ["VerifiableCredential", type], "issuer": issuer.did,
                "validFrom": A_MONTH_AGO, "credentialSubject": body}
    return sign_credential(document, issuer, created=A_MONTH_AGO)


@pytest.fixture
def wallet(tmp_path) -> Wallet:
    w = Wallet.create(tmp_path / "wallet", PASS, kdf=FAST, verifier=HOLDER_CHECKS)
    w.add(mill_report())
    return w


def presented_ids(vp: dict[str, Any]) -> list[str]:
    return [c["id"] for c in vp["verifiableCredential"]]


# -- holding anchors ---------------------------------------------------------------------------------


def test_an_anchor_for_another_party_is_verified_and_held_as_an_anchor(tmp_path, wallet):
    held, new = wallet.add(anchor())
    assert new and held.kind == "anchor" and held.issuer == REGISTRAR.did
    assert held.vouch is not None and held.vouch.subject == MILL.did != wallet.holder_did  # not the holder: allowed
    assert [str(i) for i in held.vouch.identifiers] == [f"MID {MID}"]
    assert [h.id for h in wallet.anchors()] == ["urn:uuid:anchor-mill"]
    assert wallet.get("urn:uuid:mtr-1").kind == "credential" and wallet.get("urn:uuid:mtr-1").vouch is None
    reopened = Wallet.open(tmp_path / "wallet", PASS)  # kept in the file, read back as an anchor
    assert [h.id for h in reopened.anchors()] == ["urn:uuid:anchor-mill"]
    assert describe_vouch(held.vouch) == (
        f"anchor for {MILL.did} (Aceros del Norte, MID {MID}) by {REGISTRAR.did} "
        f"[types MillTestReportCredential], valid until {IN_A_YEAR}"
    )
    record = held.to_dict()
    assert record["kind"] == "anchor" and record["vouch"]["subject"] == MILL.did
    assert record["vouch"]["identifiers"] == [{"scheme": "MID", "value": MID}]
    assert wallet.get("urn:uuid:mtr-1").to_dict()["kind"] == "credential" and "vouch" not in wallet.get("urn:uuid:mtr-1").to_dict()


@pytest.mark.parametrize("spoil", [
    lambda c: c["credentialSubject"]["identifier"][0].update(value="MXOTHER9999MON"),  # another company's MID
    lambda c: c["credentialSubject"].update(id=OTHER_MILL.did),  # vouching for someone else
    lambda c: c["credentialSubject"].update(authorizedCredentialType=["MillTestReportCredential", "USMCACertificationOfOrigin"]),
])
def test_a_tampered_anchor_is_refused_on_add(wallet, spoil):
    forged = copy.deepcopy(anchor())
    spoil(forged)
    with pytest.raises(CredentialRefused, match="did not verify: proof"):
        wallet.add(forged)
    assert wallet.anchors() == [] and [h.id for h in wallet.list()] == ["urn:uuid:mtr-1"]


def test_an_expired_anchor_is_refused_on_add_as_any_credential(wallet):
    with pytest.raises(CredentialRefused, match="validity_period"):
        wallet.add(anchor(valid_from=_at(NOW - timedelta(days=60)), valid_until=A_MONTH_AGO))
    assert wallet.anchors() == []


def test_a_vouch_type_whose_subject_does_not_read_is_held_but_is_no_anchor(wallet):
    unreadable = anchor(id="urn:uuid:bad-anchor", identifier=[{"type": "PropertyValue", "propertyID": "MID"}])
    held, _ = wallet.add(unreadable)  # it verifies: the wallet keeps it, as any credential
    assert held.vouch is None and held.kind == "credential"
    assert held.vouch_problem is not None and "identifier[0]" in held.vouch_problem
    wallet.present(["urn:uuid:mtr-1"], challenge="c", domain="cbp.gov")
    assert wallet.last_anchors is not None and wallet.last_anchors.added == () and wallet.last_anchors.skipped == ()


# -- presenting with anchors -------------------------------------------------------------------------


def test_presenting_a_mill_report_adds_the_mills_anchor_and_verifies(wallet):
    wallet.add(anchor())
    vp = wallet.present(["urn:uuid:mtr-1"], challenge="7d1f", domain="cbp.gov")
    assert presented_ids(vp) == ["urn:uuid:mtr-1", "urn:uuid:anchor-mill"]
    selection = wallet.last_anchors
    assert selection is not None and selection.ids == ("urn:uuid:anchor-mill",)
    assert (selection.added[0].for_id, selection.added[0].depth) == ("urn:uuid:mtr-1", 1)
    for verifier in (CUSTOMS, Verifier.offline(policy=TrustPolicy.unsafe_any_issuer())):
        result = verifier.verify_presentation(vp, challenge="7d1f", domain="cbp.gov")
        assert result.verified and [r.verified for r in result.credentials] == [True, True], result.summary()
    assert vp["verifiableCredential"][1] == anchor()  # as held, with the registrar's proof


def test_anchors_are_the_default_and_can_be_left_out(wallet):
    wallet.add(anchor())
    assert presented_ids(wallet.present(["urn:uuid:mtr-1"], challenge="c", domain="cbp.gov")) == [
        "urn:uuid:mtr-1", "urn:uuid:anchor-mill"]
    vp = wallet.present(["urn:uuid:mtr-1"], challenge="c", domain="cbp.gov", with_anchors=False)
    assert presented_ids(vp) == ["urn:uuid:mtr-1"]
    assert wallet.last_anchors is not None and wallet.last_anchors.added == ()
    assert CUSTOMS.verify_presentation(vp, challenge="c", domain="cbp.gov").verified


def test_an_anchor_for_another_did_is_not_added(wallet):
    wallet.add(anchor(OTHER_MILL, id="urn:uuid:anchor-other"))
    vp = wallet.present(["urn:uuid:mtr-1"], challenge="c", domain="cbp.gov")
    assert presented_ids(vp) == ["urn:uuid:mtr-1"]
    assert wallet.anchors_for(["urn:uuid:mtr-1"]).added == ()
    wallet.add(mill_report(OTHER_MILL, id="urn:uuid:mtr-other"))  # ... and is added for that DID's credentials
    assert wallet.anchors_for(["urn:uuid:mtr-other"]).ids == ("urn:uuid:anchor-other",)


def test_an_expired_anchor_is_not_added(wallet):
    added_then = NOW - timedelta(days=400)
    wallet.add(anchor(valid_from=_at(added_then - timedelta(days=1)), valid_until=_at(NOW - timedelta(days=1)),
                      id="urn:uuid:anchor-expired"), now=added_then)
    wallet.add(anchor(id="urn:uuid:anchor-current"))
    vp = wallet.present(["urn:uuid:mtr-1"], challenge="c", domain="cbp.gov")
    assert presented_ids(vp) == ["urn:uuid:mtr-1", "urn:uuid:anchor-current"]
    skipped = wallet.last_anchors.skipped
    assert [(s.held.id, s.why) for s in skipped] == [
        ("urn:uuid:anchor-expired", f"expired on {_at(NOW - timedelta(days=1))}")]
    assert CUSTOMS.verify_presentation(vp, challenge="c", domain="cbp.gov").verified


def test_anchors_are_judged_at_the_moment_given(wallet):
    wallet.add(anchor())
    assert wallet.anchors_for(["urn:uuid:mtr-1"], now=NOW).ids == ("urn:uuid:anchor-mill",)
    later = wallet.anchors_for(["urn:uuid:mtr-1"], now=NOW + timedelta(days=366))
    assert later.ids == () and later.skipped[0].why == f"expired on {IN_A_YEAR}"
    earlier = wallet.anchors_for(["urn:uuid:mtr-1"], now=NOW - timedelta(days=31))
    assert earlier.ids == () and earlier.skipped[0].why == f"not valid until {A_MONTH_AGO}"
    with pytest.raises(ValueError, match="timezone-aware"):
        wallet.anchors_for(["urn:uuid:mtr-1"], now=datetime(2026, 1, 1))


def test_an_anchor_last_checked_as_invalid_is_not_added_until_it_checks_valid(tmp_path, wallet):
    wallet.add(anchor())
    strict = Wallet.open(tmp_path / "wallet", PASS, verifier=Verifier.offline(policy=TrustPolicy({MILL.did: ["MillTestReportCredential"]})))
    strict.check()  # under a policy that does not trust the registrar: INVALID (issuer_trust)
    assert strict.get("urn:uuid:anchor-mill").status == "INVALID (issuer_trust)"
    selection = strict.anchors_for(["urn:uuid:mtr-1"])
    assert selection.ids == () and selection.skipped[0].why.startswith("INVALID (issuer_trust) when last checked")
    assert presented_ids(strict.present(["urn:uuid:mtr-1"], challenge="c", domain="cbp.gov")) == ["urn:uuid:mtr-1"]
    again = Wallet.open(tmp_path / "wallet", PASS, verifier=HOLDER_CHECKS)
    again.check()  # the wallet's own stance again
    assert again.anchors_for(["urn:uuid:mtr-1"]).ids == ("urn:uuid:anchor-mill",)


def test_the_chain_is_followed_to_the_accreditor_of_the_registrar(wallet):
    wallet.add(anchor())
    wallet.add(accreditation())
    wallet.add(accreditation(OTHER_MILL, id="urn:uuid:acc-other"))  # accredits someone not in the chain
    vp = wallet.present(["urn:uuid:mtr-1"], challenge="c", domain="cbp.gov")
    assert presented_ids(vp) == ["urn:uuid:mtr-1", "urn:uuid:anchor-mill", "urn:uuid:acc-registrar"]
    added = wallet.last_anchors.added
    assert [(a.held.id, a.for_id, a.depth) for a in added] == [
        ("urn:uuid:anchor-mill", "urn:uuid:mtr-1", 1), ("urn:uuid:acc-registrar", "urn:uuid:anchor-mill", 2)]
    result = CUSTOMS.verify_presentation(vp, challenge="c", domain="cbp.gov")
    assert result.verified and len(result.credentials) == 3, result.summary()


def test_without_the_anchor_the_accreditation_of_its_issuer_is_not_added(wallet):
    wallet.add(accreditation())  # the registrar is accredited, but nothing ties the mill to the registrar
    assert wallet.anchors_for(["urn:uuid:mtr-1"]).added == ()


def test_a_licence_chain_adds_the_parent(wallet):
    wallet.add(licence(GS1_MX, GS1_GLOBAL, id="urn:uuid:lic-mx", prefix="0614", type="GS1PrefixLicenseCredential"))
    wallet.add(licence(MILL, GS1_MX, id="urn:uuid:lic-mill", prefix="0614141", parent="urn:uuid:lic-mx"))
    wallet.add(licence(OTHER_MILL, GS1_MX, id="urn:uuid:lic-other", prefix="0614142", parent="urn:uuid:lic-mx"))
    vp = wallet.present(["urn:uuid:mtr-1"], challenge="c", domain="cbp.gov")
    assert presented_ids(vp) == ["urn:uuid:mtr-1", "urn:uuid:lic-mill", "urn:uuid:lic-mx"]
    assert [a.held.kind for a in wallet.last_anchors.added] == ["licence", "licence"]
    assert CUSTOMS.verify_presentation(vp, challenge="c", domain="cbp.gov").verified


def test_a_licence_parent_is_found_by_its_id(wallet):
    """The parent is followed by ``extendsCredential``, whatever its subject (whether the chain
    holds is the verifier's call): here the licensee's DID in the parent is an older one."""
    old_did = KeyPair.generate("Ed25519").did
    wallet.add(licence(old_did, GS1_GLOBAL, id="urn:uuid:lic-parent", prefix="0614", type="GS1PrefixLicenseCredential"))
    wallet.add(licence(old_did, GS1_GLOBAL, id="urn:uuid:lic-unrelated", prefix="0615", type="GS1PrefixLicenseCredential"))
    wallet.add(licence(MILL, GS1_MX, id="urn:uuid:lic-mill", prefix="0614141", parent="urn:uuid:lic-parent"))
    selection = wallet.anchors_for(["urn:uuid:mtr-1"])
    assert [(a.held.id, a.for_id, a.depth) for a in selection.added] == [
        ("urn:uuid:lic-mill", "urn:uuid:mtr-1", 1), ("urn:uuid:lic-parent", "urn:uuid:lic-mill", 2)]
    assert wallet.anchors_for(["urn:uuid:lic-mill"]).ids == ("urn:uuid:lic-parent",)  # a licence presented itself


def test_duplicates_and_cycles_are_added_once(wallet):
    wallet.add(mill_report(id="urn:uuid:mtr-2"))
    wallet.add(anchor())
    wallet.add(anchor(REGISTRAR, MILL, id="urn:uuid:anchor-back"))  # the mill vouches for the registrar: a cycle
    vp = wallet.present(["urn:uuid:mtr-1", "urn:uuid:mtr-2"], challenge="c", domain="cbp.gov")
    assert presented_ids(vp) == ["urn:uuid:mtr-1", "urn:uuid:mtr-2", "urn:uuid:anchor-mill", "urn:uuid:anchor-back"]
    chosen = wallet.present(["urn:uuid:mtr-1", "urn:uuid:anchor-mill"], challenge="c", domain="cbp.gov")
    assert presented_ids(chosen) == ["urn:uuid:mtr-1", "urn:uuid:anchor-mill", "urn:uuid:anchor-back"]


def _chain(wallet: Wallet, links: int) -> list[str]:
    """Anchors mill <- k1 <- k2 ... <- k(links): each party anchored by the next one."""
    keys = [MILL] + [KeyPair.generate("Ed25519") for _ in range(links)]
    ids = []
    for n in range(links):
        ids.append(f"urn:uuid:link-{n + 1}")
        wallet.add(anchor(keys[n], keys[n + 1], id=ids[-1]))
    return ids


def test_the_chain_depth_is_bounded(wallet):
    ids = _chain(wallet, MAX_ANCHOR_DEPTH + 2)
    vp = wallet.present(["urn:uuid:mtr-1"], challenge="c", domain="cbp.gov")
    assert presented_ids(vp) == ["urn:uuid:mtr-1", *ids[:MAX_ANCHOR_DEPTH]]
    assert [a.depth for a in wallet.last_anchors.added] == [1, 2, 3, 4]
    assert [(s.held.id, s.why) for s in wallet.last_anchors.skipped] == [(ids[4], "beyond the chain depth of 4")]
    assert wallet.anchors_for(["urn:uuid:mtr-1"], max_depth=2).ids == tuple(ids[:2])


def test_the_number_of_anchors_is_bounded(wallet):
    registrars = [KeyPair.generate("Ed25519") for _ in range(MAX_ANCHORS + 1)]
    for n, registrar in enumerate(registrars):
        wallet.add(anchor(MILL, registrar, id=f"urn:uuid:anchor-{n:02d}"))
    vp = wallet.present(["urn:uuid:mtr-1"], challenge="c", domain="cbp.gov")
    assert presented_ids(vp)[1:] == [f"urn:uuid:anchor-{n:02d}" for n in range(MAX_ANCHORS)]
    assert [(s.held.id, s.why) for s in wallet.last_anchors.skipped] == [
        (f"urn:uuid:anchor-{MAX_ANCHORS:02d}", "over the bound of 16 anchors in one presentation")]
    assert CUSTOMS.verify_presentation(vp, challenge="c", domain="cbp.gov").verified is False  # 16 registrars it does not trust
    assert Verifier.offline(policy=TrustPolicy.unsafe_any_issuer()).verify_presentation(
        vp, challenge="c", domain="cbp.gov").verified
    with pytest.raises(ValueError, match="at least 1"):
        wallet.anchors_for(["urn:uuid:mtr-1"], max_anchors=0)


def test_a_vc_jwt_anchor_goes_in_its_envelope_and_a_vc_jwt_1_1_one_is_left_out(wallet):
    from tradevc.vc.securing.jose import sign_credential_jwt
    from tradevc.vc.securing.vcjwt import sign_credential_vcjwt

    unsigned = {k: v for k, v in anchor().items() if k != "proof"}
    wallet.add(sign_credential_jwt(unsigned, REGISTRAR))
    legacy = {**unsigned, "id": "urn:uuid:anchor-legacy"}
    wallet.add(sign_credential_vcjwt(legacy, REGISTRAR))
    assert {h.id for h in wallet.anchors()} == {"urn:uuid:anchor-mill", "urn:uuid:anchor-legacy"}
    vp = wallet.present(["urn:uuid:mtr-1"], challenge="c", domain="cbp.gov")
    assert vp["verifiableCredential"][1]["type"] == "EnvelopedVerifiableCredential"
    assert [(s.held.id, s.why) for s in wallet.last_anchors.skipped] == [
        ("urn:uuid:anchor-legacy", "a VC-JWT 1.1 token cannot go into a VC 2.0 presentation")]
    result = CUSTOMS.verify_presentation(vp, challenge="c", domain="cbp.gov")
    assert result.verified and len(result.credentials) == 2, result.summary()


def test_anchors_survive_a_backup(tmp_path, wallet):
    wallet.add(anchor())
    wallet.export(tmp_path / "backup.vcw")
    restored = Wallet.restore(tmp_path / "restored", tmp_path / "backup.vcw", PASS, verifier=HOLDER_CHECKS)
    assert [h.id for h in restored.anchors()] == ["urn:uuid:anchor-mill"]
    assert restored.anchors_for(["urn:uuid:mtr-1"]).ids == ("urn:uuid:anchor-mill",)


# -- vc-wallet -----------------------------------------------------------------------------------------


class Cli:
    """``vc-wallet`` on a wallet made with ``Wallet.create`` (a fast scrypt), stdout and stderr apart."""

    def __init__(self, tmp_path) -> None:
        self.tmp = tmp_path
        self.env = {"TRADEVC_WALLET_HOME": str(tmp_path / "wallet"), "TRADEVC_WALLET_PASSPHRASE": PASS,
                    "TRADEVC_WALLET_PASSPHRASE_FILE": None}

    def __call__(self, *args: str, expect: int = 0):
        from click.testing import CliRunner

        from tradevc.wallet.cli import cli

        result = CliRunner().invoke(cli, list(args), env=self.env)
        assert result.exit_code == expect, (result.output, result.exception)
        assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
        return result

    def file(self, name: str, document: Any) -> str:
        import json

        path = self.tmp / name
        path.write_text(json.dumps(document) if not isinstance(document, str) else document)
        return str(path)


@pytest.fixture
def run(tmp_path, wallet) -> Cli:
    return Cli(tmp_path)


def test_cli_add_and_list_show_anchors_apart(run):
    import json

    assert run("list", "--anchors").stdout == "the wallet holds no anchors (add some with 'vc-wallet add FILE')\n"
    added = run("add", "--offline", run.file("anchor.json", anchor()))
    assert added.stdout == f"added urn:uuid:anchor-mill  anchor for {MILL.did} (Aceros del Norte, MID {MID}) by " \
                           f"{REGISTRAR.did} [types MillTestReportCredential], valid until {IN_A_YEAR}\n"
    table = run("list").stdout
    credentials, anchors = table.split("\n\n")
    assert credentials.splitlines()[0].split()[:3] == ["ID", "TYPE", "ISSUER"]
    assert "urn:uuid:mtr-1  MillTestReportCredential" in credentials and "anchor-mill" not in credentials
    lines = anchors.splitlines()
    assert lines[0].startswith("anchors (vouches for the issuers of your credentials")
    assert lines[1].startswith(f"urn:uuid:anchor-mill  anchor for {MILL.did} (Aceros del Norte, MID {MID}) by {REGISTRAR.did}")
    assert f"valid until {IN_A_YEAR}; valid (" in lines[1] and len(lines) == 2
    only = run("list", "--anchors").stdout
    assert only.splitlines()[1:] == lines[1:] and "mtr-1" not in only
    listed = json.loads(run("list", "--json").stdout)
    assert [(c["id"], c["kind"]) for c in listed] == [("urn:uuid:mtr-1", "credential"), ("urn:uuid:anchor-mill", "anchor")]
    assert listed[1]["vouch"]["subject"] == MILL.did and listed[1]["vouch"]["identifiers"][0]["value"] == MID
    assert [c["id"] for c in json.loads(run("list", "--anchors", "--json").stdout)] == ["urn:uuid:anchor-mill"]


def test_cli_refuses_a_tampered_anchor(run):
    forged = copy.deepcopy(anchor())
    forged["credentialSubject"]["identifier"][0]["value"] = "MXOTHER9999MON"
    refused = run("add", "--offline", run.file("forged.json", forged), expect=1)
    assert "did not verify: proof" in refused.stderr and "nothing was stored" in refused.stderr
    assert "no anchors" in run("list", "--anchors").stdout


def test_cli_warns_of_a_vouch_type_that_cannot_serve_as_an_anchor(run):
    unreadable = anchor(id="urn:uuid:bad-anchor", identifier=[{"type": "PropertyValue", "propertyID": "MID"}])
    added = run("add", "--offline", run.file("bad.json", unreadable))
    assert added.stdout.startswith("added urn:uuid:bad-anchor  IdentityAnchorCredential from ")
    assert "warning: urn:uuid:bad-anchor (IdentityAnchorCredential) cannot serve as an anchor: " \
           "credentialSubject.identifier[0]" in added.stderr
    assert "no anchors" in run("list", "--anchors").stdout


def test_cli_present_adds_anchors_names_them_on_stderr_and_verifies(run):
    import json

    expired_until = _at(NOW - timedelta(days=1))
    Wallet.open(run.tmp / "wallet", PASS, verifier=HOLDER_CHECKS).add(
        anchor(valid_from=_at(NOW - timedelta(days=401)), valid_until=expired_until, id="urn:uuid:anchor-expired"),
        now=NOW - timedelta(days=400))
    run("add", "--offline", run.file("anchor.json", anchor()), run.file("acc.json", accreditation()),
        run.file("other.json", anchor(OTHER_MILL, id="urn:uuid:anchor-other")))
    result = run("present", "--credential", "urn:uuid:mtr-1", "--challenge", "7d1f", "--domain", "cbp.gov")
    vp = json.loads(result.stdout)  # stdout is the presentation only
    assert presented_ids(vp) == ["urn:uuid:mtr-1", "urn:uuid:anchor-mill", "urn:uuid:acc-registrar"]
    assert result.stderr.splitlines() == [
        f"anchor added: urn:uuid:anchor-mill  anchor for {MILL.did} (Aceros del Norte, MID {MID}) by {REGISTRAR.did} "
        f"[types MillTestReportCredential], valid until {IN_A_YEAR} (for urn:uuid:mtr-1)",
        f"anchor added: urn:uuid:acc-registrar  accreditation for {REGISTRAR.did} (Registro Mercantil) by "
        f"{ACCREDITOR.did} [types IdentityAnchorCredential], valid until {IN_A_YEAR} (for urn:uuid:anchor-mill)",
        f"anchor not added: urn:uuid:anchor-expired: expired on {expired_until}",
    ]
    verified = CUSTOMS.verify_presentation(vp, challenge="7d1f", domain="cbp.gov")
    assert verified.verified and len(verified.credentials) == 3, verified.summary()

    out = run.tmp / "vp.json"
    written = run("present", "--credential", "urn:uuid:mtr-1", "--challenge", "c", "--domain", "cbp.gov", "--out", str(out))
    assert written.stderr.endswith(f"OK: presentation of 1 credential(s) and 2 anchor(s) for cbp.gov -> {out}\n")
    assert presented_ids(json.loads(out.read_text())) == presented_ids(vp)


def test_cli_present_no_anchors(run):
    import json

    run("add", "--offline", run.file("anchor.json", anchor()))
    result = run("present", "--credential", "urn:uuid:mtr-1", "--challenge", "c", "--domain", "cbp.gov", "--no-anchors")
    assert presented_ids(json.loads(result.stdout)) == ["urn:uuid:mtr-1"] and result.stderr == ""
    out = run.tmp / "vp.json"
    written = run("present", "--credential", "urn:uuid:mtr-1", "--challenge", "c", "--domain", "cbp.gov",
                  "--no-anchors", "--out", str(out))
    assert written.stderr == f"OK: presentation of 1 credential(s) for cbp.gov -> {out}\n"
