"""Issue 17's first bench row: an entry of 20 lines backed by 8 credentials and a 3-step supply
path, warm caches, against verifying the same credentials alone.

The world is the entry tests' (tests/support/entries.py, ``World.supply``): a melt shop's mill
test report -> a rolling mill's transformation event -> the pipe mill's transformation event ->
the pipe mill's mill test report, a USMCA certification, a SIMA licence, a commercial invoice
and the register's anchor of the rolling mill, all eddsa-rdfc-2022, presented by the importer.
Its entry is accepted (checked before timing).

"Alone" is ``Verifier.verify_presentation`` of the same presentation with the same verifier;
"entry" is ``verify_entry`` of the declaration on it (the same verification, then the facts,
the supply walk with its digests, and every rule in force). Both are warmed first, then timed in
alternating rounds (so that the host's noise falls on both alike); the figures are medians.
Not part of ``make test``; ``make bench`` runs it. Writes bench/results/issue17/entry.txt.

    .venv/bin/python bench/bench_entry.py [--rounds N] [--repeat N]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))  # the entry tests' world of signed credentials

from support.entries import CHALLENGE, DOMAIN, World  # noqa: E402
from tradevc.verifier.entry import Decision, RuleSet, verify_entry  # noqa: E402

TARGET = 1.3


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--repeat", type=int, default=10)
    args = parser.parse_args(argv)

    load_before = os.getloadavg()
    world = World.supply()
    declaration, presentation = world.declaration(), world.presentation()
    verifier = world.verifier()
    rules = RuleSet.from_policy(world.policy, source="border-policy.json")

    def alone() -> None:
        result = verifier.verify_presentation(presentation, challenge=CHALLENGE, domain=DOMAIN)
        assert result.verified

    def entry() -> None:
        report = verify_entry(declaration, presentation, verifier=verifier, challenge=CHALLENGE, domain=DOMAIN,
                              rules=rules)
        assert report.decision is Decision.ACCEPT

    report = verify_entry(declaration, presentation, verifier=verifier, challenge=CHALLENGE, domain=DOMAIN, rules=rules)
    if report.decision is not Decision.ACCEPT:
        print(report.summary(), file=sys.stderr)
        return 1
    lines, credentials = len(report.lines), len(presentation["verifiableCredential"])
    steps = max(len(p["edges"]) for p in report.supply_paths.values())
    for _ in range(3):  # warm caches
        alone()
        entry()
    times: dict[str, list[float]] = {"alone": [], "entry": []}
    for _ in range(args.rounds):  # alternate, so that the host's noise falls on both alike
        for name, fn in (("alone", alone), ("entry", entry)):
            started = time.perf_counter()
            for _ in range(args.repeat):
                fn()
            times[name].append((time.perf_counter() - started) / args.repeat * 1000)
    a, e = statistics.median(times["alone"]), statistics.median(times["entry"])
    ratios = sorted(en / al for al, en in zip(times["alone"], times["entry"]))
    load_after = os.getloadavg()
    text = (
        f"tradevc entry benchmark, {datetime.now(timezone.utc).strftime('%Y-%m-%dT%H:%M:%SZ')}, "
        f"Python {sys.version.split()[0]}, {os.cpu_count()} CPUs, load average "
        f"{load_before[0]:.2f} at start, {load_after[0]:.2f} at end (shared host)\n"
        f"entry of {lines} lines on {credentials} presented credentials (eddsa-rdfc-2022) with a {steps}-step "
        f"supply path, decision {report.decision.value}; warm caches, median of {args.rounds} alternating rounds "
        f"of {args.repeat}:\n"
        f"  verify the presentation alone: {a:.2f} ms\n"
        f"  verify_entry (the same verification, facts, supply walk, rules): {e:.2f} ms\n"
        f"  ratio {e / a:.2f}x (per-round ratios {ratios[0]:.2f}-{ratios[-1]:.2f}x); "
        f"issue target <= {TARGET}x: {'met' if e / a <= TARGET else 'NOT met'}\n"
    )
    print(text, end="")
    out = ROOT / "bench" / "results" / "issue17"
    out.mkdir(parents=True, exist_ok=True)
    (out / "entry.txt").write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
