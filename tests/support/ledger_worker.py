"""A writer process for the ledger's concurrency tests and benchmark (spawned: it imports
this module by name, so it lives here, on the tests' path)."""

from __future__ import annotations

import time
from datetime import datetime, timezone
from decimal import Decimal
from typing import Any


def record_entries(location: str, prefix: str, count: int, resource_id: str, quantity: str, cap: str,
                   barrier: Any, results: Any, pause: float = 0.0) -> None:
    """Record ``count`` entries ``<prefix>-<n>``, each drawing ``quantity`` kg from ``resource_id``
    (capped at ``cap``) with ``refuse_overdraw``, once every writer is ready; put each entry's
    (number, status, overdraws) on ``results``. ``pause`` (seconds) widens the window between
    checking what was drawn and writing, where writers that were not serialised would race."""
    from tradevc.verifier.ledger import Draw, Ledger, open_ledger

    if pause:
        assess = Ledger._assess

        def slow_assess(self: Any, *args: Any) -> Any:
            found = assess(self, *args)
            time.sleep(pause)
            return found

        Ledger._assess = slow_assess  # type: ignore[method-assign]

    with open_ledger(location, timeout=60) as ledger:
        draw = Draw("certificate", resource_id, line=1, quantity_kg=Decimal(quantity), cap_kg=Decimal(cap))
        barrier.wait()
        for n in range(count):
            number = f"{prefix}-{n}"
            result = ledger.record(number, [draw], decision="ACCEPT", when=datetime.now(timezone.utc),
                                   refuse_overdraw=True)
            results.put((number, result.status, len(result.overdraws)))


def record_for(location: str, prefix: str, seconds: float, lines: int, cap: str, barrier: Any, results: Any,
               certificate: str = "urn:uuid:shared-certificate") -> None:
    """For ``seconds``, record entries of ``lines`` lines, each line drawing 1000 kg from
    ``certificate`` (capped at ``cap``; by default one that every writer shares) and 1000 kg
    from a heat of its own, with ``refuse_overdraw``; put (entries recorded, entries refused)
    on ``results``."""
    from tradevc.verifier.ledger import Draw, open_ledger

    with open_ledger(location, timeout=60) as ledger:
        barrier.wait()
        start = time.perf_counter()
        end = start + seconds
        recorded = refused = n = 0
        last = 0.0
        while time.perf_counter() < end:
            number = f"{prefix}-{n}"
            draws = [Draw("certificate", certificate, line, Decimal(1000), Decimal(cap))
                     for line in range(1, lines + 1)]
            draws += [Draw("heat", f"heat:{prefix}:{n}:{line}", line, Decimal(1000), Decimal(25000))
                      for line in range(1, lines + 1)]
            result = ledger.record(number, draws, decision="ACCEPT", when=datetime.now(timezone.utc),
                                   refuse_overdraw=True)
            if result.status == "new":
                recorded += 1
                last = time.perf_counter() - start
            refused += result.status == "refused"
            n += 1
        results.put((recorded, refused, last))
