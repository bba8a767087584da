"""``wallet.Wallet``: create and open, add (verified first), list, get, remove, check,
present, export, restore and import; the file is never written over when it does not open."""

from __future__ import annotations

import copy
from datetime import datetime, timedelta, timezone

import pytest

from conftest import load_vector
from tradevc.issuer import sign_credential
from tradevc.vc.keys import KeyPair
from tradevc.verifier import TrustPolicy, Verifier
from tradevc.wallet import (
    CredentialRefused,
    KdfParams,
    Wallet,
    WalletCorrupted,
    WalletError,
    WalletNotFound,
    WrongPassphrase,
)

FAST = KdfParams(n=2**14)
PASS = "importer passphrase"
MILL = KeyPair.generate("Ed25519")
CERTIFIER = KeyPair.generate("P-256")
OFFLINE = Verifier.offline(policy=TrustPolicy({MILL.did: ["AlumniCredential"], CERTIFIER.did: ["AlumniCredential"]}))


def credential(issuer=MILL, *, suite="eddsa-rdfc-2022", id="urn:uuid:58172aac-d8ba-11ed-83dd-0b3aef56cc33", **extra):
    document = load_vector("di-eddsa/unsigned.json")
    document["issuer"] = issuer.did
    document["id"] = id
    document.update(extra)
    return sign_credential(document, issuer, cryptosuite=suite, created="2026-01-01T00:00:00Z")


@pytest.fixture
def wallet(tmp_path):
    return Wallet.create(tmp_path / "wallet", PASS, kdf=FAST, verifier=OFFLINE)


def test_create_then_open(tmp_path, wallet):
    assert wallet.holder_did.startswith("did:key:z6Mk")
    again = Wallet.open(tmp_path / "wallet", PASS)
    assert again.holder_did == wallet.holder_did and again.list() == []


def test_create_refuses_an_existing_wallet_and_leaves_it(tmp_path, wallet):
    before = (tmp_path / "wallet" / "wallet.vcw").read_bytes()
    with pytest.raises(WalletError, match="already exists"):
        Wallet.create(tmp_path / "wallet", PASS, kdf=FAST)
    assert (tmp_path / "wallet" / "wallet.vcw").read_bytes() == before


def test_open_errors(tmp_path, wallet):
    with pytest.raises(WalletNotFound, match="vc-wallet init"):
        Wallet.open(tmp_path / "nowhere", PASS)
    with pytest.raises(WrongPassphrase):
        Wallet.open(tmp_path / "wallet", "not the passphrase")


@pytest.mark.parametrize("key_type, did_method, prefix", [("P-256", "key", "did:key:zDn"), ("Ed25519", "jwk", "did:jwk:")])
def test_other_holder_keys_present_and_verify(tmp_path, key_type, did_method, prefix):
    w = Wallet.create(tmp_path / "w", PASS, kdf=FAST, key_type=key_type, did_method=did_method, verifier=OFFLINE)
    assert w.holder_did.startswith(prefix)
    w.add(credential())
    vp = w.present([credential()["id"]], challenge="c-1", domain="cbp.gov")
    assert OFFLINE.verify_presentation(vp, challenge="c-1", domain="cbp.gov").verified


def test_add_list_get_remove(wallet):
    held, new = wallet.add(credential())
    assert new and held.type == "AlumniCredential" and held.issuer == MILL.did and held.status == "valid"
    other, _ = wallet.add(credential(CERTIFIER, suite="ecdsa-jcs-2019", id="urn:uuid:other"))
    assert [h.id for h in wallet.list()] == [held.id, other.id]
    assert wallet.get(held.id).credential == credential()
    wallet.remove(held.id)
    assert [h.id for h in wallet.list()] == [other.id]
    with pytest.raises(WalletError, match="no credential 'urn:uuid:missing'"):
        wallet.get("urn:uuid:missing")
    with pytest.raises(WalletError, match="no credential"):
        wallet.remove("urn:uuid:missing")


def test_changes_are_on_disk(tmp_path, wallet):
    wallet.add(credential())
    assert [h.id for h in Wallet.open(tmp_path / "wallet", PASS).list()] == [credential()["id"]]


def test_adding_the_same_credential_twice_changes_nothing(wallet):
    wallet.add(credential())
    held, new = wallet.add(credential())
    assert not new and len(wallet.list()) == 1


def test_a_different_credential_under_a_held_id_is_refused(wallet):
    wallet.add(credential())
    with pytest.raises(CredentialRefused, match="different credential with the id"):
        wallet.add(credential(name="Another Alumni Credential"))
    assert wallet.list()[0].credential == credential()


def test_a_credential_without_an_id_gets_a_stable_one(wallet):
    document = load_vector("di-eddsa/unsigned.json")
    del document["id"]
    document["issuer"] = MILL.did
    signed = sign_credential(document, MILL, created="2026-01-01T00:00:00Z")
    held, _ = wallet.add(signed)
    assert held.id.startswith("urn:sha256:") and len(held.id) == len("urn:sha256:") + 64
    assert wallet.add(signed)[1] is False


@pytest.mark.parametrize(
    "spoil, check",
    [
        (lambda c: c["credentialSubject"].update(alumniOf="Forged University"), "proof"),
        (lambda c: c.update(validUntil="2024-01-01T00:00:00Z"), "proof"),  # changing the dates breaks the proof too
        (lambda c: c["proof"].update(proofPurpose="authentication"), "proof"),  # the purpose is signed
        (lambda c: c.update(issuer=CERTIFIER.did), "proof"),
    ],
)
def test_an_invalid_credential_is_refused_and_not_stored(wallet, spoil, check):
    bad = copy.deepcopy(credential())
    spoil(bad)
    with pytest.raises(CredentialRefused) as caught:
        wallet.add(bad)
    assert caught.value.result is not None and not caught.value.result.verified
    assert "did not verify" in caught.value.message
    assert check in [c.name for c in caught.value.result.failures], caught.value.result.summary()
    assert wallet.list() == []


def test_an_expired_credential_is_refused(wallet):
    expired = credential(validUntil="2024-01-01T00:00:00Z")
    with pytest.raises(CredentialRefused, match="validity_period"):
        wallet.add(expired)


def test_not_a_credential_is_refused(wallet):
    with pytest.raises(CredentialRefused, match="not a credential"):
        wallet.add(["a list"])
    with pytest.raises(CredentialRefused, match="structure"):
        wallet.add({"hello": "world"})


def test_a_credential_with_a_status_cannot_be_checked_offline_so_it_is_refused(wallet):
    with_status = credential(credentialStatus={
        "id": "https://status.example/1#5", "type": "BitstringStatusListEntry", "statusPurpose": "revocation",
        "statusListIndex": "5", "statusListCredential": "https://status.example/1",
    })
    with pytest.raises(CredentialRefused, match="could not be verified: status"):
        wallet.add(with_status)


def test_check_records_what_changed(tmp_path, wallet):
    wallet.add(credential(validUntil=(datetime.now(timezone.utc) + timedelta(days=10)).strftime("%Y-%m-%dT%H:%M:%SZ")))
    assert [(c.before, c.after, c.changed) for c in wallet.check()] == [("valid", "valid", False)]
    later = datetime.now(timezone.utc) + timedelta(days=11)
    changes = wallet.check(now=later)
    assert [(c.before, c.after, c.changed) for c in changes] == [("valid", "EXPIRED", True)]
    assert Wallet.open(tmp_path / "wallet", PASS).list()[0].status == "EXPIRED"  # kept, marked


def test_present_binds_challenge_and_domain(wallet):
    wallet.add(credential())
    wallet.add(credential(CERTIFIER, suite="ecdsa-rdfc-2019", id="urn:uuid:other"))
    vp = wallet.present([credential()["id"], "urn:uuid:other"], challenge="7d1f", domain="cbp.gov")
    assert vp["holder"] == wallet.holder_did and vp["proof"]["cryptosuite"] == "eddsa-jcs-2022"
    assert vp["proof"]["proofPurpose"] == "authentication"
    result = OFFLINE.verify_presentation(vp, challenge="7d1f", domain="cbp.gov")
    assert result.verified, result.summary()
    assert not OFFLINE.verify_presentation(vp, challenge="other", domain="cbp.gov").verified
    assert not OFFLINE.verify_presentation(vp, challenge="7d1f", domain="evil.example").verified


def test_present_with_rdfc_and_its_errors(wallet):
    wallet.add(credential())
    vp = wallet.present([credential()["id"]], challenge="c", domain="cbp.gov", cryptosuite="eddsa-rdfc-2022")
    assert OFFLINE.verify_presentation(vp, challenge="c", domain="cbp.gov").verified
    with pytest.raises(WalletError, match="signs with eddsa-jcs-2022 or eddsa-rdfc-2022, not ecdsa-jcs-2019"):
        wallet.present([credential()["id"]], challenge="c", domain="cbp.gov", cryptosuite="ecdsa-jcs-2019")
    with pytest.raises(WalletError, match="at least one"):
        wallet.present([], challenge="c", domain="cbp.gov")
    with pytest.raises(WalletError, match="no credential"):
        wallet.present(["urn:uuid:missing"], challenge="c", domain="cbp.gov")
    with pytest.raises(ValueError, match="challenge and domain"):
        wallet.present([credential()["id"]], challenge="", domain="cbp.gov")


def test_export_restore_and_import(tmp_path, wallet):
    wallet.add(credential())
    wallet.export(tmp_path / "backup.vcw")
    restored = Wallet.restore(tmp_path / "restored", tmp_path / "backup.vcw", PASS)
    assert restored.holder_did == wallet.holder_did
    assert [h.id for h in restored.list()] == [credential()["id"]]

    other = Wallet.create(tmp_path / "other", "other passphrase", kdf=FAST, verifier=OFFLINE)
    other.add(credential(CERTIFIER, suite="ecdsa-jcs-2019", id="urn:uuid:other"))
    report = other.import_backup(tmp_path / "backup.vcw", passphrase=PASS)
    assert report.added == (credential()["id"],) and report.already_held == ()
    assert {h.id for h in Wallet.open(tmp_path / "other", "other passphrase").list()} == {"urn:uuid:other", credential()["id"]}
    assert other.holder_did != wallet.holder_did  # the wallet keeps its own key
    again = other.import_backup(tmp_path / "backup.vcw", passphrase=PASS)
    assert again.added == () and again.already_held == (credential()["id"],)


def test_backup_errors(tmp_path, wallet):
    wallet.export(tmp_path / "backup.vcw", passphrase="backup passphrase")
    with pytest.raises(WrongPassphrase):
        wallet.import_backup(tmp_path / "backup.vcw")  # the wallet's passphrase is not the backup's
    with pytest.raises(WalletCorrupted, match="'wallet' file, not a 'backup'"):
        wallet.import_backup(tmp_path / "wallet" / "wallet.vcw")
    with pytest.raises(WalletError, match="no backup file"):
        wallet.import_backup(tmp_path / "missing.vcw")
    with pytest.raises(WalletError, match="cannot overwrite the wallet"):
        wallet.export(tmp_path / "wallet" / "wallet.vcw")
    with pytest.raises(WalletError, match="already exists"):
        Wallet.restore(tmp_path / "wallet", tmp_path / "backup.vcw", PASS, backup_passphrase="backup passphrase")


def test_a_damaged_file_is_never_written_over(tmp_path, wallet):
    wallet.add(credential())
    path = tmp_path / "wallet" / "wallet.vcw"
    damaged = path.read_bytes()[:-7]
    path.write_bytes(damaged)
    with pytest.raises(WalletCorrupted):
        wallet.add(credential(CERTIFIER, suite="ecdsa-jcs-2019", id="urn:uuid:other"))
    with pytest.raises(WalletCorrupted):
        wallet.remove(credential()["id"])
    with pytest.raises(WalletCorrupted):
        Wallet.open(tmp_path / "wallet", PASS)
    assert path.read_bytes() == damaged


def test_two_wallet_objects_do_not_lose_each_others_changes(tmp_path, wallet):
    twin = Wallet.open(tmp_path / "wallet", PASS, verifier=OFFLINE)
    wallet.add(credential())
    twin.add(credential(CERTIFIER, suite="ecdsa-jcs-2019", id="urn:uuid:other"))  # reads the file again under the lock
    assert {h.id for h in Wallet.open(tmp_path / "wallet", PASS).list()} == {credential()["id"], "urn:uuid:other"}


# -- JOSE-secured credentials ------------------------------------------------------------------------


def jose_credential(issuer=CERTIFIER, id="urn:uuid:jose-1"):
    from tradevc.vc.securing.jose import sign_credential_jwt

    document = load_vector("di-eddsa/unsigned.json")
    document["issuer"], document["id"] = issuer.did, id
    return sign_credential_jwt(document, issuer)


def test_a_vc_jwt_is_kept_as_given_and_presented_in_its_envelope(wallet):
    token = jose_credential()
    with pytest.raises(CredentialRefused, match="whitespace"):  # the library does not trim a token
        wallet.add("  " + token + "\n")
    held, new = wallet.add(token)
    assert new and held.id == "urn:uuid:jose-1" and held.issuer == CERTIFIER.did and held.type == "AlumniCredential"
    assert wallet.get("urn:uuid:jose-1").credential == token
    wallet.add(credential())
    vp = wallet.present(["urn:uuid:jose-1", credential()["id"]], challenge="c", domain="cbp.gov")
    assert vp["verifiableCredential"][0]["type"] == "EnvelopedVerifiableCredential"
    assert vp["verifiableCredential"][0]["id"] == "data:application/vc+jwt," + token
    result = OFFLINE.verify_presentation(vp, challenge="c", domain="cbp.gov")
    assert result.verified and [r.verified for r in result.credentials] == [True, True], result.summary()


def test_a_token_without_typ_is_held_and_presented_as_a_vc_jwt(wallet):
    """VC-JOSE-COSE: typ SHOULD be vc+jwt; a 2.0 credential signed without it is one all the same."""
    import json

    from tradevc.vc.multibase import base64url_encode

    document = load_vector("di-eddsa/unsigned.json")
    document["issuer"], document["id"] = CERTIFIER.did, "urn:uuid:no-typ"
    header = {"alg": "ES256", "kid": CERTIFIER.verification_method}
    signing_input = ".".join(base64url_encode(json.dumps(part).encode()) for part in (header, document))
    token = f"{signing_input}.{base64url_encode(CERTIFIER.sign(signing_input.encode()))}"
    held, _ = wallet.add(token)
    assert held.id == "urn:uuid:no-typ" and held.issuer == CERTIFIER.did
    vp = wallet.present(["urn:uuid:no-typ"], challenge="c", domain="cbp.gov")
    assert vp["verifiableCredential"][0]["id"] == "data:application/vc+jwt," + token
    result = OFFLINE.verify_presentation(vp, challenge="c", domain="cbp.gov")
    assert result.verified and result.credentials[0].verified, result.summary()
    assert "no typ header" in result.credentials[0].warnings[0]


def test_an_enveloped_credential_is_accepted(wallet):
    from tradevc.vc.securing.enveloped import envelope_credential

    envelope = envelope_credential(jose_credential())
    held, _ = wallet.add(envelope)
    assert held.id == "urn:uuid:jose-1" and wallet.get(held.id).credential == envelope
    assert wallet.check()[0].after == "valid"


def test_a_tampered_or_foreign_token_is_refused(wallet):
    token = jose_credential()
    header, payload, signature = token.split(".")
    forged = ".".join([header, payload, ("A" if signature[0] != "A" else "B") + signature[1:]])
    with pytest.raises(CredentialRefused, match="did not verify: proof"):
        wallet.add(forged)
    with pytest.raises(CredentialRefused, match="structure"):
        wallet.add("not.a.token")
    assert wallet.list() == []


def test_a_vc_jwt_1_1_token_is_held_but_cannot_go_into_a_vc_2_presentation(wallet):
    from tradevc.vc.securing.vcjwt import sign_credential_vcjwt

    token = sign_credential_vcjwt({**load_vector("di-eddsa/unsigned.json"), "issuer": MILL.did, "id": "urn:uuid:legacy"}, MILL)
    held, _ = wallet.add(token)
    assert held.id == "urn:uuid:legacy"
    with pytest.raises(WalletError, match="VC-JWT 1.1 token"):
        wallet.present(["urn:uuid:legacy"], challenge="c", domain="cbp.gov")
