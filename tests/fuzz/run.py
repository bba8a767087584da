"""Run one fuzz target of tests/fuzz/targets.py under atheris (coverage-guided, libFuzzer).

    python tests/fuzz/run.py NAME [libFuzzer options, e.g. -max_total_time=60]

The corpus lives in .fuzz/corpus/NAME (seeded from the target's seeds, grown by each run),
a crashing input in .fuzz/crashes/. Exit status 0: no crash in the time given."""

from __future__ import annotations

import hashlib
import sys
from pathlib import Path

import atheris

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests/, for fuzz.targets

with atheris.instrument_imports(include=["tradevc", "orjson", "json", "gzip", "zlib", "base64", "pybase64"]):
    import tradevc.vc.retrieval.did.resolver  # noqa: F401  (instrumented on import)
    import tradevc.vc.retrieval.did.web  # noqa: F401
    import tradevc.vc.securing.jws  # noqa: F401
    import tradevc.vc.status  # noqa: F401

from fuzz.targets import TARGETS  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]


def main() -> None:
    if len(sys.argv) < 2 or sys.argv[1] not in TARGETS:
        sys.exit(f"usage: run.py {{{','.join(TARGETS)}}} [libFuzzer options]")
    target = TARGETS[sys.argv[1]]
    corpus = ROOT / ".fuzz" / "corpus" / target.name
    crashes = ROOT / ".fuzz" / "crashes"
    corpus.mkdir(parents=True, exist_ok=True)
    crashes.mkdir(parents=True, exist_ok=True)
    for seed in target.seeds():
        (corpus / hashlib.sha1(seed).hexdigest()).write_bytes(seed)
    argv = [sys.argv[0], *sys.argv[2:], f"-artifact_prefix={crashes}/{target.name}-", str(corpus)]
    atheris.Setup(argv, target.one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
