"""What ``tradevc-serve`` keeps of its answers (the ids ``POST /presentations`` received and the
entry reports of ``GET /entries/{id}``) is kept in a database: the ``[ledger]`` one (SQLite or
PostgreSQL), else the ``[records] file``; so a report and a received id outlive a restart. Only
the holder who submitted a presentation id is refused (409) when it submits that id again; an
entry report is read by the client that asked for it only. Without a database they are kept
in memory, bounded, with a warning in the log."""

from __future__ import annotations

import copy
import json
import subprocess
import sys
import uuid
from pathlib import Path

import httpx
import pytest

from support.entries import DOMAIN, World, _iso
from support.postgres import fresh_database
from support.service import stop_server, wait_ready
from support.site_process import ENV, free_port
from tradevc.vc.keys import KeyPair
from tradevc.vc.securing.data_integrity import sign_presentation

BROKER_SECRET = "broker-secret-0123456789"
OTHER_SECRET = "other-broker-secret-0123456789"
CUSTOMS_SECRET = "customs-secret-0123456789"


class Server:
    """A tradevc-serve process of the configuration in ``root``, started and stopped at will."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.port = free_port()
        self.process: subprocess.Popen[str] | None = None
        self.client = httpx.Client(base_url=f"http://127.0.0.1:{self.port}", timeout=60)
        self.log = root / "server.log"

    def configure(self, steel: World, storage: str) -> None:
        (self.root / "border-policy.json").write_text(json.dumps(steel.policy), encoding="utf-8")
        for name, secret in (("broker", BROKER_SECRET), ("other", OTHER_SECRET), ("customs", CUSTOMS_SECRET)):
            (self.root / f"{name}.secret").write_text(secret)
        (self.root / "service.toml").write_text(f"""
[listen]
host = "127.0.0.1"
port = {self.port}

[verifier]
trust = "border-policy.json"
offline = true
challenges = "challenges.sqlite"
{storage}
[clients.broker]
secret_file = "broker.secret"
scopes = ["entries"]

[clients.other]
secret_file = "other.secret"
scopes = ["entries"]

[clients.customs]
secret_file = "customs.secret"
scopes = ["verify"]
""")

    def start(self) -> None:
        with open(self.log, "a") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "tradevc.service", "--config", str(self.root / "service.toml")],
                stdout=subprocess.DEVNULL, stderr=log, text=True, env=ENV)
        wait_ready(self.client, self.process, self.log)

    def stop(self) -> None:
        if self.process is not None:
            stop_server(self.process)
            self.process = None

    def token(self, client_id: str, secret: str) -> dict[str, str]:
        answer = self.client.post("/token", data={"grant_type": "client_credentials"}, auth=(client_id, secret))
        assert answer.status_code == 200, answer.text
        return {"Authorization": f"Bearer {answer.json()['access_token']}"}

    def challenge(self) -> str:
        made = self.client.post("/challenges", headers=self.token("customs", CUSTOMS_SECRET))
        assert made.status_code == 201, made.text
        return str(made.json()["challenge"])

    def submit(self, holder: KeyPair, presentation_id: str, challenge: str | None = None) -> httpx.Response:
        """A presentation (of no credential: the holder's proof is what is checked) with this id."""
        vp = sign_presentation([], holder, challenge=challenge or self.challenge(), domain="customs.example",
                               presentation_id=presentation_id)
        return self.client.post("/presentations", json={"verifiablePresentation": vp},
                                headers=self.token("customs", CUSTOMS_SECRET))

    def decide(self, steel: World) -> httpx.Response:
        world = copy.deepcopy(steel)
        world.challenge = self.challenge()
        body = {"entry": world.declaration(), "presentation": world.presentation(), "options": {
            "challenge": world.challenge, "domain": DOMAIN, "at": _iso(world.day).replace("T00:", "T12:")}}
        return self.client.post("/entries/verify", json=body, headers=self.token("broker", BROKER_SECRET))


@pytest.fixture(scope="module")
def steel() -> World:
    return World.steel()


@pytest.fixture
def server(tmp_path):
    made = Server(tmp_path)
    try:
        yield made
    finally:
        made.stop()
        made.client.close()


def _storage(kind: str, request: pytest.FixtureRequest) -> str:
    if kind == "sqlite ledger":
        return '[ledger]\nurl = "sqlite:///ledger.sqlite"\n'
    if kind == "records file":
        return '[records]\nfile = "records.sqlite"\n'
    url = fresh_database(request.getfixturevalue("postgres_cluster"), "records")
    return f'[ledger]\nurl = "{url}"\n'


@pytest.mark.parametrize("kind", ["sqlite ledger", "records file", "postgresql ledger"])
def test_reports_and_received_ids_outlive_a_restart(server, steel, kind, request):
    server.configure(steel, _storage(kind, request))
    server.start()
    decided = server.decide(steel)
    assert decided.status_code == 201, decided.text
    report = decided.json()
    broker = server.token("broker", BROKER_SECRET)
    assert server.client.get(f"/entries/{report['id']}", headers=broker).json() == report
    holder = KeyPair.generate("Ed25519")
    vp_id = f"urn:uuid:{uuid.uuid4()}"
    assert server.submit(holder, vp_id).status_code == 200
    assert server.submit(holder, vp_id).status_code == 409

    server.stop()
    server.start()
    broker = server.token("broker", BROKER_SECRET)
    kept = server.client.get(f"/entries/{report['id']}", headers=broker)
    assert kept.status_code == 200 and kept.json() == report
    page = server.client.get(f"/entries/{report['id']}", headers={**broker, "Accept": "text/html"})
    assert page.status_code == 200 and "Entry ABC-1234567-8: ACCEPT" in page.text
    again = server.submit(holder, vp_id)
    assert again.status_code == 409, again.text
    assert again.json()["type"] == "urn:tradevc:problem:conflict"
    if kind == "records file":
        assert (server.root / "records.sqlite").exists() and not (server.root / "ledger.sqlite").exists()
    if kind == "sqlite ledger":
        assert not (server.root / "records.sqlite").exists()
    assert "not kept" not in server.log.read_text()


def test_a_presentation_id_is_the_holder_s_own(server, steel):
    """Signer A's id X does not block signer B's X; A again is a 409; an unverified
    presentation records nothing."""
    server.configure(steel, '[records]\nfile = "records.sqlite"\n')
    server.start()
    a, b = KeyPair.generate("Ed25519"), KeyPair.generate("Ed25519")
    vp_id = f"urn:uuid:{uuid.uuid4()}"
    first = server.submit(a, vp_id)
    assert first.status_code == 200, first.text
    assert first.json()["signers"] == [a.did]
    other = server.submit(b, vp_id)
    assert other.status_code == 200, other.text
    again = server.submit(a, vp_id)
    assert again.status_code == 409 and vp_id in again.json()["detail"]
    assert server.submit(b, vp_id).status_code == 409
    # not verified (a challenge this service never gave): nothing is recorded, so C may submit it after
    c = KeyPair.generate("Ed25519")
    unverified = server.submit(c, vp_id, challenge="made-up-challenge")
    assert unverified.status_code == 422, unverified.text
    assert server.submit(c, vp_id).status_code == 200


def test_a_forged_presentation_learns_nothing_of_the_ids_received(server, steel):
    """Whether signer A submitted id X is not told to whoever sends a presentation claiming A's
    key without it: a 422 (not verified), as for an id never received. A's own presentation
    sent again (its challenge used up) is still a 409."""
    server.configure(steel, '[records]\nfile = "records.sqlite"\n')
    server.start()
    a, forger = KeyPair.generate("Ed25519"), KeyPair.generate("Ed25519")
    vp_id = f"urn:uuid:{uuid.uuid4()}"
    challenge = server.challenge()
    original = sign_presentation([], a, challenge=challenge, domain="customs.example", presentation_id=vp_id)
    customs = server.token("customs", CUSTOMS_SECRET)
    assert server.client.post("/presentations", json={"verifiablePresentation": original},
                              headers=customs).status_code == 200
    method = original["proof"]["verificationMethod"]
    for used in (challenge, server.challenge()):  # its used challenge, or a fresh one
        forged = sign_presentation([], forger, challenge=used, domain="customs.example", presentation_id=vp_id,
                                   holder=a.did, verification_method=method)
        answer = server.client.post("/presentations", json={"verifiablePresentation": forged}, headers=customs)
        assert answer.status_code == 422, answer.text
        never = sign_presentation([], forger, challenge=used, domain="customs.example",
                                  presentation_id=f"urn:uuid:{uuid.uuid4()}", holder=a.did, verification_method=method)
        unknown = server.client.post("/presentations", json={"verifiablePresentation": never}, headers=customs)
        assert unknown.status_code == 422 and set(unknown.json()["codes"]) == set(answer.json()["codes"])
    replayed = server.client.post("/presentations", json={"verifiablePresentation": original}, headers=customs)
    assert replayed.status_code == 409 and vp_id in replayed.json()["detail"], replayed.text
    # the holder itself, with a challenge the service does not know (as one is, a day after it
    # expired): its proof verifies, so it is told its id was received
    assert server.submit(a, vp_id, challenge="forgotten-long-ago").status_code == 409


def test_a_report_is_read_by_the_client_that_asked_for_it(server, steel):
    server.configure(steel, '[ledger]\nurl = "sqlite:///ledger.sqlite"\n')
    server.start()
    report = server.decide(steel).json()
    other = server.client.get(f"/entries/{report['id']}", headers=server.token("other", OTHER_SECRET))
    assert other.status_code == 404, other.text
    assert report["id"] not in other.text or "no entry report" in other.json()["detail"]
    mine = server.client.get(f"/entries/{report['id']}", headers=server.token("broker", BROKER_SECRET))
    assert mine.status_code == 200


def test_without_a_database_they_are_kept_in_memory_with_a_warning(server, steel):
    server.configure(steel, "")
    server.start()
    report = server.decide(steel).json()
    broker = server.token("broker", BROKER_SECRET)
    assert server.client.get(f"/entries/{report['id']}", headers=broker).status_code == 200
    holder = KeyPair.generate("Ed25519")
    vp_id = f"urn:uuid:{uuid.uuid4()}"
    assert server.submit(holder, vp_id).status_code == 200
    assert server.submit(holder, vp_id).status_code == 409
    log = server.log.read_text()
    assert "not kept" in log and "[records] file" in log
    server.stop()
    server.start()
    gone = server.client.get(f"/entries/{report['id']}", headers=server.token("broker", BROKER_SECRET))
    assert gone.status_code == 404 and "memory" in gone.json()["detail"]
