"""Issue 17's first bench row: an entry of 20 lines backed by 8 credentials and a 3-step supply
path, warm caches, against verifying the same credentials alone.

The world is the entry tests' (tests/support/entries.py, ``World.supply``): a melt shop's mill
test report -> a rolling mill's transformation event -> the pipe mill's transformation event ->
the pipe mill's mill test report, a USMCA certification, a SIMA licence, a commercial invoice
and the register's anchor of the rolling mill, all eddsa-rdfc-2022, presented by the importer.
Its entry is accepted (checked before timing).

"Alone" is ``Verifier.verify_presentation`` of the same presentation with the same verifier;
"entry" is ``verify_entry`` of the declaration on it (the same verification, then the facts,
the supply walk with its digests, and every rule in force) under the world's policy; "entry +
expression" adds one CEL expression per line to that policy (a low unit value check), to show
what a policy's expressions cost. All are warmed first, then timed in alternating rounds (so
that the host's noise falls on all alike); the figures are medians of wall time and of the
process's CPU time (the host is shared: CPU time is less disturbed by the other processes).
Not part of ``make test``; ``make bench`` runs it. Writes bench/results/issue17/entry.txt.

    .venv/bin/python bench/bench_entry.py [--rounds N] [--repeat N]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))  # the entry tests' world of signed credentials

from support.entries import CHALLENGE, DOMAIN, World, supply_policy  # noqa: E402
from tradevc.verifier.entry import Decision, RuleSet, verify_entry  # noqa: E402

TARGET = 1.3
EXPRESSION = {"id": "policy.low-unit-value", "when": "line.value < line.quantityKg * 0.5", "decision": "REVIEW",
              "message": "declared value under 0.50 USD per kg"}


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
    with_expression = RuleSet.from_policy(supply_policy(expressions=[EXPRESSION]), source="border-policy.json")

    def alone() -> None:
        result = verifier.verify_presentation(presentation, challenge=CHALLENGE, domain=DOMAIN)
        assert result.verified

    def entry(rule_set: RuleSet = rules) -> Any:
        report = verify_entry(declaration, presentation, verifier=verifier, challenge=CHALLENGE, domain=DOMAIN,
                              rules=rule_set)
        assert report.decision is Decision.ACCEPT, report.summary()
        return report

    report = entry()
    assert EXPRESSION["id"] in entry(with_expression).rules_applied
    lines, credentials = len(report.lines), len(presentation["verifiableCredential"])
    steps = max(len(p["edges"]) for p in report.supply_paths.values())
    runs: dict[str, Callable[[], Any]] = {
        "alone": alone, "entry": entry, "expression": lambda: entry(with_expression),
    }
    for _ in range(3):  # warm caches
        for fn in runs.values():
            fn()
    wall: dict[str, list[float]] = {name: [] for name in runs}
    cpu: dict[str, list[float]] = {name: [] for name in runs}
    for _ in range(args.rounds):  # alternate, so that the host's noise falls on all alike
        for name, fn in runs.items():
            started, started_cpu = time.perf_counter(), time.process_time()
            for _ in range(args.repeat):
                fn()
            wall[name].append((time.perf_counter() - started) / args.repeat * 1000)
            cpu[name].append((time.process_time() - started_cpu) / args.repeat * 1000)
    load_after = os.getloadavg()
    m = {name: statistics.median(v) for name, v in wall.items()}
    c = {name: statistics.median(v) for name, v in cpu.items()}
    ratios = sorted(en / al for al, en in zip(wall["alone"], wall["entry"]))
    ratio, cpu_ratio = m["entry"] / m["alone"], c["entry"] / c["alone"]
    best = {name: min(v) for name, v in cpu.items()}  # noise only adds: the best round is the least disturbed
    text = (
        f"tradevc entry benchmark, {datetime.now(timezone.utc).strftime('%Y-%m-%dT%H:%M:%SZ')}, "
        f"Python {sys.version.split()[0]}, {os.cpu_count()} CPUs, load average "
        f"{load_before[0]:.2f} at start, {load_after[0]:.2f} at end (shared host)\n"
        f"entry of {lines} lines on {credentials} presented credentials (eddsa-rdfc-2022) with a {steps}-step "
        f"supply path, decision {report.decision.value}; warm caches, medians of {args.rounds} alternating rounds "
        f"of {args.repeat}, wall time / CPU time:\n"
        f"  verify the presentation alone: {m['alone']:.2f} / {c['alone']:.2f} ms\n"
        f"  verify_entry (the same verification, facts, supply walk, rules): {m['entry']:.2f} / {c['entry']:.2f} ms\n"
        f"  ratio {ratio:.2f}x wall (per-round {ratios[0]:.2f}-{ratios[-1]:.2f}x), {cpu_ratio:.2f}x CPU; "
        f"issue target <= {TARGET}x: {'met' if max(ratio, cpu_ratio) <= TARGET else 'NOT met'}\n"
        f"  best rounds (CPU): alone {best['alone']:.2f} ms, entry {best['entry']:.2f} ms, "
        f"{best['entry'] / best['alone']:.2f}x\n"
        f"  with one policy expression per line ({EXPRESSION['when']}): {m['expression']:.2f} / "
        f"{c['expression']:.2f} ms, {m['expression'] / m['alone']:.2f}x wall, "
        f"{c['expression'] / c['alone']:.2f}x CPU, best rounds {best['expression'] / best['alone']:.2f}x\n"
    )
    print(text, end="")
    out = ROOT / "bench" / "results" / "issue17"
    out.mkdir(parents=True, exist_ok=True)
    (out / "entry.txt").write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
