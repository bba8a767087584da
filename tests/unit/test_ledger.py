"""The ledger against double use (issue 17): what each entry drew from each certificate, licence
and heat, counted in kg, on SQLite and on a throwaway PostgreSQL cluster; the same tests run
against both backends."""

from __future__ import annotations

import itertools
import multiprocessing
import os
import socket
import sqlite3
import stat
import subprocess
import sys
from datetime import datetime, timedelta, timezone
from decimal import Decimal

import pytest

from conftest import ROOT
from tradevc.verifier.ledger import (
    SCHEMA_VERSION, Draw, LedgerError, PostgresLedger, SqliteLedger, open_ledger, to_kg,
)

WHEN = datetime(2026, 6, 15, 12, 0, tzinfo=timezone.utc)
CERT = "urn:uuid:4b1c6f0e-cert"
LICENCE = "urn:uuid:9d2e-sima-licence"
HEAT = "heat:did:web:mill.example:H-2231"
_databases = itertools.count(1)


def cert(quantity, cap="40000", line=1, resource_id=CERT) -> Draw:
    return Draw("certificate", resource_id, line, Decimal(quantity), None if cap is None else Decimal(cap))


def licence(quantity, single_entry, line=1) -> Draw:
    return Draw("licence", LICENCE, line, Decimal(quantity), None, single_entry=single_entry)


def fresh_postgres_url(cluster) -> str:
    """A new, empty database on the session's cluster."""
    import psycopg

    name = f"ledger_{os.getpid()}_{next(_databases)}"
    with psycopg.connect(cluster.url, autocommit=True) as db:
        db.execute(f"CREATE DATABASE {name}")  # noqa: S608  (a name made here)
    return cluster.url.rsplit("/", 1)[0] + "/" + name


@pytest.fixture(params=["sqlite", "postgresql"])
def location(request, tmp_path) -> str:
    """Where a new ledger is: a file path, or a PostgreSQL URL of a database of its own."""
    if request.param == "sqlite":
        return str(tmp_path / "ledger.db")
    return fresh_postgres_url(request.getfixturevalue("postgres_cluster"))


@pytest.fixture
def ledger(location):
    with open_ledger(location) as opened:
        yield opened


# -- quantities ----------------------------------------------------------------------------------


@pytest.mark.parametrize(("value", "unit", "kg"), [
    ("40000", "KGM", "40000"), ("40", "TNE", "40000"), ("2", "STN", "1814.36948"), ("1", "LBR", "0.45359237"),
    ("1500", "GRM", "1.5"), ("1", "LTN", "1016.0469088"), ("2.5", "t", "2500"), ("3", "tonnes", "3000"),
    ("10", "net tons", "9071.8474"), ("1", "Short Ton", "907.18474"), ("2000", "lb", "907.18474"),
    ("100", "lbs", "45.359237"), ("7", "kg", "7"), (Decimal("0.1"), "LBR", "0.045359237"), (3, "TNE", "3000"),
    (0.1, "KGM", "0.1"),
])
def test_to_kg_is_exact(value, unit, kg):
    converted = to_kg(value, unit)
    assert isinstance(converted, Decimal) and converted == Decimal(kg), converted


def test_a_short_ton_is_two_thousand_pounds_exactly():
    assert to_kg("1", "STN") == to_kg("2000", "LBR")
    assert to_kg("1", "LTN") == to_kg("2240", "LBR")
    assert sum(to_kg("0.1", "LBR") for _ in range(10)) == to_kg("1", "LBR")  # no float drift


@pytest.mark.parametrize(("value", "unit", "match"), [
    ("1", "stone", "unknown unit of mass 'stone'"),
    ("1", "ton", "ambiguous: write TNE"),
    ("1", "TONS", "ambiguous"),
    ("-1", "KGM", "must not be negative"),
    ("NaN", "KGM", "finite"),
    ("Infinity", "TNE", "finite"),
    (float("inf"), "TNE", "finite"),
    ("12 kg", "KGM", "not a number"),
    ("1e30", "TNE", "too large"),
])
def test_to_kg_refuses_what_it_cannot_convert(value, unit, match):
    with pytest.raises(ValueError, match=match):
        to_kg(value, unit)


def test_to_kg_refuses_wrong_types():
    with pytest.raises(TypeError):
        to_kg(True, "KGM")
    with pytest.raises(TypeError):
        to_kg("1", None)


@pytest.mark.parametrize("bad", [
    dict(quantity_kg=Decimal(-1)), dict(quantity_kg=Decimal("NaN")), dict(cap_kg=Decimal("-5")),
    dict(resource_id=""), dict(resource_kind=" heat"), dict(line=-1), dict(line=True),
])
def test_a_bad_draw_is_refused(bad):
    fields = dict(resource_kind="certificate", resource_id=CERT, line=1, quantity_kg=Decimal(1), cap_kg=None)
    with pytest.raises(ValueError):
        Draw(**{**fields, **bad})


# -- caps ----------------------------------------------------------------------------------------


def test_a_split_shipment_within_the_cap_is_fine(ledger):
    """One single-shipment certification (40 t) covers a shipment split into three entries,
    written in tonnes, net tons and pounds."""
    parts = [to_kg("15", "TNE"), to_kg("11", "STN"), to_kg("30000", "LBR")]  # 15000 + 9979.03214 + 13607.7711
    assert sum(parts) <= 40000
    for number, kg in zip(["316-1000001-1", "316-1000002-2", "316-1000003-3"], parts):
        result = ledger.record(number, [cert(kg)], decision="ACCEPT", when=WHEN)
        assert result.status == "new" and result.overdraws == (), result
    total, per_entry = ledger.drawn(CERT)
    assert total == sum(parts) == Decimal("38586.80324")
    assert per_entry == [("316-1000001-1", parts[0]), ("316-1000002-2", parts[1]), ("316-1000003-3", parts[2])]


def test_exactly_the_cap_is_fine_and_a_gram_more_is_not(ledger):
    assert ledger.record("E-1", [cert("30000")], decision="ACCEPT", when=WHEN).overdraws == ()
    assert ledger.check("E-2", [cert("10000")]) == []
    [over] = ledger.check("E-2", [cert(Decimal("10000.001"))])
    assert over.already_kg == 30000 and over.entry_kg == Decimal("10000.001")


def test_beyond_the_cap_the_overdraw_names_the_earlier_entries(ledger):
    ledger.record("316-1234567-8", [cert("20000")], decision="ACCEPT", when=WHEN)
    ledger.record("316-2345678-9", [cert("10000")], decision="ACCEPT", when=WHEN)
    result = ledger.record("316-3456789-0", [cert("15000", line=3)], decision="REVIEW", when=WHEN)
    [over] = result.overdraws
    assert over.reason == "cap" and over.draw == cert("15000", line=3)
    assert over.earlier_entries == ("316-1234567-8", "316-2345678-9")
    assert over.already_kg == 30000 and over.entry_kg == 15000 and over.lines == (3,)
    assert over.message == (f"certificate {CERT} certifies 40000 kg; entries 316-1234567-8, 316-2345678-9 drew "
                            "30000 kg; this entry draws 15000 kg (line 3)")
    # REVIEW is the caller's policy: the draws are written
    assert result.status == "new" and ledger.drawn(CERT)[0] == 45000


def test_lines_drawing_the_same_resource_are_added_up(ledger):
    ledger.record("E-1", [cert("26000")], decision="ACCEPT", when=WHEN)
    draws = [cert("5000", line=1), cert("6000", line=2), cert("4000", line=3)]
    [over] = ledger.check("E-2", draws)
    assert over.entry_kg == 15000 and over.lines == (1, 2, 3) and over.draw == draws[0]
    assert over.message.endswith("this entry draws 15000 kg (lines 1, 2, 3)")
    assert ledger.check("E-2", draws[:2]) == []


def test_a_single_entry_over_its_own_cap_is_flagged_with_no_earlier_entry(ledger):
    [over] = ledger.record("E-1", [cert("50000")], decision="REVIEW", when=WHEN).overdraws
    assert over.earlier_entries == () and over.already_kg == 0
    assert "no other entry drew it; this entry draws 50000 kg" in over.message


def test_a_blanket_certification_without_a_cap_never_overdraws(ledger):
    for n in range(5):
        draw = cert("900000", cap=None, resource_id="urn:uuid:blanket")
        assert ledger.record(f"E-{n}", [draw], decision="ACCEPT", when=WHEN).overdraws == ()
    assert ledger.drawn("urn:uuid:blanket")[0] == 4500000


def test_a_blanket_certification_with_a_stated_cap_is_capped(ledger):
    blanket = dict(cap="100000", resource_id="urn:uuid:blanket")
    ledger.record("E-1", [cert("60000", **blanket)], decision="ACCEPT", when=WHEN)
    [over] = ledger.check("E-2", [cert("60000", **blanket)])
    assert over.earlier_entries == ("E-1",)


def test_a_heat_cannot_supply_more_than_it_weighed(ledger):
    heat = lambda kg, line=1: Draw("heat", HEAT, line, Decimal(kg), to_kg("25", "TNE"))  # noqa: E731
    assert ledger.record("E-1", [heat(18000)], decision="ACCEPT", when=WHEN).overdraws == ()
    [over] = ledger.record("E-2", [heat(8000, line=4)], decision="REVIEW", when=WHEN).overdraws
    assert over.message == (f"heat {HEAT} certifies 25000 kg; entry E-1 drew 18000 kg; this entry draws 8000 kg "
                            "(line 4)")
    assert ledger.check("E-3", [heat(1)])[0].already_kg == 26000  # over already: any more is over


def test_one_entry_checks_each_kind_against_its_own_cap(ledger):
    draws = [cert("10000"), Draw("heat", HEAT, 1, Decimal(10000), Decimal(12000)), licence("10000", True)]
    assert ledger.record("E-1", draws, decision="ACCEPT", when=WHEN).overdraws == ()
    overs = ledger.check("E-2", [cert("10000"), Draw("heat", HEAT, 1, Decimal(3000), Decimal(12000))])
    assert [(o.draw.resource_kind, o.reason) for o in overs] == [("heat", "cap")]


# -- licences ------------------------------------------------------------------------------------


def test_a_standard_licence_serves_one_entry(ledger):
    assert ledger.record("E-1", [licence("1000", True)], decision="ACCEPT", when=WHEN).overdraws == ()
    result = ledger.record("E-2", [licence("10", True, line=2)], decision="REVIEW", when=WHEN)
    [over] = result.overdraws
    assert over.reason == "single_entry" and over.earlier_entries == ("E-1",)
    assert over.message == (f"licence {LICENCE} serves a single entry and was already used by entry E-1; "
                            "this entry draws it again (line 2)")
    # the first entry, replayed, is still the licence's one entry
    assert ledger.record("E-1", [licence("1000", True)], decision="ACCEPT", when=WHEN).overdraws == ()


def test_a_low_value_licence_may_be_reused(ledger):
    for n in range(4):
        assert ledger.record(f"E-{n}", [licence("500", False)], decision="ACCEPT", when=WHEN).overdraws == ()
    assert ledger.drawn(LICENCE) == (Decimal(2000), [(f"E-{n}", Decimal(500)) for n in range(4)])


# -- replay, correction, rejection ----------------------------------------------------------------


def test_replaying_an_entry_is_idempotent(ledger):
    first = ledger.record("E-1", [cert("30000")], decision="ACCEPT", when=WHEN)
    again = ledger.record("E-1", [cert("30000")], decision="ACCEPT", when=WHEN + timedelta(hours=1))
    assert (first.status, again.status) == ("new", "replayed") and again.overdraws == first.overdraws == ()
    assert ledger.drawn(CERT) == (Decimal(30000), [("E-1", Decimal(30000))])
    assert ledger.entry("E-1").recorded_at == WHEN  # nothing was written
    flagged = ledger.record("E-2", [cert("15000")], decision="REVIEW", when=WHEN)
    replayed = ledger.record("E-2", [cert("15000")], decision="REVIEW", when=WHEN)
    assert replayed.status == "replayed" and replayed.overdraws == flagged.overdraws != ()
    # a later entry's overdraw is not blamed on the earlier one when it is replayed
    assert ledger.record("E-1", [cert("30000")], decision="ACCEPT", when=WHEN).overdraws == ()
    assert ledger.drawn(CERT)[0] == 45000


def test_a_correction_replaces_the_entry_s_draws(ledger):
    ledger.record("E-1", [cert("30000"), licence("30000", True)], decision="ACCEPT", when=WHEN)
    corrected = ledger.record("E-1", [cert("12000", line=2)], decision="ACCEPT", when=WHEN + timedelta(hours=1))
    assert corrected.status == "corrected" and corrected.overdraws == ()
    assert ledger.drawn(CERT) == (Decimal(12000), [("E-1", Decimal(12000))])
    assert ledger.drawn(LICENCE) == (Decimal(0), [])
    record = ledger.entry("E-1")
    assert record.draws == (cert("12000", line=2),) and record.recorded_at == WHEN + timedelta(hours=1)
    assert ledger.check("E-2", [licence("1", True)]) == []  # the licence is free again


def test_a_correction_that_draws_more_is_checked_against_later_entries_too(ledger):
    ledger.record("E-1", [cert("20000")], decision="ACCEPT", when=WHEN)
    ledger.record("E-2", [cert("15000")], decision="ACCEPT", when=WHEN)
    [over] = ledger.record("E-1", [cert("30000")], decision="ACCEPT", when=WHEN, refuse_overdraw=True).overdraws
    assert over.earlier_entries == ("E-2",)
    assert ledger.drawn(CERT)[0] == 35000  # refused: E-1 still draws 20000
    assert ledger.record("E-1", [cert("25000")], decision="ACCEPT", when=WHEN).overdraws == ()


def test_a_rejected_entry_draws_nothing(ledger):
    result = ledger.record("E-1", [cert("30000"), licence("1", True)], decision="REJECT", when=WHEN)
    assert result.rejected and result.written and result.overdraws == ()
    assert ledger.drawn(CERT) == (Decimal(0), [])
    assert ledger.record("E-2", [cert("40000"), licence("1", True)], decision="ACCEPT", when=WHEN).overdraws == ()
    record = ledger.entry("E-1")
    assert record.rejected and record.decision == "REJECT" and len(record.draws) == 2  # kept for the report
    # an accepted entry rejected later gives back what it drew
    ledger.record("E-2", [cert("40000"), licence("1", True)], decision="reject", when=WHEN)
    assert ledger.drawn(CERT) == (Decimal(0), [])
    assert ledger.check("E-3", [cert("40000"), licence("1", True)]) == []


def test_a_rejected_entry_is_recorded_even_when_it_would_overdraw(ledger):
    ledger.record("E-1", [cert("40000")], decision="ACCEPT", when=WHEN)
    result = ledger.record("E-2", [cert("5000")], decision="REJECT", when=WHEN, refuse_overdraw=True)
    assert result.status == "new" and len(result.overdraws) == 1
    assert ledger.entry("E-2").rejected and ledger.drawn(CERT)[0] == 40000


def test_refuse_overdraw_writes_nothing(ledger):
    ledger.record("E-1", [cert("30000")], decision="ACCEPT", when=WHEN)
    result = ledger.record("E-2", [cert("15000"), licence("5", True)], decision="ACCEPT", when=WHEN,
                           refuse_overdraw=True)
    assert result.status == "refused" and not result.written and len(result.overdraws) == 1
    assert ledger.entry("E-2") is None
    assert ledger.drawn(CERT)[0] == 30000 and ledger.drawn(LICENCE)[0] == 0
    assert [e.entry_number for e in ledger.entries()] == ["E-1"]
    # within the cap, refuse_overdraw writes as usual
    assert ledger.record("E-2", [cert("10000")], decision="ACCEPT", when=WHEN, refuse_overdraw=True).status == "new"


def test_check_writes_nothing(ledger):
    ledger.record("E-1", [cert("30000")], decision="ACCEPT", when=WHEN)
    assert len(ledger.check("E-2", [cert("15000")])) == 1
    assert ledger.entry("E-2") is None and ledger.drawn(CERT)[0] == 30000


def test_entries_report_in_the_order_recorded(ledger):
    ledger.record("E-b", [cert("1000")], decision="ACCEPT", when=WHEN)
    ledger.record("E-a", [licence("1", False)], decision="REVIEW", when=WHEN + timedelta(minutes=1))
    ledger.record("E-c", [cert("2000")], decision="REJECT", when=WHEN + timedelta(minutes=2))
    ledger.record("E-b", [cert("1500")], decision="ACCEPT", when=WHEN + timedelta(minutes=3))  # keeps its place
    assert [(e.entry_number, e.decision) for e in ledger.entries()] == [
        ("E-b", "ACCEPT"), ("E-a", "REVIEW"), ("E-c", "REJECT")]
    assert [e.entry_number for e in ledger.entries(resource_id=CERT)] == ["E-b", "E-c"]
    assert ledger.entry("E-b").draws == (cert("1500"),) and ledger.entry("nope") is None


def test_the_ledger_persists_across_opening(location):
    with open_ledger(location) as ledger:
        ledger.record("E-1", [cert(to_kg("2", "STN"))], decision="ACCEPT", when=WHEN)
    with open_ledger(location) as ledger:
        assert ledger.drawn(CERT) == (Decimal("1814.36948"), [("E-1", Decimal("1814.36948"))])
        assert ledger.entry("E-1").recorded_at == WHEN


def test_bad_arguments_raise_at_once(ledger):
    with pytest.raises(ValueError, match="aware"):
        ledger.record("E-1", [cert("1")], decision="ACCEPT", when=datetime(2026, 1, 1))
    with pytest.raises(ValueError, match="decision"):
        ledger.record("E-1", [cert("1")], decision=" ", when=WHEN)
    with pytest.raises(ValueError, match="two ways"):
        ledger.check("E-1", [cert("1"), cert("1", cap="5")])
    with pytest.raises(TypeError):
        ledger.check("E-1", ["not a draw"])
    with pytest.raises(ValueError, match="entry number"):
        ledger.check("", [])
    assert ledger.entries() == []


# -- concurrent writers --------------------------------------------------------------------------

WRITERS, EACH, QUANTITY, CAP = 4, 6, 7000, 100000   # 24 entries of 7 t against 100 t: 14 fit


def test_concurrent_writer_processes_never_over_draw(location):
    """Several processes (spawned) record different entries against one certificate at once,
    refusing overdraws: exactly as many succeed as fit under the cap, and the sum never exceeds it.
    Each writer pauses between checking and writing, so that writers not serialised would all
    see the same total and over-draw."""
    open_ledger(location).close()  # the tables exist before the writers race
    context = multiprocessing.get_context("spawn")
    barrier, results = context.Barrier(WRITERS), context.Queue()
    from support.ledger_worker import record_entries

    workers = [context.Process(target=record_entries, args=(location, f"W{w}", EACH, CERT, str(QUANTITY), str(CAP),
                                                           barrier, results, 0.03)) for w in range(WRITERS)]
    for worker in workers:
        worker.start()
    outcomes = [results.get(timeout=120) for _ in range(WRITERS * EACH)]
    for worker in workers:
        worker.join(timeout=60)
        assert worker.exitcode == 0
    fit = CAP // QUANTITY
    assert sorted(status for _, status, _ in outcomes) == ["new"] * fit + ["refused"] * (WRITERS * EACH - fit)
    assert all((status == "refused") == (overdraws > 0) for _, status, overdraws in outcomes)
    with open_ledger(location) as ledger:
        total, per_entry = ledger.drawn(CERT)
        assert total == fit * QUANTITY <= CAP
        assert sorted(n for n, _ in per_entry) == sorted(n for n, status, _ in outcomes if status == "new")
        assert len({w.split("-")[0] for w, _ in per_entry}) > 1  # the writers really interleaved


# -- errors --------------------------------------------------------------------------------------


def test_a_file_that_is_not_sqlite_is_refused(tmp_path):
    path = tmp_path / "notes.txt"
    path.write_bytes(b"this is not a database, just some words " * 100)
    with pytest.raises(LedgerError, match="is not a ledger database") as refused:
        open_ledger(path)
    assert "name the ledger's file" in refused.value.message
    assert path.read_bytes().startswith(b"this is not a database")


def test_an_sqlite_database_of_something_else_is_refused(tmp_path):
    path = tmp_path / "challenges.sqlite"
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE challenges (token TEXT)")
    with pytest.raises(LedgerError, match="an SQLite database of something else, not a ledger.*challenges"):
        open_ledger(path)


def test_a_missing_folder_is_refused(tmp_path):
    with pytest.raises(LedgerError, match="does not exist"):
        open_ledger(tmp_path / "no" / "ledger.db")


def test_a_newer_schema_is_refused(location):
    open_ledger(location).close()
    if location.startswith("postgresql://"):
        import psycopg

        with psycopg.connect(location, autocommit=True) as db:
            db.execute("UPDATE ledger_schema_version SET version = %s", (SCHEMA_VERSION + 1,))
    else:
        with sqlite3.connect(location) as db:
            db.execute("UPDATE ledger_schema_version SET version = ?", (SCHEMA_VERSION + 1,))
    with pytest.raises(LedgerError, match=f"schema version {SCHEMA_VERSION + 1}, newer .*upgrade tradevc"):
        open_ledger(location)


def test_an_unreachable_postgresql_server_is_a_clear_error():
    with socket.socket() as s:  # a loopback port nothing listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(LedgerError) as refused:
        open_ledger(f"postgresql://customs:s3cret@127.0.0.1:{port}/ledger", timeout=2)
    message = refused.value.message
    assert message.startswith(f"cannot connect to the PostgreSQL ledger postgresql://customs:***@127.0.0.1:{port}/ledger")
    assert "check that the server runs" in message and "s3cret" not in message


def test_an_unknown_location_scheme_is_refused():
    with pytest.raises(LedgerError, match="unknown ledger location 'mysql://"):
        open_ledger("mysql://db/ledger")


def test_sqlite_urls_name_files(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    open_ledger("sqlite:///relative.db").close()
    open_ledger(f"sqlite:///{tmp_path}/absolute.db").close()
    assert (tmp_path / "relative.db").exists() and (tmp_path / "absolute.db").exists()
    assert isinstance(open_ledger(tmp_path / "p.db"), SqliteLedger)


def test_the_postgresql_url_opens_a_postgres_ledger(postgres_cluster):
    with open_ledger(fresh_postgres_url(postgres_cluster)) as ledger:
        assert isinstance(ledger, PostgresLedger) and repr(ledger).startswith("<PostgresLedger postgresql://")


def test_a_locked_sqlite_ledger_says_so(tmp_path):
    path = tmp_path / "ledger.db"
    open_ledger(path).close()
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        with open_ledger(path, timeout=0.2) as ledger:
            with pytest.raises(LedgerError, match="stayed locked by another writer for 0.2 s"):
                ledger.record("E-1", [cert("1")], decision="ACCEPT", when=WHEN)
            assert ledger.drawn(CERT)[0] == 0  # readers go on (WAL)
    finally:
        holder.execute("ROLLBACK")
        holder.close()


def test_the_sqlite_file_is_private_and_in_wal_mode(tmp_path):
    path = tmp_path / "ledger.db"
    old = os.umask(0o022)
    try:
        with open_ledger(path) as ledger:
            ledger.record("E-1", [cert("1")], decision="ACCEPT", when=WHEN)
            assert stat.S_IMODE(path.stat().st_mode) == 0o600
            wal = tmp_path / "ledger.db-wal"
            assert wal.exists() and stat.S_IMODE(wal.stat().st_mode) == 0o600
    finally:
        os.umask(old)
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_sqlite_users_do_not_import_psycopg(tmp_path):
    code = ("import sys; from tradevc.verifier.ledger import open_ledger;"
            f"open_ledger({str(tmp_path / 'l.db')!r}).close(); print('psycopg' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT)
    assert out.stdout.strip() == "False"


def test_the_running_totals_follow_corrections_rejections_and_replays(ledger):
    """A new entry is checked against each resource's running total: it must follow every change."""
    ledger.record("E-1", [cert("30000")], decision="ACCEPT", when=WHEN)
    ledger.record("E-1", [cert("12000")], decision="ACCEPT", when=WHEN)          # corrected down
    ledger.record("E-1", [cert("12000")], decision="ACCEPT", when=WHEN)          # replayed
    ledger.record("E-2", [cert("8000")], decision="REVIEW", when=WHEN)
    assert ledger.check("E-3", [cert("20000")]) == []
    assert ledger.check("E-3", [cert(Decimal("20000.5"))])[0].already_kg == 20000
    ledger.record("E-2", [cert("8000")], decision="REJECT", when=WHEN)           # gives its 8000 back
    assert ledger.check("E-3", [cert("28000")]) == [] and len(ledger.check("E-3", [cert("28001")])) == 1
    ledger.record("E-2", [cert("1000")], decision="ACCEPT", when=WHEN)           # counts again
    assert ledger.check("E-3", [cert("27000")]) == [] and len(ledger.check("E-3", [cert("27001")])) == 1
    assert ledger.drawn(CERT) == (Decimal(13000), [("E-1", Decimal(12000)), ("E-2", Decimal(1000))])


def test_the_module_s_examples_run():
    import doctest

    import tradevc.verifier.ledger as module

    failed, attempted = doctest.testmod(module)
    assert attempted >= 5 and failed == 0


def test_missing_postgresql_binaries_are_named(monkeypatch):
    """Without Debian's server binaries the cluster is not started, and the error says what to
    install (the postgres_cluster fixture turns it into a failure, not a skip)."""
    import support.postgres as postgres

    monkeypatch.setattr(postgres.glob, "glob", lambda pattern: [])
    monkeypatch.setattr(postgres.shutil, "which", lambda name: None)
    with pytest.raises(postgres.ClusterUnavailable, match="install Debian's postgresql package"):
        postgres.start()
