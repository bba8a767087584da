"""Entry verification against verifying the same presentation alone (issue 17's first bench row,
in part): an entry of 20 lines, all backed by the test world's three credentials (a mill test
report, a USMCA certification, a SIMA licence; eddsa-rdfc-2022) and the mill's anchor, with warm
caches in one verifier. The issue's row asks for 8 credentials and a 3-step supply path; this
world has no supply path yet, so the figure is the rules' and facts' cost over verification,
not the walker's. Not part of ``make test``; writes bench/results/issue17/entry.txt.

    .venv/bin/python bench/bench_entry.py
"""

from __future__ import annotations

import os
import statistics
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))  # the entry tests' world of signed credentials

from support.entries import CHALLENGE, DOMAIN, World  # noqa: E402
from tradevc.verifier.entry import RuleSet, verify_entry  # noqa: E402

LINES, ROUNDS, REPEAT = 20, 15, 20


def main() -> int:
    world = World.steel()
    line = world.line
    world.entry["lines"] = [
        {**line, "line": n, "quantity": 4000, "value": 5800.0} for n in range(1, LINES + 1)
    ]
    declaration, presentation = world.declaration(), world.presentation()
    verifier = world.verifier()
    rules = RuleSet.from_policy(world.policy, source="border-policy.json")

    def alone() -> None:
        verifier.verify_presentation(presentation, challenge=CHALLENGE, domain=DOMAIN)

    def entry() -> None:
        report = verify_entry(declaration, presentation, verifier=verifier, challenge=CHALLENGE, domain=DOMAIN,
                              rules=rules)
        assert len(report.lines) == LINES

    report = verify_entry(declaration, presentation, verifier=verifier, challenge=CHALLENGE, domain=DOMAIN, rules=rules)
    for _ in range(3):  # warm caches
        alone()
        entry()
    times: dict[str, list[float]] = {"alone": [], "entry": []}
    for _ in range(ROUNDS):  # alternate, so that the host's noise falls on both alike
        for name, fn in (("alone", alone), ("entry", entry)):
            started = time.perf_counter()
            for _ in range(REPEAT):
                fn()
            times[name].append((time.perf_counter() - started) / REPEAT * 1000)
    a, e = statistics.median(times["alone"]), statistics.median(times["entry"])
    text = (
        f"tradevc entry benchmark, {datetime.now(timezone.utc).strftime('%Y-%m-%dT%H:%M:%SZ')}, "
        f"Python {sys.version.split()[0]}, {os.cpu_count()} CPUs, load average at start {os.getloadavg()[0]:.1f}\n"
        f"entry of {LINES} lines on {len(presentation['verifiableCredential'])} presented credentials "
        f"(decision {report.decision}: the lines share one licence, whose quantity then matches none; every rule "
        f"runs all the same), warm caches, median of {ROUNDS} rounds of {REPEAT}:\n"
        f"  verify the presentation alone: {a:.2f} ms\n"
        f"  verify_entry (the same verification, facts, rules): {e:.2f} ms\n"
        f"  ratio {e / a:.2f}x  [issue target for 8 credentials and a 3-step supply path: <= 1.3x; "
        f"this world has no supply path]\n"
    )
    print(text, end="")
    out = ROOT / "bench" / "results" / "issue17"
    out.mkdir(parents=True, exist_ok=True)
    (out / "entry.txt").write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
