"""``vc-verify archive``: add, list, search, show, hold, release, prune, check, reindex and
reverify, their JSON output, exit statuses and one-line errors."""

from __future__ import annotations

import hashlib
import json
from datetime import datetime, timedelta, timezone

import pytest
from click.testing import CliRunner

from support.bundles import SEALER, credential, make_bundle, policy_document, to_bytes
from tradevc.vc.keys import KeyPair
from tradevc.verifier.cli import cli

UTC = timezone.utc
MILL = KeyPair.generate("Ed25519")
OTHER = KeyPair.generate("Ed25519")
POLICY = policy_document(MILL, OTHER)
METHOD = f"{MILL.did}#{MILL.did.removeprefix('did:key:')}"
PIN = ["--sealer", SEALER.did]


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    """Six bundles (February to April; the mill's and another issuer's) written to files."""
    folder = tmp_path_factory.mktemp("bundles")
    paths = []
    for i in range(6):
        key = MILL if i % 2 == 0 else OTHER
        bundle = make_bundle(credential(key, i), POLICY, at=datetime(2026, 2, 10, tzinfo=UTC) + timedelta(days=12 * i),
                             entry_number=f"316-{i:07d}-0", importer="Acme Imports" if i < 4 else "Borealis Steel")
        path = folder / f"bundle-{i}.json"
        path.write_bytes(to_bytes(bundle))
        paths.append(path)
    return paths


@pytest.fixture
def where(tmp_path):
    return ["--archive", str(tmp_path / "archive"), "--ledger", str(tmp_path / "ledger.db")]


def run(*args):
    return CliRunner().invoke(cli, ["archive", *[str(a) for a in args]])


def digest(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_add_list_search_and_show(files, where):
    added = run("add", *where, *PIN, *files, "--json")
    assert added.exit_code == 0, added.output
    assert [item["new"] for item in json.loads(added.stdout)] == [True] * 6
    again = run("add", *where, *PIN, files[0])
    assert again.exit_code == 0 and again.stdout.startswith(f"already archived {digest(files[0])}")

    listed = run("list", *where, "--json")
    assert [b["digest"] for b in json.loads(listed.stdout)] == [digest(p) for p in files]

    found = run("search", *where, "--verification-method", METHOD, "--since", "2026-03-01", "--json")
    assert found.exit_code == 0, found.output
    assert [b["entryNumber"] for b in json.loads(found.stdout)] == ["316-0000002-0", "316-0000004-0"]
    text = run("search", *where, "--importer", "Borealis Steel", "--until", "2026-04-05T00:00:00Z")
    assert text.exit_code == 0 and len(text.stdout.splitlines()) == 1 and "316-0000004-0" in text.stdout

    shown = run("show", *where, digest(files[1])[:12])
    facts = {line.split(":", 1)[0]: line.split(":", 1)[1].strip() for line in shown.stdout.splitlines()}
    assert shown.exit_code == 0 and facts["issuers"] == OTHER.did and facts["entryNumber"] == "316-0000001-0"
    assert facts["sealer"] == SEALER.verification_method
    assert all(f"sealed by {SEALER.did}" in line for line in run("list", *where).stdout.splitlines())
    sealed_by = run("search", *where, "--sealed-by", SEALER.did, "--json")
    assert len(json.loads(sealed_by.stdout)) == 6
    raw = run("show", *where, digest(files[1]), "--bundle")
    assert raw.stdout_bytes == files[1].read_bytes()


def test_add_refuses_a_broken_seal_and_a_key_not_accepted(files, where, tmp_path, monkeypatch):
    forged = json.loads(files[0].read_bytes())
    forged["index"]["importer"] = "Someone Else"
    forged_file = tmp_path / "forged.json"
    forged_file.write_bytes(to_bytes(forged))
    refused = run("add", *where, *PIN, forged_file, files[1])
    assert refused.exit_code == 1 and len(refused.stderr.strip().splitlines()) == 1, refused.output
    assert refused.stderr.startswith(f"error: {forged_file}: the bundle's seal does not hold: ")
    assert "changed after sealing" in refused.stderr and "Traceback" not in refused.output
    assert refused.stdout.startswith(f"archived {digest(files[1])}")  # the other one is archived

    other = KeyPair.generate("Ed25519")
    pinned = run("add", *where, "--sealer", other.did, files[2])
    assert pinned.exit_code == 1 and f"sealed by {SEALER.verification_method}, which is not one of" in pinned.stderr
    monkeypatch.setenv("TRADEVC_ARCHIVE_SEALERS", f"{other.did}, {SEALER.did}")
    assert run("add", *where, files[2]).exit_code == 0


def test_hold_prune_release(files, where):
    run("add", *where, *PIN, *files)
    first = digest(files[0])
    assert run("hold", *where, first, "--reason", "appeal 17").exit_code == 0
    # kept 200 days: as of 2026-09-09 only the first bundle (2026-02-10) is out (the second is of 2026-02-22)
    pruned = run("prune", *where, "--now", "2026-09-09T00:00:00Z", "--retention", "200d", "--json")
    assert pruned.exit_code == 0, pruned.output
    report = json.loads(pruned.stdout)
    assert [b["digest"] for b in report["removed"]] == [] and report["held"] == 1
    pruned = run("prune", *where, "--now", "2026-09-17", "--retention", "200d", "--dry-run", "--json")
    assert [b["digest"] for b in json.loads(pruned.stdout)["removed"]] == [digest(files[1])]
    assert files[1].exists() and run("show", *where, digest(files[1])).exit_code == 0
    assert run("release", *where, first).exit_code == 0
    pruned = run("prune", *where, "--now", "2026-09-17", "--retention", "200d")
    assert pruned.exit_code == 0 and "removed 2 bundle(s)" in pruned.stderr
    assert run("show", *where, first).exit_code == 1
    assert run("check", *where).exit_code == 0


def test_prune_refuses_a_time_in_the_future(files, where):
    """Pruning as of a later time would remove bundles still in retention: refused, nothing removed."""
    run("add", *where, *PIN, *files)
    later = (datetime.now(UTC) + timedelta(minutes=6)).strftime("%Y-%m-%dT%H:%M:%SZ")
    for when in (later, "2031-03-01"):
        refused = run("prune", *where, "--now", when, "--retention", "1d")
        assert refused.exit_code == 2, refused.output
        assert refused.stderr.startswith(f"error: --now {when} is in the future") and "Traceback" not in refused.output
        assert len(refused.stderr.strip().splitlines()) == 1
    assert len(json.loads(run("list", *where, "--json").stdout)) == 6  # nothing was removed
    within = (datetime.now(UTC) + timedelta(minutes=4)).strftime("%Y-%m-%dT%H:%M:%SZ")  # a clock a little ahead
    assert run("prune", *where, "--now", within, "--dry-run").exit_code == 0


def test_check_and_reindex(files, where, tmp_path):
    run("add", *where, *PIN, *files[:2])
    stored = next((tmp_path / "archive").rglob(f"{digest(files[0])}.json"))
    stored.write_bytes(stored.read_bytes() + b" ")
    checked = run("check", *where, "--json")
    assert checked.exit_code == 1
    assert json.loads(checked.stdout) == [{"problem": "altered", "digest": digest(files[0]), "path": str(stored)}]
    reindexed = run("reindex", *where, *PIN)
    assert reindexed.exit_code == 0 and reindexed.stdout == ""


def test_reverify_lists_the_entries_whose_decision_changes(files, where):
    run("add", *where, *PIN, *files)
    result = run("reverify", *where, *PIN, "--verification-method", METHOD, "--since", "2026-03-01",
                 "--compromised", METHOD, "--workers", "1")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert [line.split()[0] for line in lines] == ["316-0000002-0", "316-0000004-0"]
    assert all("verified -> not-verified" in line and "compromised" in line for line in lines)
    assert "re-verified 2 bundle(s); 2 decision(s) change" in result.stderr
    unchanged = run("reverify", *where, *PIN, "--json", "--workers", "1")
    report = json.loads(unchanged.stdout)
    assert report["reverified"] == 6 and report["changed"] == 0


def test_reverify_on_a_local_dask_cluster(files, where):
    run("add", *where, *PIN, *files)
    result = run("reverify", *where, *PIN, "--compromised", OTHER.did, "--local-cluster", "2", "--json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert [o["changed"] for o in report["outcomes"]] == [i % 2 == 1 for i in range(6)]


def test_reverify_on_a_tls_cluster_with_the_users_certificates(files, where, tmp_path):
    """--cluster tls:// with the CA, certificate and key files a cluster's operator hands out."""
    from distributed import LocalCluster
    from distributed.security import Security

    run("add", *where, *PIN, *files)
    security = Security.temporary()  # PEM text: written out as an operator's files would be
    pem = {"ca.pem": security.tls_ca_file, "cert.pem": security.tls_client_cert, "key.pem": security.tls_client_key}
    for name, text in pem.items():
        (tmp_path / name).write_text(text)
    with LocalCluster(n_workers=1, threads_per_worker=1, processes=True, host="127.0.0.1", dashboard_address=None,
                      protocol="tls", security=security) as cluster:
        result = run("reverify", *where, *PIN, "--compromised", OTHER.did, "--cluster", cluster.scheduler_address,
                     "--cluster-ca", tmp_path / "ca.pem", "--cluster-cert", tmp_path / "cert.pem",
                     "--cluster-key", tmp_path / "key.pem", "--json")
    assert result.exit_code == 0, result.output
    assert [o["changed"] for o in json.loads(result.stdout)["outcomes"]] == [i % 2 == 1 for i in range(6)]


def test_reverify_says_a_swapped_bundle_file_is_not_the_indexed_one(files, where):
    run("add", *where, *PIN, *files)
    listed = json.loads(run("list", *where, "--json").stdout)
    first, second = (listed[0]["path"], listed[2]["path"])
    with open(first, "wb") as out, open(second, "rb") as source:
        out.write(source.read())  # another sealed bundle of the same issuer: its seal holds
    result = run("reverify", *where, *PIN, "--workers", "1")
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == [
        f"316-0000000-0    {digest(files[0])[:16]}  2026-02-10T00:00:00Z  verified -> not-verified  (the archived "
        f"file was altered (it no longer hashes to its name: it holds {digest(files[2])[:16]}); run 'archive check')"]


def test_reverify_reads_a_trust_store_relative_to_the_policy_file(files, where, tmp_path, monkeypatch):
    run("add", *where, *PIN, *files)
    folder = tmp_path / "policy"
    (folder / "store").mkdir(parents=True)
    (folder / "store" / "vouch.json").write_text(json.dumps(credential(MILL, 99)))
    (folder / "policy.json").write_text(json.dumps({**policy_document(MILL), "anchors": ["store/vouch.json"]}))
    monkeypatch.chdir(tmp_path)  # relative to the current folder too: policy/policy.json
    result = run("reverify", *where, *PIN, "--trust", "policy/policy.json", "--workers", "2", "--json")
    assert result.exit_code == 0, result.output
    outcomes = json.loads(result.stdout)["outcomes"]
    assert [o["now"] for o in outcomes] == ["verified" if i % 2 == 0 else "not-verified" for i in range(6)]
    assert {o["reason"] for o in outcomes if o["changed"]} == {"issuer_trust: UNTRUSTED_ISSUER"}
    (folder / "store" / "vouch.json").unlink()
    missing = run("reverify", *where, *PIN, "--trust", "policy/policy.json", "--workers", "2")
    assert missing.exit_code == 2 and "anchors[0]: cannot read store/vouch.json" in missing.stderr


def test_reverify_help_says_why_tcp_is_dangerous():
    shown = run("reverify", "--help").stdout
    assert "tls://HOST:PORT" in shown and "--cluster-ca" in shown and "--cluster-cert" in shown
    assert "--insecure-cluster" in shown and "DANGEROUS" in shown


@pytest.mark.parametrize(("args", "code", "message"), [
    (["add", "{where}", "--sealer", "{sealer}", "/nonexistent/b.json"], 2, "error: cannot read /nonexistent/b.json"),
    (["add", "{where}", "--sealer", "{sealer}", "{junk}"], 1, "not an evidence bundle"),
    (["search", "{where}", "--since", "March"], 2, "give a date (2026-03-01"),
    (["search", "{where}", "--outcome", "maybe"], 2, "error: invalid value for '--outcome'"),
    (["show", "{where}", "abc"], 1, "is not a bundle digest"),
    (["show", "{where}", "0123456789abcdef"], 1, "no bundle 0123456789abcdef in the archive"),
    (["hold", "{where}", "0123456789abcdef"], 1, "no bundle"),
    (["prune", "{where}", "--retention", "5 years"], 2, "a retention is years and/or days"),
    (["reverify", "{where}", "--cluster", "tcp://127.0.0.1:1", "--local-cluster", "2"], 2, "not both"),
    (["reverify", "{where}", "--trust", "/nonexistent/policy.json"], 2, "cannot read /nonexistent/policy.json"),
    (["reverify", "{where}", "--cluster", "tcp://127.0.0.1:1"], 2, "refusing tcp://127.0.0.1:1: tcp:// is neither "
                                                                   "encrypted nor authenticated"),
    (["reverify", "{where}", "--cluster", "127.0.0.1:1"], 2, "a scheduler address is tls://HOST:PORT"),
    (["reverify", "{where}", "--cluster", "tls://127.0.0.1:1"], 2, "needs the cluster's CA and a client certificate"),
    (["reverify", "{where}", "--cluster", "tls://127.0.0.1:1", "--cluster-ca", "/nonexistent/ca.pem",
      "--cluster-cert", "/nonexistent/cert.pem"], 2, "cannot read /nonexistent/ca.pem"),
    (["reverify", "{where}", "--cluster-ca", "{junk}"], 2, "are for --cluster"),
    (["reverify", "{where}", "--local-cluster", "2", "--insecure-cluster"], 2, "are for --cluster"),
    (["list", "--archive", "{tmp}/a"], 2, "missing option '--ledger'"),
    (["reverify", "{where}", "--sealer", "{sealer}", "--trust", "{junk}"], 2, "error: invalid value for --trust: "),
])
def test_errors_are_one_line_without_a_traceback(where, tmp_path, args, code, message):
    junk = tmp_path / "junk.json"
    junk.write_text('{"type": "invoice"}')
    argv: list[str] = []
    for arg in args:
        if arg == "{where}":
            argv.extend(where)
        else:
            argv.append(arg.replace("{junk}", str(junk)).replace("{tmp}", str(tmp_path)).replace("{sealer}", SEALER.did))
    result = run(*argv)
    assert result.exit_code == code, result.output
    assert message in result.stderr and len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert "Traceback" not in result.output


def test_a_database_of_something_else_is_a_usage_error(tmp_path):
    import sqlite3

    other = tmp_path / "other.db"
    with sqlite3.connect(other) as db:
        db.execute("CREATE TABLE invoices (id TEXT)")
    result = run("list", "--archive", tmp_path / "a", "--ledger", other)
    assert result.exit_code == 2 and "something else" in result.stderr


def test_the_index_on_postgresql(files, tmp_path, postgres_cluster):
    import psycopg

    name = f"archive_cli_{abs(hash(str(tmp_path))) % 10**8}"
    with psycopg.connect(postgres_cluster.url, autocommit=True) as db:
        db.execute(f"CREATE DATABASE {name}")  # noqa: S608  (a name made here)
    url = postgres_cluster.url.rsplit("/", 1)[0] + "/" + name
    where = ["--archive", str(tmp_path / "archive"), "--ledger", url]
    assert run("add", *where, *PIN, *files).exit_code == 0
    found = run("search", *where, "--issuer", OTHER.did, "--json")
    assert [b["entryNumber"] for b in json.loads(found.stdout)] == ["316-0000001-0", "316-0000003-0", "316-0000005-0"]
    assert run("check", *where).exit_code == 0
