"""Status as of a past moment, over real HTTPS: an issuer (did:web:mill.example, read through a
mirror onto the local HTTPS server) publishes each version of its status lists with a history
(``<list>.history/``: the versions and an index), and the Verifier, asked for a past moment
(``now=``), reads the version then in effect: a revocation after the entry leaves the
credential valid as of the entry, a suspension shows only in its window, a moment before the
list existed is could-not-verify, a history tampered with is refused, an issuer without
history gets the current status said to be current, and a backup keeps the history."""

from __future__ import annotations

import json
import shutil
from datetime import datetime, timedelta, timezone

import pytest
from click.testing import CliRunner

from tradevc import sign_presentation
from tradevc.issuer import Issuer, sign_credential
from tradevc.issuer.backup import backup_home, restore_home
from tradevc.issuer.cli import cli as issuer_cli
from tradevc.issuer.credential_types import load_example
from tradevc.vc.keys import KeyPair
from tradevc.vc.status import BitstringStatusList
from tradevc.verifier import TrustPolicy, Verifier

PASS = b"issuer passphrase"
MILL = "mill.example"
T = datetime.now(timezone.utc).replace(microsecond=0)


def stamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def days_ago(n: float) -> datetime:
    return T - timedelta(days=n)


@pytest.fixture
def mill(tmp_path, https_server):
    issuer = Issuer.init(tmp_path / "mill", PASS, name="Aceros del Norte", did_web_domain=MILL,
                         status_base_url=f"https://{MILL}/status/")
    yield issuer
    issuer.close()


def certificate(issuer):
    """A certificate issued (its status entries from the registry) and signed 60 days ago, as
    one presented at an entry a month ago was: its proof is older than the moments asked about."""
    issued = issuer.issue(
        load_example("USMCACertificationOfOrigin"), type_name="USMCACertificationOfOrigin",
        valid_from=stamp(days_ago(90)), valid_until=stamp(T + timedelta(days=200)),
    )
    key, method = issuer.home.signing_key(PASS)
    return sign_credential({k: v for k, v in issued.items() if k != "proof"}, key, verification_method=method,
                           created=stamp(days_ago(60)))


def verify(https_server, issuer, document, moment=None):
    verifier = Verifier(policy=TrustPolicy({issuer.did: ["USMCACertificationOfOrigin"]}),
                        session=https_server.session(), mirror=https_server.mirror(MILL))
    return verifier.verify_credential(document, now=moment)


def history(https_server, purpose="revocation"):
    return https_server.site(MILL) / "status" / purpose / "1.history"


def revoked_after_the_entry(mill, https_server):
    """Published clear 40 days ago, revoked and published again 20 days ago."""
    signed = certificate(mill)
    mill.publish(https_server.site(MILL), now=days_ago(40))
    mill.revoke(signed["id"])
    mill.publish(https_server.site(MILL), now=days_ago(20))
    return signed


def test_revoked_after_the_entry_is_valid_as_of_the_entry_and_revoked_now(mill, https_server):
    signed = revoked_after_the_entry(mill, https_server)
    then = verify(https_server, mill, signed, days_ago(30))
    assert then.verified, then.summary()
    check = then.check("revocation")
    assert check.outcome.value == "passed"
    assert check.message.startswith(f"not revoked as of {stamp(days_ago(30))} (historical list version 1, in effect "
                                    f"{stamp(days_ago(40))} .. {stamp(days_ago(20))})"), check.message
    assert check.data["statusListVersion"] == 1 and check.data["historical"] is True

    later = verify(https_server, mill, signed, days_ago(10))  # after the revocation: the current list says so
    assert later.check("revocation").code == "REVOKED"
    assert "as of" in later.check("revocation").message and later.check("revocation").data["historical"] is True
    now = verify(https_server, mill, signed)
    assert now.check("revocation").code == "REVOKED" and "as of" not in now.check("revocation").message
    assert not now.verified and not now.could_not_verify


def test_a_presentation_is_checked_as_of_its_moment_too(mill, https_server):
    signed = revoked_after_the_entry(mill, https_server)
    holder = KeyPair.generate("Ed25519")
    presentation = sign_presentation([signed], holder, challenge="c-1", domain="customs.example",
                                     created=stamp(days_ago(30)))
    verifier = Verifier(policy=TrustPolicy({mill.did: ["USMCACertificationOfOrigin"]}),
                        session=https_server.session(), mirror=https_server.mirror(MILL))
    then = verifier.verify_presentation(presentation, challenge="c-1", domain="customs.example", now=days_ago(30))
    assert then.verified, then.summary()
    (report,) = then.credentials
    assert "historical list version 1" in report.check("revocation").message
    later = verifier.verify_presentation(presentation, challenge="c-1", domain="customs.example", now=days_ago(10))
    assert later.credentials[0].check("revocation").code == "REVOKED"


def test_suspended_then_reinstated_is_suspended_only_in_that_window(mill, https_server):
    signed = certificate(mill)
    mill.publish(https_server.site(MILL), now=days_ago(50))
    mill.suspend(signed["id"])
    mill.publish(https_server.site(MILL), now=days_ago(30))
    mill.reinstate(signed["id"])
    mill.publish(https_server.site(MILL), now=days_ago(10))
    assert [e.action for e in mill.registry.events(signed["id"])] == ["suspend", "reinstate"]
    assert verify(https_server, mill, signed, days_ago(40)).verified
    during = verify(https_server, mill, signed, days_ago(20)).check("suspension")
    assert during.code == "SUSPENDED" and "historical list version 2" in during.message
    assert verify(https_server, mill, signed, days_ago(5)).verified
    assert verify(https_server, mill, signed).verified


def test_a_moment_before_the_list_existed_is_could_not_verify(mill, https_server):
    signed = certificate(mill)
    mill.publish(https_server.site(MILL), now=days_ago(20))
    result = verify(https_server, mill, signed, days_ago(30))
    check = result.check("revocation")
    assert check.outcome.value == "error" and check.code == "STATUS_RETRIEVAL_ERROR", check.message
    assert "no version in effect" in check.message
    assert result.could_not_verify and not result.verified


def test_an_issuer_without_history_gives_the_current_status_said_to_be_current(mill, https_server):
    signed = revoked_after_the_entry(mill, https_server)
    shutil.rmtree(history(https_server))
    shutil.rmtree(history(https_server, "suspension"))
    result = verify(https_server, mill, signed, days_ago(30))
    check = result.check("revocation")
    assert check.code == "REVOKED" and "NOT as of" in check.message and check.data["historical"] is False
    assert any("publishes no status history" in w and "not as of" in w for w in result.warnings), result.warnings
    suspension = result.check("suspension")
    assert suspension.outcome.value == "passed" and suspension.data["historical"] is False


def test_a_historical_version_altered_is_refused(mill, https_server):
    signed = revoked_after_the_entry(mill, https_server)
    path = history(https_server) / "1"
    document = json.loads(path.read_text())
    status = BitstringStatusList(131_072)
    status.set(int(signed["credentialStatus"][0]["statusListIndex"]), 1)
    document["credentialSubject"]["encodedList"] = status.encode()  # revoked then, it would say
    path.write_text(json.dumps(document))
    check = verify(https_server, mill, signed, days_ago(30)).check("revocation")
    assert check.outcome.value == "error" and check.code == "STATUS_VERIFICATION_ERROR" and "does not verify" in check.message


def test_a_historical_version_signed_by_another_key_is_refused(mill, https_server):
    signed = revoked_after_the_entry(mill, https_server)
    path = history(https_server) / "1"
    document = json.loads(path.read_text())
    document.pop("proof")
    _, method = mill.home.signing_key(PASS)  # the issuer's key id, another key's signature
    path.write_text(json.dumps(sign_credential(document, KeyPair.generate("Ed25519"), verification_method=method)))
    check = verify(https_server, mill, signed, days_ago(30)).check("revocation")
    assert check.outcome.value == "error" and check.code == "STATUS_VERIFICATION_ERROR", check.message


def test_a_historical_version_without_id_is_refused_even_signed_by_the_issuer(mill, https_server):
    """Without its id, a version could be another list's (same issuer and purpose) put in its place."""
    signed = revoked_after_the_entry(mill, https_server)
    path = history(https_server) / "1"
    document = json.loads(path.read_text())
    document.pop("proof")
    document.pop("id")
    key, method = mill.home.signing_key(PASS)
    path.write_text(json.dumps(sign_credential(document, key, verification_method=method)))
    check = verify(https_server, mill, signed, days_ago(30)).check("revocation")
    assert check.outcome.value == "error" and check.code == "STATUS_VERIFICATION_ERROR" and "has no id" in check.message


def test_a_version_whose_period_does_not_cover_the_moment_is_refused(mill, https_server):
    signed = revoked_after_the_entry(mill, https_server)
    (history(https_server) / "1").write_bytes((history(https_server) / "2").read_bytes())  # genuine, but later
    check = verify(https_server, mill, signed, days_ago(30)).check("revocation")
    assert check.outcome.value == "error" and "refused" in check.message and "does not cover" in check.message \
        or "after" in check.message, check.message
    assert check.code == "STATUS_VERIFICATION_ERROR"


def test_an_index_pointing_elsewhere_is_refused(mill, https_server):
    signed = revoked_after_the_entry(mill, https_server)
    index_path = history(https_server) / "index.json"
    original = index_path.read_text()
    index = json.loads(original)
    # version 2 (revoked) claimed to cover the moment: its own signed period says otherwise
    index["versions"] = [dict(index["versions"][1], validFrom=stamp(days_ago(45)))]
    index_path.write_text(json.dumps(index))
    check = verify(https_server, mill, signed, days_ago(30)).check("revocation")
    assert check.outcome.value == "error" and check.code == "STATUS_VERIFICATION_ERROR", check.message

    # the suspension list's index put in the revocation list's place
    index_path.write_bytes((history(https_server, "suspension") / "index.json").read_bytes())
    check = verify(https_server, mill, signed, days_ago(30)).check("revocation")
    assert check.outcome.value == "error" and "is that of" in check.message, check.message

    # the suspension list's version 1 in the revocation list's history: another list's id and purpose
    index_path.write_text(original)
    (history(https_server) / "1").write_bytes((history(https_server, "suspension") / "1").read_bytes())
    check = verify(https_server, mill, signed, days_ago(30)).check("revocation")
    assert check.outcome.value == "error" and check.code == "STATUS_VERIFICATION_ERROR", check.message


def test_history_survives_backup_and_restore(tmp_path, mill, https_server):
    signed = revoked_after_the_entry(mill, https_server)
    before = [(v.purpose, v.version, v.valid_from, v.valid_until, v.sealed) for v in mill.history()]
    events = mill.registry.events()
    backup_home(mill.home.path, tmp_path / "mill.backup", PASS)
    restore_home(tmp_path / "mill.backup", tmp_path / "restored", PASS)
    site = https_server.site(MILL)
    shutil.rmtree(site)
    with Issuer.open(tmp_path / "restored", PASS) as restored:
        assert [(v.purpose, v.version, v.valid_from, v.valid_until, v.sealed) for v in restored.history()] == before
        assert restored.registry.events() == events
        restored.publish(https_server.site(MILL), now=days_ago(5))  # a new site folder gets the whole history
        assert len(json.loads((history(https_server) / "index.json").read_text())["versions"]) == 3
        then = verify(https_server, restored, signed, days_ago(30))
        assert then.verified and then.check("revocation").data["statusListVersion"] == 1, then.summary()


def test_publish_refuses_to_rewrite_history_and_status_counts_versions(tmp_path, mill, https_server):
    certificate(mill)
    mill.publish(https_server.site(MILL), now=days_ago(10))
    with pytest.raises(Exception) as refused:
        mill.publish(https_server.site(MILL), now=days_ago(20))
    assert type(refused.value).__name__ == "HistoryRefused" and "cannot be rewritten" in str(refused.value)
    env = {"TRADEVC_ISSUER_HOME": str(mill.home.path), "TRADEVC_ISSUER_PASSPHRASE": PASS.decode(),
           "TRADEVC_ISSUER_PASSPHRASE_FILE": None}
    result = CliRunner().invoke(issuer_cli, ["status", "--json"], env=env)
    assert result.exit_code in (0, 1), result.output
    assert [s["versions"] for s in json.loads(result.output)["lists"]] == [1, 1]


def test_site_documents_gives_the_site_in_memory_with_its_history(mill, https_server):
    """For a server holding the site in memory (the service): the same documents publish writes."""
    certificate(mill)
    mill.publish(https_server.site(MILL), now=days_ago(20))
    documents = mill.site_documents(now=days_ago(10))
    assert {"status/revocation/1", "status/revocation/1.history/1", "status/revocation/1.history/2",
            "status/revocation/1.history/index.json", ".well-known/did.json"} <= set(documents)
    assert documents["status/revocation/1.history/2"] == documents["status/revocation/1"]
    assert documents["status/revocation/1.history/1"]["validUntil"] == stamp(days_ago(10))
    assert [v.version for v in mill.history() if v.purpose == "revocation"] == [1, 2]


def test_site_documents_with_renew_after_make_one_version_per_change_across_processes(tmp_path, mill, https_server):
    """The service's way (``renew_after``), with two Issuers on one home as two workers: after
    a change the first records a version; the second signs the lists too and serves that same
    version (its period, its proof's time), recording none; the verifier reads both alike."""
    signed = certificate(mill)
    other = Issuer.open(tmp_path / "mill", PASS)
    try:
        day = timedelta(days=1)
        first = mill.site_documents(now=days_ago(40), renew_after=day)
        mill.revoke(signed["id"])
        revoked = mill.site_documents(now=days_ago(20), renew_after=day)
        again = other.site_documents(now=days_ago(20) + timedelta(minutes=3), renew_after=day)
        assert [v.version for v in mill.history() if v.purpose == "revocation"] == [1, 2]
        for documents in (revoked, again):
            current = documents["status/revocation/1"]
            assert current["validFrom"] == stamp(days_ago(20)) and current["proof"]["created"] == stamp(days_ago(20))
            assert documents["status/revocation/1.history/2"] == current
            assert documents["status/revocation/1.history/1"]["validUntil"] == stamp(days_ago(20))
        assert again["status/revocation/1"]["credentialSubject"] == revoked["status/revocation/1"]["credentialSubject"]
        assert first["status/revocation/1"]["validFrom"] == stamp(days_ago(40))
        # a day on, the same bits are renewed: a new version (the lists never run out)
        renewed = other.site_documents(now=days_ago(18), renew_after=day)
        assert renewed["status/revocation/1"]["validFrom"] == stamp(days_ago(18))
        assert [v.version for v in mill.history() if v.purpose == "revocation"] == [1, 2, 3]
        for name, document in renewed.items():
            target = https_server.site(MILL) / name
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(json.dumps(document))
        then = verify(https_server, mill, signed, days_ago(30))
        assert then.verified and "historical list version 1" in then.check("revocation").message, then.summary()
        assert "historical list version 2" in verify(https_server, mill, signed, days_ago(19)).check("revocation").message
        assert verify(https_server, mill, signed).check("revocation").code == "REVOKED"
    finally:
        other.close()


def test_a_history_index_that_is_not_json_is_refused_and_one_down_is_could_not_verify(mill, https_server):
    from support.https_server import body

    signed = revoked_after_the_entry(mill, https_server)
    (history(https_server) / "index.json").write_text("<html>not found</html>")
    check = verify(https_server, mill, signed, days_ago(30)).check("revocation")
    assert check.outcome.value == "error" and check.code == "STATUS_VERIFICATION_ERROR" and "not JSON" in check.message

    https_server.special[f"/{MILL}/status/revocation/1.history/index.json"] = body(b"busy", status=503)
    result = verify(https_server, mill, signed, days_ago(30))
    check = result.check("revocation")
    assert check.code == "STATUS_RETRIEVAL_ERROR" and result.could_not_verify, check.message


def test_a_list_from_the_future_stays_refused_now(mill, https_server):
    """A list valid only from tomorrow (a clock that is off) is no reason to read the history now."""
    signed = certificate(mill)
    mill.publish(https_server.site(MILL), now=T + timedelta(days=1))
    check = verify(https_server, mill, signed).check("revocation")
    assert check.code == "STATUS_VERIFICATION_ERROR" and "does not verify" in check.message, check.message


def test_an_entry_is_decided_with_the_status_on_its_date_of_import(https_server):
    """verify_entry(now=the entry's date): a certification revoked a month after the entry was valid
    on the day (the list version then in effect says so), and is revoked as of later."""
    from datetime import date

    from support.entries import CHALLENGE, DOMAIN, PRODUCER, World, certification
    from tradevc.verifier.entry import Decision, RuleSet, verify_entry
    from tradevc.verifier.trust import TrustPathPolicy

    url = https_server.url("status/coo")
    revoked_at = "2026-04-10T00:00:00Z"

    def version(bits, start, end):
        document = {
            "@context": ["https://www.w3.org/ns/credentials/v2"], "id": url,
            "type": ["VerifiableCredential", "BitstringStatusListCredential"], "issuer": PRODUCER.did,
            "validFrom": start, "validUntil": end,
            "credentialSubject": {"id": f"{url}#list", "type": "BitstringStatusList", "statusPurpose": "revocation",
                                  "encodedList": bits.encode()},
        }
        return sign_credential(document, PRODUCER, created=revoked_at)  # v1 sealed, v2 published, on that day

    clear, revoked = BitstringStatusList(131_072), BitstringStatusList(131_072)
    revoked.set(7, 1)
    first, second = version(clear, "2026-02-01T00:00:00Z", revoked_at), version(revoked, revoked_at, "2036-01-01T00:00:00Z")
    root = https_server.root / "status"
    (root / "coo.history").mkdir(parents=True)
    (root / "coo").write_text(json.dumps(second))
    (root / "coo.history" / "1").write_text(json.dumps(first))
    (root / "coo.history" / "2").write_text(json.dumps(second))
    (root / "coo.history" / "index.json").write_text(json.dumps({
        "type": "StatusListHistory", "statusListCredential": url, "versions": [
            {"version": 1, "validFrom": "2026-02-01T00:00:00Z", "validUntil": revoked_at},
            {"version": 2, "validFrom": revoked_at, "validUntil": "2036-01-01T00:00:00Z"}]}))

    world = World.steel()
    entry = {"id": f"{url}#7", "type": "BitstringStatusListEntry", "statusPurpose": "revocation",
             "statusListIndex": "7", "statusListCredential": url}
    world.replace("urn:uuid:coo-1", certification(day=world.day, after=lambda c: c.update(credentialStatus=entry)))
    policy = TrustPathPolicy.from_dict(world.policy, source="border-policy.json")
    verifier = Verifier(policy=policy, session=https_server.session(), allow_hosts=https_server.allow_hosts)
    rules = RuleSet.from_policy(world.policy, source="border-policy.json")

    def decide(moment):
        report = verify_entry(world.declaration(), world.presentation(), verifier=verifier, challenge=CHALLENGE,
                              domain=DOMAIN, rules=rules, now=moment)
        (coo,) = [d for d in report.documents if d.id == "urn:uuid:coo-1"]
        return report, coo.report.check("revocation")

    on_the_day = datetime(2026, 3, 10, 12, tzinfo=timezone.utc)
    assert world.day == date(2026, 3, 10)
    report, check = decide(on_the_day)
    assert check.outcome.value == "passed" and "historical list version 1" in check.message, check.message
    assert report.decision is Decision.ACCEPT, report.to_json()
    report, check = decide(datetime(2026, 4, 20, 12, tzinfo=timezone.utc))
    assert check.code == "REVOKED" and report.decision is not Decision.ACCEPT
