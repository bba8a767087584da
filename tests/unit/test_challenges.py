"""Replay (issue 15): a verifier issues challenges, remembers them (SQLite by default, across
restarts and processes) and accepts each once."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
import threading
import time
from datetime import datetime, timedelta, timezone

import pytest
from click.testing import CliRunner

from conftest import ROOT, load_vector
from tradevc.issuer import sign_credential
from tradevc.vc.keys import KeyPair
from tradevc.verifier import TrustPolicy, Verifier
from tradevc.verifier.challenges import (
    ChallengeStoreError, MemoryChallengeStore, SqliteChallengeStore,
)
from tradevc.verifier.cli import cli
from tradevc.wallet import sign_presentation

NOW = datetime(2026, 6, 15, 12, 0, tzinfo=timezone.utc)
CREATED = "2026-06-15T11:59:00Z"
DOMAIN = "cbp.gov"
MILL = KeyPair.generate("Ed25519")
IMPORTER = KeyPair.generate("Ed25519")
POLICY = TrustPolicy({MILL.did: ["AlumniCredential"]})


class Clock:
    """A clock the test moves."""

    def __init__(self, now: datetime = NOW) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture(scope="module")
def credential() -> dict:
    unsigned = load_vector("di-eddsa/unsigned.json")
    unsigned["issuer"] = MILL.did
    return sign_credential(unsigned, MILL, cryptosuite="eddsa-jcs-2022", created="2026-01-01T00:00:00Z")


def present(credential: dict, challenge: str, domain: str = DOMAIN) -> dict:
    return sign_presentation([credential], IMPORTER, challenge=challenge, domain=domain, created=CREATED)


def verifier_with(store) -> Verifier:
    return Verifier.offline(policy=POLICY, clock=lambda: NOW, challenges=store)


def challenge_failure(result):
    assert not result.verified, result.summary()
    failed = [c for c in result.checks if c.name == "challenge" and c.outcome.value == "failed"]
    assert failed, result.summary()
    assert failed[-1].code == "INVALID_CHALLENGE_ERROR"
    return failed[-1]


@pytest.fixture(params=["sqlite", "memory"])
def store(request, tmp_path):
    clock = Clock()
    if request.param == "sqlite":
        made = SqliteChallengeStore(tmp_path / "challenges.sqlite", clock=clock)
    else:
        made = MemoryChallengeStore(clock=clock)
    yield made
    made.close()


# -- issuing -------------------------------------------------------------------------------------


def test_new_challenges_are_random_and_expire_after_the_ttl(store):
    verifier = verifier_with(store)
    first, second = verifier.new_challenge(), verifier.new_challenge(timedelta(seconds=30))
    assert first.token != second.token and len(first.token) >= 43  # 256 bits, URL-safe
    assert first.expires == NOW + timedelta(minutes=10) and second.expires == NOW + timedelta(seconds=30)
    assert store.refusal(first.token) is None


def test_a_verifier_without_a_store_cannot_issue_and_a_ttl_must_be_positive(store):
    with pytest.raises(ValueError, match="no challenge store"):
        Verifier.offline(policy=POLICY).new_challenge()
    with pytest.raises(ValueError, match="positive"):
        verifier_with(store).new_challenge(timedelta(0))
    with pytest.raises(TypeError, match="not a path"):
        Verifier.offline(policy=POLICY, challenges="challenges.sqlite")


# -- verifying against the store -----------------------------------------------------------------


def test_a_challenge_is_accepted_once(store, credential):
    verifier = verifier_with(store)
    challenge = verifier.new_challenge()
    vp = present(credential, challenge.token)
    first = verifier.verify_presentation(vp, challenge=challenge.token, domain=DOMAIN)
    assert first.verified, first.summary()
    assert first.checks[-1].name == "challenge" and "now used up" in first.checks[-1].message
    replay = verifier.verify_presentation(vp, challenge=challenge.token, domain=DOMAIN)
    failure = challenge_failure(replay)
    assert "already used" in failure.message and failure.data["reason"] == "used"
    # everything else about the replay still passes: only the store refuses it
    assert [c.name for c in replay.failures] == ["challenge"]


def test_an_unknown_challenge_is_refused(store, credential):
    verifier = verifier_with(store)
    verifier.new_challenge()
    vp = present(credential, "made-up-by-the-holder")
    failure = challenge_failure(verifier.verify_presentation(vp, challenge="made-up-by-the-holder", domain=DOMAIN))
    assert "not issued by this verifier" in failure.message and failure.data["reason"] == "unknown"


def test_an_expired_challenge_is_refused_and_not_used_up(store, credential):
    verifier = verifier_with(store)
    challenge = verifier.new_challenge(timedelta(minutes=5))
    vp = present(credential, challenge.token)
    store.clock.now = NOW + timedelta(minutes=5)
    failure = challenge_failure(verifier.verify_presentation(vp, challenge=challenge.token, domain=DOMAIN))
    assert "expired" in failure.message and failure.data["reason"] == "expired"
    store.clock.now = NOW + timedelta(minutes=4, seconds=59)  # a clock set back: it was never used
    assert verifier.verify_presentation(vp, challenge=challenge.token, domain=DOMAIN).verified


def test_a_failed_attempt_leaves_the_challenge_usable(store, credential):
    """Consumed only on success: junk sent with an intercepted challenge does not burn it."""
    verifier = verifier_with(store)
    challenge = verifier.new_challenge()
    junk = present(credential, challenge.token, domain="attacker.example")
    attempt = verifier.verify_presentation(junk, challenge=challenge.token, domain=DOMAIN)
    assert not attempt.verified and attempt.check("domain").outcome.value == "failed"
    assert "left unused" in [c for c in attempt.checks if c.name == "challenge"][-1].message
    assert store.refusal(challenge.token) is None
    honest = verifier.verify_presentation(present(credential, challenge.token), challenge=challenge.token,
                                          domain=DOMAIN)
    assert honest.verified, honest.summary()


def test_before_use_runs_just_before_the_challenge_is_used_up_and_can_stop_it(store, credential):
    """A server past its request's deadline refuses in ``before_use``: the challenge stays
    usable; called only for a presentation that verified, just before its challenge is used."""
    verifier = verifier_with(store)
    challenge = verifier.new_challenge()
    vp = present(credential, challenge.token)
    calls = []

    class TooLate(Exception):
        pass

    def refuse():
        calls.append(store.refusal(challenge.token))  # not used yet when it is called
        raise TooLate

    with pytest.raises(TooLate):
        verifier.verify_presentation(vp, challenge=challenge.token, domain=DOMAIN, before_use=refuse)
    assert calls == [None] and store.refusal(challenge.token) is None
    junk = present(credential, challenge.token, domain="attacker.example")
    verifier.verify_presentation(junk, challenge=challenge.token, domain=DOMAIN, before_use=refuse)  # not verified
    assert calls == [None]
    done = verifier.verify_presentation(vp, challenge=challenge.token, domain=DOMAIN, before_use=lambda: calls.append(1))
    assert done.verified and calls == [None, 1] and store.refusal(challenge.token).reason == "used"


def test_without_a_store_the_caller_s_challenge_is_all_there_is(credential):
    verifier = Verifier.offline(policy=POLICY, clock=lambda: NOW)
    vp = present(credential, "session-42")
    for _ in range(2):  # nothing remembered: as before this change
        result = verifier.verify_presentation(vp, challenge="session-42", domain=DOMAIN)
        assert result.verified and [c.message for c in result.checks if c.name == "challenge"] == [
            "matches the challenge issued"
        ]


def test_the_store_survives_a_restart(tmp_path, credential):
    path = tmp_path / "challenges.sqlite"
    before = SqliteChallengeStore(path)
    challenge = Verifier.offline(policy=POLICY, challenges=before).new_challenge()
    before.close()
    with pytest.raises(ValueError, match="closed"):
        before.refusal(challenge.token)
    vp = present(credential, challenge.token)
    after = verifier_with(SqliteChallengeStore(path))
    assert after.verify_presentation(vp, challenge=challenge.token, domain=DOMAIN).verified
    again = verifier_with(SqliteChallengeStore(path))
    assert "already used" in challenge_failure(
        again.verify_presentation(vp, challenge=challenge.token, domain=DOMAIN)
    ).message


def test_verify_document_checks_presentations_only(store, credential):
    verifier = verifier_with(store)
    challenge = verifier.new_challenge()
    assert verifier.verify_document(credential, challenge=challenge.token, domain=DOMAIN).verified
    assert store.refusal(challenge.token) is None  # a credential does not use it up
    vp = present(credential, challenge.token)
    assert verifier.verify_document(vp, challenge=challenge.token, domain=DOMAIN).verified
    challenge_failure(verifier.verify_document(vp, challenge=challenge.token, domain=DOMAIN))


@pytest.mark.parametrize("workers", [1, 2])
def test_a_batch_uses_a_challenge_for_one_presentation(store, credential, workers):
    verifier = verifier_with(store)
    challenge = verifier.new_challenge()
    vp = present(credential, challenge.token)
    results = verifier.verify_many([vp, credential, vp], workers=workers, challenge=challenge.token, domain=DOMAIN)
    assert [r.verified for r in results] == [True, True, False]
    assert challenge_failure(results[2]).data["reason"] == "used"
    # the use is recorded where the caller can see it (an in-memory store keeps the batch in this process)
    assert store.refusal(challenge.token).reason == "used"


def test_a_store_that_fails_makes_the_report_could_not_verify(tmp_path, credential):
    path = tmp_path / "challenges.sqlite"
    store = SqliteChallengeStore(path)
    verifier = verifier_with(store)
    challenge = verifier.new_challenge()
    path.write_bytes(b"this is not a database, whatever it was before" * 100)
    result = verifier.verify_presentation(present(credential, challenge.token), challenge=challenge.token,
                                          domain=DOMAIN)
    assert result.could_not_verify and result.check("challenge").outcome.value == "passed"
    assert [c.code for c in result.errors] == ["CHALLENGE_STORE_ERROR"]


def test_a_file_that_is_not_a_store_is_refused(tmp_path):
    junk = tmp_path / "junk"
    junk.write_text("not sqlite\n" * 100)
    with pytest.raises(ChallengeStoreError, match="not a challenge store"):
        SqliteChallengeStore(junk)
    with pytest.raises(ChallengeStoreError, match="cannot open"):
        SqliteChallengeStore(tmp_path / "no-such-folder" / "c.sqlite")


# -- consume once, under races -------------------------------------------------------------------


def test_threads_with_their_own_connections_race_and_one_wins(tmp_path):
    path = tmp_path / "challenges.sqlite"
    token = SqliteChallengeStore(path).issue().token
    stores = [SqliteChallengeStore(path) for _ in range(8)]
    memory = MemoryChallengeStore()
    memory_token = memory.issue().token
    start = threading.Barrier(8)
    outcomes: list = []

    def attempt(store):
        start.wait()
        outcomes.append((store.consume(token), memory.consume(memory_token)))

    threads = [threading.Thread(target=attempt, args=(s,)) for s in stores]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sum(sqlite is None for sqlite, _ in outcomes) == 1
    assert sum(mem is None for _, mem in outcomes) == 1
    assert {sqlite.reason for sqlite, _ in outcomes if sqlite is not None} == {"used"}


RACER = """
import json, sys
from pathlib import Path
from tradevc.verifier.challenges import SqliteChallengeStore
store = SqliteChallengeStore(sys.argv[1], timeout=60)
tokens = json.loads(Path(sys.argv[2]).read_text())
Path(sys.argv[3]).touch()  # ready: the first consume now waits for the test's write lock
print(json.dumps([store.consume(t) is None for t in tokens]))
"""


def test_two_processes_race_for_the_same_challenges_and_each_is_won_once(tmp_path):
    path = tmp_path / "challenges.sqlite"
    store = SqliteChallengeStore(path)
    tokens = [store.issue().token for _ in range(60)]
    (tmp_path / "tokens.json").write_text(json.dumps(tokens))
    lock = sqlite3.connect(path, isolation_level=None)
    lock.execute("BEGIN IMMEDIATE")  # both racers block on their first consume until this ends
    ready = [tmp_path / f"ready-{n}" for n in range(2)]
    racers = [
        subprocess.Popen([sys.executable, "-c", RACER, str(path), str(tmp_path / "tokens.json"), str(flag)],
                         stdout=subprocess.PIPE, text=True, cwd=ROOT)
        for flag in ready
    ]
    try:
        deadline = time.monotonic() + 120
        while not all(flag.exists() for flag in ready) and time.monotonic() < deadline:
            time.sleep(0.01)
        time.sleep(0.2)  # both are now waiting to consume the first challenge
    finally:
        lock.execute("ROLLBACK")
        lock.close()
    won = [json.loads(r.communicate(timeout=120)[0]) for r in racers]
    assert all(r.returncode == 0 for r in racers)
    assert [a + b for a, b in zip(*won)] == [1] * len(tokens)  # exactly one process won each
    assert all(store.refusal(t).reason == "used" for t in tokens)


# -- the command line ----------------------------------------------------------------------------


@pytest.fixture
def files(tmp_path, credential):
    trust = tmp_path / "trust.json"
    trust.write_text(json.dumps({"trustedIssuers": [{"did": MILL.did, "name": "Mill", "types": ["AlumniCredential"]}]}))
    return tmp_path, trust


def test_cli_issues_a_challenge_and_accepts_a_presentation_once(files, credential):
    tmp_path, trust = files
    store = tmp_path / "store.sqlite"
    runner = CliRunner()
    issued = runner.invoke(cli, ["challenge", "new", "--challenges", str(store), "--ttl", "120", "--json"])
    assert issued.exit_code == 0, issued.output
    token = json.loads(issued.stdout)["challenge"]
    vp = tmp_path / "vp.json"
    vp.write_text(json.dumps(sign_presentation([credential], IMPORTER, challenge=token, domain=DOMAIN)))
    args = ["presentation", str(vp), "--challenge", token, "--domain", DOMAIN, "--trust", str(trust), "--offline",
            "--challenges", str(store), "--json"]
    first = runner.invoke(cli, args)
    assert first.exit_code == 0, first.output
    assert json.loads(first.stdout)["challenge"] == token
    second = runner.invoke(cli, args)
    assert second.exit_code == 1, second.output
    assert "INVALID_CHALLENGE_ERROR" in second.stdout and "already used" in second.stdout
    unknown = runner.invoke(cli, ["presentation", str(vp), "--challenge", token, "--domain", DOMAIN,
                                  "--trust", str(trust), "--offline"],
                            env={"TRADEVC_CHALLENGES": str(tmp_path / "other.sqlite")})
    assert unknown.exit_code == 2 and "Traceback" not in unknown.output  # the store named does not exist


def test_cli_challenge_new_uses_the_environment_then_the_default(files, tmp_path):
    runner = CliRunner()
    from_env = runner.invoke(cli, ["challenge", "new"], env={"TRADEVC_CHALLENGES": str(tmp_path / "env.sqlite")})
    assert from_env.exit_code == 0, from_env.output
    token = from_env.stdout.strip()
    assert SqliteChallengeStore(tmp_path / "env.sqlite").refusal(token) is None
    default = runner.invoke(cli, ["challenge", "new"], env={"TRADEVC_CHALLENGES": None,
                                                            "XDG_DATA_HOME": str(tmp_path / "data")})
    assert default.exit_code == 0, default.output
    path = tmp_path / "data" / "tradevc" / "challenges.sqlite"
    assert SqliteChallengeStore(path).refusal(default.stdout.strip()) is None
    assert "expires" in default.stderr


def test_cli_bad_store_or_ttl_is_a_usage_error(files):
    tmp_path, trust = files
    junk = tmp_path / "junk.txt"
    junk.write_text("not a database\n" * 100)
    runner = CliRunner()
    for args in (["challenge", "new", "--challenges", str(junk)], ["challenge", "new", "--ttl", "0",
                                                                  "--challenges", str(tmp_path / "s.sqlite")],
                 ["presentation", str(junk), "--challenge", "c", "--domain", DOMAIN, "--trust", str(trust),
                  "--offline", "--challenges", str(junk)]):
        result = runner.invoke(cli, args)
        assert result.exit_code == 2, (args, result.output)
        assert result.exception is None or isinstance(result.exception, SystemExit)
        assert [line for line in result.output.splitlines() if line.startswith("error: ")], result.output
    assert "--challenges" in runner.invoke(cli, ["presentation", "--help"]).output
    assert "--ttl" in runner.invoke(cli, ["challenge", "new", "--help"]).output
