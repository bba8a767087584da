"""A ledger against double use: what each customs entry drew from each certificate, licence and heat.

Customs records, for every entry it decides on, the net steel mass each line draws from the
credentials behind it: a certification of origin, a SIMA licence, the heats of a mill test
report. A later entry that would take a resource past what it certifies is flagged, naming the
entries that drew it before (:class:`Overdraw`). The ledger counts quantities, not uses (net mass
in kg, exact :class:`~decimal.Decimal`; :func:`to_kg` converts tonnes, short "net tons" and
pounds), so one single-shipment certification may cover a shipment split into several entries,
but not more than it certifies. A resource with no cap (``cap_kg=None``: a blanket certification
that states none) never over-draws; a standard SIMA licence (``single_entry=True``) serves one
entry, whatever the quantity. What to do with an overdraw (REVIEW or REJECT) is the caller's
policy; :meth:`Ledger.record` with ``refuse_overdraw=True`` writes nothing when there is one, so
an over-drawing entry can draw nothing atomically.

:func:`open_ledger` opens one: a path (or ``sqlite:///path``) is an SQLite file, the embedded
default, made on first use (mode 0600, WAL); a ``postgresql://`` URL is a PostgreSQL database,
for many ports writing at once (it needs the ``postgres`` extra: psycopg 3, imported only then).
Both keep the same tables (``ledger_*``, versioned in ``ledger_schema_version``).

Writers are serialised per resource, so two writers never both over-draw it. SQLite takes the
database's write lock for the whole check-then-write (``BEGIN IMMEDIATE``). PostgreSQL locks
the entry's row and one row per resource drawn (``SELECT ... FOR UPDATE``, in sorted order)
under READ COMMITTED: writers drawing different resources go on in parallel, those drawing the
same one queue instead of failing and retrying as SERIALIZABLE would under contention. Each
entry gets a sequence number the first time it is recorded, taken once its locks are held; it
decides which entries are *earlier*.

Each resource keeps a running total of what entries not rejected drew from it, and how many
drew it (``ledger_resources``), and each entry what it takes from each resource
(``ledger_usage``; its lines stay in ``ledger_draws``, for reports). A new entry is checked
against the totals, so its cost does not grow with the entries a resource served before; the
entries are read only to name them in an overdraw.

Which entries an entry is checked against: a new entry, or one that now draws more of a resource
than it did (a correction), against every other entry that draws the resource and was not
rejected; an entry that draws no more than it did before (a replay, or a correction downwards),
against the earlier entries only. So replaying an entry gives the same result as the first time,
a later entry's overdraw is never blamed on an earlier one, and the sum drawn by entries recorded
with ``refuse_overdraw=True`` never exceeds the cap.

    >>> from datetime import datetime, timezone
    >>> from decimal import Decimal
    >>> ledger = open_ledger(":memory:")
    >>> cert = Draw("certificate", "urn:uuid:7f3e", line=1, quantity_kg=to_kg("30", "TNE"), cap_kg=Decimal(40000))
    >>> ledger.record("316-1234567-8", [cert], decision="ACCEPT", when=datetime.now(timezone.utc)).overdraws
    ()
    >>> again = Draw("certificate", "urn:uuid:7f3e", line=1, quantity_kg=Decimal(15000), cap_kg=Decimal(40000))
    >>> print(ledger.check("316-7654321-0", [again])[0].message)
    certificate urn:uuid:7f3e certifies 40000 kg; entry 316-1234567-8 drew 30000 kg; this entry draws 15000 kg (line 1)
"""

from __future__ import annotations

import os
import sqlite3
import threading
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import datetime, timezone
from decimal import Context, Decimal, Inexact, InvalidOperation, Overflow, Rounded
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, TypeVar

from tradevc.vc.checks.supply import KG_PER_UNIT

from .database import DEFAULT_CONNECTIONS, PostgresPool, SqliteFile, parse_location

if TYPE_CHECKING:
    import psycopg


__all__ = [
    "REJECT",
    "SCHEMA_VERSION",
    "Draw",
    "EntryRecord",
    "Ledger",
    "LedgerError",
    "Overdraw",
    "PostgresLedger",
    "RecordResult",
    "SqliteLedger",
    "open_ledger",
    "to_kg",
]

_T = TypeVar("_T")

SCHEMA_VERSION = 1
"""The version of the ledger's tables this module writes; a ledger with a newer one is refused."""

REJECT = "REJECT"
"""The decision (compared without regard to case) under which an entry draws nothing."""

MAX_TEXT = 512
"""The longest entry number, resource kind or resource id accepted."""

# -- quantities ---------------------------------------------------------------------------------

_EXACT = Context(prec=60, traps=[InvalidOperation, Inexact, Rounded, Overflow])
"""Arithmetic that refuses to round: every sum and product of quantities is exact, or raises."""

MAX_KG = Decimal(10) ** 15
"""No quantity or cap above this is accepted (a petagram: far beyond any shipment)."""

_UNITS = KG_PER_UNIT  # UN/ECE Recommendation 20 codes of mass, in kg per unit (exact)

_WORDS: dict[str, str] = {
    "kg": "KGM", "kgs": "KGM", "kilogram": "KGM", "kilograms": "KGM", "kilo": "KGM", "kilos": "KGM",
    "t": "TNE", "tonne": "TNE", "tonnes": "TNE", "metric ton": "TNE", "metric tons": "TNE", "mt": "TNE",
    "net ton": "STN", "net tons": "STN", "short ton": "STN", "short tons": "STN",
    "long ton": "LTN", "long tons": "LTN",
    "lb": "LBR", "lbs": "LBR", "pound": "LBR", "pounds": "LBR",
    "g": "GRM", "gram": "GRM", "grams": "GRM",
}
"""The words people write for those units (case and surrounding space ignored)."""

_AMBIGUOUS = {"ton", "tons"}


def _unit_code(unit: str) -> str:
    if not isinstance(unit, str):
        raise TypeError(f"a unit is a string (a UN/ECE Rec 20 code such as KGM), not {type(unit).__name__}")
    if unit.strip().upper() in _UNITS:
        return unit.strip().upper()
    word = " ".join(unit.strip().lower().replace(".", "").split())
    if word in _AMBIGUOUS:
        raise ValueError(f"the unit {unit!r} is ambiguous: write TNE (metric tonne), STN (short ton, a US net ton) "
                         "or LTN (long ton)")
    if word in _WORDS:
        return _WORDS[word]
    known = ", ".join(sorted(_UNITS))
    raise ValueError(f"unknown unit of mass {unit!r}: use a UN/ECE Rec 20 code ({known}) or kg, t, lb, net ton")


def _decimal(value: object, what: str) -> Decimal:
    """``value`` as a finite, non-negative Decimal (a float is read as the decimal it prints as)."""
    if isinstance(value, bool) or not isinstance(value, (Decimal, int, float, str)):
        raise TypeError(f"{what} is a Decimal, an int or a decimal string, not {type(value).__name__}")
    try:
        number = Decimal(repr(value)) if isinstance(value, float) else Decimal(value.strip() if isinstance(value, str)
                                                                              else value)
    except InvalidOperation:
        raise ValueError(f"{what} is not a number: {value!r}") from None
    if not number.is_finite():
        raise ValueError(f"{what} must be a finite number, not {value!r}")
    if number < 0:
        raise ValueError(f"{what} must not be negative: {value!r}")
    return number + 0  # -0 becomes 0


def to_kg(value: Decimal | int | float | str, unit: str) -> Decimal:
    """The mass ``value`` ``unit`` in kg, exactly. ``unit`` is a UN/ECE Rec 20 code (``KGM``,
    ``TNE`` metric tonne, ``STN`` short ton of 907.18474 kg, ``LTN`` long ton, ``LBR`` pound of
    0.45359237 kg, ``GRM``) or a word (``kg``, ``t``, ``tonnes``, ``lb``, ``net ton``, ``short ton``...).

    >>> to_kg("2", "net tons")
    Decimal('1814.36948')

    :raises ValueError: an unknown or ambiguous unit (``ton``), or a value that is negative, not a
        number, NaN, infinite or too large.
    :raises TypeError: a value or unit of the wrong type.
    """
    code = _unit_code(unit)
    number = _decimal(value, "a quantity")
    try:
        kg = _EXACT.multiply(number, _UNITS[code])
    except (Inexact, Rounded, Overflow, InvalidOperation):
        raise ValueError(f"the quantity {value!r} {unit} cannot be converted to kg exactly") from None
    if kg > MAX_KG:
        raise ValueError(f"the quantity {value!r} {unit} is too large (over {_kg(MAX_KG)} kg)")
    return kg


def _kg(value: Decimal) -> str:
    """A quantity as people read it: plain digits, no exponent, no trailing zeros."""
    text = format(value.normalize(), "f")
    return text


def _sum(values: Sequence[Decimal]) -> Decimal:
    total = Decimal(0)
    for value in values:
        total = _EXACT.add(total, value)
    return total


# -- what is drawn ------------------------------------------------------------------------------


def _text(value: object, what: str) -> str:
    if not isinstance(value, str):
        raise TypeError(f"{what} is a string, not {type(value).__name__}")
    if not value or len(value) > MAX_TEXT or value != value.strip() or not value.isprintable():
        raise ValueError(f"{what} must be printable text of 1 to {MAX_TEXT} characters with no surrounding space: "
                         f"{value[:80]!r}")
    return value


@dataclass(frozen=True)
class Draw:
    """What one entry line draws from one resource.

    ``resource_kind`` says what it is (``certificate``, ``licence``, ``heat`` or any other word;
    it names the resource in messages), ``resource_id`` which (a credential id, or
    ``heat:<mill DID>:<heat number>``), ``line`` the entry line, ``quantity_kg`` the net steel
    mass drawn, ``cap_kg`` what the resource certifies (None: no cap, as a blanket certification
    that states none), ``single_entry`` that it serves one entry only (a standard SIMA licence).
    An entry is checked against the cap its own draw states (what the credential it presents
    certifies); the ledger keeps each draw's cap with it, for reports.

    :raises ValueError, TypeError: a field out of range or of the wrong type (a negative or
        non-finite quantity, an empty id, a float where a Decimal is meant is accepted as the
        decimal it prints as).
    """

    resource_kind: str
    resource_id: str
    line: int
    quantity_kg: Decimal
    cap_kg: Decimal | None
    single_entry: bool = False

    def __post_init__(self) -> None:
        _text(self.resource_kind, "a draw's resource_kind")
        _text(self.resource_id, "a draw's resource_id")
        if isinstance(self.line, bool) or not isinstance(self.line, int) or not 0 <= self.line < 2**31:
            raise ValueError(f"a draw's line is a non-negative int, not {self.line!r}")
        quantity = _decimal(self.quantity_kg, "a draw's quantity_kg")
        cap = None if self.cap_kg is None else _decimal(self.cap_kg, "a draw's cap_kg")
        for value in (quantity, cap):
            if value is not None and value > MAX_KG:
                raise ValueError(f"a draw's quantity or cap is too large: {_kg(value)} kg")
        if not isinstance(self.single_entry, bool):
            raise TypeError("a draw's single_entry is a bool")
        object.__setattr__(self, "quantity_kg", quantity)
        object.__setattr__(self, "cap_kg", cap)

    def _key(self) -> tuple[str, str, int, Decimal, bool, Decimal, bool]:
        cap = self.cap_kg
        return (self.resource_kind, self.resource_id, self.line, self.quantity_kg, cap is None,
                Decimal(0) if cap is None else cap, self.single_entry)


@dataclass(frozen=True)
class Overdraw:
    """A resource this entry would take past what it certifies, or a single-entry licence that
    another entry already used. ``draw`` is the entry's first line drawing it, ``lines`` all of
    them and ``entry_kg`` what they draw together; ``already_kg`` is what ``earlier_entries``
    (entry numbers, in the order they were recorded) drew before; ``reason`` is ``cap`` or
    ``single_entry``; ``message`` says it in a sentence."""

    draw: Draw
    already_kg: Decimal
    earlier_entries: tuple[str, ...]
    message: str
    reason: Literal["cap", "single_entry"] = "cap"
    entry_kg: Decimal = Decimal(0)
    lines: tuple[int, ...] = ()


@dataclass(frozen=True)
class RecordResult:
    """What :meth:`Ledger.record` did. ``status``: ``new`` (first recorded), ``replayed`` (recorded
    before with the same decision and draws: nothing changed), ``corrected`` (its previous
    decision and draws were replaced), ``refused`` (``refuse_overdraw`` and an overdraw: nothing
    was written). ``overdraws`` are those found, whatever was written; ``rejected`` says the entry
    stands as rejected (it draws nothing)."""

    entry_number: str
    decision: str
    status: Literal["new", "replayed", "corrected", "refused"]
    overdraws: tuple[Overdraw, ...]

    @property
    def written(self) -> bool:
        """True unless ``refuse_overdraw`` refused the entry (a replay is written: it stands)."""
        return self.status != "refused"

    @property
    def rejected(self) -> bool:
        return _rejected(self.decision)


@dataclass(frozen=True)
class EntryRecord:
    """An entry as the ledger holds it: its decision, when it was (last) recorded, the draws it
    asked for (a rejected entry's are kept for the report but count for nothing) and ``seq``,
    the order in which entries were first recorded."""

    entry_number: str
    decision: str
    recorded_at: datetime
    seq: int
    draws: tuple[Draw, ...] = field(default=())

    @property
    def rejected(self) -> bool:
        return _rejected(self.decision)


class LedgerError(Exception):
    """The ledger cannot be opened or used: not a ledger database, a newer schema, a database
    locked for too long, a PostgreSQL server that cannot be reached. ``message`` says what
    failed and what to do."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def _rejected(decision: str) -> bool:
    return decision.strip().upper() == REJECT


def _check_decision(decision: object) -> str:
    if not isinstance(decision, str) or not decision.strip() or len(decision) > 64:
        raise ValueError(f"a decision is a non-empty word such as ACCEPT, REVIEW or {REJECT}, not {decision!r}")
    return decision


def _check_when(when: object) -> datetime:
    if not isinstance(when, datetime) or when.tzinfo is None or when.utcoffset() is None:
        raise ValueError("record(when=...) must be an aware datetime")
    return when.astimezone(timezone.utc)


def _check_draws(draws: Sequence[Draw]) -> tuple[Draw, ...]:
    if isinstance(draws, (str, bytes)) or not isinstance(draws, Sequence):
        raise TypeError("draws is a sequence of Draw")
    out = tuple(draws)
    for draw in out:
        if not isinstance(draw, Draw):
            raise TypeError(f"draws holds Draw objects, not {type(draw).__name__}")
    described: dict[str, tuple[str, Decimal | None, bool]] = {}
    for draw in out:
        seen = described.setdefault(draw.resource_id, (draw.resource_kind, draw.cap_kg, draw.single_entry))
        if seen != (draw.resource_kind, draw.cap_kg, draw.single_entry):
            raise ValueError(f"the draws describe {draw.resource_id} in two ways (kind, cap or single_entry differ)")
    return out


class _Refused(Exception):
    """Raised inside a transaction to roll it back: refuse_overdraw found an overdraw."""

    def __init__(self, result: RecordResult) -> None:
        super().__init__(result.entry_number)
        self.result = result


def _per_resource(draws: Sequence[Draw]) -> dict[str, Decimal]:
    """What ``draws`` take from each resource, lines added up (in the order first drawn)."""
    sums: dict[str, Decimal] = {}
    for draw in draws:
        sums[draw.resource_id] = _EXACT.add(sums.get(draw.resource_id, Decimal(0)), draw.quantity_kg)
    return sums


def _overdraw(lines: list[Draw], mine: Decimal, others: list[tuple[str, Decimal]]) -> Overdraw | None:
    """The overdraw of an entry whose ``lines`` draw ``mine`` from one resource, given what the
    entries it is checked against drew from it (in the order recorded), or None."""
    first = lines[0]
    already = _sum([quantity for _, quantity in others])
    names = tuple(number for number, _ in others)
    where = f"line {first.line}" if len(lines) == 1 else "lines " + ", ".join(str(d.line) for d in lines)
    what = f"{first.resource_kind} {first.resource_id}"
    numbered = tuple(d.line for d in lines)
    if first.single_entry and names:
        users = ("entry " if len(names) == 1 else "entries ") + ", ".join(names)
        message = f"{what} serves a single entry and was already used by {users}; this entry draws it again ({where})"
        return Overdraw(first, already, names, message, "single_entry", mine, numbered)
    if first.cap_kg is not None and _EXACT.add(already, mine) > first.cap_kg:
        drew = (("entry " if len(names) == 1 else "entries ") + ", ".join(names) + f" drew {_kg(already)} kg"
                if names else "no other entry drew it")
        message = f"{what} certifies {_kg(first.cap_kg)} kg; {drew}; this entry draws {_kg(mine)} kg ({where})"
        return Overdraw(first, already, names, message, "cap", mine, numbered)
    return None


def _same(a: tuple[Draw, ...], b: tuple[Draw, ...]) -> bool:
    return sorted(d._key() for d in a) == sorted(d._key() for d in b)


# -- the ledger ---------------------------------------------------------------------------------

_COLUMNS: dict[str, tuple[tuple[str, str], ...]] = {
    "ledger_draws": (("entry_number", "text"), ("position", "int"), ("resource_kind", "text"),
                     ("resource_id", "text"), ("line", "int"), ("quantity_kg", "numeric"), ("cap_kg", "numeric"),
                     ("single_entry", "bool")),
    "ledger_usage": (("resource_id", "text"), ("entry_number", "text"), ("seq", "bigint"), ("quantity_kg", "numeric")),
    "ledger_resources": (("resource_id", "text"), ("total_kg", "numeric"), ("users", "int")),
}
"""The columns the ledger inserts rows of, and their PostgreSQL types."""


class Ledger:
    """The ledger's operations, over a backend (:class:`SqliteLedger`, :class:`PostgresLedger`;
    :func:`open_ledger` picks one). Safe to share between threads: an SQLite ledger runs their
    transactions one at a time on one connection (behind a lock), a PostgreSQL one at once on a
    small pool of connections (see :class:`PostgresLedger`). A forked process opens its own
    connections on first use."""

    location: str
    """Where the ledger is, for messages (a path, or a URL without its password)."""

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._closed = False

    # What a backend provides: a transaction (locking the entry and the resources if asked) and
    # the few reads and writes, each on the transaction's cursor.

    def _run(self, work: Callable[[Any], _T], *, entry_number: str = "", resource_ids: Sequence[str] = (),
             write: bool = False) -> _T:
        """``work(cursor)`` in one transaction, committed if it returns, rolled back if it raises.
        A writing transaction first holds the entry and ``resource_ids`` (made if missing)."""
        raise NotImplementedError

    def _sql(self, statement: str) -> str:
        return statement

    def _read_quantity(self, value: Any) -> Decimal:
        return Decimal(str(value))

    def _write_quantity(self, value: Decimal | None) -> Any:
        return None if value is None else format(value, "f")

    def _in(self, column: str, values: list[str]) -> tuple[str, list[Any]]:
        return f"{column} IN ({', '.join('?' for _ in values)})", list(values)

    def _next_seq(self, cursor: Any) -> int:
        raise NotImplementedError

    def _insert(self, cursor: Any, table: str, rows: list[tuple[Any, ...]], conflict: str = "") -> None:
        """Insert ``rows`` (every column of ``table``, in order) into ``table``."""
        if rows:
            columns = ", ".join(name for name, _ in _COLUMNS[table])
            marks = ", ".join("?" for _ in _COLUMNS[table])
            cursor.executemany(self._sql(f"INSERT INTO {table} ({columns}) VALUES ({marks}){conflict}"), rows)

    def _write_time(self, when: datetime) -> Any:
        return when.isoformat()

    def _read_time(self, value: Any) -> datetime:
        at = datetime.fromisoformat(value) if isinstance(value, str) else value
        if not isinstance(at, datetime):
            raise LedgerError(f"the ledger {self.location} holds an unreadable time: {value!r}")
        return at.astimezone(timezone.utc)

    # -- shared reads ----------------------------------------------------------------------------

    def _stored(self, cursor: Any, entry_number: str) -> tuple[int | None, str | None, tuple[Draw, ...]]:
        cursor.execute(self._sql("SELECT seq, decision FROM ledger_entries WHERE entry_number = ?"), (entry_number,))
        row = cursor.fetchone()
        if row is None or row[1] is None:
            return None, None, ()
        cursor.execute(self._sql(
            "SELECT resource_kind, resource_id, line, quantity_kg, cap_kg, single_entry FROM ledger_draws"
            " WHERE entry_number = ? ORDER BY position"), (entry_number,))
        return int(row[0]), str(row[1]), tuple(self._draw(r) for r in cursor.fetchall())

    def _draw(self, row: Any) -> Draw:
        kind, resource_id, line, quantity, cap, single = row
        return Draw(kind, resource_id, int(line), self._read_quantity(quantity),
                    None if cap is None else self._read_quantity(cap), bool(single))

    def _totals(self, cursor: Any, resource_ids: list[str]) -> dict[str, tuple[Decimal, int]]:
        """The running total each resource has been drawn by entries not rejected, and by how many."""
        if not resource_ids:
            return {}
        condition, args = self._in("resource_id", resource_ids)
        cursor.execute(self._sql(f"SELECT resource_id, total_kg, users FROM ledger_resources WHERE {condition}"), args)
        return {r: (self._read_quantity(total), int(users)) for r, total, users in cursor.fetchall()}

    def _usage(self, cursor: Any, resource_id: str, entry_number: str, before: int | None
               ) -> list[tuple[str, Decimal]]:
        """What each other entry not rejected drew from ``resource_id`` (recorded before ``seq``
        ``before`` if given), in the order recorded."""
        sql = ("SELECT entry_number, quantity_kg FROM ledger_usage WHERE resource_id = ? AND entry_number <> ?"
               + (" AND seq < ?" if before is not None else "") + " ORDER BY seq")
        cursor.execute(self._sql(sql), (resource_id, entry_number) + ((before,) if before is not None else ()))
        return [(number, self._read_quantity(quantity)) for number, quantity in cursor.fetchall()]

    def _assess(self, cursor: Any, entry_number: str, draws: tuple[Draw, ...]
                ) -> tuple[int | None, str | None, tuple[Draw, ...], tuple[Overdraw, ...]]:
        """The entry as stored (seq, decision, draws) and the overdraws of ``draws``.

        The running totals answer the common case at once: a new entry (or one drawing more)
        over-draws a resource only if the others' total plus its own passes the cap (or a
        single-entry resource has another user); only then, or for an entry drawing no more
        than before (checked against the earlier entries only), are the entries read."""
        seq, decision, stored = self._stored(cursor, entry_number)
        before = {} if decision is None or _rejected(decision) else _per_resource(stored)
        lines: dict[str, list[Draw]] = {}
        for draw in draws:
            if draw.cap_kg is not None or draw.single_entry:
                lines.setdefault(draw.resource_id, []).append(draw)
        mine = _per_resource(draws)
        totals = self._totals(cursor, sorted(lines))
        found = []
        for resource_id, drawing in lines.items():
            had = before.get(resource_id)
            grows = seq is None or had is None or mine[resource_id] > had
            if grows:
                total, users = totals.get(resource_id, (Decimal(0), 0))
                already = _EXACT.subtract(total, had or Decimal(0))
                others = users - (had is not None)
                cap = drawing[0].cap_kg
                if not ((drawing[0].single_entry and others > 0)
                        or (cap is not None and _EXACT.add(already, mine[resource_id]) > cap)):
                    continue
            usage = self._usage(cursor, resource_id, entry_number, None if grows else seq)
            overdraw = _overdraw(drawing, mine[resource_id], usage)
            if overdraw is not None:
                found.append(overdraw)
        return seq, decision, stored, tuple(found)

    # -- the API ---------------------------------------------------------------------------------

    def check(self, entry_number: str, draws: Sequence[Draw]) -> list[Overdraw]:
        """The overdraws ``entry_number`` would make by drawing ``draws`` (a dry run: nothing is
        written, nothing locked).

        :raises LedgerError: the ledger cannot be read.
        :raises ValueError, TypeError: bad arguments.
        """
        _text(entry_number, "an entry number")
        checked = _check_draws(draws)
        return list(self._run(lambda cursor: self._assess(cursor, entry_number, checked)[3]))

    def record(self, entry_number: str, draws: Sequence[Draw], *, decision: str, when: datetime,
               refuse_overdraw: bool = False) -> RecordResult:
        """Record ``entry_number``'s ``decision`` and ``draws`` at ``when``, in one transaction,
        and return the overdraws found (against the other entries: see the module's docstring).

        An entry recorded before is corrected: its decision and draws are replaced. With the same
        decision and draws it is a replay: nothing changes and the result is the same. A
        ``REJECT`` decision keeps the draws for the report but they count for nothing (a rejected
        entry draws nothing). With ``refuse_overdraw`` and an overdraw (and a decision other
        than REJECT), nothing at all is written and the status is ``refused``.

        :raises LedgerError: the ledger cannot be written (locked for too long, unreachable...).
        :raises ValueError, TypeError: bad arguments (a naive ``when``, an empty decision...).
        """
        _text(entry_number, "an entry number")
        checked = _check_draws(draws)
        _check_decision(decision)
        at = _check_when(when)
        resource_ids = sorted({d.resource_id for d in checked})

        def work(cursor: Any) -> RecordResult:
            seq, old_decision, stored, overdraws = self._assess(cursor, entry_number, checked)
            if old_decision is not None and old_decision == decision and _same(stored, checked):
                return RecordResult(entry_number, decision, "replayed", overdraws)
            if refuse_overdraw and overdraws and not _rejected(decision):
                raise _Refused(RecordResult(entry_number, decision, "refused", overdraws))
            self._write(cursor, entry_number, seq, decision, at, checked, stored,
                        old_decision is not None and not _rejected(old_decision))
            return RecordResult(entry_number, decision, "new" if old_decision is None else "corrected", overdraws)

        try:
            return self._run(work, entry_number=entry_number, resource_ids=resource_ids, write=True)
        except _Refused as refused:  # rolled back: not even the entry's row stays
            return refused.result

    def _write(self, cursor: Any, entry_number: str, seq: int | None, decision: str, at: datetime,
               draws: tuple[Draw, ...], stored: tuple[Draw, ...], counted: bool) -> None:
        """Write the entry, its draws, what it takes from each resource (nothing if rejected) and
        the resources' running totals, given what it ``stored`` before (``counted`` if not rejected)."""
        if seq is None:
            seq = self._next_seq(cursor)
        old = _per_resource(stored) if counted else {}
        new = {} if _rejected(decision) else _per_resource(draws)
        changed = sorted(set(old) | set(new))
        totals = self._totals(cursor, changed)
        rows = []
        for resource_id in changed:
            total, users = totals.get(resource_id, (Decimal(0), 0))
            total = _EXACT.add(_EXACT.subtract(total, old.get(resource_id, Decimal(0))), new.get(resource_id, Decimal(0)))
            users += (resource_id in new) - (resource_id in old)
            rows.append((resource_id, self._write_quantity(total), users))
        self._insert(cursor, "ledger_resources", rows, " ON CONFLICT (resource_id)"
                     " DO UPDATE SET total_kg = excluded.total_kg, users = excluded.users")
        cursor.execute(self._sql("DELETE FROM ledger_usage WHERE entry_number = ?"), (entry_number,))
        self._insert(cursor, "ledger_usage", [(resource_id, entry_number, seq, self._write_quantity(quantity))
                                              for resource_id, quantity in new.items()])
        cursor.execute(self._sql(
            "UPDATE ledger_entries SET seq = ?, decision = ?, rejected = ?, recorded_at = ? WHERE entry_number = ?"),
            (seq, decision, _rejected(decision), self._write_time(at), entry_number))
        cursor.execute(self._sql("DELETE FROM ledger_draws WHERE entry_number = ?"), (entry_number,))
        self._insert(cursor, "ledger_draws",
            [(entry_number, position, d.resource_kind, d.resource_id, d.line, self._write_quantity(d.quantity_kg),
              self._write_quantity(d.cap_kg), d.single_entry) for position, d in enumerate(draws)])

    def drawn(self, resource_id: str) -> tuple[Decimal, list[tuple[str, Decimal]]]:
        """What entries not rejected drew from ``resource_id``: the total, and each entry's
        part in the order they were recorded.

        :raises LedgerError: the ledger cannot be read.
        """
        _text(resource_id, "a resource id")
        usage = self._run(lambda cursor: self._usage(cursor, resource_id, "", None))
        return _sum([quantity for _, quantity in usage]), usage

    def entry(self, entry_number: str) -> EntryRecord | None:
        """The entry as recorded, or None if it never was.

        :raises LedgerError: the ledger cannot be read.
        """
        _text(entry_number, "an entry number")
        found = self.entries(entry_number=entry_number)
        return found[0] if found else None

    def entries(self, *, resource_id: str | None = None, entry_number: str | None = None) -> list[EntryRecord]:
        """Every entry recorded (rejected ones too), in the order first recorded; only those that
        drew ``resource_id`` if given.

        :raises LedgerError: the ledger cannot be read.
        """
        where, args = "e.decision IS NOT NULL", []
        if resource_id is not None:
            where += " AND e.entry_number IN (SELECT entry_number FROM ledger_draws WHERE resource_id = ?)"
            args.append(_text(resource_id, "a resource id"))
        if entry_number is not None:
            where += " AND e.entry_number = ?"
            args.append(entry_number)

        def work(cursor: Any) -> tuple[list[Any], dict[str, list[Draw]]]:
            cursor.execute(self._sql(
                f"SELECT e.entry_number, e.decision, e.recorded_at, e.seq FROM ledger_entries e WHERE {where}"
                " ORDER BY e.seq"), args)
            rows = cursor.fetchall()
            cursor.execute(self._sql(
                "SELECT d.entry_number, d.resource_kind, d.resource_id, d.line, d.quantity_kg, d.cap_kg, d.single_entry"
                f" FROM ledger_draws d JOIN ledger_entries e ON e.entry_number = d.entry_number WHERE {where}"
                " ORDER BY d.entry_number, d.position"), args)
            draws: dict[str, list[Draw]] = {}
            for row in cursor.fetchall():
                draws.setdefault(row[0], []).append(self._draw(row[1:]))
            return rows, draws

        rows, draws = self._run(work)
        return [EntryRecord(number, decision, self._read_time(at), int(seq), tuple(draws.get(number, ())))
                for number, decision, at, seq in rows]

    def close(self) -> None:
        """Close the connection; the ledger refuses to be used after this."""
        self._closed = True

    def __enter__(self) -> Ledger:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.location}>"


# -- SQLite -------------------------------------------------------------------------------------

_SQLITE_SCHEMA = [
    "CREATE TABLE ledger_schema_version (version INTEGER NOT NULL)",
    """CREATE TABLE ledger_entries (
        entry_number TEXT PRIMARY KEY,
        seq          INTEGER UNIQUE,
        decision     TEXT,
        rejected     INTEGER NOT NULL DEFAULT 0,
        recorded_at  TEXT
    )""",
    """CREATE TABLE ledger_draws (
        entry_number  TEXT NOT NULL REFERENCES ledger_entries (entry_number) ON DELETE CASCADE,
        position      INTEGER NOT NULL,
        resource_kind TEXT NOT NULL,
        resource_id   TEXT NOT NULL,
        line          INTEGER NOT NULL,
        quantity_kg   TEXT NOT NULL,
        cap_kg        TEXT,
        single_entry  INTEGER NOT NULL,
        PRIMARY KEY (entry_number, position)
    )""",
    "CREATE INDEX ledger_draws_resource ON ledger_draws (resource_id)",
    """CREATE TABLE ledger_usage (
        resource_id  TEXT NOT NULL,
        entry_number TEXT NOT NULL REFERENCES ledger_entries (entry_number) ON DELETE CASCADE,
        seq          INTEGER NOT NULL,
        quantity_kg  TEXT NOT NULL,
        PRIMARY KEY (resource_id, entry_number)
    )""",
    "CREATE INDEX ledger_usage_entry ON ledger_usage (entry_number)",
    """CREATE TABLE ledger_resources (
        resource_id TEXT PRIMARY KEY,
        total_kg    TEXT NOT NULL,
        users       INTEGER NOT NULL
    )""",
]


class SqliteLedger(Ledger):
    """The ledger in the SQLite file at ``path`` (made if missing, mode 0600, in WAL mode, synced
    at each commit), shared by every process that opens it; ``:memory:`` keeps it in this
    process only. ``timeout`` is how long a writer waits for another's transaction.

    :raises LedgerError: ``path`` cannot be opened as a ledger (its folder does not exist, it is
        not an SQLite file, an SQLite file of something else, or a newer ledger schema).
    """

    def __init__(self, path: str | os.PathLike[str], *, timeout: float = 10.0) -> None:
        super().__init__()
        self.path = path if path == ":memory:" else Path(path)
        self.location = str(path)
        self.timeout = timeout
        self._file = SqliteFile(path, timeout=timeout, what="ledger", error=LedgerError)
        try:
            self._prepare(self._db())
        except sqlite3.Error as e:
            self._file.drop()
            raise self._file.problem(e) from None
        except LedgerError:
            self._file.drop()
            raise

    def _db(self) -> sqlite3.Connection:
        if self._closed:
            raise ValueError("this ledger is closed")
        return self._file.connection()

    def _prepare(self, db: sqlite3.Connection) -> None:
        tables = {row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        if "ledger_schema_version" not in tables:
            if tables:
                raise LedgerError(f"{self.location} is an SQLite database of something else, not a ledger "
                                  f"(it has the tables {', '.join(sorted(tables)[:5])}): name the ledger's file, "
                                  "or a new one")
            if self.path != ":memory:":
                db.execute("PRAGMA journal_mode = WAL")
            db.execute("BEGIN IMMEDIATE")
            try:
                if not db.execute("SELECT name FROM sqlite_master WHERE name = 'ledger_schema_version'").fetchall():
                    for statement in _SQLITE_SCHEMA:
                        db.execute(statement)
                    db.execute("INSERT INTO ledger_schema_version (version) VALUES (?)", (SCHEMA_VERSION,))
                db.execute("COMMIT")
            except BaseException:
                db.execute("ROLLBACK")
                raise
        _check_version(self.location, [row[0] for row in db.execute("SELECT version FROM ledger_schema_version")])

    def _run(self, work: Callable[[Any], _T], *, entry_number: str = "", resource_ids: Sequence[str] = (),
             write: bool = False) -> _T:
        # a write takes the database's write lock at once (SqliteFile.transaction): one writer at
        # a time checks and writes, across connections and processes
        def entry_then_work(cursor: Any) -> _T:
            if write:
                cursor.execute("INSERT OR IGNORE INTO ledger_entries (entry_number) VALUES (?)", (entry_number,))
            return work(cursor)

        with self._lock:
            return self._file.transaction(self._db(), entry_then_work, write=write)

    def _next_seq(self, cursor: Any) -> int:
        cursor.execute("SELECT COALESCE(MAX(seq), 0) + 1 FROM ledger_entries")
        return int(cursor.fetchone()[0])

    def close(self) -> None:
        with self._lock:
            self._file.close()
            super().close()


def _check_version(location: str, versions: list[Any]) -> None:
    if len(versions) != 1 or not isinstance(versions[0], int):
        raise LedgerError(f"{location} is not a ledger database (its schema version is unreadable)")
    if versions[0] > SCHEMA_VERSION:
        raise LedgerError(f"the ledger {location} has schema version {versions[0]}, newer than this tradevc "
                          f"reads ({SCHEMA_VERSION}): upgrade tradevc to use it")


# -- PostgreSQL ---------------------------------------------------------------------------------

_PG_SCHEMA = [
    "CREATE TABLE ledger_schema_version (version INTEGER NOT NULL)",
    "CREATE SEQUENCE ledger_entry_seq",
    """CREATE TABLE ledger_entries (
        entry_number TEXT PRIMARY KEY,
        seq          BIGINT UNIQUE,
        decision     TEXT,
        rejected     BOOLEAN NOT NULL DEFAULT FALSE,
        recorded_at  TIMESTAMPTZ
    )""",
    """CREATE TABLE ledger_draws (
        entry_number  TEXT NOT NULL REFERENCES ledger_entries (entry_number) ON DELETE CASCADE,
        position      INTEGER NOT NULL,
        resource_kind TEXT NOT NULL,
        resource_id   TEXT NOT NULL,
        line          INTEGER NOT NULL,
        quantity_kg   NUMERIC NOT NULL,
        cap_kg        NUMERIC,
        single_entry  BOOLEAN NOT NULL,
        PRIMARY KEY (entry_number, position)
    )""",
    "CREATE INDEX ledger_draws_resource ON ledger_draws (resource_id)",
    """CREATE TABLE ledger_usage (
        resource_id  TEXT NOT NULL,
        entry_number TEXT NOT NULL REFERENCES ledger_entries (entry_number) ON DELETE CASCADE,
        seq          BIGINT NOT NULL,
        quantity_kg  NUMERIC NOT NULL,
        PRIMARY KEY (resource_id, entry_number)
    )""",
    "CREATE INDEX ledger_usage_entry ON ledger_usage (entry_number)",
    """CREATE TABLE ledger_resources (
        resource_id TEXT PRIMARY KEY,
        total_kg    NUMERIC NOT NULL DEFAULT 0,
        users       INTEGER NOT NULL DEFAULT 0
    )""",
]

_PG_SCHEMA_LOCK = 0x7472_6164_6576_63  # an advisory lock key for creating the tables ("tradevc")

_RETRIES = 8
"""How often a PostgreSQL transaction is retried after a deadlock or a serialization failure."""


class PostgresLedger(Ledger):
    """The ledger in the PostgreSQL database at ``url`` (``postgresql://user@host:port/db``), for
    many ports writing at once; its tables are made on first use. Needs psycopg 3 (the
    ``postgres`` extra). ``timeout`` bounds connecting (seconds) and waiting for another
    writer's locks.

    Threads sharing one ledger run their transactions at once, each on a connection of its own
    taken from a small pool (at most ``connections``, opened as needed and kept; a thread finding
    them all busy waits for one): so a thread drawing a resource another writer holds does not
    hold up the threads drawing others, and PostgreSQL's row locks serialise those drawing the
    same one, as for writers in separate processes. A forked process opens its own connections.

    :raises LedgerError: psycopg is missing, the server cannot be reached or refuses the login,
        or the database holds a newer ledger schema.
    :raises ValueError: ``connections`` is below 1.
    """

    def __init__(self, url: str, *, timeout: float = 10.0, connections: int = DEFAULT_CONNECTIONS) -> None:
        super().__init__()
        self._pool = PostgresPool(url, timeout=timeout, connections=connections, what="ledger", error=LedgerError,
                                  application_name="tradevc-ledger")
        self.url = url
        self.location = self._pool.location
        self.timeout = timeout
        self.connections = connections
        self._prepare()

    def _borrow(self) -> AbstractContextManager[psycopg.Connection[tuple[Any, ...]]]:
        """A connection of the pool, this thread's until the block ends."""
        if self._closed:
            raise ValueError("this ledger is closed")
        return self._pool.borrow()

    def _prepare(self) -> None:
        import psycopg

        try:
            with self._borrow() as db, db.transaction():
                db.execute("SELECT pg_advisory_xact_lock(%s)", (_PG_SCHEMA_LOCK,))
                found = db.execute("SELECT to_regclass('ledger_schema_version') IS NOT NULL").fetchone()
                if not (found and found[0]):
                    for statement in _PG_SCHEMA:
                        db.execute(statement)
                    db.execute("INSERT INTO ledger_schema_version (version) VALUES (%s)", (SCHEMA_VERSION,))
                versions = [row[0] for row in db.execute("SELECT version FROM ledger_schema_version").fetchall()]
        except psycopg.Error as e:
            raise self._pool.problem(e) from None
        _check_version(self.location, versions)

    def _sql(self, statement: str) -> str:
        return statement.replace("?", "%s")

    def _in(self, column: str, values: list[str]) -> tuple[str, list[Any]]:
        return f"{column} = ANY(?)", [list(values)]

    def _write_quantity(self, value: Decimal | None) -> Any:
        return value

    def _write_time(self, when: datetime) -> Any:
        return when

    def _run(self, work: Callable[[Any], _T], *, entry_number: str = "", resource_ids: Sequence[str] = (),
             write: bool = False) -> _T:
        # READ COMMITTED: once the locks are held, each statement sees every transaction that held
        # them before. The entry's row is locked first, then the resources' rows in sorted order,
        # so two writers never wait for each other in a cycle; a deadlock PostgreSQL still
        # reports (or a serialization failure) is retried from the start.
        import psycopg
        import psycopg.errors

        for attempt in range(_RETRIES):
            with self._borrow() as db:
                try:
                    with db.transaction(), db.cursor() as cursor:
                        if write:
                            cursor.execute("INSERT INTO ledger_entries (entry_number) VALUES (%s) ON CONFLICT DO NOTHING",
                                           (entry_number,))
                            cursor.execute("SELECT 1 FROM ledger_entries WHERE entry_number = %s FOR UPDATE",
                                           (entry_number,))
                            # a correction also changes the totals of what the entry drew before
                            cursor.execute("SELECT resource_id FROM ledger_usage WHERE entry_number = %s",
                                           (entry_number,))
                            ids = sorted(set(resource_ids) | {row[0] for row in cursor.fetchall()})
                            if ids:
                                cursor.execute("INSERT INTO ledger_resources (resource_id) SELECT unnest(%s::text[]) AS r"
                                               " ORDER BY r ON CONFLICT DO NOTHING", (ids,))
                                cursor.execute("SELECT resource_id FROM ledger_resources WHERE resource_id = ANY(%s)"
                                               " ORDER BY resource_id FOR UPDATE", (ids,))
                        return work(cursor)
                except (psycopg.errors.DeadlockDetected, psycopg.errors.SerializationFailure):
                    if attempt == _RETRIES - 1:
                        raise LedgerError(f"the PostgreSQL ledger {self.location} stayed contended (deadlocks): "
                                          "retry") from None
                except psycopg.Error as e:  # a lock waited on too long, a server gone (then closed): what to do
                    raise self._pool.problem(e, db) from None
        raise AssertionError("unreachable")  # pragma: no cover

    def _insert(self, cursor: Any, table: str, rows: list[tuple[Any, ...]], conflict: str = "") -> None:
        # one statement of arrays, not one per row: a 20-line entry is a few round trips
        if rows:
            columns = _COLUMNS[table]
            names = ", ".join(name for name, _ in columns)
            arrays = ", ".join(f"%s::{kind}[]" for _, kind in columns)
            cursor.execute(f"INSERT INTO {table} ({names}) SELECT * FROM unnest({arrays}){conflict}",
                           [list(column) for column in zip(*rows)])

    def _next_seq(self, cursor: Any) -> int:
        cursor.execute("SELECT nextval('ledger_entry_seq')")
        return int(cursor.fetchone()[0])

    def close(self) -> None:
        """Close the pool's connections (those in use close when their thread is done with them)."""
        self._pool.close()
        super().close()


# -- opening ------------------------------------------------------------------------------------

def open_ledger(location: str | os.PathLike[str], *, timeout: float = 10.0) -> Ledger:
    """The ledger at ``location``: a path or ``sqlite:///path`` (``sqlite:////abs/path``) is an
    SQLite file (:class:`SqliteLedger`; ``:memory:`` one in memory), a ``postgresql://`` (or
    ``postgres://``) URL a PostgreSQL database (:class:`PostgresLedger`). ``timeout`` is how long
    to wait for the database or another writer, in seconds.

    :raises LedgerError: the ledger cannot be opened (see the classes), or an unknown URL scheme.
    """
    kind, where = parse_location(location, what="ledger", error=LedgerError)
    if kind == "postgresql":
        return PostgresLedger(where, timeout=timeout)
    return SqliteLedger(where, timeout=timeout)
