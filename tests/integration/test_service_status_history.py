"""The status history of an issuer served by ``tradevc-serve`` with two workers (a real process
on 127.0.0.1): every version of a list it signs is kept in the issuer's registry, once per
change (not once per worker that signs it again), and served beside the list
(``<list>.history/``) and as ``<list>?timestamp=`` (as ``vc-issuer serve-site`` answers it), so
a verifier asks the live service for a credential's status as of a past moment."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone
from urllib.parse import quote, urlsplit

import pytest
import requests

from support.service import ERP_SECRET, PASS, USMCA, mill_service
from support.site_process import free_port
from tradevc.issuer import Issuer
from tradevc.issuer.credential_types import build_credential, load_example
from tradevc.vc.model import parse_datetime
from tradevc.vc.status import BitstringStatusList
from tradevc.verifier import TrustPolicy, Verifier


def stamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def lists_published_20_minutes_ago(root):
    """The mill's lists made and their version 1 recorded 20 minutes before the server starts
    (a credential issued here makes them), so that a moment minutes ago is in that version."""
    with Issuer.open(root / "mill", PASS.encode()) as mill:
        mill.issue(load_example(USMCA), type_name=USMCA, valid_until=stamp(datetime.now(timezone.utc) + timedelta(days=30)))
        mill.site_documents(now=datetime.now(timezone.utc) - timedelta(minutes=20))


@pytest.fixture(scope="module")
def two(tmp_path_factory):
    root = tmp_path_factory.mktemp("history")
    service = mill_service(root, free_port(), listen="workers = 2", verifier="", prepare=lists_published_20_minutes_ago)
    service.root = root
    try:
        yield service
    finally:
        assert service.stop() == 0


def everywhere(service, path, count=12):
    """GET ``path`` ``count`` times, each on a connection of its own (so both workers answer)."""
    with service.fresh() as client, ThreadPoolExecutor(4) as pool:
        return list(pool.map(lambda _: client.get(path), range(count)))


def test_a_revocation_through_the_service_leaves_the_status_as_of_before_readable(two):
    erp = two.token("erp", ERP_SECRET)
    hour_ago = datetime.now(timezone.utc) - timedelta(hours=1)
    answer = two.post("/issuers/mill/credentials/issue", {"credential": build_credential(
        USMCA, load_example(USMCA), issuer={"id": two.did, "name": "Aceros del Norte"}, valid_from=stamp(hour_ago),
        valid_until=stamp(hour_ago + timedelta(days=30)))}, erp)
    assert answer.status_code == 201, answer.text
    credential = answer.json()["verifiableCredential"]
    entry = next(e for e in credential["credentialStatus"] if e["statusPurpose"] == "revocation")
    list_path = urlsplit(entry["statusListCredential"]).path
    everywhere(two, list_path)  # both workers sign the lists: still one version
    # the moment asked about: as early as the proof's creation allows (the verifier's clock skew,
    # 5 minutes), so that the revocation below comes more than 5 minutes after it (a current
    # list in effect less than that after a moment is taken as in effect then)
    before = parse_datetime(credential["proof"]["created"]) - timedelta(minutes=5) + timedelta(seconds=1)
    time.sleep(2.1)
    change = two.post("/issuers/mill/credentials/status", {
        "credentialId": credential["id"], "credentialStatus": [{"status": "revoked"}]}, erp)
    assert change.status_code == 200, change.text
    answers = everywhere(two, list_path)  # both workers sign the lists again: one version more
    assert {a.status_code for a in answers} == {200} and len(set(two.pids(answers))) == 2
    index = int(entry["statusListIndex"])
    assert all(BitstringStatusList.decode(a.json()["credentialSubject"]["encodedList"]).get(index) == 1
               for a in answers)

    with Issuer.open(two.root / "mill", PASS.encode()) as mill:
        versions = mill.history()
    revocation = [v for v in versions if v.purpose == "revocation"]
    suspension = [v for v in versions if v.purpose == "suspension"]
    assert [v.version for v in revocation] == [1, 2], versions  # one per change, whichever worker signed
    assert [v.version for v in suspension] == [1], versions  # its bits never changed
    assert revocation[0].sealed is not None and revocation[1].sealed is None

    # ?timestamp=, from either worker: the version in effect then
    then = everywhere(two, f"{list_path}?timestamp={quote(stamp(before))}")
    assert {a.status_code for a in then} == {200} and len(set(two.pids(then))) == 2
    for answer in then:
        assert answer.headers["content-type"] == "application/vc"
        assert BitstringStatusList.decode(answer.json()["credentialSubject"]["encodedList"]).get(index) == 0
    now = everywhere(two, f"{list_path}?timestamp={quote(stamp(datetime.now(timezone.utc)))}", 2)
    assert all(BitstringStatusList.decode(a.json()["credentialSubject"]["encodedList"]).get(index) == 1 for a in now)
    assert everywhere(two, f"{list_path}?timestamp=2001-01-01T00:00:00Z", 2)[0].status_code == 404
    assert everywhere(two, f"{list_path}?timestamp=last%20week", 2)[0].status_code == 400
    assert everywhere(two, f"{list_path}?timestamp=2026-01-01", 2)[0].status_code == 400  # no time zone
    assert everywhere(two, f"{list_path}.history/index.json", 2)[0].status_code == 200

    session = requests.Session()
    session.verify = str(two.ca)
    session.trust_env = False
    verifier = Verifier(policy=TrustPolicy({two.did: [USMCA]}), session=session,
                        allow_hosts=[urlsplit(two.base).netloc])
    as_of_before = verifier.verify_credential(credential, now=before)
    check = as_of_before.check("revocation")
    assert as_of_before.verified and "historical list version 1" in check.message, as_of_before.summary()
    assert check.data["historical"] is True
    assert verifier.verify_credential(credential).check("revocation").code == "REVOKED"

